"""A second proposal from the Prefect UI alone (issue 13's acceptance), in Chromium on the project's
own stack (`council run`): written on the authoring template and saved into the new-proposals
folder while the service runs, imported with the new-proposal form for three bodies (one of them
the first proposal's recipient too), found in every form's Esitys list without a restart, sent
with send-proposal, and both proposals' decisions recorded with record-decision."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from council.config import PROJECT_ROOT
from models.clock import today_helsinki
from tests.browser.prefect_stack import CouncilStack
from tests.browser.test_prefect_ui import (
    RUN_TIMEOUT,
    UI_TIMEOUT,
    _choose,
    _open_form,
    _save,
    _submit,
    type_date,
)
from tests.test_proposals import SECOND, SEED, second_proposal_docx

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SECOND_TITLE = f"Liikuntapaikkojen yhteiskäyttö ({SECOND})"  # the forms' label: short title (id)
SEED_TITLE = f"Järjestöjen ja julkisen sektorin yhteistyömalli ({SEED})"
RECIPIENTS = ["Humppilan kunta", "Jokioisten kunta", "Tammelan kunta"]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[CouncilStack]:
    """The stack on a copy of data/ (an import writes its YAML copy there), the seed sent."""
    stack = CouncilStack(tmp_path / "council")
    shutil.copytree(PROJECT_ROOT / "data", stack.root / "data")
    stack.env["COUNCIL_DATA_DIR"] = str(stack.root / "data")
    try:
        stack.start()
        stack.council("send", "--today", "1.3.2021")
        yield stack
    finally:
        stack.stop()
        stack.kill_leftovers()


def _status(stack: CouncilStack, proposal_id: str) -> dict:
    return json.loads(stack.council("--proposal", proposal_id, "status", "--json").stdout)


def _choices_reached_the_forms(stack: CouncilStack, timeout: float = 90) -> None:
    """`council run` pushes new choices within seconds: wait until record-decision offers both."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with stack.api() as client:
            schema = client.get("/deployments/name/record-decision/record-decision").raise_for_status().json()
        form = schema["parameter_openapi_schema"]["definitions"]["RecordDecisionIn"]["properties"]
        tabs = [variant["title"] for variant in form.get("kohde", {}).get("anyOf", [])]
        if SECOND_TITLE in tabs:
            return
        time.sleep(2)
    raise AssertionError(f"record-decision does not offer {SECOND_TITLE!r}: {form}")


def _choose_proposal(page, title: str) -> None:  # noqa: ANN001
    """With several proposals the form has one tab per proposal, its body dropdowns inside."""
    from playwright.sync_api import expect

    page.get_by_role("tab", name=title, exact=True).click()
    expect(page.get_by_role("tab", name=title, exact=True)).to_have_attribute("aria-selected", "true")


def _run_form(page, stack: CouncilStack) -> dict:  # noqa: ANN001
    run_id = _submit(page)
    run = stack.wait_for_final_state(run_id, RUN_TIMEOUT)
    assert run["state"]["type"] == "COMPLETED", (run["state"], stack.log_tail())
    return run


