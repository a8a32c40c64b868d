"""Small readers the tests share: DOCX text and parsed .eml files."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from docx import Document


def docx_text(path: Path) -> str:
    """All visible text of a DOCX: body paragraphs, tables, headers."""
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    for section in doc.sections:
        for table in section.header.tables:
            for row in table.rows:
                parts += [cell.text for cell in row.cells]
        parts += [p.text for p in section.header.paragraphs]
    return "\n".join(parts)


def read_eml(path: Path) -> EmailMessage:
    """Parse an .eml in strict mode: any defect raises."""
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.strict)  # type: ignore[return-value]
