"""One email for several proposals (issue 13).

A body that several proposals remind on the same day gets one email that lists each proposal's
open points and carries each proposal's reminder document; each proposal's round is still counted
once (a ``carried`` row), its cells become "reminded" when the combined email is sent, and a rerun
sends nothing more. The committee's weekly digest covers every proposal that changed in one email.
"""

from __future__ import annotations

import email
import email.policy
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from council.config import Settings, get_settings
from council.delivery.mail import RenderedMail
from council.rendering.render import render_mail
from council.rules.formatting import today_helsinki
from council.services.archive import verify_archive, write_archive
from council.store.engine import make_engine
from council.store.outbox import AlreadyQueuedError, queue_combined, queue_message
from models.contexts import CombinedReminderMailContext
from models.enums import Language, MessageKind, MessageState
from models.tables import Decision, Message
from tests.test_proposals import SECOND, SECOND_RECIPIENTS, SEED, cli, data, two_proposals

__all__ = ["data"]  # the fixture: the project's content in the test's folder

SENT = date(2026, 2, 2)  # a Monday
FIRST_REMINDER = date(2026, 2, 23)  # 21 days later, a Monday
SECOND_REMINDER = date(2026, 3, 9)  # 14 days after the first


def _engine() -> sa.Engine:
    return make_engine(get_settings().effective_database_url)


def _messages() -> list[Message]:
    with Session(_engine()) as session:
        return list(session.scalars(sa.select(Message).order_by(Message.id)))


def _received(folder: Path) -> dict[str, email.message.EmailMessage]:
    """Every message the SMTP server received, by Message-ID."""
    found = {}
    for path in folder.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found[str(message["Message-ID"]).strip()] = message
    return found


@pytest.fixture
def both_sent(data: Path, tmp_path: Path, smtp_server, database_url: str, env: pytest.MonkeyPatch) -> Path:  # noqa: ANN001
    """Both proposals sent on the same day, on SQLite and on PostgreSQL: the three bodies they share
    are due both reminders on the same days. The folder where the SMTP server keeps what it receives."""
    env.setenv("COUNCIL_DATABASE_URL", database_url)
    two_proposals(tmp_path)
    cli("-p", SEED, "send", "--today", SENT.strftime("%d.%m.%Y"))
    cli("-p", SECOND, "send", "--today", SENT.strftime("%d.%m.%Y"))
    return tmp_path / "outputs" / "mail"


def test_a_body_reminded_of_two_proposals_gets_one_email_listing_both(both_sent: Path) -> None:
    out = cli("follow-up", "--today", FIRST_REMINDER.strftime("%d.%m.%Y"))
    assert "yhden muistutusviestin" in out

    rows = [m for m in _messages() if m.logical_date == FIRST_REMINDER]
    on_the_wire = [m for m in rows if m.state != MessageState.carried.value]
    # one email per body: the three shared bodies a combined one, the seed's other three their own
    assert Counter(m.body_id for m in on_the_wire) == Counter(
        ["forssa", "humppila", "jokioinen", "tammela", "ypaja", "fshky"]
    )
    assert all(m.state == MessageState.sent.value for m in on_the_wire)
    combined = {m.body_id: m for m in on_the_wire if m.kind == MessageKind.combined_reminder.value}
    assert set(combined) == set(SECOND_RECIPIENTS)
    carried = [m for m in rows if m.state == MessageState.carried.value]
    # each proposal's round is counted once, and points to the email that carried it
    assert sorted((m.proposal_id, m.body_id, m.round) for m in carried) == sorted(
        (pid, body, 1) for pid in (SEED, SECOND) for body in SECOND_RECIPIENTS
    )
    assert all(m.carried_by == combined[m.body_id].id and m.kind == "reminder" for m in carried)
    assert all(m.proposal_id == SEED for m in combined.values())  # the oldest proposal carries it

    received = _received(both_sent)
    tammela = received[combined["tammela"].message_id]
    subject = str(tammela["Subject"])
    assert "2 esitystä" in subject and "FSHKY/301/00.04.01/2026" in subject and "FSHKY/245" in subject
    text = tammela.get_body(("plain",)).get_content()
    assert "Esitys liikuntapaikkojen yhteiskäytöstä Forssan seudulla" in text
    assert "järjestöjen ja julkisen sektorin yhteistyömallista" in text
    assert text.count("Avoimet kohdat:") == 2 and "muistutus 1" in text
    names = [part.get_filename() for part in tammela.iter_attachments()]
    documents = [n for n in names if n.endswith(".docx")]
    assert len(documents) == 2 and len(set(names)) == len(names), names
    assert any("Liikuntapaikkojen" in n for n in documents)
    # the attachments are numbered on across both proposals, as the text lists them
    assert "Liite 1:" in text and "Liite 3:" in text and "Liite 5:" not in text

    # both proposals' cells of a shared body are reminded now
    with Session(_engine()) as session:
        statuses = Counter(
            session.execute(
                sa.select(Decision.proposal_id, Decision.status).where(Decision.body_id == "tammela")
            ).all()
        )
    assert statuses == {(SEED, "reminded"): 4, (SECOND, "reminded"): 4}

    before = len(_messages())
    cli("follow-up", "--today", FIRST_REMINDER.strftime("%d.%m.%Y"))
    assert len(_messages()) == before  # a rerun the same day makes nothing new
    for pid in (SEED, SECOND):  # a carried round that went out is not listed as undelivered
        assert "reminder/1" not in cli("-p", pid, "status")


