"""Many proposals in one service (issue 13): proposals as campaigns in the database, each with its
own recipients and state; commands choose one; the daily follow-up runs over all of them and never
sends a body two emails on one day."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import PROJECT_ROOT, Settings, get_settings
from council.store.engine import make_engine, upgrade
from models.enums import MessageKind
from models.tables import Decision, Event, Message, Proposal, Recipient

runner = CliRunner()
SEED = "jarjestoyhteistyomalli-forssan-seutu"
SECOND = "liikuntapaikat-2027"
SECOND_RECIPIENTS = ["humppila", "jokioinen", "tammela"]


@pytest.fixture
def data(settings: Settings, env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The project's content copied to the test's folder (imports write their YAML copy there)."""
    folder = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", folder)
    env.setenv("COUNCIL_DATA_DIR", str(folder))
    env.setenv("COUNCIL_ROSTER_FILE", str(folder / "rosters" / "forssan-seutu.yaml"))
    return folder


def second_proposal_file(tmp_path: Path) -> Path:
    """Another proposal of the committee: the seed's text under a new id, title and Dnro."""
    content = yaml.safe_load((PROJECT_ROOT / "data" / "proposals" / f"{SEED}.yaml").read_text("utf-8"))
    content.update(
        id=SECOND,
        title="Esitys liikuntapaikkojen yhteiskäytöstä Forssan seudulla",
        short_title="Liikuntapaikkojen yhteiskäyttö",
        diary_number="FSHKY/301/00.04.01/2026",
    )
    path = tmp_path / "liikunta.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def second_proposal_docx(tmp_path: Path) -> Path:
    """The second proposal written on the authoring template: the seed's DOCX with a new title,
    short title, Dnro and id, edited as a secretary would in Word."""
    from docx import Document

    document = Document(str(PROJECT_ROOT / "tests" / "fixtures" / "esitys-jarjestoyhteistyomalli.docx"))
    title = next(p for p in document.paragraphs if p.style.name == "Title")
    title.runs[0].text = "Esitys liikuntapaikkojen yhteiskäytöstä Forssan seudulla"
    for run in title.runs[1:]:
        run.text = ""
    values = {
        "Lyhyt otsikko": "Liikuntapaikkojen yhteiskäyttö",
        "Dnro": "FSHKY/301/00.04.01/2026",
        "Tunniste (vapaaehtoinen)": SECOND,
    }
    for row in document.tables[0].rows:
        label, cell = row.cells[0].text.strip(), row.cells[1]
        if label in values:
            paragraph = cell.paragraphs[0]
            paragraph.runs[0].text = values[label]
            for run in paragraph.runs[1:]:
                run.text = ""
    path = tmp_path / "liikuntapaikat.docx"
    document.save(str(path))
    return path


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def two_proposals(tmp_path: Path) -> None:
    cli("init")
    cli("proposal", "import", str(second_proposal_file(tmp_path)), *[f"-r{b}" for b in SECOND_RECIPIENTS])


def test_import_stores_a_draft_with_only_its_recipients(data: Path, tmp_path: Path) -> None:
    """The second proposal is a draft with exactly its three recipients' cells, its YAML copy
    under data/ loads back, and the first proposal is untouched."""
    two_proposals(tmp_path)
    engine = make_engine(get_settings().effective_database_url)
    with Session(engine) as session:
        cells = Counter(session.scalars(sa.select(Decision.proposal_id)))
        second = session.get(Proposal, SECOND)
        recipients = set(session.scalars(sa.select(Recipient.body_id).where(Recipient.proposal_id == SECOND)))
    assert cells == {SEED: 6 * 4, SECOND: 3 * 4}
    assert second.state == "draft" and second.recipients_chosen and second.diary_number == "FSHKY/301/00.04.01/2026"
    assert recipients == set(SECOND_RECIPIENTS)
    assert (data / "proposals" / f"{SECOND}.yaml").is_file()
    listing = cli("proposal", "list")
    assert "luonnos" in listing and "Liikuntapaikkojen" in listing


