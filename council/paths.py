"""Safe file names: readable Finnish (ä, ö, å kept), nothing that escapes outputs/."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from council.errors import UnsafePathError

_ALLOWED = re.compile(r"[^0-9A-Za-zÅÄÖåäöÜüÉé_-]+")


def safe_filename(text: str, suffix: str = "", max_length: int = 120) -> str:
    """'Järjestöyhdyshenkilön toimenkuva – Ypäjän kunta' -> 'Järjestöyhdyshenkilön_toimenkuva_Ypäjän_kunta'."""
    text = unicodedata.normalize("NFC", text).strip()
    name = _ALLOWED.sub("_", text.replace(" ", "_"))
    name = re.sub(r"_+", "_", name).strip("_-.")[:max_length].rstrip("_-")
    if not name:
        raise UnsafePathError(text)
    return name + suffix


def inside(base: Path, *parts: str) -> Path:
    """Join ``parts`` under ``base`` and refuse any result that leaves ``base``."""
    base = base.resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise UnsafePathError("/".join(parts))
    return target
