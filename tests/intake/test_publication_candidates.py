"""A body's Dynasty publication read by the service through the real HTTP client (issue 16's
acceptance): our item on an agenda becomes an agenda candidate, confirmed it keeps that body's
reminders quiet until the day after the meeting; the minutes then give decision candidates; an
unrelated item gives nothing; a page the parser does not understand makes the source fail (and
show as silent after three days) instead of finding nothing.

The pages are tests/fixtures/publications/dynasty-jokioinen/ (see tests/fixtures/README.md), served
by a local HTTP server with ``{base}`` replaced by its address."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import PROJECT_ROOT, Settings, get_settings
from council.services.publications import read_publications
from council.store.engine import make_engine
from models.enums import Outcome
from models.tables import Candidate, Decision, IntakeSource
from tests.intake.conftest import FIXTURES, PageServer, Seen

runner = CliRunner()
PAGES = FIXTURES / "dynasty-jokioinen"
FEED = "/cgi/DREQUEST.PHP?page=rss/meetingitems&show=30"


@pytest.fixture
def jokioinen_publishes(settings: Settings, env: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """The roster with Jokioinen's Dynasty feed on the local server."""
    roster = yaml.safe_load((PROJECT_ROOT / "data" / "rosters" / "forssan-seutu.yaml").read_text("utf-8"))
    body = next(b for b in roster["bodies"] if b["id"] == "jokioinen")
    body["publication"] = {"system": "dynasty", "address": "http://127.0.0.1:1/placeholder"}
    path = tmp_path / "roster.yaml"
    path.write_text(yaml.safe_dump(roster, allow_unicode=True, sort_keys=False), "utf-8")
    env.setenv("COUNCIL_ROSTER_FILE", str(path))
    env.setenv("COUNCIL_STATE_DIR", str(tmp_path / "state"))  # the HTTP client's cache
    return get_settings()


