"""The committee dashboard: matrix, progress, liaisons, overdue bodies, escaping, SQL count, HTML, JSON, server."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import event, insert, update
from sqlalchemy.orm import Session

from council.config import PROJECT_ROOT, Settings, get_settings
from council.dashboard.build import build_dashboard, content_policies, next_reminder_on
from council.dashboard.model import DashboardOut
from council.dashboard.publish import FILES, dashboard_json, render_html, render_statement, write_dashboard
from council.dashboard.server import serve_dashboard
from council.rules.formatting import HELSINKI, fi_date, today_helsinki
from council.services.send import sync
from council.store.decisions import mark_on_agenda, record_decision
from council.store.engine import make_engine
from models.decisions import DecisionIn, LiaisonIn
from models.enums import DecisionStatus, Outcome
from models.schemas import ReminderPolicyIn, ReminderPolicyOverrideIn
from models.tables import Body, Decision, Event, Message
from tests.helpers import delivered_proposal

MEETING = date(2021, 3, 15)
LIAISON = LiaisonIn(
    name="Maija Meikäläinen",
    title="hyvinvointikoordinaattori",
    email="maija@jokioinen.example",
    work_time="8 h/kk",
)


def _record(settings: Settings, decision: DecisionIn) -> None:
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        record_decision(session=session, proposal_id=settings.proposal_id, decision=decision)


def _record_two(settings: Settings) -> date:
    """Jokioinen point 1 (long ago: final, with liaison) and Humppila point 2 (3 days ago: decided)."""
    recent = today_helsinki() - timedelta(days=3)
    _record(
        settings,
        DecisionIn(
            body_id="jokioinen",
            point=1,
            outcome=Outcome.hyvaksytty,
            meeting_date=MEETING,
            section=59,
            liaison=LIAISON,
            recorded_by="Niina",
        ),
    )
    _record(
        settings,
        DecisionIn(
            body_id="humppila",
            point=2,
            outcome=Outcome.hyvaksytty_muutettuna,
            meeting_date=recent,
            section=12,
            recorded_by="Niina",
        ),
    )
    return recent


def _build(settings: Settings, **kwargs: object) -> DashboardOut:
    with Session(make_engine(settings.effective_database_url)) as session:
        return build_dashboard(session=session, proposal_id=settings.proposal_id, **kwargs)  # type: ignore[arg-type]


def _body(dashboard: DashboardOut, body_id: str):
    return next(b for b in dashboard.bodies if b.body_id == body_id)


def _deliver_proposal(settings: Settings, body_id: str, sent_at: datetime | None = None) -> None:
    """Queue and deliver the body's proposal email (round 0), optionally back-dating ``sent_at``."""
    delivered_proposal(settings, body_id, sent_at=sent_at)


def delivered_reminder(
    settings: Settings, body_id: str, round_: int, *, sent_at: datetime, logical_date: date | None = None
) -> None:
    """Store reminder ``round_`` to the body as delivered at ``sent_at`` (its business day ``logical_date``)."""
    from council.delivery.mail import RenderedMail
    from council.store.outbox import mark_delivered, queue_message
    from models.enums import MessageKind

    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        message_pk, _ = queue_message(
            session=session,
            settings=settings,
            proposal_id=settings.proposal_id,
            kind=MessageKind.reminder,
            round_=round_,
            mail=RenderedMail(
                body_id=body_id,
                recipients=[f"kirjaamo@{body_id}.example"],
                subject=f"Muistutus {round_}",
                body_text="teksti",
                body_html="<p>teksti</p>",
                attachments=[],
            ),
            actor="test",
            logical_date=logical_date or sent_at.astimezone(HELSINKI).date(),
        )
        message = session.get_one(Message, message_pk)
        mark_delivered(session=session, message=message, actor="test")
        message.sent_at = sent_at


def put_on_agenda(settings: Settings, body_id: str, points: list[int], meeting: date) -> None:
    """The body has put ``points`` on the agenda of its meeting on ``meeting``."""
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        mark_on_agenda(
            session=session,
            proposal_id=settings.proposal_id,
            body_id=body_id,
            points=points,
            meeting_date=meeting,
            actor="Niina",
        )


def test_matrix_shows_outcomes_sections_dates_and_final_vs_decided(sent_any_db: Settings) -> None:
    """After two decisions the matrix shows each outcome, § and 15.3.2021 date; the old one is final, the recent one decided."""
    recent = _record_two(sent_any_db)
    dashboard = _build(sent_any_db)
    assert [b.name for b in dashboard.bodies] == sorted(b.name for b in dashboard.bodies)
    assert [p.number for p in dashboard.points] == [1, 2, 3, 4]
    jok = _body(dashboard, "jokioinen").cells[0]
    assert jok.status == DecisionStatus.final and jok.status_label == "lainvoimainen"
    assert (jok.outcome, jok.meeting_date, jok.section) == (
        "hyväksytty ehdotuksen mukaisesti",
        "15.3.2021",
        59,
    )
    hum = _body(dashboard, "humppila").cells[1]
    assert hum.status == DecisionStatus.decided and hum.status_label == "päätetty"
    assert (hum.outcome, hum.meeting_date, hum.section) == ("hyväksytty muutettuna", fi_date(recent), 12)
    untouched = _body(dashboard, "forssa").cells[0]
    assert untouched.status == DecisionStatus.sent and untouched.status_label == "lähetetty"
    assert untouched.outcome is None and untouched.meeting_date is None and untouched.section is None
    html = render_html(dashboard)
    for text in ("hyväksytty ehdotuksen mukaisesti", "15.3.2021 § 59", "lainvoimainen", "päätetty", "§ 12"):
        assert text in html
    assert 'class="cell st-final"' in html and 'class="cell st-decided"' in html


