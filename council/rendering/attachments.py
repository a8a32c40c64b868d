"""A message's attachments as a registry office receives them: each document in DOCX (and PDF/A
where LibreOffice is installed), then the JHS 143 description of them, numbered in the covering
email as "Liite 1: Esitys – Esitys_Jokioisten_kunta.docx, Esitys_Jokioisten_kunta.pdf".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from council.content.i18n import text
from council.delivery.metadata import DocumentRecord, write_metadata
from council.paths import safe_filename
from models.schemas import BodyIn, ProposalIn

#: Turns DOCX documents into the files to attach: themselves plus their PDF/A copies, or themselves.
PdfCopies = Callable[[list[Path]], list[Path]]

#: The metadata's document type per label key (JHS 143 "tyyppi").
_TYPE_KEY = {
    "label_proposal": "proposal_type",
    "label_reminder": "proposal_type",
    "label_duty": "duty_type",
    "label_duty_filled": "duty_type",
}


@dataclass(frozen=True)
class Attachments:
    files: list[Path]  # in the order they are attached
    lines: list[str]  # "Liite 1: …", one per document and one for the description


def attach(
    documents: list[tuple[str, Path]],
    *,
    proposal: ProposalIn,
    body: BodyIn,
    on: date,
    reference: str | None = None,
    pdf_copies: PdfCopies | None = None,
    first_number: int = 1,
) -> Attachments:
    """``documents`` (label key in wording.yaml, DOCX path) with their PDF/A copies when
    ``pdf_copies`` makes them, and a JHS 143 metadata file written beside the first one; the
    lines are numbered from ``first_number`` (a combined reminder numbers on across proposals)."""
    lang = body.language.value
    paths = [path for _, path in documents]
    files = pdf_copies(paths) if pdf_copies else list(paths)
    groups = [[f for f in files if f.stem == path.stem] for path in paths]
    relation = [f"Viite {reference}"] if reference else []
    titles = [_title(key, proposal, body, lang) for key, _ in documents]
    records = [
        DocumentRecord(
            title=title,
            creator=proposal.sender,
            date=on,
            identifier=proposal.diary_number or proposal.id,
            language=lang,
            type=text(lang, _TYPE_KEY[key]).lower(),
            files=group,
            # The first document is the message's main one; the others are its annexes.
            relation=relation + ([text(lang, "relation_annex", title=titles[0])] if index else []),
        )
        for index, ((key, _), title, group) in enumerate(zip(documents, titles, groups, strict=True))
    ]
    metadata = paths[0].parent / safe_filename(text(lang, "file_metadata", document=paths[0].stem), ".xml")
    write_metadata(metadata, records)
    labelled = [*((key, group) for (key, _), group in zip(documents, groups, strict=True))]
    labelled.append(("label_metadata", [metadata]))
    lines = [
        text(lang, "attachment_line", number=n, label=text(lang, key), files=", ".join(f.name for f in group))
        for n, (key, group) in enumerate(labelled, start=first_number)
    ]
    return Attachments(files=[f for _, group in labelled for f in group], lines=lines)


def _title(key: str, proposal: ProposalIn, body: BodyIn, lang: str) -> str:
    """The document's title as its registry would enter it: what it is, for whom."""
    if key in ("label_proposal", "label_reminder"):
        return f"{proposal.title} ({body.name})"
    return f"{text(lang, key)}: {body.name}"
