"""Safe file names (readable Finnish, ä, ö, å kept), nothing that escapes outputs/, and atomic writes."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

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


_ASCII = str.maketrans({"ä": "a", "ö": "o", "å": "a", "Ä": "A", "Ö": "O", "Å": "A", "ü": "u", "Ü": "U"})


def ascii_filename(name: str) -> str:
    """'Esitys_Ypäjän_kunta.pdf' -> 'Esitys_Ypajan_kunta.pdf': the plain name for mail tools that
    decode no encoding (ä→a, ö→o, å→a; other accents dropped, anything else non-ASCII becomes '_')."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFC", name).translate(_ASCII))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in plain)


def inside(base: Path, *parts: str) -> Path:
    """Join ``parts`` under ``base`` and refuse any result that leaves ``base``."""
    base = base.resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise UnsafePathError("/".join(parts))
    return target


@contextmanager
def atomic_file(target: Path, *, durable: bool = False) -> Iterator[BinaryIO]:
    """Yield a binary file that becomes ``target`` only when the block ends without an error: a
    temporary file in the same folder, then ``os.replace``; on an error the temporary file is removed,
    so a reader sees the old file or the new one, never half of it. For data streamed in pieces (an
    archive package) rather than held in memory. The file is 0644 (``mkstemp`` makes 0600; documents
    are for others to read). ``durable`` also fsyncs the data before the rename.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomic(target: Path, data: bytes | str, *, durable: bool = False) -> Path:
    """Write ``data`` to ``target`` so that a reader sees the old file or the new one, never half of
    it (see :func:`atomic_file`). Text is UTF-8 with ``\n`` line ends. ``durable`` also fsyncs the
    data before the rename (the dashboard), at a cost per file.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_file(target, durable=durable) as handle:
        handle.write(payload)
    return Path(target)