def test_import_from_the_authoring_template(data: Path, tmp_path: Path) -> None:
    """A DOCX written on the template imports like its YAML: the same content, its recipients, the
    YAML copy loading back equal; importing it again while a draft updates it."""
    from council.content.loading import load_proposal
    from council.store.proposals import proposal_content

    cli("init")
    out = cli("proposal", "import", str(second_proposal_docx(tmp_path)), "-r", "Tammelan kunta", "-r", "ypaja")
    assert f"Tuotiin esitys {SECOND}" in out and "Vastaanottajia 2" in out
    stored = proposal_content(get_settings(), SECOND)
    assert stored.short_title == "Liikuntapaikkojen yhteiskäyttö" and stored.diary_number == "FSHKY/301/00.04.01/2026"
    assert load_proposal(data / "proposals" / f"{SECOND}.yaml") == stored
    seed = proposal_content(get_settings(), SEED)
    assert stored.points == seed.points and stored.sections == seed.sections
    assert "Päivitettiin" in cli("proposal", "import", str(second_proposal_docx(tmp_path)), "-r", "forssa")
    with Session(make_engine(get_settings().effective_database_url)) as session:
        assert set(session.scalars(sa.select(Recipient.body_id).where(Recipient.proposal_id == SECOND))) == {
            "tammela",
            "ypaja",
            "forssa",
        }


def test_a_bad_import_stores_nothing(data: Path, tmp_path: Path) -> None:
    """A file with errors, or a body that is not in the roster, leaves no proposal behind."""
    cli("init")
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: Ei kelpaa\ntitle: x\n", "utf-8")
    result = runner.invoke(app, ["proposal", "import", str(bad)])
    assert result.exit_code == 2 and "bad.yaml" in result.output
    from docx import Document

    broken = second_proposal_docx(tmp_path)
    document = Document(str(broken))
    for row in document.tables[0].rows:
        if row.cells[0].text.strip() == "Lyhyt otsikko":
            for run in row.cells[1].paragraphs[0].runs:
                run.text = ""
    document.save(str(broken))
    result = runner.invoke(app, ["proposal", "import", str(broken)])
    assert result.exit_code == 2 and "liikuntapaikat.docx" in result.output and "kappale" in result.output
    result = runner.invoke(app, ["proposal", "import", str(second_proposal_file(tmp_path)), "-r", "Urjala"])
    assert result.exit_code == 2 and "Urjala" in result.output
    with Session(make_engine(get_settings().effective_database_url)) as session:
        assert list(session.scalars(sa.select(Proposal.id))) == [SEED]
    assert not (data / "proposals" / f"{SECOND}.yaml").exists()


def test_with_several_active_a_command_must_name_one(data: Path, tmp_path: Path) -> None:
    two_proposals(tmp_path)
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2
    assert "2 esitystä" in result.output and SECOND in result.output and "--proposal" in result.output
    status = cli("--proposal", SECOND, "status")
    assert "Humppilan" in status and "Ypäjän" not in status  # its recipients only
    # a title works as well as an id, in any case
    assert "Tammelan" in cli("-p", "liikuntapaikkojen yhteiskäyttö", "status")
    result = runner.invoke(app, ["-p", "ei-ole", "status"])
    assert result.exit_code == 2 and "ei-ole" in result.output


def test_send_goes_to_the_chosen_recipients_only(data: Path, tmp_path: Path, smtp_server) -> None:  # noqa: ANN001
    two_proposals(tmp_path)
    cli("-p", SECOND, "send", "--today", "15.3.2027")
    result = runner.invoke(app, ["-p", SECOND, "send", "--body", "forssa"])
    assert result.exit_code == 2 and "forssa" in result.output and "humppila" in result.output
    with Session(make_engine(get_settings().effective_database_url)) as session:
        sent = set(session.scalars(sa.select(Message.body_id).where(Message.proposal_id == SECOND)))
        state = session.get(Proposal, SECOND).state
        seed_state = session.get(Proposal, SEED).state
    assert sent == set(SECOND_RECIPIENTS)
    assert (state, seed_state) == ("sent", "draft")
    subjects = [p.read_bytes() for p in (tmp_path / "outputs" / "mail").glob("*.eml")]
    assert len(subjects) == 3 and all(b"FSHKY/301/00.04.01/2026" in s for s in subjects)


def _record_all(proposal_id: str, body_id: str, on: date) -> None:
    for point in range(1, 5):
        liaison = ["--liaison-name", "Maija Meikäläinen", "--liaison-title", "hyvinvointikoordinaattori",
                   "--liaison-email", "maija@example.fi", "--liaison-work-time", "8 h/kk"] if point == 1 else []  # fmt: skip
        day = on.strftime("%d.%m.%Y")
        cli("-p", proposal_id, "record", body_id, str(point), "hyväksytty ehdotuksen mukaisesti",
            "--date", day, "--section", str(10 + point), *liaison)  # fmt: skip


