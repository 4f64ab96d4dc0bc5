"""The small errors clerks make when they type names and ages, for synthetic extracts."""

from __future__ import annotations

import random

from segura.sample.names import strip_accents

# Spelling confusions common in Mexican Spanish records (sound alike, or keys side by side).
PHONETIC = (
    ("V", "B"), ("B", "V"), ("S", "Z"), ("Z", "S"), ("LL", "Y"), ("Y", "LL"), ("CE", "SE"),
    ("CI", "SI"), ("X", "J"), ("GUE", "GE"), ("QU", "K"),
)


def typo(text: str, rnd: random.Random) -> str:
    """One plausible typing or spelling error in `text` (upper or title case)."""
    if len(text) < 3:
        return text
    upper = text.isupper()
    work = text.upper()
    kind = rnd.random()
    if kind < 0.35:
        subs = [(a, b) for a, b in PHONETIC if a in work[1:]]
        if subs:
            a, b = rnd.choice(subs)
            at = work.index(a, 1)
            work = work[:at] + b + work[at + len(a) :]
        else:
            kind = 0.5
    if 0.35 <= kind < 0.45 and work.startswith("H"):
        work = work[1:]  # silent h: HERNANDEZ -> ERNANDEZ
    elif 0.35 <= kind < 0.65:
        i = rnd.randrange(1, len(work) - 1)
        if work[i] != " " and work[i + 1] != " ":
            work = work[:i] + work[i + 1] + work[i] + work[i + 2 :]  # swap neighbours
    elif kind >= 0.65:
        i = rnd.randrange(1, len(work))
        if kind < 0.85 and work[i] != " ":
            work = work[:i] + work[i + 1 :]  # drop a letter
        else:
            work = work[:i] + work[i - 1] + work[i:]  # double a letter
    return work if upper else _title(work)


def _title(text: str) -> str:
    small = {"de", "del", "la", "las", "los", "y"}
    words = text.lower().split(" ")
    return " ".join(w if (i and w in small) else w[:1].upper() + w[1:] for i, w in enumerate(words))


def abbreviate_given(given: str) -> str:
    """'María Guadalupe' -> 'Ma. Guadalupe', 'José de Jesús' -> 'J. de Jesús' (as clerks write)."""
    for full, short in (("María ", "Ma. "), ("MARÍA ", "MA. "), ("José ", "J. "), ("JOSÉ ", "J. ")):
        if given.startswith(full):
            return short + given[len(full) :]
    return given


def plain(text: str, keep_accents: bool) -> str:
    return text if keep_accents else strip_accents(text)


def approximate_age(age: int, rnd: random.Random) -> int:
    """An age as estimated by someone who saw the body: off by a few years, often a round number."""
    guess = age + round(rnd.gauss(0, 3))
    if rnd.random() < 0.6:
        guess = 5 * round(guess / 5)
    return max(0, min(guess, 99))
