"""Bad-input catalogue (issue "Reliability and security"): every entry point refuses bad input clearly.

Entry points: the content files (roster and proposal YAML), the decision import (CSV/XLSX, in a
session), the deployments' parameter models (what Prefect validates a run's parameters with) and
the ``council`` command line. Each case checks the error type, a message naming the file, the row
(``rivi N``) and the field, and - where something could be written - that nothing was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import PROJECT_ROOT, Settings
from council.content.loading import load_proposal, load_roster
from council.errors import ContentError, CouncilError
from council.rendering.contexts import duty_description_context, proposal_context
from council.rendering.environment import DUTY_TEMPLATE, PROPOSAL_TEMPLATE
from council.rendering.render import render_docx
from council.services.bulk import COLUMNS, import_decisions
from council.store.engine import make_engine
from models.decisions import DecisionIn
from models.tables import Decision, Event
from tests.helpers import docx_text

ROSTER_TEXT = (PROJECT_ROOT / "data/rosters/forssan-seutu.yaml").read_text(encoding="utf-8")
PROPOSAL_NAME = "jarjestoyhteistyomalli-forssan-seutu.yaml"
PROPOSAL_TEXT = (PROJECT_ROOT / "data/proposals" / PROPOSAL_NAME).read_text(encoding="utf-8")
EVIL = "\\r\\nBcc: x@evil.example"  # YAML escapes: CR LF and a header line inside a quoted scalar
LONG = "x" * 10_000
runner = CliRunner()


def _line(text: str, needle: str) -> int:
    """1-based line of the last occurrence of ``needle`` in ``text``."""
    return text[: text.rindex(needle)].count("\n") + 1


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def _roster(old: str, new: str) -> str:
    return _edit(ROSTER_TEXT, old, new)


def _proposal(old: str, new: str) -> str:
    return _edit(PROPOSAL_TEXT, old, new)


def _billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    return "\n".join([*lines, "name: *i", "bodies: []", ""])


_JOK_NAME = 'name: "Jokioisten kunta"'
_JOK_EMAIL = 'registry_email: "kirjaamo@jokioinen.example"'
_ROSTER_CUT_IN_STRING = ROSTER_TEXT[: ROSTER_TEXT.index(_JOK_NAME) + len('name: "Jokioisten ku')]
_ROSTER_CUT_AT_LINE = ROSTER_TEXT[: ROSTER_TEXT.index("    " + _JOK_EMAIL)]
_PROPOSAL_HALF = PROPOSAL_TEXT[: len(PROPOSAL_TEXT) // 2]

# (loader, file content, field, row: int | needle whose line it is | None, message fragment)
YAML_CASES = [
    (
        "roster",
        _roster("kirjaamo@jokioinen.example", "ei-osoite"),
        "bodies[3].registry_email",
        '"ei-osoite"',
        "email",
    ),
    (
        "roster",
        _roster("kirjaamo@jokioinen.example", ""),
        "bodies[3].registry_email",
        'registry_email: ""',
        "email",
    ),
    (
        "roster",
        _roster(_JOK_NAME, f'name: "Jokioinen{EVIL}"'),
        "bodies[3].name",
        'name: "Jokioinen\\r',
        "rivinvaihtoja",
    ),
    (
        "roster",
        _roster(_JOK_EMAIL, f'registry_email: "kirjaamo@jokioinen.example{EVIL}"'),
        "bodies[3].registry_email",
        "jokioinen.example\\r",
        "email",
    ),
    (
        "roster",
        _roster(_JOK_NAME, 'name: "Jokioisten\\0kunta"'),
        "bodies[3].name",
        "Jokioisten\\0",
        "ohjausmerkkejä",
    ),
    ("roster", _roster(_JOK_NAME, f'name: "{LONG}"'), "bodies[3].name", LONG, "300"),
    (
        "roster",
        _roster("  - id: jokioinen\n", "  - id: jokioinen\n    bcc: x@evil.example\n"),
        "bodies[3].bcc",
        "bcc:",
        "tuntematon kenttä",
    ),
    ("roster", _roster("id: humppila", "id: forssa"), "bodies[2].id", "id: forssa", "useammin kuin kerran"),
    ("roster", _roster("id: jokioinen", 'id: "../../etc"'), "bodies[3].id", '"../../etc"', "ei ole oikeassa muodossa"),
    (
        "roster",
        _roster("  - id: jokioinen\n", '  - id: jokioinen\n    registry_email: "x@evil.example"\n'),
        "(YAML)",
        _JOK_EMAIL,
        "useammin kuin kerran",
    ),
    ("roster", _roster("kind: kunta", "kind: kylä"), "bodies[2].kind", "kylä", "kaupunki"),
    (
        "roster",
        'name: !!python/object/apply:os.system ["echo pwned"]\nbodies: []\n',
        "(YAML)",
        1,
        "python/object/apply",
    ),
    ("roster", _billion_laughs(), "(YAML)", 1, "ankkurit"),
    ("roster", "name: " + "[" * 100_000 + "]" * 100_000 + "\n", "(YAML)", 1, "liian syvä"),
    ("roster", "", "(tiedosto)", None, "tyhjä"),
    ("roster", "# pelkkä kommentti\n", "(tiedosto)", None, "tyhjä"),
    ("roster", _ROSTER_CUT_IN_STRING, "(YAML)", 'name: "Jokioisten ku', "end of stream"),
    ("roster", _ROSTER_CUT_AT_LINE, "bodies[3].registry_email", "id: jokioinen", "pakollinen tieto puuttuu"),
    ("roster", "- id: forssa\n- id: humppila\n", "(tiedosto)", 1, "YAML-kartta"),
    ("roster", ROSTER_TEXT + "#" + "x" * 3_000_000 + "\n", "(tiedosto)", None, "liian suuri"),
    (
        "roster",
        'name: "Forssan seutu"\nbodies:\n  - id: ypaja\n    name: "Ypäjän kunta"\n'.encode("latin-1"),
        "(tiedosto)",
        4,
        "UTF-8",
    ),
    (
        "proposal",
        _proposal(
            'short_title: "Järjestöjen ja julkisen sektorin yhteistyömalli"',
            'short_title: "Esitys\\r\\nBcc: x@evil.example"',
        ),
        "short_title",
        3,
        "rivinvaihtoja",
    ),
    (
        "proposal",
        _proposal('title: "Esitys järjestöjen', 'title: "Esitys\\0 järjestöjen'),
        "title",
        2,
        "ohjausmerkkejä",
    ),
    (
        "proposal",
        _proposal('short_title: "Järjestöjen ja julkisen sektorin yhteistyömalli"', f'short_title: "{LONG}"'),
        "short_title",
        3,
        "300",
    ),
    ("proposal", _proposal("  - number: 4", "  - number: 5"), "points[4].number", "number: 5", "1..4"),
    (
        "proposal",
        _proposal('  - "https://prezi.com/view/Xc90wlbS7JF4soyFDx8a/"', '  - "javascript:alert(1)"'),
        "references[1]",
        "javascript:",
        "ei ole oikeassa muodossa",
    ),
    (
        "proposal",
        _proposal(
            'escalation_email: "puheenjohtaja@forssanseutu.example"',
            f'escalation_email: "pj@forssanseutu.example{EVIL}"',
        ),
        "reminder_policy.escalation_email",
        "escalation_email:",
        "email",
    ),
    (
        "proposal",
        _proposal('  - "hyvinvointivaliokunta@forssanseutu.example"', '  - ""'),
        "committee_emails[1]",
        '  - ""',
        "email",
    ),
    (
        "proposal",
        _proposal(
            'source_note: "Khall 15.2.2021 § 59 Liite 21"',
            'source_note: !!python/object/apply:os.system ["echo pwned"]',
        ),
        "(YAML)",
        "source_note:",
        "python/object/apply",
    ),
    ("proposal", _PROPOSAL_HALF, "(YAML)", _PROPOSAL_HALF.count("\n") + 1, "end of stream"),
    ("proposal", "- 1\n- 2\n", "(tiedosto)", 1, "YAML-kartta"),
]
YAML_IDS = [
    "roster-invalid-email",
    "roster-empty-email",
    "roster-crlf-bcc-in-name",
    "roster-crlf-bcc-in-email",
    "roster-nul-in-name",
    "roster-10000-char-name",
    "roster-extra-bcc-field",
    "roster-duplicate-body-id",
    "roster-dotdot-in-body-id",
    "roster-duplicate-key",
    "roster-unknown-kind",
    "roster-python-tag",
    "roster-billion-laughs",
    "roster-deep-nesting",
    "roster-empty-file",
    "roster-comment-only",
    "roster-truncated-in-string",
    "roster-truncated-at-line",
    "roster-list-not-mapping",
    "roster-3mb-file",
    "roster-latin1",
    "proposal-crlf-bcc-in-subject",
    "proposal-nul-in-title",
    "proposal-10000-char-subject",
    "proposal-point-5-of-4",
    "proposal-javascript-reference",
    "proposal-crlf-in-escalation-email",
    "proposal-empty-committee-email",
    "proposal-python-tag",
    "proposal-truncated",
    "proposal-list-not-mapping",
]


@pytest.mark.parametrize(("loader", "content", "field", "row", "message"), YAML_CASES, ids=YAML_IDS)
def test_bad_content_file_is_refused_naming_file_row_and_field(
    tmp_path: Path, loader: str, content: str | bytes, field: str, row: int | str | None, message: str
) -> None:
    """A bad roster or proposal file raises ContentError naming the file, the line and the field."""
    path = tmp_path / ("roster.yaml" if loader == "roster" else PROPOSAL_NAME)
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    path.write_bytes(data)
    if isinstance(row, str):
        row = _line(data.decode("utf-8"), row)
    with pytest.raises(ContentError) as caught:
        (load_roster if loader == "roster" else load_proposal)(path)
    text = str(caught.value)
    assert caught.value.file == str(path) and str(path) in text
    problem = next((p for p in caught.value.problems if p.field == field), None)
    assert problem is not None, text
    assert problem.row == row, text
    assert message in str(problem), text
    assert f"kenttä '{field}'" in text
    if row is not None:
        assert f"rivi {row}," in text


TEMPLATE_FRAGMENTS = [
    "{{ 7*7 }}",
    "{% for x in range(3) %}loop{% endfor %}",
    "</w:t></w:r></w:p><w:p><w:r><w:t>",
]


@pytest.mark.parametrize("fragment", TEMPLATE_FRAGMENTS, ids=["jinja-expression", "jinja-for", "word-xml"])
def test_template_syntax_in_names_is_data_rendered_literally(tmp_path: Path, fragment: str) -> None:
    """Jinja and Word-XML fragments in roster names load as data and appear literally in both DOCX."""
    quoted = fragment.replace('"', '\\"')
    path = tmp_path / "roster.yaml"
    text = _roster(_JOK_NAME, f'name: "Jokioisten kunta {quoted}"')
    path.write_text(_edit(text, '"Jokioisten kunnanhallitus"', f'"Jokioisten kunnanhallitus {quoted}"'))
    body = next(b for b in load_roster(path).bodies if b.id == "jokioinen")
    assert body.name == f"Jokioisten kunta {fragment}"
    proposal = load_proposal(PROJECT_ROOT / "data/proposals" / PROPOSAL_NAME)
    day = date(2021, 2, 15)
    for template, ctx in (
        (PROPOSAL_TEMPLATE, proposal_context(proposal, body, on=day)),
        (DUTY_TEMPLATE, duty_description_context(proposal, body, on=day)),
    ):
        rendered = docx_text(render_docx(template, ctx, tmp_path / template))
        assert (
            f"Jokioisten kunta {fragment}" in rendered or f"Jokioisten kunnanhallitus {fragment}" in rendered
        )
        assert "49" not in rendered.replace("2021", "")
        assert "looploop" not in rendered


# ---------------------------------------------------------------------------------------------
# Decision import (CSV and XLSX) within a session
# ---------------------------------------------------------------------------------------------

HEADER = [c for c in COLUMNS if c not in ("versio", "kirjaaja")]
GOOD = {
    "vastaanottaja": "jokioinen",
    "kohta": "2",
    "paatos": "hyväksytty ehdotuksen mukaisesti",
    "kokouspaiva": "15.3.2021",
    "pykala": "60",
}
LIAISON = {
    "yhdyshenkilo_nimi": "Maija Meikäläinen",
    "yhdyshenkilo_nimike": "hyvinvointikoordinaattori",
    "yhdyshenkilo_sahkoposti": "maija@jokioinen.example",
    "yhdyshenkilo_tyoaika": "8 h/kk",
}


def _row(**changes: object) -> dict[str, object]:
    """A valid row for Jokioinen point 2 with ``changes`` applied."""
    return {**GOOD, **changes}


def _csv(*rows: dict[str, object]) -> str:
    """A ';'-separated CSV: the header, then a valid first row (Forssa point 3), then ``rows``."""

    def cell(value: object) -> str:
        text = str(value)
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ';"\r\n') else text

    first = _row(vastaanottaja="forssa", kohta="3", paatos="merkitty tiedoksi", pykala="101")
    lines = [";".join(HEADER)] + [";".join(cell(r.get(h, "")) for h in HEADER) for r in (first, *rows)]
    return "\r\n".join(lines) + "\r\n"


def _xlsx(*rows: dict[str, object]) -> list[list[object]]:
    """XLSX rows: the header, a valid first row, then ``rows`` (written as a workbook by the test)."""
    first = _row(
        vastaanottaja="forssa",
        kohta="3",
        paatos="merkitty tiedoksi",
        pykala=101,
        kokouspaiva=datetime(2021, 3, 15),
    )
    return [HEADER] + [[r.get(h) for h in HEADER] for r in (first, *rows)]


_TRUNCATED = _csv(_row(), _row(kohta="3", pykala="61"))
_TRUNCATED = _TRUNCATED[: _TRUNCATED.rindex("jokioinen;3;") + len("jokioinen;3;hyv")]

# (file name, content: CSV text | bytes | XLSX rows, field, row, message fragment)
IMPORT_CASES = [
    ("latin1.csv", _csv(_row(vastaanottaja="Ypäjän kunta")).encode("latin-1"), "(tiedosto)", 3, "UTF-8"),
    ("nul.csv", _csv(_row(lisatieto="a\x00b")), "(tiedosto)", 3, "NUL"),
    (
        "hyperlink.csv",
        _csv(_row(lisatieto='=HYPERLINK("http://evil.example","klikkaa")')),
        "lisatieto",
        3,
        "kaavat",
    ),
    ("plus-cmd.csv", _csv(_row(toimielin="+cmd|' /C calc'!A0")), "toimielin", 3, "kaavat"),
    ("at-sum.csv", _csv(_row(dnro="@SUM(1+1)*cmd|' /C calc'!A0")), "dnro", 3, "kaavat"),
    ("minus.csv", _csv(_row(lisatieto="-2+3")), "lisatieto", 3, "kaavat"),
    ("section-abc.csv", _csv(_row(pykala="abc")), "pykala", 3, "kokonaislukuna"),
    ("section-zero.csv", _csv(_row(pykala="§ 0")), "pykala", 3, "positiivisena kokonaislukuna"),
    ("section-negative.csv", _csv(_row(pykala="-1")), "pykala", 3, "kokonaislukuna"),
    ("point-5.csv", _csv(_row(kohta="5")), "kohta", 3, "kohdat 1–4"),
    ("future.csv", _csv(_row(kokouspaiva="1.3.2099")), "kokouspaiva", 3, "tulevaisuudessa"),
    ("feb-31.csv", _csv(_row(kokouspaiva="31.2.2021")), "kokouspaiva", 3, "15.3.2021"),
    (
        "unknown-body.csv",
        _csv(_row(vastaanottaja="helsinki")),
        "vastaanottaja",
        3,
        "tuntematon vastaanottaja",
    ),
    (
        "dotdot-body.csv",
        _csv(_row(vastaanottaja="../../etc")),
        "vastaanottaja",
        3,
        "tuntematon vastaanottaja",
    ),
    ("duplicate.csv", _csv(_row(), _row(pykala="61")), "kohta", 4, "jo rivillä 3"),
    ("outcome.csv", _csv(_row(paatos="hyväksytty kai")), "paatos", 3, "tuntematon päätös"),
    ("javascript.csv", _csv(_row(poytakirjaote="javascript:alert(1)")), "poytakirjaote", 3, "http(s)-osoite"),
    ("ftp.csv", _csv(_row(poytakirjaote="ftp://evil.example/x")), "poytakirjaote", 3, "http(s)-osoite"),
    ("liaison-point-2.csv", _csv(_row(**LIAISON)), "yhdyshenkilo_nimi", 3, "vain kohtaan 1"),
    (
        "crlf-body.csv",
        _csv(_row(toimielin="Jokioisten kunnanhallitus\r\nBcc: x@evil.example")),
        "toimielin",
        3,
        "rivinvaihtoja",
    ),
    (
        "crlf-email.csv",
        _csv(
            _row(
                kohta="1",
                **{**LIAISON, "yhdyshenkilo_sahkoposti": "maija@jokioinen.example\r\nBcc: x@evil.example"},
            )
        ),
        "yhdyshenkilo_sahkoposti",
        3,
        "email",
    ),
    (
        "empty-email.csv",
        _csv(_row(kohta="1", **{**LIAISON, "yhdyshenkilo_sahkoposti": ""})),
        "yhdyshenkilo_sahkoposti",
        3,
        "pakollinen tieto puuttuu",
    ),
    ("long-note.csv", _csv(_row(lisatieto=LONG)), "lisatieto", 3, "5000"),
    ("long-body.csv", _csv(_row(toimielin=LONG)), "toimielin", 3, "300"),
    ("truncated.csv", _TRUNCATED, "pykala", 4, "pakollinen tieto puuttuu"),
    (
        "hyperlink.xlsx",
        _xlsx(_row(lisatieto='=HYPERLINK("http://evil.example","klikkaa")')),
        "lisatieto",
        3,
        "kaavat",
    ),
    ("plus-cmd.xlsx", _xlsx(_row(toimielin="+cmd|' /C calc'!A0")), "toimielin", 3, "kaavat"),
    ("at-sum.xlsx", _xlsx(_row(dnro="@SUM(1+1)")), "dnro", 3, "kaavat"),
    ("minus.xlsx", _xlsx(_row(lisatieto="-2+3")), "lisatieto", 3, "kaavat"),
    (
        "crlf-body.xlsx",
        _xlsx(_row(toimielin="Jokioisten kunnanhallitus\r\nBcc: x@evil.example")),
        "toimielin",
        3,
        "rivinvaihtoja",
    ),
    ("future.xlsx", _xlsx(_row(kokouspaiva=datetime(2099, 3, 1))), "kokouspaiva", 3, "tulevaisuudessa"),
    ("feb-31.xlsx", _xlsx(_row(kokouspaiva="31.2.2021")), "kokouspaiva", 3, "15.3.2021"),
    ("section-zero.xlsx", _xlsx(_row(pykala=0)), "pykala", 3, "positiivisena kokonaislukuna"),
    ("text.xlsx", _csv(_row()), "(tiedosto)", None, "XLSX"),
]
IMPORT_IDS = [name.replace(".", "-") for name, *_ in IMPORT_CASES]


def _write(path: Path, content: str | bytes | list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, list):
        workbook = Workbook()
        for values in content:
            workbook.active.append(values)
        workbook.save(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def _counts(settings: Settings) -> tuple[int, int]:
    """(cells with an outcome, events): what a partial write would change."""
    with Session(make_engine(settings.effective_database_url)) as session:
        decided = session.scalar(
            select(func.count()).select_from(Decision).where(Decision.outcome.is_not(None))
        )
        events = session.scalar(select(func.count()).select_from(Event))
    return decided, events


@pytest.mark.parametrize(("name", "content", "field", "row", "message"), IMPORT_CASES, ids=IMPORT_IDS)
def test_bad_import_file_is_refused_and_writes_nothing(
    sent: Settings,
    tmp_path: Path,
    name: str,
    content: str | bytes | list[list[object]],
    field: str,
    row: int | None,
    message: str,
) -> None:
    """A bad CSV/XLSX row raises ContentError naming file, row and column; no decision or event is stored."""
    path = _write(tmp_path / name, content)
    before = _counts(sent)
    with (
        pytest.raises(ContentError) as caught,
        Session(make_engine(sent.effective_database_url)) as session,
        session.begin(),
    ):
        import_decisions(session=session, proposal_id=sent.proposal_id, path=path, actor="test")
    text = str(caught.value)
    assert caught.value.file == str(path) and str(path) in text
    problem = next((p for p in caught.value.problems if p.field == field), None)
    assert problem is not None, text
    assert problem.row == row, text
    assert message in str(problem), text
    if row is not None:
        assert f"rivi {row}, kenttä '{field}'" in text
    assert _counts(sent) == before


# ---------------------------------------------------------------------------------------------
# Deployment parameters (what Prefect validates a run's parameters with) and DecisionIn
# ---------------------------------------------------------------------------------------------


def _form(**changes: Any) -> dict[str, Any]:
    """A valid record-decision form (Jokioinen, point 2) with ``changes`` applied."""
    form: dict[str, Any] = {
        "vastaanottaja": "Jokioisten kunta",
        "kokouspaiva": "15.3.2021",
        "kohdat": [{"kohta": "2 – Säännölliset yhteistyömuodot", "paatos": "hylätty", "pykala": 60}],
    }
    return {**form, **changes}


def _point(**changes: Any) -> dict[str, Any]:
    return {"kohta": "2 – Säännölliset yhteistyömuodot", "paatos": "hylätty", "pykala": 60, **changes}


_LIAISON_FORM = {
    "nimi": "Maija Meikäläinen",
    "nimike": "hyvinvointikoordinaattori",
    "sahkoposti": "maija@jokioinen.example",
    "tyoaika": "8 h/kk",
}
_POINT_1 = {"kohta": "1 – Järjestöyhdyshenkilö", "paatos": "hylätty", "pykala": 59}


def _choices_as_deployed(model: type, params: dict[str, Any]) -> None:
    """What the Prefect server refuses before a run exists: a value outside the dropdown's choices,
    which `council run` writes into the deployed schema from the content (council/services/forms.py)."""
    import jsonschema

    from council.config import get_settings
    from council.services.forms import form_choices, with_choices

    choices = form_choices(get_settings())
    schema = with_choices(model.model_json_schema(), choices)
    for error in jsonschema.Draft202012Validator(schema).iter_errors(params):
        if error.validator == "enum" and error.validator_value in choices.values():
            raise CouncilError(f"{'.'.join(str(p) for p in error.absolute_path)}: {error.message}")


def _record(params: dict[str, Any]) -> list[DecisionIn]:
    """What the record-decision run does with its parameters before storing anything."""
    from flows.record_decision import RecordDecisionIn

    _choices_as_deployed(RecordDecisionIn, params)
    return RecordDecisionIn.model_validate(params).decisions()


def _send(params: dict[str, Any]) -> object:
    from flows.send_proposal import SendProposalIn

    _choices_as_deployed(SendProposalIn, params)
    return SendProposalIn.model_validate(params)


def _follow_up(params: dict[str, Any]) -> object:
    from flows.follow_up import FollowUpIn

    return FollowUpIn.model_validate(params)


def _follow_up_day(params: dict[str, Any]) -> object:
    """What the follow-up run does with its day before anything else."""
    from flows.common import form_day

    return form_day(_follow_up(params).paiva)


def _agenda(params: dict[str, Any]) -> object:
    """What the mark-agenda run checks before storing anything."""
    from flows.mark_agenda import AgendaIn

    _choices_as_deployed(AgendaIn, {"vastaanottaja": "Tammelan kunta", **params})
    form = AgendaIn.model_validate({"vastaanottaja": "Tammelan kunta", "kokouspaiva": "9.6.2026", **params})
    return form.meeting_date(), form.recorder()


def _decision(params: dict[str, Any]) -> object:
    base = {
        "body_id": "jokioinen",
        "point": 2,
        "outcome": "hylätty",
        "meeting_date": "2021-03-15",
        "section": 60,
    }
    return DecisionIn.model_validate({**base, **params})


# (validate, parameters, field named in the error, message fragment)
PARAMETER_CASES = [
    (_record, _form(vastaanottaja="Helsingin kaupunki"), "vastaanottaja", "is not one of"),
    (_record, _form(vastaanottaja="../../etc"), "vastaanottaja", "is not one of"),
    (
        _record,
        _form(vastaanottaja="Jokioisten kunta\r\nBcc: x@evil.example"),
        "vastaanottaja",
        "is not one of",
    ),
    (_record, _form(kokouspaiva="2021-02-31"), "kokouspaiva", "should match pattern"),
    (_record, _form(kokouspaiva="31.2.2021"), "Kokouspäivä", "ei ole olemassa"),
    (_record, _form(kokouspaiva="1.1.2099"), "Kokouspäivä", "tulevaisuudessa"),
    (_record, _form(kohdat=[_point(kohta="5 – Viides")]), "kohdat.0.kohta", "is not one of"),
    (_record, _form(kohdat=[_point(pykala="abc")]), "kohdat.0.pykala", "valid integer"),
    (_record, _form(kohdat=[_point(pykala=0)]), "kohdat.0.pykala", "greater than or equal to 1"),
    (_record, _form(kohdat=[_point(pykala=-1)]), "kohdat.0.pykala", "greater than or equal to 1"),
    (_record, _form(kohdat=[_point(paatos="hyväksytty kai")]), "kohdat.0.paatos", "Input should be"),
    (_record, _form(kohdat=[]), "kohdat", "at least 1"),
    (_record, _form(poytakirjaote="javascript:alert(1)"), "poytakirjaote", "should match pattern"),
    (_record, _form(poytakirjaote="ftp://evil.example/x"), "poytakirjaote", "should match pattern"),
    (_record, _form(poytakirjaote="http://[x"), "Pöytäkirjanotteen linkki", "anna http(s)-osoite"),
    (_record, _form(lisatieto=LONG), "lisatieto", "5000"),
    (
        _record,
        _form(toimielin="Jokioisten kunnanhallitus\r\nBcc: x@evil.example"),
        "Toimielin",
        "rivinvaihtoja",
    ),
    (_record, _form(kirjaaja="Niina\x00"), "Kirjaaja", "ohjausmerkkejä"),
    (
        _record,
        _form(
            kohdat=[_POINT_1],
            yhdyshenkilo={**_LIAISON_FORM, "sahkoposti": "maija@jokioinen.example\r\nBcc: x@evil.example"},
        ),
        "Järjestöyhdyshenkilö, Sähköposti",
        "sähköpostiosoite sisältää ohjausmerkkejä",
    ),
    (
        _record,
        _form(kohdat=[_POINT_1], yhdyshenkilo={**_LIAISON_FORM, "sahkoposti": ""}),
        "Järjestöyhdyshenkilö, Sähköposti",
        "sähköpostiosoite puuttuu",
    ),
    (
        _record,
        _form(kohdat=[_POINT_1], yhdyshenkilo={**_LIAISON_FORM, "nimi": LONG}),
        "yhdyshenkilo.nimi",
        "300",
    ),
    pytest.param(_record, _form(yhdyshenkilo=_LIAISON_FORM), "Järjestöyhdyshenkilö", "lisää rivi kohdalle 1"),
    pytest.param(
        _record,
        _form(kohdat=[_point(), _point(paatos="pantu pöydälle")]),
        "Sama kohta",
        "2 – Säännölliset yhteistyömuodot",
    ),
    (
        _decision,
        {"liaison": {"name": "M", "title": "t", "email": "m@x.example", "work_time": "1 h"}},
        "liaison",
        "vain kohtaan 1",
    ),
    (_decision, {"section": 100_001}, "section", "less than or equal to 100000"),
    (_decision, {"meeting_date": "1999-12-31"}, "meeting_date", "ennen vuotta 2000"),
    (_decision, {"body_id": "jokioinen", "extra": "Bcc: x@evil.example"}, "extra", "Extra inputs"),
    (_send, {"vastaanottajat": ["Helsingin kaupunki"]}, "vastaanottajat.0", "is not one of"),
    (_send, {"vastaanottajat": ["../../etc"]}, "vastaanottajat.0", "is not one of"),
    (
        _send,
        {"vastaanottajat": ["Jokioisten kunta\r\nBcc: x@evil.example"]},
        "vastaanottajat.0",
        "is not one of",
    ),
    (_send, {"vastaanottajat": "Jokioisten kunta"}, "vastaanottajat", "valid list"),
    (_send, {"kuivaharjoitus": "ehkä"}, "kuivaharjoitus", "valid boolean"),
    (_follow_up, {"paiva": "2021-02-31"}, "paiva", "should match pattern"),
    (_follow_up, {"paiva": "huomenna"}, "paiva", "should match pattern"),
    (_follow_up_day, {"paiva": "31.2.2021"}, "Päivä", "ei ole olemassa"),
    (_follow_up, {"kuivaharjoitus": "ehkä"}, "kuivaharjoitus", "valid boolean"),
    (_agenda, {"vastaanottaja": "Helsingin kaupunki"}, "vastaanottaja", "is not one of"),
    (_agenda, {"kokouspaiva": "9.6.2207"}, "Kokouspäivä", "ei ole välillä 1.1.2000–"),
    (_agenda, {"kokouspaiva": "31.12.1999"}, "Kokouspäivä", "ei ole välillä 1.1.2000–"),
    (_agenda, {"kohdat": ["5 – Viides"]}, "kohdat.0", "is not one of"),
    (_agenda, {"kokouspaiva": "2026-06-09"}, "kokouspaiva", "should match pattern"),
    (_agenda, {"kirjaaja": "Niina\r\nBcc: x@evil.example"}, "Kirjaaja", "rivinvaihtoja"),
]
PARAMETER_IDS = [
    "record-unknown-body",
    "record-dotdot-body",
    "record-crlf-body",
    "record-feb-31",
    "record-finnish-date-format",
    "record-future-date",
    "record-point-5-of-4",
    "record-section-abc",
    "record-section-0",
    "record-section-minus-1",
    "record-unknown-outcome",
    "record-no-points",
    "record-javascript-link",
    "record-ftp-link",
    "record-unparsable-link",
    "record-10000-char-note",
    "record-crlf-in-deciding-body",
    "record-nul-in-recorder",
    "record-crlf-bcc-in-liaison-email",
    "record-empty-liaison-email",
    "record-10000-char-liaison-name",
    "record-liaison-without-point-1",
    "record-same-point-twice",
    "decision-liaison-on-point-2",
    "decision-huge-section",
    "decision-before-2000",
    "decision-extra-field",
    "send-unknown-body",
    "send-dotdot-body",
    "send-crlf-body",
    "send-not-a-list",
    "send-dry-run-not-bool",
    "follow-up-feb-31",
    "follow-up-text-date",
    "follow-up-feb-31-finnish",
    "follow-up-dry-run-not-bool",
    "agenda-unknown-body",
    "agenda-year-2207",
    "agenda-before-2000",
    "agenda-point-5-of-4",
    "agenda-iso-date",
    "agenda-crlf-in-recorder",
]


@pytest.mark.parametrize(("validate", "params", "field", "message"), PARAMETER_CASES, ids=PARAMETER_IDS)
def test_bad_deployment_parameters_are_refused(
    validate: Callable[[dict[str, Any]], object], params: dict[str, Any], field: str, message: str
) -> None:
    """Bad run parameters are refused naming the field and what is wrong: what the parameter schema
    can say as a pydantic ValidationError on the form's field (the Prefect server refuses the same
    before a run exists), the rest as the service's Finnish error naming the field's Finnish title."""
    with pytest.raises((ValidationError, CouncilError)) as caught:
        validate(params)
    if isinstance(caught.value, ValidationError):
        locations = {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}
        assert field in locations, caught.value
    else:
        assert f"{field}:" in str(caught.value) or field in str(caught.value).split(":")[0], caught.value
    assert message in str(caught.value)


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


def _rec(*args: str) -> list[str]:
    """`council record` for Jokioinen point 2 (a valid decision) with ``args`` replacing the defaults."""
    values = {
        "body": "jokioinen",
        "point": "2",
        "outcome": "hylätty",
        "--date": "15.3.2021",
        "--section": "60",
    }
    extra: list[str] = []
    for key, value in zip(args[::2], args[1::2], strict=True):
        if key in values:
            values[key] = value
        else:
            extra += [key, value]
    return [
        "record",
        values["body"],
        values["point"],
        values["outcome"],
        "--date",
        values["--date"],
        "--section",
        values["--section"],
        *extra,
    ]


_LIAISON_ARGS = (
    "--liaison-name",
    "Maija Meikäläinen",
    "--liaison-title",
    "hyvinvointikoordinaattori",
    "--liaison-work-time",
    "8 h/kk",
)

# (arguments, {file name: content} to create first, fragments the output must contain)
CLI_CASES = [
    (_rec("body", "oulu"), {}, ["Tuntematon vastaanottaja 'oulu'"]),
    (_rec("body", "../../etc"), {}, ["Tuntematon vastaanottaja '../../etc'"]),
    (_rec("body", "jokioinen\r\nBcc: x@evil.example"), {}, ["Tuntematon vastaanottaja"]),
    (_rec("point", "5"), {}, ["kohta", "kohtaa 5"]),
    (_rec("point", "abc"), {}, ["(KOHTA)", "anna kokonaisluku"]),
    (_rec("--section", "abc"), {}, ["pykälä", "kokonaislukuna"]),
    (_rec("--section", "§ 0"), {}, ["pykälä", "positiivisena kokonaislukuna"]),
    (_rec("--section", "-1"), {}, ["pykälä", "kokonaislukuna"]),
    (_rec("--date", "31.2.2021"), {}, ["päivämäärä", "31.2.2021"]),
    (_rec("--date", "1.1.2099"), {}, ["Kokouspäivä: 1.1.2099 on tulevaisuudessa"]),
    (_rec("outcome", "hyväksytty kai"), {}, ["tuntematon päätös"]),
    (
        _rec("--link", "javascript:alert(1)"),
        {},
        ["Pöytäkirjanotteen linkki: linkin on oltava http(s)-osoite"],
    ),
    (
        _rec("--link", "ftp://evil.example/x"),
        {},
        ["Pöytäkirjanotteen linkki: linkin on oltava http(s)-osoite"],
    ),
    (_rec("--note", LONG), {}, ["Lisätieto: enintään 5000 merkkiä"]),
    (_rec("--deciding-body", "Jokioisten\x00kunnanhallitus"), {}, ["Toimielin: sisältää ohjausmerkkejä"]),
    (
        _rec(
            "point", "1", "--liaison-email", "maija@jokioinen.example\r\nBcc: x@evil.example", *_LIAISON_ARGS
        ),
        {},
        ["Järjestöyhdyshenkilö, Sähköposti", "ohjausmerkkejä"],
    ),
    (_rec("point", "1", "--liaison-email", "", *_LIAISON_ARGS), {}, ["--liaison-email"]),
    (
        _rec("--liaison-email", "maija@jokioinen.example", *_LIAISON_ARGS),
        {},
        ["Järjestöyhdyshenkilö:", "vain kohtaan 1"],
    ),
    (["send", "--body", "../../etc"], {}, ["Tuntematon vastaanottaja '../../etc'"]),
    (["send", "--body", "jokioinen\r\nBcc: x@evil.example"], {}, ["Tuntematon vastaanottaja"]),
    (["render", "--out", "docs", "--body", "../../etc"], {}, ["Tuntematon vastaanottaja '../../etc'"]),
    pytest.param(
        ["render", "--out", "docs", "--body", "[bold]x[/bold]"],
        {},
        ["Tuntematon vastaanottaja '[bold]x[/bold]'"],
    ),
    (["render", "--out", "docs", "--date", "2021-02-31"], {}, ["--date", "2021-02-31"]),
    (["render", "--out", "docs", "--date", "15.2.2021"], {}, ["--date", "VVVV-KK-PP"]),
    pytest.param(
        ["render", "--out", "docs", "--body", "jokioinen"],
        {"docs": "tavallinen tiedosto"},
        ["--out"],
    ),
    (["follow-up", "--today", "31.2.2021"], {}, ["--today", "15.3.2021"]),
    (["follow-up", "--today", "huomenna"], {}, ["--today"]),
    (
        ["import-decisions", "latin1.csv"],
        {"latin1.csv": _csv(_row(vastaanottaja="Ypäjän kunta")).encode("latin-1")},
        ["latin1.csv", "rivi 3", "UTF-8"],
    ),
    (
        ["import-decisions", "f.csv"],
        {"f.csv": _csv(_row(lisatieto='=HYPERLINK("http://evil.example")'))},
        ["f.csv", "rivi 3", "lisatieto", "kaavat"],
    ),
    (["import-decisions", "f.csv"], {"f.csv": _csv(_row(), _row(kohta="5"))}, ["f.csv", "rivi 4", "kohta"]),
    (["import-decisions", "t.xlsx"], {"t.xlsx": _csv(_row())}, ["t.xlsx", "XLSX"]),
    pytest.param(["import-decisions", "[/a].csv"], {}, ["[/a].csv", "tiedostoa ei löydy"]),
    (
        ["import-decisions", "etc/../etc/passwd"],
        {"etc/passwd": "root:x:0:0:root:/root:/bin/bash\n"},
        ["etc/passwd", ".csv ja .xlsx"],
    ),
    (["import-decisions", "../../../etc/passwd.csv"], {}, ["passwd.csv", "tiedostoa ei löydy"]),
    (["export-decisions", "../out.txt"], {}, ["out.txt", ".csv ja .xlsx"]),
]
CLI_IDS = [
    "record-unknown-body",
    "record-dotdot-body",
    "record-crlf-body",
    "record-point-5-of-4",
    "record-point-abc",
    "record-section-abc",
    "record-section-0",
    "record-section-minus-1",
    "record-feb-31",
    "record-future-date",
    "record-unknown-outcome",
    "record-javascript-link",
    "record-ftp-link",
    "record-10000-char-note",
    "record-nul-in-deciding-body",
    "record-crlf-bcc-in-liaison-email",
    "record-empty-liaison-email",
    "record-liaison-on-point-2",
    "send-dotdot-body",
    "send-crlf-body",
    "render-dotdot-body",
    "render-rich-markup-in-body",
    "render-feb-31",
    "render-finnish-date-format",
    "render-out-is-a-file",
    "follow-up-feb-31",
    "follow-up-text-date",
    "import-latin1",
    "import-formula",
    "import-point-5-of-4",
    "import-xlsx-that-is-text",
    "import-rich-markup-in-file-name",
    "import-dotdot-to-non-csv-file",
    "import-dotdot-missing-csv",
    "export-unsupported-suffix",
]


#: What a coordinator must never read in a CLI error: Click's/pydantic's English and internal names.
CLI_LEAKS = [
    "Usage",
    "Error",
    "Invalid value",
    "Missing",
    "Input should",
    "Value error",
    "validation error",
    "not_sent",
    "on_agenda",
    "meeting_date",
    "deciding_body",
    "expected_version",
    "minutes_url",
    "recorded_by",
    "work_time",
    "status=",
    "should be",
    "URL",
]


@pytest.mark.parametrize(("args", "files", "needles"), CLI_CASES, ids=CLI_IDS)
def test_bad_cli_arguments_exit_2_and_write_nothing(
    sent: Settings, tmp_path: Path, args: list[str], files: dict[str, str | bytes], needles: list[str]
) -> None:
    """Bad CLI input exits with code 2 and a message naming what is wrong; nothing is stored or written."""
    for name, content in files.items():
        _write(tmp_path / name, content)
    before = _counts(sent)
    existing = {p for p in tmp_path.rglob("*") if p.is_file()}
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # our error, not a traceback
    for needle in needles:
        assert needle in result.output, result.output
    assert "root:x" not in result.output  # a file that is not an import file is never echoed
    leaks = [w for w in CLI_LEAKS if w in result.output]
    assert not leaks, (leaks, result.output)
    assert _counts(sent) == before
    assert {p for p in tmp_path.rglob("*") if p.is_file()} - existing == set()
