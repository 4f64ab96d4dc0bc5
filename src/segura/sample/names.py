"""Spanish (Mexican) names for synthetic victims, with realistic frequencies, and CURP-like ids.

A person has one or two given names (compound names such as "María José" or "José Luis"
are common and count as one entry here) and two surnames, paternal then maternal, some with
particles ("de la Cruz", "del Río"). Weights are relative frequencies in the spirit of
Mexico's civil registry: a handful of surnames (Hernández, García, Martínez, López,
González) cover a tenth of the population, and many women are named María.
Nothing here is a real person's record.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np

# Frequency tables read best as text:
# fmt: off
MALE_GIVEN: dict[str, float] = {
    "José": 30, "Juan": 25, "José Luis": 18, "Miguel Ángel": 14, "Jesús": 12, "Francisco": 12,
    "Luis": 10, "Alejandro": 10, "Juan Carlos": 9, "Antonio": 8, "Jorge": 8, "Carlos": 8,
    "José Antonio": 7, "Daniel": 7, "José de Jesús": 6, "Francisco Javier": 6, "Pedro": 6,
    "Manuel": 6, "Juan Manuel": 6, "Ricardo": 6, "Fernando": 6, "Roberto": 6, "Eduardo": 6,
    "Sergio": 6, "Martín": 6, "Javier": 5, "Mario": 5, "Raúl": 5, "Arturo": 5, "Rafael": 5,
    "Juan José": 5, "Víctor Manuel": 5, "Óscar": 5, "Héctor": 5, "Gerardo": 5, "David": 5,
    "J. Jesús": 4, "Jorge Luis": 4, "José Manuel": 4, "Luis Ángel": 4, "Enrique": 4,
    "Alberto": 4, "Salvador": 4, "Ramón": 4, "Rubén": 4, "Ángel": 4, "Julio César": 4,
    "Omar": 4, "Armando": 4, "Marco Antonio": 4, "Juan Pablo": 3, "Andrés": 3, "Hugo": 3,
    "Alfredo": 3, "Gabriel": 3, "Cristian": 3, "Diego": 3, "Adrián": 3, "Iván": 3, "Édgar": 3,
    "Jaime": 3, "Guillermo": 3, "Felipe": 3, "Ignacio": 3, "Gustavo": 3, "Luis Fernando": 3,
    "José Guadalupe": 3, "Christian": 2, "Brayan": 2, "Kevin": 2, "Érick": 2, "Santiago": 2,
    "Emmanuel": 2, "Rogelio": 2, "Agustín": 2, "Gilberto": 2, "Saúl": 2, "Abraham": 2,
    "Israel": 2, "Jonathan": 2, "Alan": 2, "Juan Antonio": 2, "José Alfredo": 2, "Ulises": 1,
    "Noé": 1, "Efraín": 1, "Isaac": 1, "Joaquín": 1, "Tomás": 1, "Germán": 1, "Moisés": 1,
    "Rigoberto": 1, "Lorenzo": 1, "Nicolás": 1, "Cuauhtémoc": 1, "Eleazar": 1,
}

FEMALE_GIVEN: dict[str, float] = {
    "María": 20, "María Guadalupe": 14, "Guadalupe": 6, "María del Carmen": 5, "Verónica": 5,
    "Patricia": 5, "Gabriela": 5, "Alejandra": 5, "Adriana": 5, "María de los Ángeles": 4,
    "María Elena": 4, "Juana": 4, "Margarita": 4, "Leticia": 4, "Claudia": 4, "Silvia": 4,
    "Elizabeth": 4, "Martha": 4, "Laura": 4, "Sandra": 4, "Daniela": 4, "Ana María": 3,
    "Rosa María": 3, "María de Jesús": 3, "María Isabel": 3, "María Teresa": 3,
    "María Fernanda": 3, "María José": 3, "Araceli": 3, "Norma": 3, "Teresa": 3, "Yolanda": 3,
    "Rosa": 3, "Josefina": 3, "Mónica": 3, "Karla": 3, "Andrea": 3, "Brenda": 3, "Diana": 3,
    "Luz María": 3, "Rocío": 3, "Beatriz": 3, "Angélica": 3, "Érika": 3, "Nancy": 3,
    "Fernanda": 2, "Valeria": 2, "Ximena": 2, "Jessica": 2, "Karen": 2, "Itzel": 2,
    "Ana Karen": 2, "Blanca Estela": 2, "Alma Delia": 2, "Sofía": 2, "Lucía": 2, "Paola": 2,
    "Cecilia": 2, "Marisol": 2, "Esperanza": 2, "Ana Laura": 2, "Irma": 2, "Lorena": 2,
    "Maricela": 2, "Yesenia": 2, "Reyna": 1, "Xóchitl": 1, "Itzel Guadalupe": 1, "Concepción": 1,
    "Dolores": 1, "Socorro": 1, "Ofelia": 1, "Susana": 1, "Viridiana": 1, "Nayeli": 1,
}

SURNAMES: dict[str, float] = {
    "Hernández": 370, "García": 280, "Martínez": 240, "López": 220, "González": 210,
    "Pérez": 160, "Rodríguez": 160, "Sánchez": 150, "Ramírez": 140, "Cruz": 100, "Flores": 95,
    "Gómez": 90, "Morales": 80, "Vázquez": 80, "Reyes": 78, "Jiménez": 75, "Torres": 75,
    "Díaz": 70, "Gutiérrez": 70, "Ruiz": 65, "Mendoza": 65, "Aguilar": 65, "Ortiz": 60,
    "Moreno": 60, "Castillo": 58, "Romero": 55, "Álvarez": 55, "Méndez": 55, "Chávez": 50,
    "Rivera": 50, "Juárez": 50, "Ramos": 48, "Domínguez": 47, "Herrera": 45, "Medina": 45,
    "Castro": 45, "Vargas": 43, "Guzmán": 42, "Velázquez": 42, "Muñoz": 40, "Rojas": 40,
    "de la Cruz": 35, "Contreras": 35, "Salazar": 35, "Luna": 34, "Ortega": 34, "Santiago": 33,
    "Guerrero": 33, "Estrada": 32, "Bautista": 32, "Cortés": 31, "Soto": 31, "Alvarado": 30,
    "Espinoza": 30, "Lara": 30, "Ávila": 29, "Ríos": 29, "Cervantes": 28, "Silva": 28,
    "Delgado": 28, "Vega": 28, "Márquez": 27, "Sandoval": 27, "Fernández": 27, "León": 26,
    "Carrillo": 26, "Mejía": 26, "Solís": 25, "Núñez": 25, "Rosas": 25, "Valdez": 25,
    "Ibarra": 24, "Campos": 24, "Santos": 24, "Camacho": 23, "Navarro": 23, "Peña": 23,
    "Maldonado": 23, "Rosales": 22, "Acosta": 22, "Miranda": 22, "Trejo": 22, "Valencia": 21,
    "Nava": 21, "Pacheco": 21, "Huerta": 20, "Padilla": 20, "Molina": 20, "Ayala": 20,
    "Salinas": 19, "Galván": 19, "Fuentes": 19, "Cano": 18, "Rangel": 18, "Zamora": 18,
    "Cárdenas": 18, "Villanueva": 17, "Arellano": 17, "Escobar": 16, "Zúñiga": 16, "Ochoa": 16,
    "Orozco": 16, "Ponce": 15, "Barrera": 15, "Olvera": 15, "Tapia": 15, "Aguirre": 12,
    "Beltrán": 12, "Becerra": 12, "Serrano": 12, "Durán": 12, "Mora": 12, "Robles": 12,
    "Sosa": 12, "Cabrera": 12, "Meza": 12, "Benítez": 10, "Ibáñez": 10, "Muñiz": 10,
    "Ordóñez": 10, "Yáñez": 10, "Jaramillo": 10, "Villegas": 10, "Quiroz": 10, "Zavala": 10,
    "Vera": 10, "Montes": 10, "Esquivel": 10, "Figueroa": 10, "Salgado": 8, "Pineda": 8,
    "Saldaña": 8, "Arias": 8, "Granados": 8, "Cisneros": 8, "de la Rosa": 8, "de León": 8,
    "Ocampo": 8, "Tovar": 7, "Barajas": 7, "Ledesma": 7, "Lira": 7, "Patiño": 7, "Zárate": 7,
    "Paredes": 7, "Razo": 6, "Alcántara": 6, "del Río": 6, "de los Santos": 6, "de la Torre": 6,
    "de Jesús": 6, "Toledo": 6, "Bahena": 6, "Bustos": 6, "Hurtado": 6, "Gallegos": 6,
    "del Ángel": 5, "Montes de Oca": 4, "Nápoles": 4, "Uribe": 4, "Quintero": 4, "Ruelas": 4,
    "Villaseñor": 3, "Magaña": 3, "Peñaloza": 3, "de la O": 2, "Xolalpa": 2, "Tlatelpa": 2,
}

# Where people who die in the sample states were born (CURP state letters): mostly there.
BIRTH_STATES_OTHER: dict[str, float] = {
    "DF": 6, "MC": 5, "MN": 4, "JC": 4, "QT": 3, "GR": 3, "PL": 2, "SP": 2, "MS": 1, "GT": 1, "NE": 0.5,
}
CURP_STATE = {"11": "GT", "17": "MS"}
# fmt: on

PARTICLES = {"DA", "DAS", "DE", "DEL", "DER", "DI", "DIE", "DD", "EL", "LA", "LOS", "LAS", "LE", "LES", "MAC", "MC", "VAN", "VON", "Y"}
CURP_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
VOWELS = set("AEIOU")


def strip_accents(text: str) -> str:
    """'Núñez' -> 'Nuñez' (accents off; ñ kept, as most Mexican systems do)."""
    decomposed = unicodedata.normalize("NFD", text.replace("ñ", "\0").replace("Ñ", "\1"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", plain).replace("\0", "ñ").replace("\1", "Ñ")


def _ascii_upper(text: str) -> str:
    return strip_accents(text).upper().replace("Ñ", "X")


def _meaningful_word(name: str, skip_common_first: bool = False) -> str:
    """The word of a name used by the CURP: particles dropped; María/José skipped when compound."""
    words = [w for w in _ascii_upper(name).replace(".", " ").split() if w not in PARTICLES]
    if skip_common_first and len(words) > 1 and words[0] in {"MARIA", "MA", "JOSE", "J"}:
        words = words[1:]
    return words[0] if words else "X"


def _first_inner(word: str, vowel: bool) -> str:
    for c in word[1:]:
        if (c in VOWELS) == vowel and c.isalpha():
            return c
    return "X"


@dataclass(frozen=True)
class NameTable:
    """A list of names with probabilities and the CURP pieces of each, for vectorised draws."""

    names: np.ndarray  # object array of str, title case with accents
    upper: np.ndarray  # the same, upper case with accents (cp1252 can write them)
    p: np.ndarray
    initial: np.ndarray  # CURP letters taken from this name: first letter
    inner_vowel: np.ndarray  # first inner vowel (surnames only)
    inner_consonant: np.ndarray

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(len(self.names), size=n, p=self.p)


def _table(weights: dict[str, float], *, given: bool) -> NameTable:
    names = list(weights)
    w = np.array([weights[n] for n in names], dtype=float)
    words = [_meaningful_word(n, skip_common_first=given) for n in names]
    return NameTable(
        names=np.array(names, dtype=object),
        upper=np.array([n.upper() for n in names], dtype=object),
        p=w / w.sum(),
        initial=np.array([w_[0] for w_ in words], dtype=object),
        inner_vowel=np.array([_first_inner(w_, True) for w_ in words], dtype=object),
        inner_consonant=np.array([_first_inner(w_, False) for w_ in words], dtype=object),
    )


@cache
def male_given() -> NameTable:
    return _table(MALE_GIVEN, given=True)


@cache
def female_given() -> NameTable:
    return _table(FEMALE_GIVEN, given=True)


@cache
def surnames() -> NameTable:
    return _table(SURNAMES, given=False)


def curp_check_digit(first17: str) -> str:
    """The CURP's 18th character (RENAPO's weighted sum modulo 10)."""
    total = sum(CURP_ALPHABET.index(c) * (18 - i) for i, c in enumerate(first17))
    return str((10 - total % 10) % 10)


def curp_check_digits(first17: np.ndarray) -> np.ndarray:
    """Vectorised curp_check_digit over an array of 17-character strings."""
    codes = np.asarray(first17, dtype="U17").view(np.int32).reshape(-1, 17)
    lookup = np.zeros(max(ord(c) for c in CURP_ALPHABET) + 1, dtype=np.int64)
    for i, c in enumerate(CURP_ALPHABET):
        lookup[ord(c)] = i
    total = (lookup[codes] * np.arange(18, 1, -1)).sum(axis=1)
    digits = (10 - total % 10) % 10
    return digits.astype("U1").astype(object)


def build_curps(
    *,
    given_idx: np.ndarray,
    female: np.ndarray,
    first_idx: np.ndarray,
    second_idx: np.ndarray,
    birth: np.ndarray,  # datetime64[D]
    state: np.ndarray,  # object array of CURP state letters
    rng: np.random.Generator,
) -> np.ndarray:
    """CURP-like ids: 4 letters from the names, yymmdd, H/M, state, 3 consonants, 2 characters."""
    sur, mg, fg = surnames(), male_given(), female_given()

    def given(attr: str) -> np.ndarray:
        return np.where(female, getattr(fg, attr)[np.minimum(given_idx, len(fg.names) - 1)], getattr(mg, attr)[np.minimum(given_idx, len(mg.names) - 1)])

    ymd = np.datetime_as_string(birth, unit="D").astype("U10")
    yy = np.char.add(np.char.add(_sub(ymd, 2, 4), _sub(ymd, 5, 7)), _sub(ymd, 8, 10))
    year = _sub(ymd, 0, 4).astype(int)
    n = len(given_idx)
    letters = np.array(list("ABCDEFGHIJKLMNPQRSTUVWXYZ"), dtype=object)
    homonym = np.where(year >= 2000, letters[rng.integers(0, 10, n)], rng.integers(0, 10, n).astype("U1").astype(object))
    parts = [
        sur.initial[first_idx], sur.inner_vowel[first_idx], sur.initial[second_idx], given("initial"),
        yy.astype(object), np.where(female, "M", "H").astype(object), state,
        sur.inner_consonant[first_idx], sur.inner_consonant[second_idx], given("inner_consonant"), homonym,
    ]
    first17 = parts[0]
    for p in parts[1:]:
        first17 = first17 + p
    return first17 + curp_check_digits(first17)


def _sub(arr: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Fixed-position substring of a unicode array (np.char has no slicing before numpy 2.3)."""
    width = arr.dtype.itemsize // 4
    chars = arr.view("U1").reshape(-1, width)[:, start:stop]
    return np.ascontiguousarray(chars).view(f"U{stop - start}").ravel()
