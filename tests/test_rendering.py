"""DOCX rendering: the right names in the right case, escaping, SFS 2487 header, safe file names."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest

from council.config import PROJECT_ROOT
from council.content.loading import load_proposal, load_roster
from council.errors import UnsafePathError
from council.paths import inside, safe_filename
from council.rendering.contexts import duty_description_context, proposal_context
from council.rendering.environment import DUTY_TEMPLATE, PROPOSAL_TEMPLATE
from council.rendering.render import render_docx
from models.contexts import LiaisonContext
from models.schemas import BodyIn
from tests.helpers import docx_text

PROPOSAL = load_proposal(PROJECT_ROOT / "data/proposals/jarjestoyhteistyomalli-forssan-seutu.yaml")
ROSTER = load_roster(PROJECT_ROOT / "data/rosters/forssan-seutu.yaml")
DAY = date(2021, 2, 15)


@pytest.mark.parametrize("body", ROSTER.bodies, ids=[b.id for b in ROSTER.bodies])
def test_proposal_names_the_body_in_the_right_case(tmp_path: Path, body: BodyIn) -> None:
    """Each body's proposal has its nominative, its deciding body and its inessive in the resolution."""
    path = render_docx(PROPOSAL_TEMPLATE, proposal_context(PROPOSAL, body, on=DAY), tmp_path / "e.docx")
    text = docx_text(path)
    assert body.name in text
    assert f"{body.deciding_body} päättää, että {body.name_inessive}" in text
    assert "15.2.2021" in text and "ESITYS" in text
    assert "{{" not in text and "{%" not in text
    assert all(p.title in text for p in PROPOSAL.points)
    others = [b for b in ROSTER.bodies if b.id != body.id and b.name not in body.name]
    assert not any(f"{o.deciding_body} päättää" in text for o in others)


@pytest.mark.parametrize("body", ROSTER.bodies, ids=[b.id for b in ROSTER.bodies])
def test_duty_description_uses_the_genitive_and_blank_lines(tmp_path: Path, body: BodyIn) -> None:
    """Before a liaison is named the duty description has blank lines; its title is in the genitive."""
    path = render_docx(DUTY_TEMPLATE, duty_description_context(PROPOSAL, body, on=DAY), tmp_path / "t.docx")
    text = docx_text(path)
    assert f"{body.name_genitive} järjestöyhdyshenkilön toimenkuva" in text
    assert "______" in text
    assert "Forssan seudun järjestösillan tapaamisiin osallistuminen" in text
    assert "TOIMENKUVA" in text


def test_filled_duty_description_shows_the_liaison(tmp_path: Path) -> None:
    """A named liaison replaces the blank lines."""
    body = ROSTER.bodies[2]
    liaison = LiaisonContext(
        name="Maija Meikäläinen",
        title="hyvinvointikoordinaattori",
        email="maija@jokioinen.example",
        work_time="8 h/kk",
    )
    ctx = duty_description_context(
        PROPOSAL, body, on=DAY, liaison=liaison, appointed_by="Jokioisten kunnanhallitus 15.3.2021 § 59"
    )
    text = docx_text(render_docx(DUTY_TEMPLATE, ctx, tmp_path / "t.docx"))
    assert "Maija Meikäläinen" in text and "8 h/kk" in text and "15.3.2021 § 59" in text


NASTY = "Ab & Co <w:p> \"lainaus\" 'heittomerkki' {{ 7*7 }} {% if x %}"


def test_every_context_value_is_escaped(tmp_path: Path) -> None:
    """&, <, quotes and Jinja/Word-XML fragments in any value appear literally and keep the file valid."""
    body = BodyIn(
        id="nasty",
        name=NASTY,
        name_genitive=NASTY + " gen",
        name_inessive=NASTY + " ine",
        kind="kunta",
        deciding_body=NASTY + " hallitus",
        registry_email="k@nasty.example",
    )
    proposal = PROPOSAL.model_copy(
        update={
            "title": NASTY,
            "sender": NASTY,
            "preparer": NASTY,
            "proposal_lead": NASTY,
            "recipients_text": NASTY,
            "sender_allative": NASTY,
        }
    )
    liaison = LiaisonContext(name=NASTY, title=NASTY, email=NASTY, work_time=NASTY)
    for template, ctx in (
        (PROPOSAL_TEMPLATE, proposal_context(proposal, body, on=DAY, diary_number=NASTY)),
        (
            DUTY_TEMPLATE,
            duty_description_context(
                proposal, body, on=DAY, liaison=liaison, appointed_by=NASTY, diary_number=NASTY
            ),
        ),
    ):
        path = render_docx(template, ctx, tmp_path / template)
        text = docx_text(path)  # python-docx parses the XML: a broken file raises here
        assert NASTY in text
        assert "49" not in text.replace("2021", "")
        with zipfile.ZipFile(path) as z:
            assert b"<w:p> " not in z.read("word/document.xml")


def test_header_has_live_page_fields(tmp_path: Path) -> None:
    """The header carries PAGE and NUMPAGES fields ("1 (N)") and the document date."""
    path = render_docx(
        PROPOSAL_TEMPLATE, proposal_context(PROPOSAL, ROSTER.bodies[0], on=DAY), tmp_path / "e.docx"
    )
    with zipfile.ZipFile(path) as z:
        headers = b"".join(z.read(n) for n in z.namelist() if n.startswith("word/header"))
    assert b" PAGE " in headers and b" NUMPAGES " in headers
    assert b"15.2.2021" in headers


def test_reminder_version_lists_only_open_points(tmp_path: Path) -> None:
    """With open points given, only they are shown and the decided ones are listed as decided."""
    ctx = proposal_context(
        PROPOSAL,
        ROSTER.bodies[0],
        on=DAY,
        open_points=[2, 4],
        decided_notes={1: "päätetty 15.3.2021 § 59", 3: "päätetty 15.3.2021 § 60"},
    )
    text = docx_text(render_docx(PROPOSAL_TEMPLATE, ctx, tmp_path / "m.docx"))
    assert PROPOSAL.points[1].title in text and PROPOSAL.points[3].title in text
    assert f"1. {PROPOSAL.points[0].title}" not in text
    assert "päätetty 15.3.2021 § 59" in text and "muistutusversio" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Esitys Ypäjän kunta", "Esitys_Ypäjän_kunta"),
        (
            "Järjestöyhdyshenkilön toimenkuva – Forssan seudun hyvinvointikuntayhtymä",
            "Järjestöyhdyshenkilön_toimenkuva_Forssan_seudun_hyvinvointikuntayhtymä",
        ),
        ("../../etc/passwd", "etc_passwd"),
        ("a/b\\c:d*e", "a_b_c_d_e"),
    ],
    ids=["umlauts", "dash", "dotdot", "separators"],
)
def test_safe_filename_keeps_finnish_letters_and_drops_paths(text: str, expected: str) -> None:
    """File names keep ä and ö readable and lose every path separator."""
    assert safe_filename(text) == expected


def test_inside_refuses_escaping_paths(tmp_path: Path) -> None:
    """A relative path that leaves the base folder is refused."""
    assert inside(tmp_path, "a", "b.docx") == tmp_path.resolve() / "a" / "b.docx"
    with pytest.raises(UnsafePathError):
        inside(tmp_path, "..", "x")
    with pytest.raises(UnsafePathError):
        safe_filename("../..")
