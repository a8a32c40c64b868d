"""The coordinator's path in the real Prefect UI: Chromium fills the record-decision form and submits it.

The stack is the project's own (`council run --no-send` after `council init`, then `council send`)
on free ports in a temporary folder. The browser opens http://127.0.0.1:<port>/ — Prefect 3.9
sends a browser without a saved preference to its default UI, the React "V2" UI under /v2/ — goes
Deployments → record-decision → Run → Custom run, fills the form generated from the deployment's
parameter schema and submits it. The Prefect API is used only to wait for the run and to read it
back; `council status --json` and the database show that the decision was stored.
"""

from __future__ import annotations

import re
import shutil
from contextlib import suppress
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from council.config import PROJECT_ROOT
from models.tables import Decision
from tests.browser.prefect_stack import CouncilStack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SCREENSHOT_COPIES = PROJECT_ROOT / "outputs"
RUN_TIMEOUT = 240  # seconds: the process worker polls, then starts the flow run as a subprocess
UI_TIMEOUT = 30_000  # ms per UI step: generous, a 2-core machine also runs the server and the worker
BODY = "Jokioisten kunta"
MEETING = date(2021, 3, 15)
POINT = "1 – Järjestöyhdyshenkilö"
OUTCOME = "hyväksytty ehdotuksen mukaisesti"
SECTION = 59
#: Every deployment with a form; each is screenshotted under outputs/forms/.
FORMS = [
    "send-proposal",
    "send-proposal-part",
    "record-decision",
    "mark-agenda",
    "import-decisions",
    "follow-up",
    "committee-digest",
    "new-proposal",
    "close-proposal",
    "confirm-candidates",
]
#: The forms' parameter and attribute names: none may show as a label (the Finnish titles do).
FIELD_NAMES = [
    "kirjaus",
    "lahetys",
    "merkinta",
    "kooste",
    "kokouspaiva",
    "poytakirjaote",
    "korjattava_versio",
    "yhdyshenkilo",
    "sahkoposti",
    "tyoaika",
    "kuivaharjoitus",
    "vahvistus",
    "hylkaa",
    "kampanja",
]
LIAISON = {
    "nimi": "Maija Meikäläinen",
    "nimike": "hyvinvointikoordinaattori",
    "sahkoposti": "maija@jokioinen.example",
    "tyoaika": "8 h/kk",
}


def _save(page, stack: CouncilStack, name: str) -> Path:
    shot = stack.outputs_dir / name
    shot.parent.mkdir(parents=True, exist_ok=True)
    # a viewport as tall as the page: a full-page capture would misplace the fixed sidebar
    size = page.viewport_size
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(height, 6000))})
    page.screenshot(path=str(shot))
    page.set_viewport_size(size)
    (SCREENSHOT_COPIES / name).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, SCREENSHOT_COPIES / name)
    return shot