def test_the_next_round_is_combined_again_and_counts_for_each_proposal(both_sent: Path) -> None:
    """A proposal's carried round counts like a reminder of its own: the next one is round 2,
    due 14 days later, and a body that decided on one proposal gets the other's reminder alone."""
    cli("follow-up", "--today", FIRST_REMINDER.strftime("%d.%m.%Y"))
    for point in range(1, 5):
        liaison = ["--liaison-name", "Maija Meikäläinen", "--liaison-title", "hyvinvointikoordinaattori",
                   "--liaison-email", "maija@example.fi", "--liaison-work-time", "8 h/kk"] if point == 1 else []  # fmt: skip
        cli("-p", SECOND, "record", "humppila", str(point), "hyväksytty ehdotuksen mukaisesti",
            "--date", "2.3.2026", "--section", str(20 + point), *liaison)  # fmt: skip
    cli("follow-up", "--today", SECOND_REMINDER.strftime("%d.%m.%Y"))
    rows = [m for m in _messages() if m.logical_date == SECOND_REMINDER and m.kind != MessageKind.confirmation.value]
    by_body = {
        m.body_id: (m.kind, m.round, m.proposal_id) for m in rows if m.state != MessageState.carried.value
    }
    assert by_body["tammela"] == (MessageKind.combined_reminder.value, 2, SEED)
    assert by_body["humppila"] == (MessageKind.reminder.value, 2, SEED)  # decided on the second
    carried = sorted((m.proposal_id, m.body_id, m.round) for m in rows if m.state == MessageState.carried.value)
    assert carried == sorted((p, b, 2) for p in (SEED, SECOND) for b in ("jokioinen", "tammela"))


def test_archive_of_the_second_proposal_holds_the_combined_email(both_sent: Path, tmp_path: Path) -> None:
    """The second proposal's reminder went out inside the first one's email: its archive holds that
    email as sent (the same bytes), and the package verifies."""
    cli("follow-up", "--today", FIRST_REMINDER.strftime("%d.%m.%Y"))
    cli("proposal", "close", SECOND, "--reason", "testi")
    settings = get_settings()
    path = write_archive(settings, SECOND, dest_dir=tmp_path / "arkisto")
    assert verify_archive(path) == []
    combined = {
        m.body_id: m for m in _messages() if m.kind == MessageKind.combined_reminder.value and m.state == "sent"
    }
    with zipfile.ZipFile(path) as zf:
        reminders = [n for n in zf.namelist() if n.endswith(".eml") and "-reminder-1" in n]
        assert len(reminders) == 3, zf.namelist()
        tammela = next(n for n in reminders if "tammela" in n)
        assert zf.read(tammela) == combined["tammela"].wire