def test_progress_counts_decided_and_final_cells_exactly(sent: Settings) -> None:
    """Two decided/final cells of 24 is 8 %; each decided point is 1 of 6 bodies (16 %); a tabled point counts as open."""
    _record_two(sent)
    _record(
        sent,
        DecisionIn(body_id="tammela", point=3, outcome=Outcome.poydalle, meeting_date=MEETING, section=5),
    )
    dashboard = _build(sent)
    assert dashboard.overall.model_dump() == {"decided": 2, "total": 24, "percent": 8}
    per_point = {p.number: p.progress.model_dump() for p in dashboard.points}
    assert per_point == {
        1: {"decided": 1, "total": 6, "percent": 16},
        2: {"decided": 1, "total": 6, "percent": 16},
        3: {"decided": 0, "total": 6, "percent": 0},
        4: {"decided": 0, "total": 6, "percent": 0},
    }
    assert _body(dashboard, "tammela").cells[2].status == DecisionStatus.on_agenda
    html = render_html(dashboard)
    assert "8 %" in html and "(2/24)" in html and "16 %" in html


def test_liaison_from_point_one_is_listed_with_body_name(sent: Settings) -> None:
    """The liaison recorded with Jokioinen's point-1 decision appears with name, title, email, work time and body."""
    _record_two(sent)
    dashboard = _build(sent)
    assert [liaison.model_dump() for liaison in dashboard.liaisons] == [
        {
            "body_id": "jokioinen",
            "body_name": "Jokioisten kunta",
            "name": "Maija Meikäläinen",
            "title": "hyvinvointikoordinaattori",
            "email": "maija@jokioinen.example",
            "work_time": "8 h/kk",
        }
    ]
    html = render_html(dashboard)
    assert "Maija Meikäläinen" in html and "maija@jokioinen.example" in html and "8 h/kk" in html


def test_overdue_needs_sent_proposal_open_points_and_passed_deadline(sent_any_db: Settings) -> None:
    """A body whose proposal was delivered more than deadline_days ago with open points is overdue; others are not."""
    for body_id in ("humppila", "ypaja"):
        _deliver_proposal(
            sent_any_db, body_id, sent_at=datetime(2026, 5, 15, 7, 30, tzinfo=UTC)
        )  # 10.30 in Helsinki
    for point in (1, 2, 3, 4):
        _record(
            sent_any_db,
            DecisionIn(
                body_id="ypaja", point=point, outcome=Outcome.hyvaksytty, meeting_date=date(2026, 6, 1), section=point
            ),
        )
    later = date(2026, 9, 12)  # 120 days after sending
    dashboard = _build(sent_any_db, today=later)
    assert dashboard.overdue == ["humppila"]  # ypaja decided everything; the others have no sent email
    hum = _body(dashboard, "humppila")
    assert hum.overdue and hum.days_overdue == 30 and hum.open_points == [1, 2, 3, 4]
    assert hum.deadline_iso == date(2026, 8, 13) and hum.sent_date == "15.5.2026"
    assert not _body(dashboard, "ypaja").overdue and not _body(dashboard, "forssa").overdue
    html = render_html(dashboard)
    assert 'class="overdue"' in html and "myöhässä" in html

    assert _build(sent_any_db, today=date(2026, 8, 13)).overdue == []  # on the deadline day: not yet
    relaxed = _build(
        sent_any_db,
        today=later,
        policy=ReminderPolicyIn(deadline_days=100),
        overrides={"humppila": ReminderPolicyOverrideIn(deadline_days=200)},
    )
    assert relaxed.overdue == [] and _body(relaxed, "humppila").deadline_days == 200
    assert _body(relaxed, "forssa").deadline_days == 100


def test_overdue_uses_the_recorded_sent_at(sent: Settings) -> None:
    """The deadline runs from when the email was delivered (Helsinki date), not from when it was queued."""
    # 23.30 UTC on 14.5. is already 15.5. in Helsinki
    _deliver_proposal(sent, "tammela", sent_at=datetime(2026, 5, 14, 23, 30, tzinfo=UTC))
    dashboard = _build(sent, today=date(2026, 8, 23))  # 100 days after 15.5.
    assert dashboard.overdue == ["tammela"] and _body(dashboard, "tammela").days_overdue == 10
    assert _body(dashboard, "tammela").sent_date == "15.5.2026"


def test_content_policies_reads_the_proposal_policy_and_roster_overrides(
    sent: Settings, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The proposal's reminder policy comes from the stored proposal (the database is the run-time
    source: an edited import file counts once it is synced) and each body's override from the roster."""
    data = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "data", data)
    proposal_file = data / "proposals" / "jarjestoyhteistyomalli-forssan-seutu.yaml"
    proposal_file.write_text(
        proposal_file.read_text("utf-8").replace("deadline_days: 90", "deadline_days: 45"), "utf-8"
    )
    roster_file = data / "rosters" / "forssan-seutu.yaml"
    roster = yaml.safe_load(roster_file.read_text("utf-8"))
    humppila = next(b for b in roster["bodies"] if b["id"] == "humppila")
    humppila["reminder_policy"] = {"deadline_days": 120, "max_reminders": 1}
    roster_file.write_text(yaml.safe_dump(roster, allow_unicode=True, sort_keys=False), "utf-8")
    env.setenv("COUNCIL_DATA_DIR", str(data))
    env.setenv("COUNCIL_ROSTER_FILE", str(roster_file))
    assert content_policies(get_settings())[0].deadline_days == 90  # the file is not read at run time

    sync(get_settings(), actor="test")
    policy, overrides = content_policies(get_settings())
    assert policy.deadline_days == 45 and policy.first_after_days == 21
    assert set(overrides) == {"humppila"}
    assert overrides["humppila"].deadline_days == 120 and overrides["humppila"].max_reminders == 1


