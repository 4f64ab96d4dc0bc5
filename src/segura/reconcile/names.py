"""Spanish personal names, made comparable: accents, particles, abbreviations and nicknames.

Latin American records write the same person as "MA. GUADALUPE LÓPEZ DE LA CRUZ",
"Guadalupe Lopez Cruz" or "Lupita López". Comparison works on keys built here:
the first given name (nicknames and abbreviations resolved), all given names, each surname
without particles, and the surnames in alphabetical order (so swapped surnames agree).
Hand-written because no maintained library covers Spanish naming conventions; the nickname
list is the common Mexican and Central American usage.
"""

from __future__ import annotations

from dataclasses import dataclass

from segura.model.names import fold

PARTICLES = frozenset({"de", "del", "la", "las", "los", "y", "da", "dos", "van", "von", "san"})
# abbreviations and nicknames -> the given name they stand for
GIVEN_ALIASES = {
    "ma": "maria", "ma.": "maria", "mria": "maria", "fco": "francisco", "fdo": "fernando", "jose.": "jose",
    "j": "jose", "guille": "guillermo", "memo": "guillermo", "pepe": "jose", "chepe": "jose", "paco": "francisco",
    "pancho": "francisco", "lupe": "guadalupe", "lupita": "guadalupe", "chucho": "jesus", "chuy": "jesus",
    "nacho": "ignacio", "lalo": "eduardo", "toño": "antonio", "tono": "antonio", "tony": "antonio",
    "beto": "alberto", "rafa": "rafael", "quique": "enrique", "kike": "enrique", "chela": "graciela",
    "concha": "concepcion", "conchita": "concepcion", "charo": "rosario", "chayo": "rosario", "lola": "dolores",
    "pili": "pilar", "juanita": "juana", "juanito": "juan", "pedrito": "pedro", "rosy": "rosa", "chava": "salvador",
    "chabelo": "isabel", "chabela": "isabel", "goyo": "gregorio", "nando": "fernando", "poncho": "alfonso",
    "fito": "adolfo", "tere": "teresa", "paty": "patricia", "pati": "patricia", "vicky": "victoria",
    "meche": "mercedes", "sergito": "sergio", "miguelito": "miguel", "cuauh": "cuauhtemoc",
}


@dataclass(frozen=True)
class NameKeys:
    given_1: str | None  # first given name, resolved ("Ma. Guadalupe" -> "maria")
    given_all: str | None  # all given names, resolved and folded
    surname_1: str | None
    surname_2: str | None
    surnames_sorted: str | None  # "cruz lopez" for both "López Cruz" and "Cruz López"
    full: str | None  # given_all + surnames in order


def _words(text: str | None) -> list[str]:
    return [w for w in fold(text).split() if w]


def _surname(text: str | None) -> str | None:
    words = [w for w in _words(text) if w not in PARTICLES]
    return " ".join(words) or None


def name_keys(given: str | None, surname_1: str | None, surname_2: str | None, full_name: str | None = None) -> NameKeys:
    """Keys of one person's name. `full_name` is used when the parts are not recorded apart
    (then the last two words are taken as the surnames)."""
    if not (given or surname_1 or surname_2) and full_name:
        words = [w for w in _words(full_name) if w not in PARTICLES]
        if len(words) >= 3:
            given, surname_1, surname_2 = " ".join(words[:-2]), words[-2], words[-1]
        elif len(words) == 2:
            given, surname_1 = words
    givens = [GIVEN_ALIASES.get(w, w) for w in _words(given) if w not in PARTICLES]
    s1, s2 = _surname(surname_1), _surname(surname_2)
    sorted_s = " ".join(sorted(s for s in (s1, s2) if s)) or None
    given_all = " ".join(givens) or None
    full = " ".join(p for p in (given_all, s1, s2) if p) or None
    return NameKeys(givens[0] if givens else None, given_all, s1, s2, sorted_s, full)
