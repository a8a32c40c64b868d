"""The machine-readable description (JHS 143) attached to each message beside its documents.

A registry office registers an incoming document by a handful of fields; JHS 143 (the Finnish
public administration's metadata recommendation) names them, and they are Dublin Core elements:
title, creator, date, identifier, language, type and relation. XML rather than JSON, because
Dublin Core has a standard XML namespace (``http://purl.org/dc/elements/1.1/``) that records
management and archiving tools (SÄHKE2 is XML) read without a mapping of our own; a JSON file would
need its field names explained. One ``asiakirja`` element per document, one ``tiedosto`` per file
format of it (DOCX, PDF/A).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from council.paths import write_atomic

DC = "http://purl.org/dc/elements/1.1/"
ET.register_namespace("dc", DC)

MEDIA_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pdf": "application/pdf",
    ".xml": "application/xml",
}


@dataclass(frozen=True)
class DocumentRecord:
    """JHS 143 fields of one document (every value plain text; ``language`` as ISO 639-1 'fi')."""

    title: str
    creator: str
    date: date
    identifier: str
    language: str
    type: str
    files: list[Path]
    relation: list[str] = field(default_factory=list)


def metadata_xml(records: list[DocumentRecord]) -> bytes:
    """The records as UTF-8 XML with Dublin Core elements."""
    root = ET.Element("kuvailutiedot", {"standardi": "JHS 143"})
    for record in records:
        doc = ET.SubElement(root, "asiakirja")
        for name, value in (
            ("title", record.title),
            ("creator", record.creator),
            ("date", record.date.isoformat()),
            ("identifier", record.identifier),
            ("language", record.language),
            ("type", record.type),
            *(("relation", r) for r in record.relation),
        ):
            ET.SubElement(doc, f"{{{DC}}}{name}").text = value
        for path in record.files:
            ET.SubElement(
                doc,
                "tiedosto",
                {
                    "nimi": path.name,
                    "muoto": MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream"),
                },
            )
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write_metadata(target: Path, records: list[DocumentRecord]) -> Path:
    """Write the records to ``target`` atomically; returns ``target``."""
    return write_atomic(target, metadata_xml(records))
