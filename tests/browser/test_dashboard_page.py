"""The dashboard in a real browser: Debian's Chromium driven by Playwright, served by serve_dashboard."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from council.config import PROJECT_ROOT, Settings
from council.dashboard.build import content_policies
from council.dashboard.publish import write_dashboard
from council.dashboard.server import serve_dashboard
from council.rules.formatting import fi_date, today_helsinki
from council.store.decisions import record_decision
from council.store.engine import make_engine
from models.decisions import DecisionIn, LiaisonIn
from models.enums import Outcome
from tests.helpers import delivered_proposal

pytestmark = pytest.mark.browser

SCREENSHOT_COPY = PROJECT_ROOT / "outputs" / "dashboard-test.png"
MEETING = date(2021, 3, 15)


def _record(settings: Settings, decision: DecisionIn) -> None:
    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        record_decision(session=session, proposal_id=settings.proposal_id, decision=decision)


def _deliver_long_ago(settings: Settings, body_id: str, days: int) -> None:
    """The body's proposal email, delivered ``days`` ago (past the 90-day deadline: overdue)."""
    delivered_proposal(settings, body_id, sent_at=datetime.now(UTC) - timedelta(days=days))


def _write(settings: Settings, folder: Path) -> None:
    policy, overrides = content_policies(settings)
    with Session(make_engine(settings.effective_database_url)) as session:
        write_dashboard(
            session=session,
            proposal_id=settings.proposal_id,
            folder=folder,
            policy=policy,
            overrides=overrides,
        )


def test_dashboard_page_shows_decisions_and_a_rewrite_after_reload(
    sent: Settings, chromium, tmp_path: Path
) -> None:
    """Chromium shows the two recorded outcomes in the matrix, and a third one after the dashboard is rewritten."""
    from playwright.sync_api import expect

    recent = today_helsinki() - timedelta(days=3)
    _record(
        sent,
        DecisionIn(
            body_id="jokioinen",
            point=1,
            outcome=Outcome.hyvaksytty,
            meeting_date=MEETING,
            section=59,
            liaison=LiaisonIn(
                name="Maija Meikäläinen",
                title="hyvinvointikoordinaattori",
                email="maija@jokioinen.example",
                work_time="8 h/kk",
            ),
            recorded_by="Niina",
        ),
    )
    _record(
        sent,
        DecisionIn(
            body_id="humppila",
            point=2,
            outcome=Outcome.hyvaksytty_muutettuna,
            meeting_date=recent,
            section=12,
        ),
    )
    _deliver_long_ago(sent, "ypaja", days=100)
    folder = tmp_path / "dashboard"
    _write(sent, folder)
    server = serve_dashboard(folder, port=0)  # the OS picks a free port: no race with other tests
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    requested: list[str] = []
    try:
        page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="fi-FI")
        page.on("request", lambda request: requested.append(request.url))
        response = page.goto(base + "/")
        assert response is not None and response.status == 200
        expect(page).to_have_title(re.compile(r"^Päätösten tilanne – Esitys järjestöjen"))
        matrix = page.get_by_role("table", name=re.compile("Vastaanottajien päätökset"))
        expect(matrix).to_be_visible()

        def cell(body: str, point: int):
            row = matrix.locator("tbody tr").filter(has=page.get_by_role("rowheader", name=body, exact=True))
            return row.get_by_role("cell").nth(point - 1)

        expect(cell("Jokioisten kunta", 1)).to_contain_text("lainvoimainen")
        expect(cell("Jokioisten kunta", 1)).to_contain_text("hyväksytty ehdotuksen mukaisesti")
        expect(cell("Jokioisten kunta", 1)).to_contain_text("15.3.2021 § 59")
        expect(cell("Humppilan kunta", 2)).to_contain_text("päätetty")
        expect(cell("Humppilan kunta", 2)).to_contain_text("hyväksytty muutettuna")
        expect(cell("Humppilan kunta", 2)).to_contain_text(f"{fi_date(recent)} § 12")
        expect(cell("Tammelan kunta", 4)).to_have_text("lähetetty")
        expect(page.get_by_text("8 %", exact=True)).to_be_visible()
        expect(page.get_by_role("rowheader", name=re.compile("^Ypäjän kunta"))).to_contain_text("myöhässä")
        expect(page.get_by_role("rowheader", name=re.compile("^Tammelan kunta"))).not_to_contain_text(
            "myöhässä"
        )
        expect(page.get_by_role("cell", name="Maija Meikäläinen")).to_be_visible()

        _record(
            sent,
            DecisionIn(
                body_id="tammela",
                point=4,
                outcome=Outcome.hyvaksytty_aanestys,
                meeting_date=MEETING,
                section=77,
            ),
        )
        _write(sent, folder)
        page.reload()
        expect(cell("Tammelan kunta", 4)).to_contain_text("hyväksytty äänestyksen jälkeen")
        expect(cell("Tammelan kunta", 4)).to_contain_text("15.3.2021 § 77")
        expect(page.get_by_text("12 %", exact=True)).to_be_visible()  # 3 of 24 cells

        page.get_by_text("Jokioisten kunta (", exact=False).click()  # open one timeline
        expect(page.get_by_role("table", name="Tapahtumat: Jokioisten kunta")).to_be_visible()
        shot = sent.outputs / "dashboard.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        SCREENSHOT_COPY.parent.mkdir(parents=True, exist_ok=True)
        SCREENSHOT_COPY.write_bytes(shot.read_bytes())
        page.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert shot.stat().st_size > 10_000
    assert requested and all(url.startswith(base + "/") for url in requested), requested