def _choose(page, field: str, option: str) -> None:
    """A schema enum renders as a combobox button "Select <title>" opening a listbox of options."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    button = page.get_by_role("button", name=f"Select {field}", exact=True)
    # The form re-renders after each change (a chosen value, an added item). On a loaded 2-core
    # machine a dropdown opened during such a re-render can be replaced under the click (CI: "element
    # was detached from the DOM"), so the previous dropdown must be gone first, and a choice that did
    # not land is made again, as a person would, a bounded number of times.
    for attempt in range(3):
        expect(page.get_by_role("listbox")).to_have_count(0)
        button.click()
        try:
            page.get_by_role("listbox").get_by_role("option", name=option, exact=True).click(timeout=15_000)
            expect(page.get_by_role("listbox")).to_have_count(0, timeout=10_000)
            break
        except (PlaywrightError, AssertionError):
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    # the button then shows the choice (and keeps the accessible name "Select <title>")
    expect(button).to_have_text(option)


def _open_form(page, stack: CouncilStack, deployment: str) -> None:
    """Deployments → <deployment> → Run → Custom run: the form generated from its parameter schema."""
    from playwright.sync_api import expect

    page.goto(stack.ui_url + "/")
    page.get_by_role("link", name="Deployments", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/deployments\b"))
    # More deployments than the list's first page (ten) holds: search by name, as a person would,
    # and wait until the list has re-rendered with the matches alone (a click on the list before
    # that lands on a row being replaced); "send-proposal" also matches "send-proposal-part".
    page.get_by_placeholder("Search deployments").fill(deployment)
    deployment_links = page.locator('a[href*="/deployments/deployment/"]')
    expect(deployment_links.filter(has_not_text=re.compile(rf"^{re.escape(deployment)}"))).to_have_count(0)
    link = page.get_by_role("link", name=deployment, exact=True).and_(deployment_links)
    expect(link).to_have_count(1)
    link.click()
    expect(page).to_have_url(re.compile(r"/deployments/deployment/[0-9a-f-]{36}(\?|$)"))
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"Custom run")).click()
    expect(page).to_have_url(re.compile(r"/deployments/deployment/[0-9a-f-]{36}/run"))
    expect(page.get_by_role("heading", name="Parameters")).to_be_visible()


def _textbox(page, title: str):  # noqa: ANN202 - a Playwright locator
    """An optional text field by its Finnish title (the UI adds " (Optional)" to the label)."""
    return page.get_by_role("textbox", name=re.compile(rf"^{re.escape(title)}( \(Optional\))?$"))


def type_date(page, title: str, day: str) -> None:  # noqa: ANN001
    """Type a date key by key, as a person does. Each key re-renders the form: on a loaded 2-core
    machine keys typed without a pause were lost ("15.3.2021" became "1"), so a short pause each."""
    from playwright.sync_api import expect

    box = page.get_by_role("textbox", name=title, exact=True)
    box.click()
    page.keyboard.type(day, delay=60)
    expect(box).to_have_value(day)


def _fill_decision(page, body: str, day: str, point: str, outcome: str, section: int) -> None:
    """The record-decision form's required fields; the date typed key by key as a person writes it."""
    _choose(page, "Vastaanottaja", body)
    type_date(page, "Kokouspäivä", day)
    page.get_by_role("button", name="Add item", exact=True).click()
    _choose(page, "Kohta", point)
    _choose(page, "Päätös", outcome)
    page.get_by_role("spinbutton", name="Pykälä (§)").fill(str(section))