def _serve(server: PageServer, roster: Path, stage: str) -> None:
    """The feed and item pages as they stand at ``stage`` ("esityslista" or "poytakirja")."""

    def respond(seen: Seen, count: int) -> tuple[int, dict[str, str], bytes]:
        found = re.search(r"page=meetingitem&id=(\d+-\d+)$", seen.path)
        if seen.path == FEED:
            kind = "application/rss+xml"
            body = (PAGES / f"meetingitems-{stage}.xml").read_bytes().replace(b"{base}", server.base.encode())
        elif found:
            kind = "text/html; charset=utf-8"
            body = (PAGES / f"meetingitem-{found.group(1)}-{stage}.html").read_bytes()
        else:
            return 404, {}, b""
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        if seen.headers.get("if-none-match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"Content-Type": kind, "ETag": etag}, body

    server.respond = respond
    text = roster.read_text("utf-8").replace("http://127.0.0.1:1/placeholder", server.base + FEED)
    roster.write_text(re.sub(r"http://127\.0\.0\.1:\d+/cgi/[^\s'\"]+", server.base + FEED, text), "utf-8")


def _candidates(settings: Settings) -> list[Candidate]:
    with Session(make_engine(settings.effective_database_url)) as session:
        return list(session.scalars(select(Candidate).order_by(Candidate.id)))


def _reminded(output: str) -> set[str]:
    return {name for name in ("Jokioisten kunta", "Humppilan kunta") if name in output}


def test_a_dynasty_agenda_and_its_minutes_become_candidates(
    jokioinen_publishes: Settings, page_server: PageServer, tmp_path: Path
) -> None:
    settings = jokioinen_publishes
    _serve(page_server, tmp_path / "roster.yaml", "esityslista")
    assert runner.invoke(app, ["send", "--today", "2.3.2026"]).exit_code == 0  # syncs the roster

    report = read_publications(settings, actor="test")
    assert report.failed == {} and report.candidates == 1, report.lines
    (agenda,) = _candidates(settings)
    assert (agenda.body_id, agenda.kind, agenda.point, str(agenda.meeting_date)) == (
        "jokioinen",
        "agenda",
        None,
        "2026-06-15",
    )
    agents = {seen.headers.get("user-agent", "") for seen in page_server.seen}
    assert agents == {
        "council-decision-intake/1.0 (+kirjaamo yhteys: hyvinvointivaliokunta@forssanseutu.example)"
    }

    # Reading again: the pages unchanged (304s), nothing new.
    asked = len(page_server.seen)
    assert read_publications(settings, actor="test").candidates == 0
    again = page_server.seen[asked:]
    assert again and all("if-none-match" in seen.headers for seen in again)  # conditional GETs

    assert runner.invoke(app, ["confirm", str(agenda.id)]).exit_code == 0
    # After the response deadline (90 days) and before the meeting: Humppila is reminded, Jokioinen not.
    before = runner.invoke(app, ["follow-up", "--today", "8.6.2026", "--dry-run"])
    assert before.exit_code == 0, before.output
    assert _reminded(before.output) == {"Humppilan kunta"}, before.output
    after = runner.invoke(app, ["follow-up", "--today", "16.6.2026", "--dry-run"])
    assert "Jokioisten kunta" in after.output, after.output

    # The minutes: decision candidates for all four points, the liaison named, nothing for the other item.
    _serve(page_server, tmp_path / "roster.yaml", "poytakirja")
    report = read_publications(settings, actor="test")
    assert report.candidates == 4, report.lines
    decisions = [c for c in _candidates(settings) if c.kind == "decision"]
    assert {(c.point, Outcome(c.outcome)) for c in decisions} == {
        (p, Outcome.hyvaksytty) for p in (1, 2, 3, 4)
    }
    first = next(c for c in decisions if c.point == 1)
    assert (first.section, first.deciding_body, first.liaison_name) == (
        72,
        "Jokioisten kunnanhallitus",
        "Sanna Virtanen",
    )
    assert first.link and first.link.startswith(page_server.base)
    assert runner.invoke(app, ["confirm", str(first.id)]).exit_code == 0
    with Session(make_engine(settings.effective_database_url)) as session:
        cell = session.scalars(
            select(Decision).where(Decision.body_id == "jokioinen", Decision.point_number == 1)
        ).one()
        source = session.get_one(IntakeSource, "publication:jokioinen")
    assert (cell.outcome, cell.section, cell.minutes_url) == (Outcome.hyvaksytty.value, 72, first.link)
    assert (
        source.last_ok_at is not None and source.failing_since is None and source.last_change_at is not None
    )


def test_a_page_not_understood_fails_the_source_and_shows_as_silent(
    jokioinen_publishes: Settings, page_server: PageServer, tmp_path: Path
) -> None:
    settings = jokioinen_publishes
    _serve(page_server, tmp_path / "roster.yaml", "esityslista")
    page_server.respond = lambda seen, count: (
        200,
        {"Content-Type": "text/html"},
        b"<html><body><form>Kirjaudu sis\xc3\xa4\xc3\xa4n</form></body></html>",
    )
    assert runner.invoke(app, ["send", "--today", "2.3.2026"]).exit_code == 0
    report = read_publications(settings, actor="test")
    assert (
        list(report.failed) == ["Jokioisten kunta"] and "ei tunnistettu" in report.failed["Jokioisten kunta"]
    )
    assert _candidates(settings) == []

    from council.dashboard.build import build_dashboard

    engine = make_engine(settings.effective_database_url)
    with Session(engine) as session:
        body = next(
            b
            for b in build_dashboard(session=session, proposal_id=settings.proposal_id).bodies
            if b.body_id == "jokioinen"
        )
    assert body.source_silent_since is None  # failing since today: not silent yet
    with Session(engine) as session, session.begin():
        session.execute(update(IntakeSource).values(failing_since=datetime.now(UTC) - timedelta(days=3)))
    with Session(engine) as session:
        body = next(
            b
            for b in build_dashboard(session=session, proposal_id=settings.proposal_id).bodies
            if b.body_id == "jokioinen"
        )
    assert body.source_silent_since is not None
    # A reading that works again ends the silence.
    _serve(page_server, tmp_path / "roster.yaml", "esityslista")
    assert read_publications(settings, actor="test").failed == {}
    with Session(engine) as session:
        assert session.get_one(IntakeSource, "publication:jokioinen").failing_since is None
