"""LibreOffice, the real client: the generated DOCX open and convert to PDF with the right text."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest

from council.config import PROJECT_ROOT
from council.content.loading import load_proposal, load_roster
from council.services.send import render_first_send

pytestmark = pytest.mark.libreoffice


def test_documents_convert_to_pdf_with_names_case_and_page_numbers(libreoffice: str, tmp_path: Path) -> None:
    """Jokioinen's and the joint authority's documents convert; the PDF shows their names and '1 (N)'."""
    proposal = load_proposal(PROJECT_ROOT / "data/proposals/jarjestoyhteistyomalli-forssan-seutu.yaml")
    roster = {b.id: b for b in load_roster(PROJECT_ROOT / "data/rosters/forssan-seutu.yaml").bodies}
    docs: list[Path] = []
    for body_id in ("jokioinen", "fshky"):
        docs += render_first_send(
            proposal, roster[body_id], tmp_path / body_id, on=date(2021, 2, 15)
        ).attachments
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            libreoffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "pdf"),
            *map(str, docs),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    texts = {}
    for doc in docs:
        pdf = tmp_path / "pdf" / (doc.stem + ".pdf")
        assert pdf.exists(), f"LibreOffice ei tuottanut tiedostoa {pdf.name}"
        texts[doc.name] = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
    jok = texts["Esitys_Jokioisten_kunta.docx"]
    assert "Jokioisten kunnanhallitus päättää, että Jokioisten kunnassa" in " ".join(jok.split())
    pages = jok.count("\f")
    assert "1 (" in jok and f"({pages})" in jok and pages >= 3
    duty = texts["Järjestöyhdyshenkilön_toimenkuva_Forssan_seudun_hyvinvointikuntayhtymä.docx"]
    assert "Forssan seudun hyvinvointikuntayhtymän järjestöyhdyshenkilön" in " ".join(duty.split())


def test_every_document_of_every_body_converts_to_pdfa(libreoffice: str, settings, tmp_path: Path) -> None:  # noqa: ANN001
    """docs-preview: all bodies' first-send and reminder proposals, blank and filled duty descriptions
    and the status report convert to PDF/A with page numbers, the right names and no leftover tag."""
    from council.services.preview import preview
    from council.services.send import sync

    sync(settings, actor="test")
    docs, pngs, note = preview(settings, today=date(2026, 11, 28))
    assert note == "" and len(docs) == 6 * 4 + 1 and len(pngs) == len(docs)
    roster = load_roster(PROJECT_ROOT / "data/rosters/forssan-seutu.yaml").bodies
    pdf_dir = settings.outputs / "preview" / "pdf"
    for doc in docs:
        pdf = pdf_dir / (doc.stem + ".pdf")
        data = pdf.read_bytes()
        assert b"pdfaid:part" in data, f"{pdf.name} ei ole PDF/A"
        text = " ".join(
            subprocess.run(
                ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
            ).stdout.split()
        )
        assert "{{" not in text and "{%" not in text and "1 (" in text, pdf.name
        body = next((b for b in roster if b.name.replace(" ", "_") in doc.stem), None)
        if body is None:
            assert doc.stem == "Tilannekatsaus"
            continue
        if doc.stem.startswith("Esitys"):
            assert f"{body.deciding_body} päättää, että {body.name_inessive}" in text, pdf.name
        else:
            assert f"{body.name_genitive} järjestöyhdyshenkilön toimenkuva" in text, pdf.name
        if "täytetty" in doc.stem:
            assert "Maija Meikäläinen" in text and "______" not in text
        if "muistutus" in doc.stem:
            assert "muistutusversio" in text and "Jo päätetyt kohdat" in text
    assert all(p.stat().st_size > 1000 for p in pngs)