def _submit(page) -> str:
    """Submit, open the new run from the deployment's Runs tab; returns the run's id."""
    from playwright.sync_api import expect

    run_name = page.get_by_role("textbox", name="Run Name").input_value()
    assert run_name
    page.get_by_role("button", name="Submit", exact=True).click()
    # creating the run is a server round trip that a busy 2-core machine can take long over
    expect(page).to_have_url(re.compile(r"/deployments/deployment/[0-9a-f-]{36}\?tab=Runs"), timeout=90_000)
    page.get_by_role("link", name=run_name, exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/runs/flow-run/[0-9a-f-]{36}"))
    return re.search(r"/runs/flow-run/([0-9a-f-]{36})", page.url).group(1)


def _shown_after_reloads(page, locator, timeout: float = 90) -> None:  # noqa: ANN001
    """Reload the run's page until ``locator`` shows: the worker ships a run's logs to the server in
    batches every few seconds, and on a loaded machine the last batch (the refusal's WARNING line)
    can arrive after one reload's 5 s wait."""
    import time

    from playwright.sync_api import expect

    deadline = time.monotonic() + timeout
    while True:
        page.reload()
        try:
            expect(locator).to_be_visible(timeout=5_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def _run_logs(stack: CouncilStack, run_id: str) -> list[dict]:
    with stack.api() as client:
        response = client.post(
            "/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}, "sort": "TIMESTAMP_ASC"}
        )
        return response.raise_for_status().json()


def test_coordinator_records_a_decision_through_the_prefect_ui_form(chromium, stack: CouncilStack) -> None:
    """In Chromium: an empty record-decision form is refused naming the Finnish field; a future
    meeting date ends its run with the Finnish refusal, no traceback and nothing stored; the date
    typed as 15.3.2021 records the decision; every deployment's form is plain Finnish."""
    from playwright.sync_api import expect

    before = {b["body_id"]: b for b in stack.status()["bodies"]}
    assert [c["status"] for c in before["jokioinen"]["cells"]] == ["sent"] * 4

    context = chromium.new_context(
        viewport={"width": 1400, "height": 1000}, locale="fi-FI", timezone_id="Europe/Helsinki"
    )
    context.set_default_timeout(UI_TIMEOUT)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    try:
        # 1. an empty form: refused before a run exists, the error under the Finnish field title
        _open_form(page, stack, "record-decision")
        page.get_by_role("button", name="Submit", exact=True).click()
        error = page.get_by_text("is a required property").first
        expect(error).to_be_visible()
        field = page.locator("div").filter(has_text=re.compile(r"^Vastaanottaja")).filter(has=error).last
        expect(field).to_contain_text("Päättänyt kunta tai kuntayhtymä")
        _save(page, stack, "prefect-ui-empty-form.png")
        assert stack.flow_runs("record-decision", "record-decision") == []

        # 2. a meeting in the future: the run ends Failed with the Finnish refusal, nothing stored
        _open_form(page, stack, "record-decision")
        _fill_decision(page, "Humppilan kunta", "1.1.2099", "2 – Säännölliset yhteistyömuodot", "hylätty", 12)
        refused_id = _submit(page)
        refused = stack.wait_for_final_state(refused_id, RUN_TIMEOUT)
        assert refused["state"]["type"] == "FAILED", refused["state"]
        assert refused["state"]["message"].startswith("Mitä tapahtui: ")
        assert "Kokouspäivä: 1.1.2099 on tulevaisuudessa" in refused["state"]["message"]
        assert "Mitä tehdä: " in refused["state"]["message"]
        _shown_after_reloads(page, page.get_by_text(re.compile(r"Mitä tapahtui: .*tulevaisuudessa")).first)
        _save(page, stack, "prefect-ui-refused-run.png")
        logs = _run_logs(stack, refused_id)
        assert [log["level"] for log in logs if "Mitä tapahtui" in log["message"]][0] == 30
        assert not [log for log in logs if log["level"] >= 40 or "Traceback" in log["message"]], logs
        assert {b["body_id"]: b for b in stack.status()["bodies"]}["humppila"] == before["humppila"]

        # 3. the date typed as people write it: the decision is recorded
        _open_form(page, stack, "record-decision")
        _fill_decision(page, BODY, f"{MEETING.day}.{MEETING.month}.{MEETING.year}", POINT, OUTCOME, SECTION)
        for label, key in (("Nimi", "nimi"), ("Tehtävänimike", "nimike"), ("Sähköposti", "sahkoposti")):
            _textbox(page, label).fill(LIAISON[key])
        _textbox(page, "Työaika").fill(LIAISON["tyoaika"])
        expect(page.get_by_role("switch", name="Enforce Parameter Schema")).to_be_checked()
        form_shot = _save(page, stack, "prefect-ui-form.png")
        run_id = _submit(page)
        run = stack.wait_for_final_state(run_id, RUN_TIMEOUT)
        assert run["state"]["type"] == "COMPLETED", (run["state"], stack.log_tail())
        _shown_after_reloads(page, page.get_by_text("Completed", exact=True).first)
        expect(
            page.get_by_text(f"Kirjattu: {BODY}, kohta 1: {OUTCOME} (15.3.2021 § {SECTION}), versio 1")
        ).to_be_visible()
        run_shot = _save(page, stack, "prefect-ui-run.png")

        # 4. every deployment's form: Finnish titles, no type toggles, no class or field names
        for deployment in FORMS:
            _open_form(page, stack, deployment)
            page.wait_for_timeout(500)
            _save(page, stack, f"forms/{deployment}.png")
            text = page.locator("main").inner_text()
            for leak in ("Property is type", "LiaisonForm", "str | None", "None"):
                assert not re.search(rf"\b{re.escape(leak)}\b", text), (deployment, leak)
            for name in FIELD_NAMES:  # a label is a line of its own
                assert not re.search(rf"^{name}( \(Optional\))?$", text, re.MULTILINE), (deployment, name)
    except Exception:
        with suppress(Exception):  # what the browser showed when it went wrong
            _save(page, stack, "prefect-ui-failure.png")
        raise
    finally:
        context.close()

    assert not problems, problems
    # what the UI submitted, as Prefect stored it
    kirjaus = run["parameters"]["kirjaus"]
    assert kirjaus["vastaanottaja"] == BODY
    assert kirjaus["kokouspaiva"] == "15.3.2021"
    assert kirjaus["kohdat"] == [{"kohta": POINT, "paatos": OUTCOME, "pykala": SECTION}]
    assert kirjaus["yhdyshenkilo"] == LIAISON
    assert kirjaus["toimielin"] == "" and kirjaus["korjattava_versio"] == 0
    assert [r["id"] for r in stack.flow_runs("record-decision", "record-decision")] == [
        run_id,
        refused_id,
    ]  # the UI made exactly one run per submit that passed the schema

    # what the service stored
    bodies = {b["body_id"]: b for b in stack.status()["bodies"]}
    cell = next(c for c in bodies["jokioinen"]["cells"] if c["point"] == 1)
    assert cell["outcome"] == OUTCOME
    assert cell["section"] == SECTION
    assert cell["meeting_date"] == MEETING.isoformat()
    assert [c["status"] for c in bodies["jokioinen"]["cells"][1:]] == ["sent"] * 3
    engine = create_engine(stack.env["COUNCIL_DATABASE_URL"])
    with Session(engine) as session:
        stored = session.scalars(
            select(Decision).where(Decision.body_id == "jokioinen", Decision.point_number == 1)
        ).one()
        assert stored.liaison == {
            "name": LIAISON["nimi"],
            "title": LIAISON["nimike"],
            "email": LIAISON["sahkoposti"],
            "work_time": LIAISON["tyoaika"],
        }
        assert stored.recorded_by == "koordinaattori"
    engine.dispose()

    assert form_shot.stat().st_size > 10_000 and run_shot.stat().st_size > 10_000

    _every_deployment_registered_and_mark_agenda_runs_on_the_worker(stack)

    # Ctrl-C stops everything `council run` started: SIGINT alone (no SIGTERM/SIGKILL needed), and
    # no process keeps the stack's state folder
    assert stack.stop() == 0, stack.log_tail()
    assert not [line for line in stack.output if "did not exit" in line], stack.log_tail()
    assert stack.leftovers() == [], stack.leftovers()


def _every_deployment_registered_and_mark_agenda_runs_on_the_worker(stack: CouncilStack) -> None:
    """`council run` registered each deployment of prefect.yaml; a mark-agenda run completes on the worker."""
    declared = {
        d["name"] for d in yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text("utf-8"))["deployments"]
    }
    assert "mark-agenda" in declared
    with stack.api() as client:
        registered = client.post("/deployments/filter", json={}).raise_for_status().json()
        assert {d["name"] for d in registered} == declared
        deployment = client.get("/deployments/name/mark-agenda/mark-agenda").raise_for_status().json()
        run = (
            client.post(
                f"/deployments/{deployment['id']}/create_flow_run",
                json={
                    "parameters": {
                        "merkinta": {
                            "vastaanottaja": "Tammelan kunta",
                            "kokouspaiva": "9.6.2027",
                            "kohdat": [],
                        }
                    }
                },
            )
            .raise_for_status()
            .json()
        )
    finished = stack.wait_for_final_state(run["id"], RUN_TIMEOUT)
    assert finished["state"]["type"] == "COMPLETED", (finished["state"], stack.log_tail())
    tammela = next(b for b in stack.status()["bodies"] if b["body_id"] == "tammela")
    assert [(c["status"], c["meeting_date"]) for c in tammela["cells"]] == [("on_agenda", "2027-06-09")] * 4
