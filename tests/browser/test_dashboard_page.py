"""The dashboard in a real browser: Debian's Chromium driven by Playwright, served by serve_dashboard;
axe-core checks every page at 1366 and 390 px, the screenshots are kept under outputs/dashboard-screens/."""

from __future__ import annotations

import json
import re
import shutil
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
        response = page.goto(base + "/dashboard.html")  # "/" is the index of every proposal
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
        expect(cell("Tammelan kunta", 4)).to_have_text("lähetetty ei muistutuksia")
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


# --- accessibility: axe-core, layout at 1366/1024/390 px, keyboard -----------------------------------

SCREENS = PROJECT_ROOT / "outputs" / "dashboard-screens"
PAGES = ("dashboard.html", "saavutettavuusseloste.html")
WIDTHS = (1366, 390)

#: Words (4+ letters) whose letters the browser put on two lines: a mid-word break. Hidden elements and
#: e-mail addresses (allowed to break anywhere) are skipped; hyphens, dashes and slashes end a word.
BROKEN_WORDS_JS = r"""
() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || !el.getClientRects().length || el.closest('.email')) continue;
    const words = /[^\s\u2013\u2014\-\/,.;:()]{4,}/g;
    let m;
    while ((m = words.exec(node.textContent))) {
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}
"""


def _follow_up_scenario(settings: Settings) -> None:
    """Decisions with a liaison, an overdue body, a body whose agenda meeting has passed, reminders."""
    from tests.test_dashboard import delivered_reminder, put_on_agenda

    _record(
        settings,
        DecisionIn(
            body_id="jokioinen",
            point=1,
            outcome=Outcome.hyvaksytty,
            meeting_date=MEETING,
            section=59,
            liaison=LiaisonIn(
                name="Maija Meikäläinen",
                title="hyvinvointikoordinaattori",
                email="maija.meikalainen@jokioinen.example",
                work_time="8 h/kk",
            ),
            recorded_by="Niina",
        ),
    )
    _record(
        settings,
        DecisionIn(body_id="humppila", point=3, outcome=Outcome.poydalle, meeting_date=MEETING, section=7),
    )
    _deliver_long_ago(settings, "ypaja", days=100)
    _deliver_long_ago(settings, "tammela", days=60)
    now = datetime.now(UTC)
    delivered_reminder(settings, "ypaja", 1, sent_at=now - timedelta(days=79))
    delivered_reminder(settings, "ypaja", 2, sent_at=now - timedelta(days=65))
    delivered_reminder(settings, "tammela", 1, sent_at=now - timedelta(days=39))
    put_on_agenda(settings, "tammela", [1, 2, 3, 4], today_helsinki() - timedelta(days=20))
    put_on_agenda(settings, "fshky", [1, 2], today_helsinki() + timedelta(days=8))