def test_values_are_escaped_in_the_page(sent: Settings) -> None:
    """A body named with <script> and & appears literally, never as markup."""
    with Session(make_engine(sent.effective_database_url)) as session, session.begin():
        session.execute(
            update(Body).where(Body.id == "forssa").values(name='<script>alert("x")</script> & Oy')
        )
    html = render_html(_build(sent))
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Oy" in html


def _add_bodies(settings: Settings, count: int) -> None:
    """Insert ``count`` extra bodies with cells (some decided), events and sent emails, in bulk."""
    now = datetime.now(UTC)
    pid = settings.proposal_id
    bodies, cells, events, messages = [], [], [], []
    for i in range(count):
        body_id = f"lisa-{i:03d}"
        bodies.append(
            {
                "id": body_id,
                "name": f"Lisäkunta {i:03d}",
                "name_genitive": f"Lisäkunnan {i:03d}",
                "name_inessive": f"Lisäkunnassa {i:03d}",
                "kind": "kunta",
                "deciding_body": "Kunnanhallitus",
                "registry_email": f"kirjaamo@{body_id}.example",
                "language": "fi",
                "updated_at": now,
            }
        )
        for point in (1, 2, 3, 4):
            decided = point == 1 and i % 2 == 0
            cells.append(
                {
                    "proposal_id": pid,
                    "body_id": body_id,
                    "point_number": point,
                    "status": "decided" if decided else "sent",
                    "outcome": Outcome.hyvaksytty.value if decided else None,
                    "meeting_date": MEETING if decided else None,
                    "section": 10 + i if decided else None,
                    "liaison": LIAISON.model_dump(mode="json") if decided else None,
                    "updated_at": now,
                    "version": 1,
                }
            )
            events.append(
                {
                    "occurred_at": now,
                    "proposal_id": pid,
                    "body_id": body_id,
                    "point_number": point,
                    "kind": "status_changed",
                    "actor": "test",
                    "data": {"old": "not_sent", "new": "sent"},
                }
            )
        messages.append(
            {
                "proposal_id": pid,
                "body_id": body_id,
                "kind": "proposal",
                "round": 0,
                "state": "sent",
                "message_id": f"<{body_id}@test.example>",
                "recipients": [f"kirjaamo@{body_id}.example"],
                "subject": "Esitys",
                "body_text": "",
                "body_html": "",
                "attachments": [],
                "attempts": 1,
                "created_at": now - timedelta(days=200),
                "sent_at": now - timedelta(days=200),
            }
        )
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        session.execute(insert(Body), bodies)
        session.execute(insert(Decision), cells)
        session.execute(insert(Event), events)
        session.execute(insert(Message), messages)


def _count_statements(settings: Settings) -> tuple[int, DashboardOut]:
    engine = make_engine(settings.effective_database_url)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as session:
            dashboard = build_dashboard(session=session, proposal_id=settings.proposal_id)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements), dashboard


def test_constant_number_of_sql_statements(sent_any_db: Settings) -> None:
    """Building the dashboard takes the same number of SQL statements for 6 bodies as for 60."""
    _record_two(sent_any_db)
    small, six = _count_statements(sent_any_db)
    _add_bodies(sent_any_db, 54)
    large, sixty = _count_statements(sent_any_db)
    assert len(six.bodies) == 6 and len(sixty.bodies) == 60
    assert small == large and large <= 9  # eight reads (decision intake added two) and one more
    assert sixty.overall.total == 240 and sixty.overall.decided == 2 + 27
    assert len(sixty.liaisons) == 1 + 27 and len(sixty.overdue) == 54


def test_timeline_is_newest_first_limited_and_labelled(sent: Settings) -> None:
    """Each body's timeline is newest first in Helsinki time, at most 50 entries, with Finnish labels and details."""
    _record_two(sent)
    _deliver_proposal(sent, "jokioinen")
    now = datetime.now(UTC)
    with Session(make_engine(sent.effective_database_url)) as session, session.begin():
        session.execute(
            insert(Event),
            [
                {
                    "occurred_at": now - timedelta(days=400 + i),
                    "proposal_id": sent.proposal_id,
                    "body_id": "jokioinen",
                    "point_number": None,
                    "kind": "message_queued",
                    "actor": "vanha",
                    "data": {"kind": "reminder", "round": 1},
                }
                for i in range(60)
            ],
        )
    dashboard = _build(sent)
    timeline = _body(dashboard, "jokioinen").timeline
    assert len(timeline) == 50
    assert [e.occurred_at for e in timeline] == sorted((e.occurred_at for e in timeline), reverse=True)
    assert all(e.occurred_at.utcoffset() in (timedelta(hours=2), timedelta(hours=3)) for e in timeline)
    assert timeline[0].kind == "message_sent" and timeline[0].label == "viesti lähetetty"
    assert timeline[0].detail == "esitys"
    recorded = next(e for e in timeline if e.kind == "decision_recorded")
    assert recorded.label == "päätös kirjattu" and recorded.point == 1 and recorded.actor == "Niina"
    assert recorded.detail == "hyväksytty ehdotuksen mukaisesti, 15.3.2021, § 59"
    assert re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4} klo \d{1,2}\.\d{2}", recorded.time)
    assert sum(e.detail == "lähettämättä → lähetetty" for e in timeline) == 4
    assert len(_body(dashboard, "forssa").timeline) == 4  # four cells marked sent


def test_html_is_self_contained_accessible_finnish(sent: Settings) -> None:
    """The page is Finnish, has a captioned table with row and column headers, print rules and no external URL."""
    _record_two(sent)
    dashboard = _build(sent)
    html = render_html(dashboard)
    assert '<html lang="fi">' in html
    assert "<caption>" in html and '<th scope="row">' in html and '<th scope="col">' in html
    assert "@media print" in html and "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert "<title>Päätösten tilanne – " + dashboard.title in html.replace("&#39;", "'")
    assert re.search(r"Päivitetty \d{1,2}\.\d{1,2}\.\d{4} klo \d{1,2}\.\d{2}", html)
    assert html.count('<th scope="row">') >= len(dashboard.bodies) + 1  # bodies and the progress row
    assert "<details>" in html


