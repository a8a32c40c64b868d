"""Bulk import and export of decisions (CSV and XLSX, one documented column set).

Every row is validated first and all problems are reported together (file, row, field, value);
if any row is invalid nothing is written. The export writes the same columns, so an exported file
imports again.

Columns (header row required, order free; ``*`` = required):

==========================  =======================================================
vastaanottaja *             body id (``jokioinen``) or official name (``Jokioisten kunta``)
kohta *                     point number (1..n)
paatos *                    outcome, e.g. ``hyväksytty ehdotuksen mukaisesti``
kokouspaiva *               meeting date, ``15.3.2021`` or ``2021-03-15``
pykala *                    section number (§), e.g. ``59``
toimielin                   deciding body (default: the body's own)
dnro                        diary number
poytakirjaote               link to the minutes extract (http/https)
lisatieto                   free note
yhdyshenkilo_nimi           liaison's name (point 1 only), with the next three
yhdyshenkilo_nimike         liaison's title
yhdyshenkilo_sahkoposti     liaison's email
yhdyshenkilo_tyoaika        liaison's work time
versio                      version being corrected (needed to change a decided point)
kirjaaja                    who recorded it (default: the importer)
==========================  =======================================================
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from datetime import date, datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from council.errors import ContentError, CouncilError, Problem, validation_message
from council.rules.formatting import fi_date
from council.store.decisions import duties_point, record_decision
from models.decisions import DecisionIn, LiaisonIn
from models.enums import Outcome
from models.tables import Body, Decision, Point

COLUMNS = [
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
REQUIRED = {"vastaanottaja", "kohta", "paatos", "kokouspaiva", "pykala"}
LIAISON = {
    "yhdyshenkilo_nimi": "name",
    "yhdyshenkilo_nimike": "title",
    "yhdyshenkilo_sahkoposti": "email",
    "yhdyshenkilo_tyoaika": "work_time",
}
FIELD_COLUMN = {
    "body_id": "vastaanottaja",
    "point": "kohta",
    "outcome": "paatos",
    "meeting_date": "kokouspaiva",
    "section": "pykala",
    "deciding_body": "toimielin",
    "diary_number": "dnro",
    "minutes_url": "poytakirjaote",
    "note": "lisatieto",
    "expected_version": "versio",
    "recorded_by": "kirjaaja",
}
MAX_ROWS = 20_000
MAX_BYTES = 20_000_000
# What a spreadsheet runs as a formula: a leading = + @ TAB CR, or a leading - unless the whole
# value is a plain number ("-5" is data, "-2+3" and "-cmd" are formulas).
_FORMULA_START = r"(?:[=+@\t\r]|-(?!\d+(?:[.,]\d+)?$))"
_FORMULA = re.compile(rf"^{_FORMULA_START}")
# The export writes such a value (and one that already starts with apostrophes before it) behind one
# more apostrophe, the spreadsheets' own "this is text" mark; the import takes exactly that one off,
# so an unchanged export re-imports to the very same text.
_PROTECTED = re.compile(rf"^'*{_FORMULA_START}")
_UNPROTECT = re.compile(rf"^'+{_FORMULA_START}")


def _outcome_key(text: str) -> str:
    """Case, spacing, a closing full stop (as in minutes) and ä/ö written as a/o do not matter."""
    folded = " ".join(text.casefold().split()).rstrip(".").strip()
    return folded.translate(str.maketrans("äöå", "aoa"))


def parse_outcome(value: str) -> Outcome:
    key = _outcome_key(value)
    for outcome in Outcome:
        if key == _outcome_key(outcome.value):
            return outcome
    raise ValueError("tuntematon päätös; sallitut: " + ", ".join(o.value for o in Outcome))


def parse_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"virheellinen päivämäärä {text!r}; anna muodossa 15.3.2021 tai 2021-03-15")


def parse_int(value: object, what: str) -> int:
    """A positive whole number (point, section, version); '§ 59' is read as 59."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = str(value).strip().removeprefix("§").strip()
        if text.isascii() and text.isdigit() and len(text) <= 9:
            number = int(text)
    if number is None or number < 1:
        raise ValueError(f"{what} on annettava positiivisena kokonaislukuna")
    return number