def test_120_days_with_two_proposals_one_email_a_day(data: Path, tmp_path: Path, smtp_server) -> None:  # noqa: ANN001
    """Both proposals open for 120 days, three bodies in both, the second sent 14 days after the
    first so that their reminders fall due on the same days: no body gets two emails on one day
    (the shared bodies get combined ones), every Message-ID is unique, each carried round went out
    inside a sent email, nothing is sent to a body on a proposal after its last decision there."""
    two_proposals(tmp_path)
    start = date(2026, 2, 2)  # decisions are recorded after their meetings: the whole run is in the past
    cli("-p", SEED, "send", "--today", start.strftime("%d.%m.%Y"))
    cli("-p", SECOND, "send", "--today", (start + timedelta(days=14)).strftime("%d.%m.%Y"))
    decided = {(SEED, "jokioinen"): start + timedelta(days=40), (SECOND, "humppila"): start + timedelta(days=50)}
    for offset in range(1, 121):
        day = start + timedelta(days=offset)
        for (proposal_id, body_id), on in decided.items():
            if on == day:
                _record_all(proposal_id, body_id, day)
        cli("follow-up", "--today", day.strftime("%d.%m.%Y"))

    reminder_kinds = (MessageKind.reminder.value, MessageKind.combined_reminder.value)
    with Session(make_engine(get_settings().effective_database_url)) as session:
        messages = session.execute(
            sa.select(Message.id, Message.proposal_id, Message.body_id, Message.kind, Message.logical_date,
                      Message.message_id, Message.state, Message.carried_by)
            .where(Message.body_id.is_not(None), Message.kind.in_([MessageKind.proposal.value, *reminder_kinds]))
        ).all()  # fmt: skip
        closed = session.get(Proposal, SECOND).state
    on_the_wire = [m for m in messages if m.state != "carried"]
    per_day = Counter((m.body_id, m.logical_date) for m in on_the_wire)
    assert max(per_day.values()) == 1, [k for k, n in per_day.items() if n > 1]
    assert len({m.message_id for m in messages}) == len(messages)
    sent = {m.id for m in on_the_wire if m.state == "sent"}
    carried = [m for m in messages if m.state == "carried"]
    assert carried and all(m.carried_by in sent for m in carried)
    combined = [m for m in on_the_wire if m.kind == MessageKind.combined_reminder.value]
    assert {m.body_id for m in combined} <= set(SECOND_RECIPIENTS) and len(combined) >= 3
    reminders = Counter((m.proposal_id, m.body_id) for m in messages if m.kind == MessageKind.reminder.value)
    assert reminders[(SEED, "tammela")] >= 2 and reminders[(SECOND, "tammela")] >= 2
    for (proposal_id, body_id), on in decided.items():
        assert all(
            m.logical_date <= on
            for m in messages
            if (m.proposal_id, m.body_id) == (proposal_id, body_id) and m.kind in reminder_kinds
        )
    assert closed == "sent"  # two of its bodies never decided


def test_a_closed_proposal_gets_no_reminders(data: Path, tmp_path: Path, smtp_server) -> None:  # noqa: ANN001
    two_proposals(tmp_path)
    cli("-p", SECOND, "send", "--today", "1.2.2027")
    result = runner.invoke(app, ["proposal", "close", SECOND, "--reason", ""])
    assert result.exit_code == 2 and "syy" in result.output
    assert "päätetty" in cli("proposal", "close", SECOND, "--reason", "esitys vanhentui")
    out = cli("follow-up", "--today", "1.4.2027")
    assert "ei erääntyneitä" in out
    with Session(make_engine(get_settings().effective_database_url)) as session:
        row = session.get(Proposal, SECOND)
        kinds = set(session.scalars(sa.select(Event.kind).where(Event.proposal_id == SECOND)))
        reminders = session.scalar(sa.select(sa.func.count(Message.id)).where(Message.kind == "reminder"))
    assert row.state == "closed" and row.close_reason == "esitys vanhentui" and row.closed_at is not None
    assert "proposal_state_changed" in kinds and reminders == 0
    assert "päättynyt" in cli("proposal", "show", SECOND)


def test_every_point_final_closes_the_proposal(data: Path, tmp_path: Path, smtp_server) -> None:  # noqa: ANN001
    two_proposals(tmp_path)
    cli("-p", SECOND, "send", "--today", "2.2.2026")
    for body_id in SECOND_RECIPIENTS:
        _record_all(SECOND, body_id, date(2026, 2, 16))
    out = cli("follow-up", "--today", "2.3.2026")  # 14 days after the meeting: still open for rectification
    assert "päättyi" not in out
    out = cli("follow-up", "--today", "16.3.2026")
    assert f"Esitys {SECOND} päättyi" in out
    with Session(make_engine(get_settings().effective_database_url)) as session:
        assert session.get(Proposal, SECOND).state == "closed"
        assert session.get(Proposal, SEED).state == "draft"


