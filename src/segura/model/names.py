"""How names are compared: without regard to case, accents, punctuation or spacing."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(name: str | None) -> str:
    """'  Tlaltizapán de Zapata ' -> 'tlaltizapan de zapata'; 'Cd. JUÁREZ' -> 'cd juarez'."""
    if name is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(name))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", bare.casefold()).strip()
