"""The plain text of a document a registry sends or publishes: PDF (pdftotext), DOCX (python-docx),
plain text. Used to read minutes extracts attached to replies and PDFs listed on publication pages."""

from __future__ import annotations

import io
import shutil
import subprocess

from council.errors import CouncilError

#: Document types whose text can be read, by file name suffix.
READABLE = (".pdf", ".docx", ".txt")


class UnreadableDocument(CouncilError):
    """A document whose text could not be read; the message names the document and the cause."""


def pdf_text(content: bytes, name: str) -> str:
    """``pdftotext -layout`` (poppler-utils): the layout keeps a header's columns on one line."""
    tool = shutil.which("pdftotext")
    if tool is None:
        raise UnreadableDocument(
            f"{name}: PDF-tiedoston lukemiseen tarvitaan pdftotext (Debian: poppler-utils)"
        )
    try:
        done = subprocess.run(
            [tool, "-layout", "-enc", "UTF-8", "-", "-"],
            input=content,
            capture_output=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise UnreadableDocument(f"{name}: PDF-tiedoston lukeminen ei päättynyt minuutissa") from exc
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise UnreadableDocument(
            f"{name}: PDF-tiedostoa ei voitu lukea ({detail[-1] if detail else done.returncode})"
        )
    return done.stdout.decode("utf-8", errors="replace")


def docx_text(content: bytes, name: str) -> str:
    """Paragraphs, then table cells row by row (registries often lay the header out as a table)."""
    import docx

    try:
        document = docx.Document(io.BytesIO(content))
    except Exception as exc:  # python-docx raises several kinds for a file that is not a DOCX
        raise UnreadableDocument(f"{name}: DOCX-tiedostoa ei voitu avata ({type(exc).__name__})") from exc
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("   ".join(dict.fromkeys(cell.text.strip() for cell in row.cells)))
    return "\n".join(lines)


def document_text(name: str, content: bytes) -> str | None:
    """The text of a document by its name's suffix; None for a type that is not read."""
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if suffix == "pdf" or content.startswith(b"%PDF"):
        return pdf_text(content, name)
    if suffix == "docx":
        return docx_text(content, name)
    if suffix == "txt":
        return content.decode("utf-8", errors="replace")
    return None