def _axe(page, source: str) -> list[dict]:  # noqa: ANN001 - a Playwright page
    """Every axe-core rule (WCAG 2.x A/AA and best practices) on the page as shown; the violations."""
    page.add_script_tag(content=source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


@pytest.fixture
def served_scenario(sent: Settings, tmp_path: Path):  # noqa: ANN201
    """The follow-up scenario's dashboard folder served on a free port; yields the base URL."""
    _follow_up_scenario(sent)
    folder = tmp_path / "dashboard"
    _write(sent, folder)
    server = serve_dashboard(folder, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_every_page_passes_axe_at_desktop_and_phone_width(
    served_scenario: str, chromium, axe_source: str, tmp_path: Path
) -> None:
    """axe-core finds no violation on the dashboard and the accessibility statement at 1366 and 390 px
    (the timelines opened), the page never scrolls sideways and no word is broken mid-word."""
    shots = tmp_path / "screens"
    shots.mkdir()
    problems: dict[str, object] = {}
    for width in WIDTHS:
        context = chromium.new_context(
            viewport={"width": width, "height": 900},
            locale="fi-FI",
            bypass_csp=True,  # to inject axe
        )
        try:
            page = context.new_page()
            for name in PAGES:
                response = page.goto(f"{served_scenario}/{name}")
                assert response is not None and response.status == 200, name
                page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
                violations = _axe(page, axe_source)
                if violations:
                    problems[f"axe {name} @ {width}px"] = violations
                overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 0:
                    problems[f"sideways scroll {name} @ {width}px"] = f"{overflow} px"
                broken = page.evaluate(BROKEN_WORDS_JS)
                if broken:
                    problems[f"mid-word breaks {name} @ {width}px"] = broken
                page.screenshot(path=str(shots / f"{name.removesuffix('.html')}-{width}.png"), full_page=True)
        finally:
            context.close()
    SCREENS.mkdir(parents=True, exist_ok=True)
    for shot in shots.iterdir():
        shutil.copyfile(shot, SCREENS / shot.name)
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=2)
    assert len(list(shots.iterdir())) == len(PAGES) * len(WIDTHS)


def test_phone_width_shows_one_card_per_body_and_past_agendas(served_scenario: str, chromium) -> None:
    """At 390 px the matrix is one card per body (the table hidden), and a past agenda reads "oli esityslistalla"."""
    from playwright.sync_api import expect

    page = chromium.new_page(viewport={"width": 390, "height": 844}, locale="fi-FI")
    try:
        page.goto(served_scenario + "/dashboard.html")
        expect(page.get_by_role("table", name=re.compile("Vastaanottajien päätökset"))).to_be_hidden()
        cards = page.get_by_role("list", name=re.compile("yksi kortti vastaanottajaa kohden")).get_by_role(
            "listitem"
        )
        expect(cards).to_have_count(6)
        tammela = cards.filter(has=page.get_by_role("heading", name="Tammelan kunta", exact=True))
        expect(tammela).to_contain_text("oli esityslistalla")
        expect(tammela).to_contain_text("kokous pidetty, päätös kirjaamatta")
        expect(tammela).to_contain_text("1 muistutus")
        ypaja = cards.filter(has=page.get_by_role("heading", name="Ypäjän kunta", exact=True))
        expect(ypaja).to_contain_text("myöhässä")
        expect(ypaja).to_contain_text("2 muistutusta")
        kuntayhtyma = cards.filter(
            has=page.get_by_role("heading", name=re.compile("hyvinvointikuntayhtymä$"))
        )
        expect(kuntayhtyma).to_contain_text("esityslistalla")
        expect(kuntayhtyma).not_to_contain_text("oli esityslistalla")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    finally:
        page.close()


def test_no_mid_word_breaks_at_1024_px(served_scenario: str, chromium) -> None:
    """At 1024 px the matrix is a table and no word ("Järjestöyhdyshenkilö", "hyvinvointikuntayhtymä") is split."""
    from playwright.sync_api import expect

    page = chromium.new_page(viewport={"width": 1024, "height": 900}, locale="fi-FI")
    try:
        page.goto(served_scenario + "/dashboard.html")
        expect(page.get_by_role("table", name=re.compile("Vastaanottajien päätökset"))).to_be_visible()
        expect(page.get_by_role("columnheader", name=re.compile("Järjestöyhdyshenkilö"))).to_be_visible()
        assert page.evaluate(BROKEN_WORDS_JS) == []
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1024
    finally:
        page.close()


def test_keyboard_reaches_the_content_sections_and_timelines(served_scenario: str, chromium) -> None:
    """The first Tab shows the skip link, Enter moves focus to main, and a timeline opens with the keyboard."""
    from playwright.sync_api import expect

    page = chromium.new_page(viewport={"width": 1366, "height": 900}, locale="fi-FI")
    try:
        page.goto(served_scenario + "/dashboard.html")
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Siirry pääsisältöön")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()
        summary = page.locator("summary").first
        for _ in range(60):  # the summaries come after the section links and the scrollable regions
            page.keyboard.press("Tab")
            if summary.evaluate("el => el === document.activeElement"):
                break
        expect(summary).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("details").first).to_have_attribute("open", "")
        page.get_by_role("link", name="Saavutettavuusseloste").focus()
        page.keyboard.press("Enter")
        expect(page).to_have_title(re.compile("^Saavutettavuusseloste"))
    finally:
        page.close()


# --- many proposals: the index and each proposal's page ----------------------------------------------

INDEX_PAGES = ("", "jarjestoyhteistyomalli-forssan-seutu/", "liikuntapaikat-2027/dashboard.html")