def test_json_has_the_documented_shape(sent: Settings) -> None:
    """The JSON parses and has the documented top-level, body, cell, point and timeline keys."""
    _record_two(sent)
    data = json.loads(dashboard_json(_build(sent)))
    assert set(data) == {
        "schema_version",
        "proposal_id",
        "title",
        "sender",
        "preparer",
        "today",
        "generated_at",
        "generated_at_text",
        "overall",
        "points",
        "bodies",
        "duties_point",
        "has_duty_description",
        "liaisons",
        "overdue",
        "follow_up",
        "pending_candidates",
    }
    assert data["schema_version"] == 1 and data["proposal_id"] == sent.proposal_id
    assert data["duties_point"] == 1 and data["has_duty_description"] is True
    assert datetime.fromisoformat(data["generated_at"]).tzinfo is not None
    assert set(data["overall"]) == {"decided", "total", "percent"}
    assert set(data["points"][0]) == {"number", "short_title", "title", "progress"}
    body = data["bodies"][0]
    assert set(body) == {
        "body_id",
        "name",
        "cells",
        "open_points",
        "sent_at",
        "sent_date",
        "deadline_days",
        "deadline",
        "deadline_iso",
        "overdue",
        "days_overdue",
        "reminders_sent",
        "next_reminder",
        "next_reminder_iso",
        "follow_up",
        "pending_candidates",
        "source_silent_since",
        "timeline",
    }
    assert set(body["cells"][0]) == {
        "point",
        "status",
        "status_label",
        "outcome",
        "meeting_date",
        "meeting_date_iso",
        "section",
        "reminders",
        "agenda_past",
    }
    assert set(body["timeline"][0]) == {
        "event_id",
        "occurred_at",
        "time",
        "kind",
        "label",
        "point",
        "actor",
        "detail",
    }
    jok = next(b for b in data["bodies"] if b["body_id"] == "jokioinen")
    assert jok["cells"][0]["status"] == "final" and jok["cells"][0]["meeting_date_iso"] == "2021-03-15"


def test_write_dashboard_writes_every_file_atomically(sent: Settings, tmp_path: Path) -> None:
    """write_dashboard writes the page, JSON, statement, calendar and feed and leaves no temporary file behind."""
    folder = tmp_path / "dash"
    with Session(make_engine(sent.effective_database_url)) as session:
        html_path, json_path = write_dashboard(session=session, proposal_id=sent.proposal_id, folder=folder)
    assert (html_path, json_path) == (folder / "dashboard.html", folder / "dashboard.json")
    assert (
        sorted(p.name for p in folder.iterdir())
        == sorted(FILES)
        == [
            "dashboard.html",
            "dashboard.json",
            "kalenteri.ics",
            "muutokset.atom",
            "saavutettavuusseloste.html",
        ]
    )
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert json.loads(json_path.read_text(encoding="utf-8"))["proposal_id"] == sent.proposal_id


# --- past agendas, reminders, the statement ------------------------------------------------------

AGENDA_MEETING = date(2026, 12, 9)


def test_a_past_agenda_meeting_shows_as_past_and_flags_the_body(sent: Settings) -> None:
    """Before the meeting a cell says "esityslistalla 9.12.2026"; after it "oli esityslistalla 9.12.2026", flagged for follow-up."""
    put_on_agenda(sent, "tammela", [1, 2], AGENDA_MEETING)
    before = _build(sent, today=date(2026, 12, 1))
    cell = _body(before, "tammela").cells[0]
    assert cell.status == DecisionStatus.on_agenda and not cell.agenda_past
    assert not _body(before, "tammela").follow_up and before.follow_up == []
    page = render_html(before)
    assert 'esityslistalla</span> <span class="meta">9.12.2026</span>' in page
    assert "oli esityslistalla" not in page

    on_the_day = _build(sent, today=AGENDA_MEETING)
    assert not _body(on_the_day, "tammela").cells[0].agenda_past  # the meeting may still be going on

    after = _build(sent, today=date(2027, 1, 20))
    tammela = _body(after, "tammela")
    assert [c.agenda_past for c in tammela.cells] == [True, True, False, False]
    assert tammela.follow_up and after.follow_up == ["tammela"]
    assert tammela.cells[0].status_label == "esityslistalla"  # the contract's label is unchanged
    page = render_html(after)
    assert 'oli esityslistalla</span> <span class="meta">9.12.2026</span>' in page
    assert "päätös kirjaamatta" in page and "kokous pidetty, päätös kirjaamatta" in page
    assert "kohdat 1, 2 olivat esityslistalla 9.12.2026, päätöstä ei ole kirjattu" in page


def test_a_tabled_point_is_past_but_not_an_unrecorded_meeting(sent: Settings) -> None:
    """A point tabled at a past meeting shows "oli esityslistalla" with its outcome, without the missing-decision flag."""
    _record(
        sent,
        DecisionIn(body_id="tammela", point=3, outcome=Outcome.poydalle, meeting_date=MEETING, section=5),
    )
    dashboard = _build(sent)
    cell = _body(dashboard, "tammela").cells[2]
    assert cell.agenda_past and cell.outcome == "pantu pöydälle"
    assert not _body(dashboard, "tammela").follow_up and dashboard.follow_up == []


