"""The true victims behind the sample: one per INEGI homicide in each municipality-month.

Every institution's extract is rendered from these people, so the truth (which records
are the same victim) is known. Attributes follow what Mexican homicide statistics show:
about 88% of victims are men, most aged 20-34; firearms kill most men and fewer women;
women are far more often killed by a partner or family member.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segura.sample.names import (
    BIRTH_STATES_OTHER,
    CURP_STATE,
    build_curps,
    female_given,
    male_given,
    surnames,
)
from segura.sample.packaged import load_geography, load_homicide_counts, sample_points

# Codes of Segura's code lists (model/codelists/weapon.csv and relationship.csv).
WEAPONS = ("firearm", "sharp_object", "blunt_object", "physical_force", "other")
WEAPON_P_MALE = (0.65, 0.17, 0.08, 0.03, 0.07)
WEAPON_P_FEMALE = (0.40, 0.20, 0.12, 0.18, 0.10)
RELATIONSHIPS = (
    "intimate_partner_current", "intimate_partner_former", "family_member", "known_friend_acquaintance", "stranger",
    "relationship_unknown",
)
RELATIONSHIP_P_FEMALE = (0.20, 0.10, 0.10, 0.15, 0.15, 0.30)
RELATIONSHIP_P_MALE = (0.005, 0.005, 0.04, 0.15, 0.30, 0.50)
SETTINGS = ("street", "dwelling", "business", "open_land", "vehicle", "other")
SETTING_P_MALE = (0.52, 0.18, 0.09, 0.10, 0.07, 0.04)
SETTING_P_FEMALE = (0.30, 0.45, 0.05, 0.12, 0.04, 0.04)
# Relative weights of 5-year age groups 0-4 ... 90-94.
AGE_W_MALE = (0.8, 0.3, 0.7, 8, 15, 16, 14, 11, 9, 7, 5, 4, 3, 2, 1.5, 1, 0.6, 0.3, 0.1)
AGE_W_FEMALE = (3, 1, 1.5, 8, 12, 12, 11, 10, 9, 7, 6, 5, 4, 3.5, 3, 2, 1.5, 0.8, 0.3)
EVENT_SIZE_P = (0.93, 0.05, 0.015, 0.005)  # 1, 2, 3 or 4 victims killed together
HOUR_W = (4, 3, 3, 2, 2, 1.5, 1.5, 1.5, 2, 2, 2, 2.5, 3, 3, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6, 5.5, 5)
FEMALE_SHARE = 0.12
UNIDENTIFIED_SHARE = 0.06
GENDER_CONTEXT_SHARE = 0.15  # other killings of women with a gender-related modus operandi


@dataclass(frozen=True)
class Victims:
    """Columns of the true victims, one entry per person (arrays of equal length)."""

    person_id: np.ndarray  # "V000001"
    event: np.ndarray  # int, the true incident
    territory: np.ndarray  # 5-digit code
    state: np.ndarray  # 2-digit code
    date: np.ndarray  # datetime64[D], the day of death
    minute: np.ndarray  # minute of the day the attack happened
    lon: np.ndarray
    lat: np.ndarray
    female: np.ndarray  # bool
    age: np.ndarray
    birth: np.ndarray  # datetime64[D]
    weapon: np.ndarray  # index into WEAPONS
    relationship: np.ndarray  # index into RELATIONSHIPS
    setting: np.ndarray  # index into SETTINGS
    gender_related: np.ndarray  # bool: a femicide under the UNODC/UN Women framework
    identified: np.ndarray  # bool: False for bodies forensic medicine could not identify
    given: np.ndarray  # index into the male or female given-name table
    first_surname: np.ndarray  # index into the surname table
    second_surname: np.ndarray
    curp: np.ndarray

    def __len__(self) -> int:
        return len(self.person_id)

    def given_name(self, i: int) -> str:
        table = female_given() if self.female[i] else male_given()
        return str(table.names[self.given[i]])


def victim_counts(scale: float, rng: np.random.Generator) -> list[tuple[str, int, int, int]]:
    """(code, year, month, victims): the INEGI count times scale, rounded at random (exact at scale 1)."""
    counts = load_homicide_counts()
    raw = np.array([c[3] for c in counts], dtype=float) * scale
    n = np.floor(raw + rng.random(len(raw))).astype(int)
    return [(c[0], c[1], c[2], int(k)) for c, k in zip(counts, n, strict=True)]


def draw_victims(scale: float, rng: np.random.Generator) -> Victims:
    geo = load_geography().by_code
    counts = [c for c in victim_counts(scale, rng) if c[3] > 0]
    # incidents: split each municipality-month's victims into events of 1-4 people
    ev_code, ev_month, ev_size = [], [], []
    sizes = iter(rng.choice(4, size=sum(c[3] for c in counts) + 1, p=EVENT_SIZE_P) + 1)
    for code, year, month, k in counts:
        while k > 0:
            together = min(int(next(sizes)), k)
            ev_code.append(code)
            ev_month.append(np.datetime64(f"{year}-{month:02d}", "M"))
            ev_size.append(together)
            k -= together
    n_ev = len(ev_size)
    size = np.array(ev_size)
    months = np.array(ev_month, dtype="datetime64[M]")
    days = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(int)
    ev_date = months.astype("datetime64[D]") + (rng.random(n_ev) * days).astype(int)
    hour_p = np.array(HOUR_W) / sum(HOUR_W)
    ev_minute = rng.choice(24, size=n_ev, p=hour_p) * 60 + rng.integers(0, 60, n_ev)
    ev_xy = np.zeros((n_ev, 2))
    ev_code_arr = np.array(ev_code, dtype=object)
    for code in sorted(set(ev_code)):  # sorted: the same draws in the same order every run
        idx = np.flatnonzero(ev_code_arr == code)
        ev_xy[idx] = sample_points(geo[code].geometry, len(idx), rng)

    event = np.repeat(np.arange(n_ev), size)
    n = len(event)
    female = rng.random(n) < FEMALE_SHARE
    age = _draw_ages(female, rng)
    date = ev_date[event]
    weapon = np.where(
        female, rng.choice(5, size=n, p=WEAPON_P_FEMALE), rng.choice(5, size=n, p=WEAPON_P_MALE)
    )
    lead = np.r_[0, np.cumsum(size)[:-1]][event]  # victims of one attack share its weapon
    weapon = weapon[lead]
    relationship = np.where(
        female, rng.choice(6, size=n, p=RELATIONSHIP_P_FEMALE), rng.choice(6, size=n, p=RELATIONSHIP_P_MALE)
    )
    child = age < 12
    relationship = np.where(child & (rng.random(n) < 0.5), 2, relationship)
    setting = np.where(
        female, rng.choice(6, size=n, p=SETTING_P_FEMALE), rng.choice(6, size=n, p=SETTING_P_MALE)
    )
    gender_related = female & ((relationship <= 2) | (rng.random(n) < GENDER_CONTEXT_SHARE))
    identified = rng.random(n) >= UNIDENTIFIED_SHARE

    mg, fg, sur = male_given(), female_given(), surnames()
    given = np.where(female, fg.draw(rng, n), mg.draw(rng, n))
    first, second = sur.draw(rng, n), sur.draw(rng, n)
    birth = birth_dates(date, age, rng)
    territory = ev_code_arr[event]
    state = np.array([c[:2] for c in territory], dtype=object)
    others = list(BIRTH_STATES_OTHER)
    w = np.array([BIRTH_STATES_OTHER[s] for s in others])
    born_elsewhere = np.array(others, dtype=object)[rng.choice(len(others), size=n, p=w / w.sum())]
    curp_state = np.where(rng.random(n) < 0.8, np.array([CURP_STATE[s] for s in state], dtype=object), born_elsewhere)
    curp = build_curps(
        given_idx=given, female=female, first_idx=first, second_idx=second, birth=birth, state=curp_state, rng=rng
    )
    return Victims(
        person_id=np.array([f"V{i + 1:06d}" for i in range(n)], dtype=object),
        event=event,
        territory=territory,
        state=state,
        date=date,
        minute=ev_minute[event],
        lon=ev_xy[event, 0],
        lat=ev_xy[event, 1],
        female=female,
        age=age,
        birth=birth,
        weapon=weapon,
        relationship=relationship,
        setting=setting,
        gender_related=gender_related,
        identified=identified,
        given=given,
        first_surname=first,
        second_surname=second,
        curp=curp,
    )


def _draw_ages(female: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(female)
    pm = np.array(AGE_W_MALE) / sum(AGE_W_MALE)
    pf = np.array(AGE_W_FEMALE) / sum(AGE_W_FEMALE)
    group = np.where(female, rng.choice(len(pf), size=n, p=pf), rng.choice(len(pm), size=n, p=pm))
    return group * 5 + rng.integers(0, 5, n)


def birth_dates(death: np.ndarray, age: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Birth dates such that the age in completed years at `death` is exactly `age`."""
    y = death.astype("datetime64[Y]").astype(int) + 1970
    m = death.astype("datetime64[M]").astype(int) % 12
    d = (death - death.astype("datetime64[M]").astype("datetime64[D]")).astype(int)
    d = np.where((m == 1) & (d == 28), 27, d)  # 29 February -> 28
    anniversary = (((y - age - 1970) * 12 + m).astype("datetime64[M]")).astype("datetime64[D]") + d
    return anniversary - rng.integers(0, 365, len(death))


def classify_events(
    v: Victims, rng: np.random.Generator, *, close_kin: float, gender: float, other: float, culposo: float
) -> tuple[np.ndarray, np.ndarray]:
    """How one institution classifies each true incident: (femicide, non-intentional), per event.

    The probability of a femicide classification depends on whether a victim was killed by a
    partner or relative (`close_kin`), in another gender-related context (`gender`) or not
    (`other`). An incident is classified once, for all its victims, and as femicide only when
    every victim is a woman; `culposo` is the share recorded as non-intentional homicide.
    """
    n_ev = int(v.event.max()) + 1 if len(v) else 0
    all_female = np.ones(n_ev, dtype=bool)
    np.logical_and.at(all_female, v.event, v.female)
    kin = np.zeros(n_ev, dtype=bool)
    np.logical_or.at(kin, v.event, v.female & (v.relationship <= 2))
    related = np.zeros(n_ev, dtype=bool)
    np.logical_or.at(related, v.event, v.gender_related)
    p = np.where(kin, close_kin, np.where(related, gender, other))
    femicide = all_female & (rng.random(n_ev) < p)
    non_intentional = rng.random(n_ev) < culposo
    return femicide & ~non_intentional, non_intentional