@pytest.fixture
def served_index(sent: Settings, tmp_path: Path):  # noqa: ANN201
    """The follow-up scenario on the seed and a second proposal (three bodies, one decision), closed,
    written by write_dashboard_files and served on a free port; yields the base URL."""
    from council.services.committee import write_dashboard_files
    from council.services.proposals import close_proposal
    from tests.test_dashboard import SECOND, add_second_proposal

    _follow_up_scenario(sent)
    add_second_proposal(sent, tmp_path)
    close_proposal(sent, SECOND, reason="esitys vanhentunut", actor="test")
    write_dashboard_files(sent)
    server = serve_dashboard(sent.dashboard_dir, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_index_links_to_each_proposal_page_and_back(served_index: str, chromium) -> None:
    """Chromium shows both proposals on the index (the closed one as päättynyt), each short title opens
    that proposal's page with only its recipients, and "Kaikki esitykset" leads back."""
    from playwright.sync_api import expect

    requested: list[str] = []
    page = chromium.new_page(viewport={"width": 1366, "height": 900}, locale="fi-FI")
    page.on("request", lambda request: requested.append(request.url))
    try:
        response = page.goto(served_index + "/")
        assert response is not None and response.status == 200
        expect(page).to_have_title("Esitysten tilanne – kaikki esitykset")
        active = page.get_by_role("list", name=re.compile("^Seurannassa olevat esitykset"))
        ended = page.get_by_role("list", name=re.compile("^Päättyneet ja arkistoidut"))
        expect(active.get_by_role("listitem")).to_have_count(1)
        expect(ended.get_by_role("listitem")).to_have_count(1)
        expect(active).to_contain_text("lähetetty")
        expect(active).to_contain_text("1/24 kohtaa päätetty")
        expect(active).to_contain_text("1 vastaanottaja myöhässä")
        expect(ended).to_contain_text("päättynyt")
        expect(ended).to_contain_text("(esitys vanhentunut)")
        expect(ended).to_contain_text("1/12 kohtaa päätetty")

        ended.get_by_role("link", name="Liikuntapaikkojen yhteiskäyttö", exact=True).click()
        expect(page).to_have_url(served_index + "/liikuntapaikat-2027/dashboard.html")
        expect(page).to_have_title(re.compile("^Päätösten tilanne – Esitys liikuntapaikkojen"))
        matrix = page.get_by_role("table", name=re.compile("Vastaanottajien päätökset"))
        expect(matrix.locator("tbody tr")).to_have_count(3)
        expect(matrix).not_to_contain_text("Ypäjän kunta")
        page.get_by_role("navigation", name="Sivupolku").get_by_role("link", name="Kaikki esitykset").click()
        expect(page).to_have_url(served_index + "/index.html")

        active.get_by_role("link").first.click()
        expect(page).to_have_url(served_index + "/jarjestoyhteistyomalli-forssan-seutu/dashboard.html")
        expect(matrix.locator("tbody tr")).to_have_count(6)
        page.get_by_role("link", name="Saavutettavuusseloste").click()
        expect(page).to_have_title(re.compile("^Saavutettavuusseloste"))
        page.get_by_role("link", name="Kaikki esitykset").first.click()
        expect(page).to_have_title("Esitysten tilanne – kaikki esitykset")
    finally:
        page.close()
    assert all(url.startswith(served_index + "/") for url in requested), requested


def test_index_and_proposal_pages_pass_axe_at_desktop_and_phone_width(
    served_index: str, chromium, axe_source: str, tmp_path: Path
) -> None:
    """axe-core finds no violation on the index and both proposal pages at 1366 and 390 px, none
    scrolls sideways and no word is broken mid-word; the index screenshots are kept."""
    problems: dict[str, object] = {}
    SCREENS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        context = chromium.new_context(viewport={"width": width, "height": 900}, locale="fi-FI", bypass_csp=True)
        try:
            page = context.new_page()
            for path in INDEX_PAGES:
                response = page.goto(f"{served_index}/{path}")
                assert response is not None and response.status == 200, path
                page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
                violations = _axe(page, axe_source)
                if violations:
                    problems[f"axe /{path} @ {width}px"] = violations
                overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 0:
                    problems[f"sideways scroll /{path} @ {width}px"] = f"{overflow} px"
                broken = page.evaluate(BROKEN_WORDS_JS)
                if broken:
                    problems[f"mid-word breaks /{path} @ {width}px"] = broken
                if not path:
                    page.screenshot(path=str(SCREENS / f"index-{width}.png"), full_page=True)
        finally:
            context.close()
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=2)