def test_combined_rows_are_all_or_nothing(settings: Settings) -> None:
    """A round another run has queued on its own already: nothing of the combined email is kept
    (the caller's transaction rolls back), so no round is counted without being sent."""
    from council.cli.commands import app  # noqa: F401 - the CLI's init stores the seed and the roster

    cli("init")
    mail = RenderedMail(body_id="forssa", recipients=["kirjaamo@forssa.example"], subject="s", body_text="t",
                        body_html="<p>t</p>", attachments=[], cc=[], language="fi")  # fmt: skip
    engine = make_engine(settings.effective_database_url)
    with Session(engine) as session, session.begin():
        queue_message(session=session, settings=settings, proposal_id=SEED, kind=MessageKind.reminder,
                      round_=1, mail=mail, actor="test", logical_date=FIRST_REMINDER)  # fmt: skip
    with pytest.raises(AlreadyQueuedError, match="jo jonossa"), Session(engine) as session, session.begin():
        queue_combined(session=session, settings=settings, carrier=(SEED, 1), mail=mail,
                       carried=[(SEED, 1, mail)], actor="test", logical_date=FIRST_REMINDER)  # fmt: skip
    with Session(engine) as session:
        kinds = list(session.scalars(sa.select(Message.kind)))
    assert kinds == [MessageKind.reminder.value]


@pytest.mark.parametrize(("lang", "words"), [("fi", ("esitystä", "Avoimet kohdat")), ("sv", ("förslag", "Öppna punkter"))])
def test_the_combined_email_in_each_language(both_sent: Path, lang: str, words: tuple[str, str]) -> None:
    """The Swedish template renders the same sections as the Finnish one."""
    from council.content.loading import load_roster
    from council.rendering.contexts import body_context
    from council.rules.reminders import due_reminder, policies
    from council.services.follow_up import reminder_parts
    from council.store.matrix import read_states
    from council.store.proposals import proposal_content

    settings = get_settings()
    body = next(b for b in load_roster(settings.path(settings.roster_file)).bodies if b.id == "tammela")
    body = body.model_copy(update={"language": Language(lang)})
    sections = []
    for pid in (SEED, SECOND):
        proposal = proposal_content(settings.model_copy(update={"proposal_id": pid}))
        with Session(_engine()) as session:
            state = read_states(session=session, proposal_id=pid)["tammela"]
        due = due_reminder(state, policies(proposal, [body])["tammela"], FIRST_REMINDER)
        ctx, _ = reminder_parts(proposal, body, state, due, settings.body_dir(pid, "tammela"), on=FIRST_REMINDER)
        sections.append(ctx)
    mail = render_mail(
        "muistutus_koottu",
        CombinedReminderMailContext(body=body_context(body), sender=sections[0].sender,
                                    preparers=[sections[0].preparer], sections=sections,
                                    attachment_names=[]),  # fmt: skip
        lang=lang, body_id="tammela", recipients=["k@example.fi"], attachments=[],
    )  # fmt: skip
    assert words[0] in mail.subject and mail.body_text.count(words[1]) == 2
    assert "FSHKY/301/00.04.01/2026" in mail.body_text and f'lang="{lang}"' in mail.body_html


def test_one_weekly_digest_covers_every_proposal_that_changed(both_sent: Path, tmp_path: Path) -> None:
    """Decisions on both proposals in one week: the committee gets one digest with a section and a
    status report for each; each proposal's week is counted once; a rerun says it was sent."""
    for pid, body in ((SEED, "forssa"), (SECOND, "tammela")):
        cli("-p", pid, "record", body, "2", "hyväksytty ehdotuksen mukaisesti", "--date", "10.2.2026",
            "--section", "30")  # fmt: skip
    out = cli("digest", "--today", today_helsinki().strftime("%d.%m.%Y"))
    assert out.count("yksi viesti, jossa on 2 esitystä") == 2, out
    digests = [m for m in _messages() if m.kind == MessageKind.digest.value]
    assert {(m.proposal_id, m.state) for m in digests} == {(SECOND, "carried"), (SEED, "sent")}
    carrier = next(m for m in digests if m.state == "sent")
    assert next(m for m in digests if m.state == "carried").carried_by == carrier.id
    mail = _received(both_sent)[carrier.message_id]
    assert "2 esitystä" in str(mail["Subject"]) and "FSHKY/301/00.04.01/2026" in str(mail["Subject"])
    text = mail.get_body(("plain",)).get_content()
    assert "Forssan kaupunki, kohta 2" in text and "Tammelan kunta, kohta 2" in text
    reports = [part.get_filename() for part in mail.iter_attachments()]
    assert len(reports) == 2 and len(set(reports)) == 2 and any("Liikuntapaikkojen" in r for r in reports)
    again = cli("digest", "--today", today_helsinki().strftime("%d.%m.%Y"))
    assert again.count("oli jo lähetetty") == 2
    assert len([m for m in _messages() if m.kind == MessageKind.digest.value]) == 2