def test_a_second_proposal_is_imported_sent_and_decided_from_the_forms(
    chromium, stack: CouncilStack, tmp_path: Path  # noqa: ANN001
) -> None:
    from playwright.sync_api import expect

    folder = stack.state_dir / "uudet-esitykset"
    assert folder.is_dir()  # `council run` made it for the coordinator
    shutil.copy(second_proposal_docx(tmp_path), folder / "liikuntapaikat.docx")

    context = chromium.new_context(
        viewport={"width": 1400, "height": 1000}, locale="fi-FI", timezone_id="Europe/Helsinki"
    )
    context.set_default_timeout(UI_TIMEOUT)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    today = today_helsinki()
    day = f"{today.day}.{today.month}.{today.year}"
    try:
        # 1. new-proposal: the saved file is offered (no restart), three recipients chosen
        deadline = time.monotonic() + 90
        while True:  # the folder was empty when the forms were deployed: a dropdown once pushed
            _open_form(page, stack, "new-proposal")
            page.wait_for_timeout(1500)
            if page.get_by_role("button", name="Select Tiedosto", exact=True).count():
                break
            assert time.monotonic() < deadline, "the new file never reached the new-proposal form"
            time.sleep(3)
        _choose(page, "Tiedosto", "liikuntapaikat.docx")
        for name in RECIPIENTS:  # a multi-select: open it, pick one, close it
            page.get_by_role("button", name="Select Vastaanottajat", exact=True).click()
            page.get_by_role("option", name=name, exact=True).click()
            page.keyboard.press("Escape")
        for name in RECIPIENTS:
            expect(page.get_by_text(name, exact=True).first).to_be_visible()
        _save(page, stack, "forms/new-proposal-filled.png")
        imported = _run_form(page, stack)
        assert imported["parameters"]["esitys"]["vastaanottajat"] == RECIPIENTS
        second = _status(stack, SECOND)
        assert sorted(b["body_id"] for b in second["bodies"]) == ["humppila", "jokioinen", "tammela"]

        # 2. every form knows it: send-proposal sends it to its three recipients
        _choices_reached_the_forms(stack)
        _open_form(page, stack, "send-proposal")
        _choose_proposal(page, SECOND_TITLE)
        # its recipients only: the seed's Forssa is not offered on this proposal's tab
        page.get_by_role("button", name="Select Vastaanottajat", exact=True).click()
        offered = page.get_by_role("option").all_inner_texts()
        page.keyboard.press("Escape")
        assert sorted(offered) == RECIPIENTS, offered
        expect(page.get_by_role("listbox")).to_have_count(0)
        _save(page, stack, "forms/send-proposal-tabs.png")
        sent = _run_form(page, stack)
        assert sent["parameters"]["lahetys"]["kohde"]["esitys"] == SECOND_TITLE, sent["parameters"]
        second = _status(stack, SECOND)
        assert {c["status"] for b in second["bodies"] for c in b["cells"]} == {"sent"}

        # 3. both proposals' decisions from record-decision, the same body in both
        for title, point, outcome, section in (
            (SECOND_TITLE, "2 – Säännölliset yhteistyömuodot", "hylätty", 21),
            (SEED_TITLE, "3 – Kehittämisyhteistyön kohdat", "hyväksytty muutettuna", 22),
        ):
            _open_form(page, stack, "record-decision")
            _choose_proposal(page, title)
            _choose(page, "Vastaanottaja", "Tammelan kunta")
            type_date(page, "Kokouspäivä", day)
            page.get_by_role("button", name="Add item", exact=True).click()
            _choose(page, "Kohta", point)
            _choose(page, "Päätös", outcome)
            page.get_by_role("spinbutton", name="Pykälä (§)").fill(str(section))
            _run_form(page, stack)
        _save(page, stack, "prefect-ui-second-proposal-run.png")
    except Exception:
        with suppress(Exception):
            _save(page, stack, "prefect-ui-many-proposals-failure.png")
        raise
    finally:
        context.close()
    assert not problems, problems

    def cell(proposal_id: str, point: int) -> dict:
        body = next(b for b in _status(stack, proposal_id)["bodies"] if b["body_id"] == "tammela")
        return next(c for c in body["cells"] if c["point"] == point)

    assert (cell(SECOND, 2)["outcome"], cell(SECOND, 2)["section"]) == ("hylätty", 21)
    assert cell(SECOND, 3)["outcome"] is None
    assert (cell(SEED, 3)["outcome"], cell(SEED, 3)["section"]) == ("hyväksytty muutettuna", 22)
    assert cell(SEED, 2)["outcome"] is None
    mail = list((stack.outputs_dir / "mail").glob("*.eml"))
    second_mail = [m for m in mail if b"FSHKY/301/00.04.01/2026" in m.read_bytes()]
    assert len(second_mail) == 3
    assert stack.stop() == 0, stack.log_tail()