def read_rows(path: Path) -> list[tuple[int, dict[str, object]]]:
    """Read a CSV (UTF-8, ; or , separated) or XLSX file into (row number, dict keyed by header).

    Row numbers are the file's own (the header is row 1), so blank lines do not shift them.
    """
    name = str(path)
    if not path.is_file():
        raise ContentError(name, [Problem(name, None, "(tiedosto)", "tiedostoa ei löydy")])
    if path.stat().st_size > MAX_BYTES:
        raise ContentError(name, [Problem(name, None, "(tiedosto)", "tiedosto on liian suuri")])
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        rows = _read_xlsx(path)
    elif suffix == ".csv":
        rows = _read_csv(path)
    else:
        raise ContentError(name, [Problem(name, None, "(tiedosto)", "tuetut muodot: .csv ja .xlsx")])
    if not rows:
        raise ContentError(name, [Problem(name, None, "(tiedosto)", "tiedosto on tyhjä")])
    header = [str(h).strip().lower() if h is not None else "" for h in rows[0][1]]
    missing = sorted(REQUIRED - set(header))
    unknown = [h for h in header if h and h not in COLUMNS]
    header_row = rows[0][0]
    if not set(header) & set(COLUMNS):
        # Not a decision table at all (a letter, a log, another sheet): one message, not one per cell.
        raise ContentError(
            name,
            [
                Problem(
                    name,
                    header_row,
                    "(tiedosto)",
                    "ei ole päätöstaulukko: ensimmäisellä rivillä ei ole yhtään tunnettua saraketta; "
                    f"tarvitaan ainakin {', '.join(sorted(REQUIRED))} (ks. README, päätösten tuonti)",
                )
            ],
        )
    problems = [Problem(name, header_row, col, "pakollinen sarake puuttuu") for col in missing]
    problems += [Problem(name, header_row, col, "tuntematon sarake") for col in unknown]
    if problems:
        raise ContentError(name, problems)
    if len(rows) - 1 > MAX_ROWS:
        raise ContentError(name, [Problem(name, None, "(tiedosto)", f"yli {MAX_ROWS} riviä")])
    out = []
    for number, values in rows[1:]:
        record = {h: v for h, v in zip(header, values, strict=False) if h}
        out.append((number, {k: v for k, v in record.items() if v is not None and str(v).strip() != ""}))
    return out