def test_upgrade_keeps_what_an_earlier_release_stored(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A database at the previous release's head (0007) with a sent proposal migrates to a sent
    campaign with a recipient row per body and keeps every decision, event and message."""
    from tests.conftest import sync_and_mark_sent

    url = get_settings().effective_database_url
    upgrade(url, "0007")
    engine = make_engine(url)
    now = "2026-11-01 10:00:00"
    with engine.begin() as c:
        c.execute(sa.text(
            "INSERT INTO proposal (id, title, sender, preparer, content_sha256, duties_point, created_at) "
            f"VALUES ('{SEED}', 'T', 'S', 'P', 'x', 1, '{now}')"
        ))  # fmt: skip
        for body in ("forssa", "humppila"):
            c.execute(sa.text(
                "INSERT INTO body (id, name, name_genitive, name_inessive, kind, deciding_body, registry_email, "
                f"language, updated_at) VALUES ('{body}', '{body}', 'g', 'i', 'kunta', 'kh', 'k@{body}.fi', 'fi', '{now}')"
            ))  # fmt: skip
            c.execute(sa.text(
                "INSERT INTO decision (proposal_id, body_id, point_number, status, updated_at, version, revision) "
                f"VALUES ('{SEED}', '{body}', 1, 'sent', '{now}', 2, 0)"
            ))  # fmt: skip
        c.execute(sa.text(
            "INSERT INTO message (proposal_id, body_id, kind, round, state, message_id, recipients, subject, "
            f"body_text, body_html, attachments, attempts, cc, created_at) VALUES ('{SEED}', 'forssa', 'proposal', 0, "
            f"'sent', '<m1@x>', '[]', 's', 't', 'h', '[]', 1, '[]', '{now}')"
        ))  # fmt: skip
        c.execute(sa.text(
            f"INSERT INTO event (occurred_at, proposal_id, kind, actor, data) VALUES ('{now}', '{SEED}', 'x', 'a', '{{}}')"
        ))  # fmt: skip
        # a campaign taken over from outside the service: no message, a sending day, cells sent
        c.execute(sa.text(
            "INSERT INTO proposal (id, title, sender, preparer, content_sha256, duties_point, created_at) "
            f"VALUES ('otettu', 'T', 'S', 'P', 'x', 1, '{now}')"
        ))  # fmt: skip
        c.execute(sa.text(
            "INSERT INTO recipient (proposal_id, body_id, sent_outside_on, updated_at) "
            f"VALUES ('otettu', 'forssa', '2026-10-01', '{now}')"
        ))  # fmt: skip
    upgrade(url)
    with Session(engine) as session:
        row = session.get(Proposal, SEED)
        assert row.state == "sent" and not row.recipients_chosen
        assert session.get(Proposal, "otettu").state == "sent"
        recipients = set(session.scalars(sa.select(Recipient.body_id).where(Recipient.proposal_id == SEED)))
        assert recipients == {"forssa", "humppila"}
        assert session.scalar(sa.select(sa.func.count(Decision.id))) == 2
        assert session.scalar(sa.select(sa.func.count(Message.id))) == 1
        assert session.scalar(sa.select(sa.func.count(Event.id))) == 1
    # the next sync stores the content and the remaining roster bodies, losing nothing
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", "1")
    sync_and_mark_sent(get_settings(), body_ids=[])
    with Session(engine) as session:
        assert session.get(Proposal, SEED).content["id"] == SEED
        assert session.scalar(sa.select(sa.func.count(Decision.id))) == 6 * 4


def test_the_main_job_sends_only_the_configured_proposal(data: Path, tmp_path: Path) -> None:
    """`council run` sends the configured proposal, named by its form label even when it is the only
    one (a draft imported for review must not be mailed by a restart); a closed one is not sent."""
    from prefect.utilities.callables import parameter_schema
    from prefect.utilities.schema_tools.validation import validate

    from council.cli.runner import _default_send
    from council.services.forms import form_choices, with_choices
    from flows.send_proposal import SendProposalIn, send_proposal

    def accepted_by_the_server(parameters: dict) -> bool:
        """Checked as the Prefect server checks a run against the schema the forms keeper pushed."""
        schema = with_choices(parameter_schema(send_proposal).model_dump(), form_choices(get_settings()))
        return not validate(parameters, schema, raise_on_error=False)

    label = f"Järjestöjen ja julkisen sektorin yhteistyömalli ({SEED})"
    cli("init")
    sent = {"lahetys": {"kohde": {"esitys": label}}}  # the form's tab shape, valid with any number of proposals
    assert _default_send(get_settings()) == sent and accepted_by_the_server(sent)
    cli("proposal", "import", str(second_proposal_file(tmp_path)), "-r", "tammela")
    assert _default_send(get_settings()) == sent and accepted_by_the_server(sent)
    assert not accepted_by_the_server({"lahetys": {"esitys": label}})  # two proposals: a tab is required
    assert SendProposalIn.model_validate(sent["lahetys"]).esitys == label
    cli("proposal", "close", SEED, "--reason", "testi")
    assert _default_send(get_settings()) is None


def test_a_closed_proposal_is_not_sent_recorded_or_reminded(data: Path, tmp_path: Path, smtp_server) -> None:  # noqa: ANN001
    two_proposals(tmp_path)
    cli("-p", SECOND, "send", "--today", "2.2.2026")
    cli("proposal", "close", SECOND, "--reason", "vanhentui")
    for command in (["send"], ["follow-up", "--dry-run", "--today", "1.4.2026"], ["sent-outside", "forssa", "--date", "1.2.2026"]):
        result = runner.invoke(app, ["-p", SECOND, *command])
        assert result.exit_code == 2 and "päättynyt" in result.output and "vanhentui" in result.output, command
    assert "Humppilan" in cli("-p", SECOND, "status")  # reading is fine


def test_a_title_two_proposals_share_is_refused_with_their_ids(data: Path, tmp_path: Path) -> None:
    two_proposals(tmp_path)
    content = yaml.safe_load(second_proposal_file(tmp_path).read_text("utf-8"))
    content["id"] = "liikuntapaikat-2028"
    third = tmp_path / "kolmas.yaml"
    third.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), "utf-8")
    cli("proposal", "import", str(third), "-r", "forssa")
    result = runner.invoke(app, ["-p", "Liikuntapaikkojen yhteiskäyttö", "status"])
    assert result.exit_code == 2 and SECOND in result.output and "liikuntapaikat-2028" in result.output
    # the forms' label names one of them exactly
    assert "Forssan" in cli("-p", "Liikuntapaikkojen yhteiskäyttö (liikuntapaikat-2028)", "status")


def test_help_needs_no_proposal(data: Path, tmp_path: Path) -> None:
    two_proposals(tmp_path)
    for command in ("status", "send", "record"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Käyttö:" in result.output, result.output


def test_sent_outside_only_for_a_recipient(data: Path, tmp_path: Path) -> None:
    two_proposals(tmp_path)
    result = runner.invoke(app, ["-p", SECOND, "sent-outside", "ypaja", "--date", "1.11.2026"])
    assert result.exit_code == 2 and "ypaja" in result.output and "tammela" in result.output
    assert "Ypäjän" not in cli("proposal", "show", SECOND)
    result = runner.invoke(app, ["-p", SECOND, "record", "ypaja", "2", "hylätty", "--date", "1.11.2026", "--section", "3"])
    assert result.exit_code == 2 and "ei ole esityksen liikuntapaikat-2027 vastaanottaja" in result.output


def test_mail_left_queued_by_a_closed_proposal_still_goes(data: Path, tmp_path: Path, smtp_server) -> None:  # noqa: ANN001
    """Closing stops new mail, not what the outbox already holds: the daily run delivers it."""
    two_proposals(tmp_path)
    cli("-p", SECOND, "send", "--today", "2.2.2026")
    with Session(make_engine(get_settings().effective_database_url)) as session, session.begin():
        message = session.scalars(sa.select(Message).where(Message.proposal_id == SECOND)).first()
        message.state, message.sent_at = "queued", None
        queued = message.message_id
    cli("proposal", "close", SECOND, "--reason", "testi")
    cli("proposal", "close", SEED, "--reason", "testi")
    out = cli("follow-up", "--today", "3.2.2026")
    assert "Lähetetty 1 viestiä" in out
    with Session(make_engine(get_settings().effective_database_url)) as session:
        assert session.scalar(sa.select(Message.state).where(Message.message_id == queued)) == "sent"


def test_stored_content_that_todays_rules_refuse_is_a_finnish_message(data: Path, tmp_path: Path) -> None:
    """A proposal stored by an older version under looser rules is reported, naming it, not a traceback."""
    cli("init")
    with Session(make_engine(get_settings().effective_database_url)) as session, session.begin():
        row = session.get(Proposal, SEED)
        content = dict(row.content)
        content["points"] = [dict(p, examples=[]) for p in content["points"]]
        row.content = content
    result = runner.invoke(app, ["proposal", "show", SEED])
    assert result.exit_code == 2 and f"tietokanta, esitys {SEED}" in result.output and "Traceback" not in result.output