@pytest.mark.parametrize("alone_one", [SEED, SECOND], ids=["first", "second"])
def test_a_digest_of_one_proposal_beside_the_weekly_run_leaves_no_proposal_out(
    both_sent: Path, env: pytest.MonkeyPatch, alone_one: str
) -> None:
    """While the weekly run composes the combined digest, a run for one of the proposals alone
    queues that proposal's week. The combined email is then not queued; the weekly run plans again:
    that proposal's week is the other run's email, the other proposal gets a digest of its own.
    (Before: with the first proposal, the second was reported as carried by an email that did not
    carry it, and its week never went; with the second, both were reported as not made.)"""
    import council.services.digest as digest

    other = SECOND if alone_one == SEED else SEED

    for pid, body in ((SEED, "forssa"), (SECOND, "tammela")):
        cli("-p", pid, "record", body, "2", "hyväksytty ehdotuksen mukaisesti", "--date", "10.2.2026",
            "--section", "30")  # fmt: skip
    settings, today = get_settings(), today_helsinki()
    section, alone, other_ran = digest._section, {}, []

    def beside(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if not other_ran:  # the other run, between this run's planning and its queueing
            other_ran.append(True)
            alone.update(digest.prepare_digests(settings, [alone_one], today=today, actor="toinen"))
        return section(*args, **kwargs)

    env.setattr(digest, "_section", beside)
    plans = digest.prepare_digests(settings, [SEED, SECOND], today=today, actor="viikko")
    rows = {m.proposal_id: m for m in _messages() if m.kind == MessageKind.digest.value}
    assert alone[alone_one].state == "queued" and plans[alone_one].message_id == alone[alone_one].message_id
    assert plans[other].state == "queued" and plans[other].message_id == rows[other].id
    assert rows[other].state == "queued" and rows[other].carried_by is None
    assert rows[other].id != rows[alone_one].id


def test_proposals_with_other_committee_addresses_get_their_own_digest(both_sent: Path) -> None:
    """A proposal whose committee has other addresses is not folded into another's digest."""
    from council.store.proposals import proposal_content
    from models.tables import Proposal

    settings = get_settings()
    second = proposal_content(settings.model_copy(update={"proposal_id": SECOND}))
    changed = second.model_copy(update={"committee_emails": ["toinen.valiokunta@forssanseutu.example"]})
    with Session(_engine()) as session, session.begin():
        session.get(Proposal, SECOND).content = changed.model_dump(mode="json")
    for pid, body in ((SEED, "forssa"), (SECOND, "tammela")):
        cli("-p", pid, "record", body, "2", "hyväksytty ehdotuksen mukaisesti", "--date", "10.2.2026",
            "--section", "30")  # fmt: skip
    out = cli("digest", "--today", today_helsinki().strftime("%d.%m.%Y"))
    assert out.count("Viikkokooste lähetetty.") == 2 and "yksi viesti" not in out
    digests = [m for m in _messages() if m.kind == MessageKind.digest.value]
    assert sorted(m.state for m in digests) == ["sent", "sent"]
    assert {tuple(m.recipients) for m in digests} >= {("toinen.valiokunta@forssanseutu.example",)}


def test_a_reply_to_a_combined_reminder_gives_each_proposal_the_case_number(both_sent: Path, tmp_path: Path) -> None:
    """The registry files our one email once: its case number is the body's for every proposal the
    email carried, and the committee's own Dnro quoted in the subject is not taken for it."""
    from email.message import EmailMessage

    from models.tables import Recipient

    cli("follow-up", "--today", FIRST_REMINDER.strftime("%d.%m.%Y"))
    combined = next(m for m in _messages() if m.kind == MessageKind.combined_reminder.value and m.body_id == "tammela")
    folder = tmp_path / "vastaukset"
    folder.mkdir()
    reply = EmailMessage()
    reply["From"] = "kirjaamo@tammela.example"
    reply["To"] = "hyvinvointivaliokunta@forssanseutu.example"
    reply["Subject"] = f"Re: {combined.subject}"
    reply["Message-ID"] = "<kuittaus-1@tammela.example>"
    reply["In-Reply-To"] = combined.message_id
    reply.set_content("Viestinne on kirjattu saapuneeksi. Asianumero TAM/77/00.04.01/2026")
    (folder / "kuittaus.eml").write_bytes(reply.as_bytes())
    out = cli("replies", str(folder))
    assert "asianumero TAM/77/00.04.01/2026 (esitys" in out, out
    with Session(_engine()) as session:
        numbers = dict(
            session.execute(
                sa.select(Recipient.proposal_id, Recipient.case_number).where(Recipient.body_id == "tammela")
            ).all()
        )
    assert numbers == {SEED: "TAM/77/00.04.01/2026", SECOND: "TAM/77/00.04.01/2026"}


@pytest.mark.prefect
def test_the_follow_up_flow_sends_one_combined_reminder_per_shared_body(both_sent: Path, prefect_harness: None) -> None:
    """The follow-up deployment runs the same day as the command: the combined reminders as their
    own task, once; a second run the same day adds nothing."""
    from council.rules.formatting import fi_date
    from flows.follow_up import FollowUpIn, follow_up

    result = follow_up(ajo=FollowUpIn(paiva=fi_date(FIRST_REMINDER)))
    combined = [m for m in _messages() if m.kind == MessageKind.combined_reminder.value]
    assert sorted(m.body_id for m in combined) == sorted(SECOND_RECIPIENTS)
    assert all(m.state == MessageState.sent.value for m in combined)
    assert len([label for label in result["sent"] if "/combined_reminder/" in label]) == 3
    before = len(_messages())
    follow_up(ajo=FollowUpIn(paiva=fi_date(FIRST_REMINDER)))
    assert len(_messages()) == before


def test_a_section_decided_since_the_day_began_is_left_out(both_sent: Path) -> None:
    """The day's shared reminders are found first; when one proposal's points of a body are all
    decided before its combined email is made, that body gets the other proposal's reminder alone
    (an ordinary one), and the other shared bodies their combined emails."""
    from council.services.follow_up import prepare_combined, shared_reminders
    from council.store.decisions import record_decision
    from models.decisions import DecisionIn
    from models.enums import Outcome

    settings = get_settings()
    shared = shared_reminders(settings, [SEED, SECOND], FIRST_REMINDER)
    assert set(shared) == set(SECOND_RECIPIENTS)
    with Session(_engine()) as session, session.begin():
        for point in range(1, 5):
            record_decision(
                session=session,
                proposal_id=SECOND,
                decision=DecisionIn(body_id="tammela", point=point, outcome=Outcome.merkitty_tiedoksi,
                                    meeting_date=date(2026, 2, 20), section=40 + point),  # fmt: skip
            )
    prepared = prepare_combined(settings, shared, today=FIRST_REMINDER, actor="test")
    assert not prepared.refused
    rows = {m.id: m for m in _messages() if m.logical_date == FIRST_REMINDER}
    queued = [rows[pk] for pk in prepared.ids]
    assert sorted((m.body_id, m.kind, m.proposal_id) for m in queued) == [
        ("humppila", "combined_reminder", SEED),
        ("jokioinen", "combined_reminder", SEED),
        ("tammela", "reminder", SEED),
    ]
    assert not [m for m in rows.values() if m.proposal_id == SECOND and m.body_id == "tammela"]


def test_a_proposal_whose_digest_cannot_be_made_leaves_the_others_alone(both_sent: Path) -> None:
    """A proposal whose stored content no longer loads: the others' digest still goes, and the
    command fails naming that proposal (a digest is never silently missing)."""
    from council.delivery.mail import SmtpMailer
    from council.services.digest import DigestsFailed, send_digests
    from models.tables import Proposal

    for pid, body in ((SEED, "forssa"), (SECOND, "tammela")):
        cli("-p", pid, "record", body, "2", "hyväksytty ehdotuksen mukaisesti", "--date", "10.2.2026",
            "--section", "30")  # fmt: skip
    with Session(_engine()) as session, session.begin():
        broken = dict(session.get(Proposal, SECOND).content)
        broken["points"] = []
        session.get(Proposal, SECOND).content = broken
    settings = get_settings()
    with pytest.raises(DigestsFailed) as failed:
        send_digests(settings, today=today_helsinki(), mailer=SmtpMailer(settings), actor="test")
    assert failed.value.results[SEED] == "Viikkokooste lähetetty."
    assert failed.value.results[SECOND].startswith("Viikkokoostetta ei voitu koota:")
    assert SECOND in str(failed.value)
    digests = [m for m in _messages() if m.kind == MessageKind.digest.value]
    assert [(m.proposal_id, m.state) for m in digests] == [(SEED, "sent")]


class _RejectAll:
    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        return "554 5.7.1 Message rejected"


def test_a_combined_email_refused_for_good_shows_in_each_proposals_history(
    both_sent: Path, env: pytest.MonkeyPatch
) -> None:
    """Each carried round fails with the email that carried it: its error and a failure event in
    its own proposal's history, and `council status` of each proposal lists it as undelivered."""
    from aiosmtpd.controller import Controller

    from models.tables import Event
    from tests.conftest import free_port

    port = free_port()
    controller = Controller(_RejectAll(), hostname="127.0.0.1", port=port)
    controller.start()
    env.setenv("COUNCIL_LOCAL_SMTP_PORT", str(port))
    try:
        result = runner_invoke("follow-up", "--today", FIRST_REMINDER.strftime("%d.%m.%Y"))
    finally:
        controller.stop()
    assert result.exit_code == 1  # refused for good: the command fails
    combined = {m.body_id: m for m in _messages() if m.kind == MessageKind.combined_reminder.value}
    assert {m.state for m in combined.values()} == {"failed"}
    carried = [m for m in _messages() if m.state == MessageState.carried.value]
    assert carried and all("554" in (m.last_error or "") for m in carried)
    with Session(_engine()) as session:
        failures = set(
            session.execute(
                sa.select(Event.proposal_id, Event.body_id).where(Event.kind == "message_failed")
            ).all()
        )
    assert {(SECOND, b) for b in SECOND_RECIPIENTS} <= failures
    assert "tammela/reminder/1" in cli("-p", SECOND, "status")


def runner_invoke(*args: str):  # noqa: ANN201 - click's Result
    from typer.testing import CliRunner

    from council.cli.commands import app

    return CliRunner().invoke(app, list(args))


def test_proposals_with_the_same_short_title_get_distinct_attachment_names(
    data: Path, tmp_path: Path, smtp_server  # noqa: ANN001
) -> None:
    """Two proposals a committee titled alike: the combined email's documents still differ by name."""
    import yaml

    from council.config import PROJECT_ROOT

    content = yaml.safe_load((PROJECT_ROOT / "data" / "proposals" / f"{SEED}.yaml").read_text("utf-8"))
    content.update(id="toinen-malli", diary_number="FSHKY/302/00.04.01/2026")  # the same short title
    path = tmp_path / "toinen.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), "utf-8")
    cli("init")
    cli("proposal", "import", str(path), "-r", "tammela")
    for pid in (SEED, "toinen-malli"):
        cli("-p", pid, "send", "--today", SENT.strftime("%d.%m.%Y"))
    cli("follow-up", "--today", FIRST_REMINDER.strftime("%d.%m.%Y"))
    combined = next(m for m in _messages() if m.kind == MessageKind.combined_reminder.value)
    mail = _received(tmp_path / "outputs" / "mail")[combined.message_id]
    names = [part.get_filename() for part in mail.iter_attachments()]
    assert len(names) == 4 and len(set(names)) == 4, names


def test_a_reply_without_references_is_matched_by_the_proposal_its_subject_names(
    both_sent: Path, tmp_path: Path
) -> None:
    """No In-Reply-To, and the sender's body has both proposals: the subject naming one proposal's
    short title matches it; a subject naming neither is listed as unmatched."""
    from email.message import EmailMessage

    from models.tables import Recipient

    folder = tmp_path / "vastaukset"
    folder.mkdir()
    for name, subject in (
        ("a", "Kuittaus: Liikuntapaikkojen yhteiskäyttö, asianumero TAM/80/2026"),
        ("b", "Kuittaus: esitys, asianumero TAM/81/2026"),
    ):
        reply = EmailMessage()
        reply["From"] = "kirjaamo@tammela.example"
        reply["Subject"] = subject
        reply["Message-ID"] = f"<{name}@tammela.example>"
        reply.set_content("Kirjattu.")
        (folder / f"{name}.eml").write_bytes(reply.as_bytes())
    out = cli("replies", str(folder))
    assert "Tunnistamaton: b.eml" in out, out
    with Session(_engine()) as session:
        numbers = dict(
            session.execute(
                sa.select(Recipient.proposal_id, Recipient.case_number).where(Recipient.body_id == "tammela")
            ).all()
        )
    assert numbers.get(SECOND) == "TAM/80/2026" and numbers.get(SEED) is None