def _read_csv(path: Path) -> list[tuple[int, list[object]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContentError(
            str(path),
            [
                Problem(
                    str(path),
                    raw[: exc.start].count(b"\n") + 1,
                    "(tiedosto)",
                    f"ei ole UTF-8-tekstiä (tavu {exc.start}); tallenna tiedosto UTF-8-muodossa",
                )
            ],
        ) from exc
    if "\x00" in text:
        row = text[: text.index("\x00")].count("\n") + 1
        raise ContentError(str(path), [Problem(str(path), row, "(tiedosto)", "sisältää NUL-merkkejä")])
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[tuple[int, list[object]]] = []
    start = 1
    try:
        for row in reader:
            if any(c.strip() for c in row):
                rows.append((start, list(row)))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ContentError(str(path), [Problem(str(path), start, "(tiedosto)", f"CSV-virhe: {exc}")]) from exc
    return rows


def _read_xlsx(path: Path) -> list[tuple[int, list[object]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ContentError(
            str(path), [Problem(str(path), None, "(tiedosto)", f"ei ole luettava XLSX-tiedosto: {exc}")]
        ) from exc
    rows: list[tuple[int, list[object]]] = []
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if any(c not in (None, "") for c in row):
                rows.append((number, list(row)))
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, OSError, SyntaxError) as exc:
        # A truncated or damaged file often opens and breaks only while its rows are read
        # (xml.etree's ParseError is a SyntaxError).
        raise ContentError(
            str(path),
            [
                Problem(
                    str(path),
                    rows[-1][0] + 1 if rows else 1,
                    "(tiedosto)",
                    f"XLSX-tiedosto on vioittunut tai katkennut ({type(exc).__name__}: {exc}); "
                    "tallenna se uudelleen taulukkolaskennasta",
                )
            ],
        ) from exc
    finally:
        workbook.close()
    return rows


def parse_rows(
    file: str,
    rows: list[tuple[int, dict[str, object]]],
    *,
    bodies: dict[str, str],
    points: set[int],
    actor: str,
    duties_point: int | None = 1,
) -> tuple[list[tuple[int, DecisionIn]], list[Problem]]:
    """Validate every row; returns (row number, decision) pairs and every problem found."""
    decisions: list[tuple[int, DecisionIn]] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, int], int] = {}
    for index, row in rows:
        row_problems: list[Problem] = []

        def bad(
            column: str,
            message: str,
            value: object = None,
            _rp: list[Problem] = row_problems,
            _row: int = index,
        ) -> None:
            _rp.append(Problem(file, _row, column, message, None if value is None else str(value)))

        for column, value in list(row.items()):
            if isinstance(value, str) and _UNPROTECT.match(value):
                row[column] = unprotected_cell(value)
            elif isinstance(value, str) and _FORMULA.match(value):
                bad(column, "kaavat ja ohjausmerkit eivät ole sallittuja", value)
        data: dict[str, object] = {"recorded_by": row.get("kirjaaja", actor)}
        body_ref = str(row.get("vastaanottaja", "")).strip()
        if body_ref not in bodies:
            bad("vastaanottaja", "tuntematon vastaanottaja", body_ref)
        else:
            data["body_id"] = bodies[body_ref]
        for column, key, parse in (
            ("kohta", "point", lambda v: parse_int(v, "kohta")),
            ("paatos", "outcome", lambda v: parse_outcome(str(v))),
            ("kokouspaiva", "meeting_date", parse_date),
            ("pykala", "section", lambda v: parse_int(v, "pykälä")),
            ("versio", "expected_version", lambda v: parse_int(v, "versio")),
        ):
            if column in row:
                try:
                    data[key] = parse(row[column])
                except ValueError as exc:
                    bad(column, str(exc), row[column])
            elif column in REQUIRED:
                bad(column, "pakollinen tieto puuttuu")
        if isinstance(data.get("point"), int) and data["point"] not in points:
            bad("kohta", f"esityksessä on kohdat {min(points)}–{max(points)}", data["point"])
        for column, key in (
            ("toimielin", "deciding_body"),
            ("dnro", "diary_number"),
            ("poytakirjaote", "minutes_url"),
            ("lisatieto", "note"),
        ):
            if column in row:
                data[key] = str(row[column])
        liaison = {key: str(row[col]) for col, key in LIAISON.items() if col in row}
        if liaison:
            try:
                data["liaison"] = LiaisonIn(**liaison)
            except ValidationError as exc:
                for err in exc.errors():
                    col = next(c for c, k in LIAISON.items() if k == err["loc"][0])
                    bad(col, validation_message(err), row.get(col))
        if not row_problems:
            try:
                decision = DecisionIn.for_proposal(duties_point, **data)
            except ValidationError as exc:
                for err in exc.errors():
                    key = str(err["loc"][0]) if err["loc"] else "(rivi)"
                    col = FIELD_COLUMN.get(key, "yhdyshenkilo_nimi" if key == "liaison" else key)
                    bad(col, validation_message(err), row.get(col))
            else:
                cell = (decision.body_id, decision.point)
                if cell in seen:
                    bad("kohta", f"sama vastaanottaja ja kohta on jo rivillä {seen[cell]}", decision.point)
                else:
                    seen[cell] = index
                    decisions.append((index, decision))
        problems += row_problems
    return decisions, problems


def import_decisions(*, session: Session, proposal_id: str, path: Path, actor: str) -> int:
    """Validate the whole file, then write every row in the caller's transaction.

    Raises :class:`ContentError` listing every problem; on any problem nothing is written (a
    problem found while writing, such as a version conflict, rolls back the whole transaction).
    """
    rows = read_rows(path)
    bodies: dict[str, str] = {}
    for body_id, name in session.execute(select(Body.id, Body.name)):
        bodies[body_id] = body_id
        bodies[name] = body_id
    points = set(session.scalars(select(Point.number).where(Point.proposal_id == proposal_id)))
    decisions, problems = parse_rows(
        str(path),
        rows,
        bodies=bodies,
        points=points,
        actor=actor,
        duties_point=duties_point(session=session, proposal_id=proposal_id),
    )
    if problems:
        raise ContentError(str(path), problems)
    for row_number, decision in decisions:
        try:
            with session.begin_nested():
                record_decision(session=session, proposal_id=proposal_id, decision=decision)
        except CouncilError as exc:
            problems.append(Problem(str(path), row_number, "(rivi)", str(exc)))
    if problems:
        raise ContentError(str(path), problems)
    return len(decisions)


def unprotected_cell(value: str) -> str:
    """Undo :func:`safe_cell`: an apostrophe before a formula start was the export's, not the text's."""
    return value[1:] if _UNPROTECT.match(value) else value


def safe_cell(value: object) -> object:
    """Neutralise a text cell a spreadsheet would run as a formula (CSV injection); the import undoes it."""
    if isinstance(value, str) and _PROTECTED.match(value):
        return "'" + value
    return value


def export_rows(*, session: Session, proposal_id: str) -> list[dict[str, object]]:
    """Every cell that has an outcome, in the import format."""
    rows = []
    cells = session.scalars(
        select(Decision)
        .where(Decision.proposal_id == proposal_id, Decision.outcome.is_not(None))
        .order_by(Decision.body_id, Decision.point_number)
    )
    for cell in cells:
        liaison = cell.liaison or {}
        rows.append(
            {
                "vastaanottaja": cell.body_id,
                "kohta": cell.point_number,
                "paatos": cell.outcome,
                "kokouspaiva": fi_date(cell.meeting_date) if cell.meeting_date else "",
                "pykala": cell.section,
                "toimielin": cell.deciding_body or "",
                "dnro": cell.diary_number or "",
                "poytakirjaote": cell.minutes_url or "",
                "lisatieto": cell.note or "",
                "yhdyshenkilo_nimi": liaison.get("name", ""),
                "yhdyshenkilo_nimike": liaison.get("title", ""),
                "yhdyshenkilo_sahkoposti": liaison.get("email", ""),
                "yhdyshenkilo_tyoaika": liaison.get("work_time", ""),
                "versio": cell.revision,
                "kirjaaja": cell.recorded_by or "",
            }
        )
    return rows


def export_decisions(*, session: Session, proposal_id: str, path: Path) -> int:
    """Write the decisions to ``path`` (.csv: UTF-8 with BOM, ';' separated; or .xlsx)."""
    rows = export_rows(session=session, proposal_id=proposal_id)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter=";", lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: safe_cell(v) for k, v in row.items()})
        path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    elif suffix == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Päätökset"
        sheet.append(COLUMNS)
        for row in rows:
            sheet.append([safe_cell(row[c]) for c in COLUMNS])
        workbook.save(path)
    else:
        raise CouncilError(f"{path}: tuetut muodot ovat .csv ja .xlsx")
    return len(rows)