def test_each_cell_counts_the_reminders_sent_while_its_point_was_open(sent: Settings) -> None:
    """Two reminders reached Humppila; the point decided between them counts one, the open points two."""
    now = datetime.now(UTC)
    _deliver_proposal(sent, "humppila", sent_at=now - timedelta(days=60))
    delivered_reminder(sent, "humppila", 1, sent_at=now - timedelta(days=30))
    _record(
        sent,
        DecisionIn(
            body_id="humppila",
            point=2,
            outcome=Outcome.hyvaksytty,
            meeting_date=(now - timedelta(days=21)).astimezone(HELSINKI).date(),
            section=3,
        ),
    )
    with Session(make_engine(sent.effective_database_url)) as session, session.begin():
        session.execute(
            update(Decision)
            .where(Decision.body_id == "humppila", Decision.point_number == 2)
            .values(updated_at=now - timedelta(days=20))
        )
    delivered_reminder(sent, "humppila", 2, sent_at=now - timedelta(days=10))
    dashboard = _build(sent)
    humppila = _body(dashboard, "humppila")
    assert [c.reminders for c in humppila.cells] == [2, 1, 2, 2]
    assert [r.round for r in humppila.reminders_sent] == [1, 2]
    assert humppila.reminders_sent[1].date_iso == (now - timedelta(days=10)).astimezone(HELSINKI).date()
    assert [c.reminders for c in _body(dashboard, "forssa").cells] == [0, 0, 0, 0]
    assert humppila.next_reminder_iso is not None and humppila.next_reminder_iso >= dashboard.today
    assert humppila.next_reminder == fi_date(humppila.next_reminder_iso)
    page = render_html(dashboard)
    assert "2 muistutusta" in page and "1 muistutus<" in page and "ei muistutuksia" in page


def test_next_reminder_follows_the_policy_meetings_and_maximum() -> None:
    """The next reminder is the policy's due day (moved past quiet days and open agenda meetings), none at the maximum."""
    from council.dashboard.model import DashboardCell, ReminderSent

    policy = ReminderPolicyIn(first_after_days=21, interval_days=14, max_reminders=2)
    sent_on = date(2026, 3, 2)  # a Monday
    open_cell = DashboardCell(
        point=1,
        status=DecisionStatus.sent,
        status_label="lähetetty",
        outcome=None,
        meeting_date=None,
        meeting_date_iso=None,
        section=None,
    )
    first = next_reminder_on(
        sent_on=sent_on, reminders=[], open_cells=[open_cell], policy=policy, today=date(2026, 3, 3)
    )
    assert first == date(2026, 3, 23)  # 21 days later, a Monday
    on_agenda = open_cell.model_copy(update={"meeting_date_iso": date(2026, 3, 26)})
    assert next_reminder_on(
        sent_on=sent_on, reminders=[], open_cells=[on_agenda], policy=policy, today=date(2026, 3, 3)
    ) == date(2026, 3, 27)  # the day after the meeting
    late = next_reminder_on(
        sent_on=sent_on, reminders=[], open_cells=[open_cell], policy=policy, today=date(2026, 4, 4)
    )
    # Overdue: the next working day from Saturday 4.4. (6.4. is Easter Monday).
    assert late == date(2026, 4, 7)
    two = [ReminderSent(round=n, date=f"{n}.4.2026", date_iso=date(2026, 4, n)) for n in (1, 2)]
    assert (
        next_reminder_on(
            sent_on=sent_on, reminders=two, open_cells=[open_cell], policy=policy, today=date(2026, 4, 3)
        )
        is None
    )
    assert (
        next_reminder_on(sent_on=sent_on, reminders=[], open_cells=[], policy=policy, today=sent_on) is None
    )
    assert (
        next_reminder_on(sent_on=None, reminders=[], open_cells=[open_cell], policy=policy, today=sent_on)
        is None
    )


def test_accessibility_statement_follows_the_finnish_model_and_is_linked(sent: Settings) -> None:
    """The statement is Finnish and says the state of compliance, what is not accessible, where to give
    feedback, the enforcement authority and its date; the dashboard's footer links to it."""
    dashboard = _build(sent)
    statement = render_statement(dashboard, contact_email="valiokunta@forssanseutu.example")
    assert '<html lang="fi">' in statement and "<title>Saavutettavuusseloste – " in statement
    for heading in (
        "<h1>Saavutettavuusseloste</h1>",
        "<h2>Digipalvelun saavutettavuuden tila</h2>",
        "<h2>Ei-saavutettava sisältö</h2>",
        "<h2>Huomasitko saavutettavuuspuutteen digipalvelussamme?",
        "<h2>Valvontaviranomainen</h2>",
    ):
        assert heading in statement, heading
    assert "laki digitaalisten palvelujen tarjoamisesta (306/2019)" in statement
    assert "Täyttää saavutettavuusvaatimukset osittain." in statement
    assert 'href="mailto:valiokunta@forssanseutu.example"' in statement
    assert "Etelä-Suomen aluehallintovirasto" in statement
    assert 'href="https://www.saavutettavuusvaatimukset.fi"' in statement
    assert re.search(r"Seloste on laadittu \d{1,2}\.\d{1,2}\.\d{4}", statement)
    assert 'href="dashboard.html"' in statement
    assert "<footer>" in render_html(
        dashboard
    ) and 'href="saavutettavuusseloste.html">Saavutettavuusseloste</a>' in render_html(dashboard)
    assert "Ota yhteyttä sivun julkaisijaan" in render_statement(dashboard)  # no address configured


def test_page_has_landmarks_skip_link_cards_and_no_mid_word_breaking_css(sent: Settings) -> None:
    """The page has a skip link, banner/nav/main/contentinfo, one card per body, and no CSS that breaks words anywhere."""
    dashboard = _build(sent)
    html = render_html(dashboard)
    assert '<a class="skip" href="#main">' in html and '<main id="main"' in html
    assert "<header>" in html and "<nav " in html and "<footer>" in html
    assert html.count('<li class="card') == len(dashboard.bodies)
    assert "hyphens: auto" in html
    css = html.split("<style>")[1].split("</style>")[0]
    assert "word-break" not in css
    assert css.count("overflow-wrap: anywhere") == 1 and ".email { overflow-wrap: anywhere" in css
    assert 'type="application/atom+xml"' in html and 'href="kalenteri.ics"' in html


