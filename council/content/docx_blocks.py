"""A DOCX as numbered blocks: the reading layer under the authoring template's parser.

The file is refused before parsing when it is empty, larger than :data:`MAX_AUTHORING_BYTES`, unpacks
past :data:`MAX_UNPACKED_BYTES` (a zip bomb) or is not a Word document: one Finnish problem that
names the file. Paragraphs are numbered from the start of the body, empty ones and table cells'
included, as ``council templates check`` numbers them, so "kappale 12" is the same paragraph in
both. Lists are recognised by Word's numbering definitions (numbered or bulleted), not by style name.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
from docx.document import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from lxml import etree

from council.errors import ContentError, Problem

#: A DOCX larger than this is refused before it is opened (the seed proposal is about 50 kB).
MAX_AUTHORING_BYTES = 10_000_000
#: ...and one whose parts unpack to more than this (a zip bomb).
MAX_UNPACKED_BYTES = 100_000_000

NOT_DOCX = (
    "ei ole Word-asiakirja (.docx) tai tiedosto on vioittunut; tallenna esitys Wordissa tai "
    "LibreOfficessa muodossa Word-asiakirja (.docx) ja yritä uudelleen"
)


@dataclass
class Block:
    number: int
    text: str
    style: str
    list_kind: str | None  # "number", "bullet" or None


def open_docx(path: Path) -> Document:
    """The document at ``path``, or a :class:`ContentError` with one Finnish problem naming the file."""
    name = str(path)

    def refuse(message: str) -> ContentError:
        return ContentError(name, [Problem(name, None, "(tiedosto)", message)])

    try:
        size = path.stat().st_size
        if size > MAX_AUTHORING_BYTES:
            raise refuse(
                f"tiedosto on liian suuri ({size / 1_000_000:.1f} Mt; enintään "
                f"{MAX_AUTHORING_BYTES // 1_000_000} Mt); poista asiakirjasta suuret kuvat"
            )
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise refuse("tiedostoa ei löydy") from exc
    except IsADirectoryError as exc:
        raise refuse("on kansio, ei tiedosto") from exc
    if not raw:
        raise refuse("tiedosto on tyhjä")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise refuse("tiedosto on purettuna liian suuri; se ei ole tavallinen Word-asiakirja")
        return docx.Document(io.BytesIO(raw))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, etree.XMLSyntaxError) as exc:
        raise refuse(NOT_DOCX) from exc


def document_blocks(document: Document) -> tuple[list[Block], list[list[list[Block]]]]:
    """The body's paragraphs outside tables in order, and each table as rows of cells' first
    blocks (a cell's paragraphs joined by line breaks), all numbered in document order."""
    body = document.element.body
    everything = list(body.iter(qn("w:p")))  # held so that lxml keeps one proxy (one id) per element
    numbers = {id(p): n for n, p in enumerate(everything, start=1)}
    numbering = _numbering_formats(document)

    # python-docx looks a paragraph's style up by scanning every style each time: index them once
    styles = {s.style_id: s for s in document.styles if s.type == WD_STYLE_TYPE.PARAGRAPH}
    default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)

    def block(p: Any) -> Block:
        style = styles.get(p.style, default) if p.style is not None else default
        return Block(
            numbers[id(p)],
            unicodedata.normalize("NFC", Paragraph(p, document._body).text).strip(),
            (style.name if style is not None else "") or "",
            _list_kind(p, style, numbering),
        )

    paragraphs: list[Block] = []
    tables: list[list[list[Block]]] = []
    for child in _flatten(body):
        if child.tag == qn("w:p"):
            paragraphs.append(block(child))
        elif child.tag == qn("w:tbl"):
            rows = []
            for tr in child.iter(qn("w:tr")):
                cells = []
                for tc in tr.findall(qn("w:tc")):
                    parts = [block(p) for p in tc.iter(qn("w:p"))]
                    text = "\n".join(b.text for b in parts if b.text and not is_instruction(b))
                    cells.append(Block(parts[0].number if parts else 0, text, "", None))
                rows.append(cells)
            tables.append(rows)
    return paragraphs, tables


def _flatten(element: Any) -> list[Any]:
    """Top-level paragraphs and tables, looking into content controls (w:sdt) Word may add."""
    out = []
    for child in element:
        if child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            out += _flatten(content) if content is not None else []
        elif child.tag in (qn("w:p"), qn("w:tbl")):
            out.append(child)
    return out


def _numbering_formats(document: Document) -> dict[tuple[str, str], str]:
    """(numId, ilvl) -> numFmt ("decimal", "bullet", …) from the numbering part, if there is one."""
    try:
        root = document.part.numbering_part.element
    except (KeyError, NotImplementedError):
        return {}
    abstract = {}
    for node in root.findall(qn("w:abstractNum")):
        for lvl in node.findall(qn("w:lvl")):
            fmt = lvl.find(qn("w:numFmt"))
            abstract[(node.get(qn("w:abstractNumId")), lvl.get(qn("w:ilvl")))] = (
                fmt.get(qn("w:val")) if fmt is not None else "decimal"
            )
    formats = {}
    for num in root.findall(qn("w:num")):
        ref = num.find(qn("w:abstractNumId"))
        if ref is None:
            continue
        for (abstract_id, ilvl), fmt in abstract.items():
            if abstract_id == ref.get(qn("w:val")):
                formats[(num.get(qn("w:numId")), ilvl)] = fmt
    return formats


def _list_kind(p: Any, style: Any, formats: dict[tuple[str, str], str]) -> str | None:
    """The list kind ("number" or "bullet") of a paragraph in a Word list, by its own numbering or its style's."""
    num_pr = p.pPr.numPr if p.pPr is not None else None
    base = style
    while num_pr is None and base is not None:
        ppr = base.element.pPr
        num_pr = ppr.numPr if ppr is not None else None
        base = base.base_style
    if num_pr is None or num_pr.numId is None or num_pr.numId.val == 0:
        return None
    ilvl = str(num_pr.ilvl.val) if num_pr.ilvl is not None else "0"
    fmt = formats.get((str(num_pr.numId.val), ilvl))
    if fmt is None:
        return "bullet" if "bullet" in (style.name if style is not None else "").lower() else "number"
    return "bullet" if fmt == "bullet" else (None if fmt == "none" else "number")


def is_instruction(block: Block) -> bool:
    return block.text.lower().startswith("ohje:")


def heading_level(block: Block) -> int | None:
    """0 for the Title style, 1.. for Heading N (also the Finnish names), None for body text."""
    name = block.style.lower()
    if name in ("title", "otsikko"):
        return 0
    match = re.fullmatch(r"(?:heading|otsikko) (\d)", name)
    return int(match.group(1)) if match else None
