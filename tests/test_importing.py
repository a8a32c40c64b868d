"""Bulk import and export of decisions: all rows validated first, all or nothing, round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from council.config import Settings
from council.errors import ContentError
from council.services.bulk import export_decisions, import_decisions
from council.store.engine import make_engine
from council.store.tracking import status_matrix
from models.tables import Decision

HEADER = "vastaanottaja;kohta;paatos;kokouspaiva;pykala;dnro;yhdyshenkilo_nimi;yhdyshenkilo_nimike;yhdyshenkilo_sahkoposti;yhdyshenkilo_tyoaika"
ROWS = [
    "jokioinen;1;hyväksytty ehdotuksen mukaisesti;15.3.2021;59;JOK/1/2021;Maija Meikäläinen;hyvinvointikoordinaattori;maija@jokioinen.example;8 h/kk",
    "jokioinen;2;hyväksytty ehdotuksen mukaisesti;15.3.2021;60;;;;;",
    "jokioinen;3;merkitty tiedoksi;15.3.2021;61;;;;;",
    "jokioinen;4;hyväksytty muutettuna;15.3.2021;62;;;;;",
    "Forssan kaupunki;1;hyväksytty äänestyksen jälkeen;2021-04-06;101;;Pekka Virtanen;vapaa-aikasihteeri;pekka@forssa.example;10 % työajasta",
    "forssa;2;pantu pöydälle;6.4.2021;102;;;;;",
    "forssa;3;palautettu valmisteluun;6.4.2021;103;;;;;",
    "forssa;4;hylätty;6.4.2021;§ 104;;;;;",
    "tammela;1;hyväksytty ehdotuksen mukaisesti;1.3.2021;20;;;;;",
    "tammela;2;hyväksytty ehdotuksen mukaisesti;1.3.2021;21;;;;;",
]


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def run_import(settings: Settings, path: Path) -> int:
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        return import_decisions(session=session, proposal_id=settings.proposal_id, path=path, actor="test")


def decided_count(settings: Settings) -> int:
    with Session(make_engine(settings.effective_database_url)) as session:
        return session.scalar(select(func.count()).select_from(Decision).where(Decision.outcome.is_not(None)))


def test_one_bad_row_among_ten_writes_nothing_then_the_fixed_file_writes_ten(
    sent_any_db: Settings, tmp_path: Path
) -> None:
    """Row 7 has an impossible date: nothing is stored and the error names row 7; fixed, all ten go in."""
    rows = list(ROWS)
    rows[5] = "forssa;2;pantu pöydälle;31.2.2021;102;;;;;"
    with pytest.raises(ContentError) as caught:
        run_import(sent_any_db, write_csv(tmp_path / "paatokset.csv", rows))
    assert [(p.row, p.field) for p in caught.value.problems] == [(7, "kokouspaiva")]
    assert "paatokset.csv, rivi 7, kenttä 'kokouspaiva'" in str(caught.value)
    assert decided_count(sent_any_db) == 0
    assert run_import(sent_any_db, write_csv(tmp_path / "paatokset.csv", ROWS)) == 10
    assert decided_count(sent_any_db) == 10
    with Session(make_engine(sent_any_db.effective_database_url)) as session:
        matrix = status_matrix(session=session, proposal_id=sent_any_db.proposal_id)
    forssa = next(r for r in matrix.bodies if r.body_id == "forssa")
    assert [c.status.value for c in forssa.cells] == ["final", "on_agenda", "on_agenda", "final"]


def test_row_numbers_count_blank_lines(sent: Settings, tmp_path: Path) -> None:
    """A blank line before a bad row does not shift the row number reported."""
    path = tmp_path / "x.csv"
    path.write_text("\n".join([HEADER, ROWS[0], "", ROWS[1].replace(";60;", ";0;")]) + "\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        run_import(sent, path)
    assert [(p.row, p.field) for p in caught.value.problems] == [(4, "pykala")]


def test_every_bad_row_is_reported_together(sent: Settings, tmp_path: Path) -> None:
    """Several problems in several rows come back in one error, each with its row and field."""
    rows = list(ROWS)
    rows[0] = rows[0].replace(";59;", ";abc;")
    rows[1] = "helsinki;2;hyväksytty ehdotuksen mukaisesti;15.3.2021;60;;;;;"
    rows[2] = "jokioinen;5;merkitty tiedoksi;15.3.2021;61;;;;;"
    rows[3] = 'jokioinen;4;=HYPERLINK("http://x");15.3.2021;62;;;;;'
    rows[8] = "tammela;1;hyväksytty ehdotuksen mukaisesti;1.3.2099;20;;;;;"
    rows[9] = "tammela;1;hyväksytty ehdotuksen mukaisesti;1.3.2021;21;;;;;"
    with pytest.raises(ContentError) as caught:
        run_import(sent, write_csv(tmp_path / "x.csv", rows))
    found = {(p.row, p.field) for p in caught.value.problems}
    assert {(2, "pykala"), (3, "vastaanottaja"), (4, "kohta"), (5, "paatos"), (10, "kokouspaiva")} <= found
    assert decided_count(sent) == 0


def test_conflict_found_while_writing_rolls_back_everything(sent: Settings, tmp_path: Path) -> None:
    """A row that would overwrite a decided point without its version stops the whole import."""
    run_import(sent, write_csv(tmp_path / "a.csv", ROWS[:1]))
    with pytest.raises(ContentError, match="rivi 3.*jo päätetty"):
        run_import(sent, write_csv(tmp_path / "b.csv", [ROWS[1], ROWS[0].replace(";59;", ";99;")]))
    assert decided_count(sent) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "tyhj"),
        (b"vastaanottaja;kohta\njokioinen;1\n", "pakollinen sarake puuttuu"),
        (f"{HEADER}\n{ROWS[0]}".encode("utf-16"), "UTF-8"),
        (f"{HEADER};salainen\n".encode(), "tuntematon sarake"),
        (f"{HEADER}\njoki\x00oinen;1;hylätty;1.3.2021;1;;;;;\n".encode(), "NUL"),
    ],
    ids=["empty", "missing-columns", "utf16", "unknown-column", "nul"],
)
def test_unreadable_files_are_refused(sent: Settings, tmp_path: Path, content: bytes, message: str) -> None:
    """Empty files, missing columns, wrong encodings and NUL bytes are refused with the file named."""
    path = tmp_path / "huono.csv"
    path.write_bytes(content)
    with pytest.raises(ContentError, match=message) as caught:
        run_import(sent, path)
    assert "huono.csv" in str(caught.value)


def test_xlsx_import_and_export_round_trip(sent: Settings, tmp_path: Path) -> None:
    """An XLSX with real date cells imports; the export (CSV and XLSX) re-imports into a fresh database."""
    wb = Workbook()
    sheet = wb.active
    sheet.append(HEADER.split(";"))
    from datetime import datetime

    for row in ROWS:
        values: list[object] = row.split(";")
        if values[3] == "15.3.2021":
            values[3] = datetime(2021, 3, 15)
        sheet.append(values)
    wb.save(tmp_path / "in.xlsx")
    assert run_import(sent, tmp_path / "in.xlsx") == 10
    with Session(make_engine(sent.effective_database_url)) as session:
        assert (
            export_decisions(session=session, proposal_id=sent.proposal_id, path=tmp_path / "out.csv") == 10
        )
        assert (
            export_decisions(session=session, proposal_id=sent.proposal_id, path=tmp_path / "out.xlsx") == 10
        )
    header = load_workbook(tmp_path / "out.xlsx").active[1]
    # the columns the README documents, in that order
    assert [c.value for c in header] == [
        "vastaanottaja",
        "kohta",
        "paatos",
        "kokouspaiva",
        "pykala",
        "toimielin",
        "dnro",
        "poytakirjaote",
        "lisatieto",
        "yhdyshenkilo_nimi",
        "yhdyshenkilo_nimike",
        "yhdyshenkilo_sahkoposti",
        "yhdyshenkilo_tyoaika",
        "versio",
        "kirjaaja",
    ]
    # Re-importing an unchanged export writes nothing: no new versions, no new events (the weekly
    # digest would otherwise list every decision again).
    before = _versions_and_events(sent)
    assert run_import(sent, tmp_path / "out.csv") == 10
    assert run_import(sent, tmp_path / "out.xlsx") == 10
    assert _versions_and_events(sent) == before
    # An edited export corrects that cell (new version); the older export is then refused as stale
    # instead of overwriting the newer record.
    edited = tmp_path / "edited.xlsx"
    book = load_workbook(tmp_path / "out.xlsx")
    sheet = book.active
    sheet.cell(row=2, column=5).value = 99  # pykala of the first exported row
    book.save(edited)
    assert run_import(sent, edited) == 10
    versions, events = _versions_and_events(sent)
    assert sum(versions) == sum(before[0]) + 1 and events == before[1] + 1
    with pytest.raises(ContentError, match="muuttunut"):
        run_import(sent, tmp_path / "out.xlsx")
    assert decided_count(sent) == 10


def _versions_and_events(settings: Settings) -> tuple[list[int], int]:
    from models.tables import Event

    with Session(make_engine(settings.effective_database_url)) as session:
        versions = session.scalars(select(Decision.version).order_by(Decision.id)).all()
        events = session.scalar(
            select(func.count()).select_from(Event).where(Event.kind == "decision_recorded")
        )
    return list(versions), events


def test_export_neutralises_formulas(sent: Settings, tmp_path: Path) -> None:
    """A note that a spreadsheet would run as a formula is exported with a leading apostrophe."""
    from typer.testing import CliRunner

    from council.cli.commands import app

    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "record",
            "jokioinen",
            "2",
            "hyväksytty ehdotuksen mukaisesti",
            "--date",
            "15.3.2021",
            "--section",
            "60",
            "--note",
            "=1+1",
        ],
    )
    assert result.exit_code == 0, result.output
    with Session(make_engine(sent.effective_database_url)) as session:
        export_decisions(session=session, proposal_id=sent.proposal_id, path=tmp_path / "out.csv")
    assert ";'=1+1;" in (tmp_path / "out.csv").read_text(encoding="utf-8-sig")


@pytest.mark.parametrize(
    ("written", "outcome"),
    [
        ("Hyväksytty ehdotuksen mukaisesti.", "hyväksytty ehdotuksen mukaisesti"),
        ("hyväksytty  ehdotuksen mukaisesti", "hyväksytty ehdotuksen mukaisesti"),
        ("pantu poydalle", "pantu pöydälle"),
        ("HYLÄTTY", "hylätty"),
    ],
)
def test_outcomes_as_people_write_them(written: str, outcome: str) -> None:
    """A closing full stop (as in minutes), extra spaces, case and ä/ö typed as a/o are accepted."""
    from council.services.bulk import parse_outcome

    assert parse_outcome(written).value == outcome


@pytest.mark.parametrize("written", ["hyvaksytty", "hyväksytty", "hylatty kai", "poydalle"])
def test_a_shortened_or_internal_outcome_name_is_refused(written: str) -> None:
    """'hyväksytty' alone is ambiguous (five approval outcomes); internal names are not outcomes."""
    from council.services.bulk import parse_outcome

    with pytest.raises(ValueError, match="tuntematon päätös; sallitut: hyväksytty ehdotuksen mukaisesti"):
        parse_outcome(written)