# --- the read-only server ------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A dashboard folder (the index, the top page set, one proposal's page set) with secret files
    beside them, served on a free port."""
    folder = tmp_path / "dash"
    folder.mkdir()
    (folder / "index.html").write_text("<!DOCTYPE html><p>hakemisto</p>", encoding="utf-8")
    (folder / "esitykset.json").write_text('{"esitykset": 2}', encoding="utf-8")
    (folder / "toinen-esitys").mkdir()
    (folder / "toinen-esitys" / "dashboard.html").write_text("<!DOCTYPE html><p>toinen</p>", encoding="utf-8")
    (folder / "toinen-esitys" / "dashboard.json").write_text('{"toinen": 1}', encoding="utf-8")
    (folder / "toinen-esitys" / "secret.txt").write_text("salainen", encoding="utf-8")
    (folder / "dashboard.html").write_text("<!DOCTYPE html><p>versio 1</p>", encoding="utf-8")
    (folder / "dashboard.json").write_text('{"versio": 1}', encoding="utf-8")
    (folder / "saavutettavuusseloste.html").write_text("<!DOCTYPE html><p>seloste</p>", encoding="utf-8")
    (folder / "kalenteri.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", encoding="utf-8")
    (folder / "muutokset.atom").write_text("<feed/>", encoding="utf-8")
    (folder / "secret.txt").write_text("salainen", encoding="utf-8")
    (tmp_path / "README.md").write_text("ulkopuolella", encoding="utf-8")
    server = serve_dashboard(folder, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _request(port: int, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=b"x" if method in ("POST", "PUT") else None)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_server_serves_page_and_json_uncached(served: tuple[Path, int]) -> None:
    """GET /dashboard.html returns the page, /dashboard.json the JSON, utf-8 and never cached."""
    _, port = served
    for path in ("/dashboard.html", "/dashboard.html?x=1"):
        status, headers, body = _request(port, "GET", path)
        assert status == 200 and b"versio 1" in body
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert headers["cache-control"] == "no-store"
    status, headers, body = _request(port, "GET", "/dashboard.json")
    assert status == 200 and json.loads(body) == {"versio": 1}
    assert (
        headers["content-type"] == "application/json; charset=utf-8"
        and headers["cache-control"] == "no-store"
    )
    status, headers, body = _request(port, "HEAD", "/")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0


def test_server_serves_the_index_at_the_root_and_each_proposal_in_its_folder(served: tuple[Path, int]) -> None:
    """/ and /index.html are the index, /esitykset.json its JSON; /<id>/ and /<id>/dashboard.html a
    proposal's page, /<id>/dashboard.json its JSON."""
    _, port = served
    for path in ("/", "/index.html", "/?x=1"):
        status, headers, body = _request(port, "GET", path)
        assert status == 200 and b"hakemisto" in body, path
        assert headers["content-type"] == "text/html; charset=utf-8" and headers["cache-control"] == "no-store"
    status, headers, body = _request(port, "GET", "/esitykset.json")
    assert status == 200 and json.loads(body) == {"esitykset": 2}
    assert headers["content-type"] == "application/json; charset=utf-8"
    for path in ("/toinen-esitys/", "/toinen-esitys/dashboard.html"):
        status, headers, body = _request(port, "GET", path)
        assert status == 200 and b"toinen" in body, path
        assert headers["content-type"] == "text/html; charset=utf-8"
    status, _, body = _request(port, "GET", "/toinen-esitys/dashboard.json")
    assert status == 200 and json.loads(body) == {"toinen": 1}
    status, _, body = _request(port, "GET", "/toinen-esitys/kalenteri.ics")
    assert status == 404 and "ei ole vielä tuotettu".encode() in body  # a known name not yet written


def test_server_serves_the_statement_calendar_and_feed(served: tuple[Path, int]) -> None:
    """The statement, the calendar and the Atom feed are served beside the page with their own media types."""
    _, port = served
    for path, content_type, text in (
        ("/saavutettavuusseloste.html", "text/html; charset=utf-8", b"seloste"),
        ("/kalenteri.ics", "text/calendar; charset=utf-8", b"BEGIN:VCALENDAR"),
        ("/muutokset.atom", "application/atom+xml; charset=utf-8", b"<feed/>"),
    ):
        status, headers, body = _request(port, "GET", path)
        assert status == 200 and text in body, path
        assert headers["content-type"] == content_type and headers["cache-control"] == "no-store"


def test_server_refuses_other_methods_and_paths(served: tuple[Path, int]) -> None:
    """Every method but GET/HEAD is 405, and any other path (traversal, other files) is 404."""
    _, port = served
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"):
        status, headers, _ = _request(port, method, "/")
        assert status == 405, method
        assert headers["allow"] == "GET, HEAD"
    for path in (
        "/../README.md",
        "/README.md",
        "/secret.txt",
        "/%2e%2e/README.md",
        "/dashboard.html/../secret.txt",
        "/dashboard.json/",
        "/toinen-esitys/secret.txt",
        "/toinen-esitys/../secret.txt",
        "/toinen-esitys/%2e%2e/secret.txt",
        "/toinen-esitys",
        "/Toinen-esitys/dashboard.html",
        "/toinen-esitys/index.html",
        "/toinen-esitys/toinen-esitys/dashboard.html",
        "/../dash/index.html",
    ):
        status, _, body = _request(port, "GET", path)
        assert status == 404, path
        assert b"salainen" not in body and b"ulkopuolella" not in body


def test_server_shows_a_rewrite_on_the_next_request(served: tuple[Path, int]) -> None:
    """The file is read on each request, so a rewritten dashboard shows on the next GET."""
    folder, port = served
    assert b"versio 1" in _request(port, "GET", "/dashboard.html")[2]
    (folder / "dashboard.html").write_text("<!DOCTYPE html><p>versio 2</p>", encoding="utf-8")
    assert b"versio 2" in _request(port, "GET", "/dashboard.html")[2]


def test_server_does_not_follow_a_symlinked_proposal_folder(served: tuple[Path, int], tmp_path: Path) -> None:
    """A proposal folder that is a symlink (here to a folder outside) is never served."""
    folder, port = served
    outside = tmp_path / "muualla"
    outside.mkdir()
    (outside / "dashboard.html").write_text("ulkopuolinen", encoding="utf-8")
    (folder / "linkki").symlink_to(outside, target_is_directory=True)
    status, _, body = _request(port, "GET", "/linkki/dashboard.html")
    assert status == 404 and b"ulkopuolinen" not in body


def test_server_without_a_written_dashboard_is_404(tmp_path: Path) -> None:
    """Before the first write the server answers 404 with a Finnish explanation instead of failing."""
    server = serve_dashboard(tmp_path, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status, _, body = _request(server.server_address[1], "GET", "/")
    finally:
        server.shutdown()
        server.server_close()
    assert status == 404 and "ei ole vielä tuotettu".encode() in body


# --- many proposals: one page set each and the index -------------------------------------------------

SECOND = "liikuntapaikat-2027"
SECOND_RECIPIENTS = ["humppila", "jokioinen", "tammela"]


def _import_second(settings: Settings, tmp_path: Path, **changes: str) -> Settings:
    """A second proposal (the seed's text under a new id, title and Dnro, ``changes`` on top) imported
    as a draft for three bodies; the content folder copied first, since the import writes its YAML there."""
    from council.services.proposals import import_proposal, read_proposal_file
    from tests.test_proposals import second_proposal_file

    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COUNCIL_DATA_DIR", str(data))
        mp.setenv("COUNCIL_ROSTER_FILE", str(data / "rosters" / "forssan-seutu.yaml"))
        path = second_proposal_file(tmp_path)
        if changes:
            content = yaml.safe_load(path.read_text("utf-8")) | changes
            path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), "utf-8")
        import_proposal(get_settings(), read_proposal_file(path), recipients=SECOND_RECIPIENTS, actor="test")
    return get_settings()


def _set_state(settings: Settings, proposal_id: str, state: str, reason: str | None = None) -> None:
    from council.store.proposals import set_state
    from models.enums import ProposalState

    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        set_state(
            session=session, proposal_id=proposal_id, state=ProposalState(state), actor="test", reason=reason
        )


@pytest.fixture
def two(sent: Settings, tmp_path: Path) -> Settings:
    """The seed sent to six bodies (Jokioinen decided point 1, Ypäjä overdue) and a second proposal
    sent to three bodies, Humppila's point 1 decided."""
    return second_proposal_sent(sent, tmp_path)


def second_proposal_sent(sent: Settings, tmp_path: Path) -> Settings:
    """The set-up of the ``two`` fixture."""
    _set_state(sent, sent.proposal_id, "sent")
    _record(
        sent,
        DecisionIn(body_id="jokioinen", point=1, outcome=Outcome.hyvaksytty, meeting_date=MEETING, section=59),
    )
    _deliver_proposal(sent, "ypaja", sent_at=datetime.now(UTC) - timedelta(days=100))
    return add_second_proposal(sent, tmp_path)


def add_second_proposal(sent: Settings, tmp_path: Path) -> Settings:
    """The second proposal imported, sent to its three bodies, Humppila's point 1 decided (the
    browser tests use it too)."""
    from council.store.tracking import mark_sent

    _import_second(sent, tmp_path)
    _set_state(sent, SECOND, "sent")
    with Session(make_engine(sent.effective_database_url)) as session, session.begin():
        for body_id in SECOND_RECIPIENTS:
            mark_sent(session=session, proposal_id=SECOND, body_id=body_id, actor="test", message_id="<t@x>")
        record_decision(
            session=session,
            proposal_id=SECOND,
            decision=DecisionIn(
                body_id="humppila", point=1, outcome=Outcome.hyvaksytty, meeting_date=MEETING, section=3
            ),
        )
    return sent


def test_every_proposal_gets_its_page_set_and_the_index_lists_them(two: Settings) -> None:
    """write_dashboard_files writes a page set per proposal and an index whose HTML and JSON give each
    one's state, Dnro, progress, overdue count and deadline, the page set at the top staying the
    acted-on proposal's."""
    from council.services.committee import write_dashboard_files

    page, data = write_dashboard_files(two)
    folder = two.dashboard_dir
    assert (page, data) == (folder / "dashboard.html", folder / "dashboard.json")
    for proposal_id in (two.proposal_id, SECOND):
        assert sorted(p.name for p in (folder / proposal_id).iterdir()) == sorted(FILES)
    assert json.loads(data.read_text("utf-8"))["proposal_id"] == two.proposal_id

    index = json.loads((folder / "esitykset.json").read_text("utf-8"))
    assert index["schema_version"] == 1 and index["today"] == today_helsinki().isoformat()
    entries = {e["proposal_id"]: e for e in index["proposals"]}
    assert [e["proposal_id"] for e in index["proposals"]] == [SECOND, two.proposal_id]  # the newest first
    seed, second = entries[two.proposal_id], entries[SECOND]
    ypaja = _body(_build(two, policy=content_policies(two)[0]), "ypaja")
    expected = {
        "state": "sent",
        "state_fi": "lähetetty",
        "active": True,
        "recipients": 6,
        "progress": {"decided": 1, "total": 24, "percent": 4},
        "overdue": 1,
        "deadline_first": ypaja.deadline,
        "deadline_last": ypaja.deadline,
        "deadline_first_iso": ypaja.deadline_iso.isoformat(),
        "closed_date": None,
        "page": f"{two.proposal_id}/dashboard.html",
        "json_path": f"{two.proposal_id}/dashboard.json",
    }
    assert {key: seed[key] for key in expected} == expected
    assert second["state"] == "sent" and second["state_fi"] == "lähetetty" and second["active"]
    assert second["diary_number"] == "FSHKY/301/00.04.01/2026"
    assert second["short_title"] == "Liikuntapaikkojen yhteiskäyttö"
    assert second["recipients"] == 3 and second["overdue"] == 0 and second["deadline_first"] is None
    assert second["progress"] == {"decided": 1, "total": 12, "percent": 8}
    for entry in index["proposals"]:  # the paths in the index lead to the proposal's own files
        assert json.loads((folder / entry["json_path"]).read_text("utf-8"))["proposal_id"] == entry["proposal_id"]
        assert (folder / entry["page"]).is_file()

    html = (folder / "index.html").read_text("utf-8")
    assert '<html lang="fi">' in html and 'href="#main"' in html and '<main id="main"' in html
    assert f'<a href="{SECOND}/dashboard.html">Liikuntapaikkojen yhteiskäyttö</a>' in html
    assert f'<a href="{two.proposal_id}/dashboard.html">' in html
    assert "1/24 kohtaa päätetty</strong>\n      <span class=\"nowrap\">(4 %)</span>" in html
    assert "1/12 kohtaa päätetty" in html
    assert "1 vastaanottaja myöhässä" in html and ypaja.deadline in html
    assert html.count('class="state state-sent">lähetetty</span>') == 2 and "ei tiedossa" in html
    assert "FSHKY/301/00.04.01/2026" in html
    assert "http://" not in html and "https://" not in html and "<script" not in html


def test_each_proposal_page_shows_only_its_recipients_and_links_to_the_index(two: Settings) -> None:
    """The second proposal's page lists its three bodies only, the seed's all six; both link back to
    the index, and so does the page set kept at the top."""
    from council.services.committee import write_dashboard_files

    write_dashboard_files(two)
    folder = two.dashboard_dir
    second = (folder / SECOND / "dashboard.html").read_text("utf-8")
    seed = (folder / two.proposal_id / "dashboard.html").read_text("utf-8")
    assert "Humppilan kunta" in second and "Tammelan kunta" in second
    assert "Ypäjän kunta" not in second and "Forssan kaupunki" not in second
    assert "Ypäjän kunta" in seed and "Forssan kaupunki" in seed
    assert '<span class="big">8 %</span>' in second and '<span class="big">4 %</span>' in seed
    for page in (second, seed):
        assert page.count('href="../index.html"') == 2  # the breadcrumb and the footer
    assert (folder / "dashboard.html").read_text("utf-8") == seed.replace("../index.html", "index.html")
    statement = (folder / SECOND / "saavutettavuusseloste.html").read_text("utf-8")
    assert 'href="../index.html">Kaikki esitykset</a>' in statement
    second_json = json.loads((folder / SECOND / "dashboard.json").read_text("utf-8"))
    assert {b["body_id"] for b in second_json["bodies"]} == set(SECOND_RECIPIENTS)


def test_a_closed_proposal_shows_as_ended_after_the_active_ones(two: Settings) -> None:
    """Closing the second proposal moves it after the seed on the index, marked päättynyt with its
    date and reason; its page set is still written."""
    from council.services.committee import write_dashboard_files
    from council.services.proposals import close_proposal

    close_proposal(two, SECOND, reason="esitys vanhentunut", actor="test")
    write_dashboard_files(two)
    folder = two.dashboard_dir
    index = json.loads((folder / "esitykset.json").read_text("utf-8"))
    assert [e["proposal_id"] for e in index["proposals"]] == [two.proposal_id, SECOND]
    closed = index["proposals"][1]
    assert (closed["state"], closed["state_fi"], closed["active"]) == ("closed", "päättynyt", False)
    assert closed["closed_date"] == fi_date(today_helsinki()) and closed["close_reason"] == "esitys vanhentunut"
    html = (folder / "index.html").read_text("utf-8")
    active, ended = html.split('id="h-ended"')
    assert f'href="{two.proposal_id}/dashboard.html"' in active and SECOND not in active
    assert f'href="{SECOND}/dashboard.html"' in ended
    assert f"päättynyt</span> {fi_date(today_helsinki())}" in ended and "(esitys vanhentunut)" in ended
    assert "ei enää seurata" in ended and "ei enää seurata" not in active
    assert (folder / SECOND / "dashboard.html").is_file()


def test_titles_are_escaped_on_the_index_and_in_its_json(sent: Settings, tmp_path: Path) -> None:
    """A proposal titled with <script> and & appears literally on the index, never as markup, and
    unchanged in esitykset.json; being a draft, it reads luonnos, not yet sent."""
    from council.services.committee import write_dashboard_files

    nasty = '<script>alert("x")</script> & Oy'
    _import_second(sent, tmp_path, title=nasty, short_title=nasty)
    write_dashboard_files(sent)
    html = (sent.dashboard_dir / "index.html").read_text("utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Oy" in html
    index = json.loads((sent.dashboard_dir / "esitykset.json").read_text("utf-8"))
    assert {e["short_title"] for e in index["proposals"]} >= {nasty}
    page = (sent.dashboard_dir / SECOND / "dashboard.html").read_text("utf-8")
    assert "<script" not in page
    assert 'class="state state-draft">luonnos</span>' in html and "esitystä ei ole vielä lähetetty" in html
