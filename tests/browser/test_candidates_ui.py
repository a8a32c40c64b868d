"""Decision intake's acceptance in Chromium on the project's own stack (`council run`): a registry's
minutes extract saved into the drop folder is read by the read-replies deployment on the worker, its
decisions are listed with their evidence in the confirm-candidates form, and the coordinator
confirms one there; the decision is recorded as a typed one would be."""

from __future__ import annotations

import re
import time
from contextlib import suppress
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.browser.prefect_stack import CouncilStack
from tests.browser.test_prefect_ui import RUN_TIMEOUT, UI_TIMEOUT, _open_form, _save, _submit

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
MINUTES = Path(__file__).parents[1] / "fixtures" / "minutes"


def _run_deployment(stack: CouncilStack, name: str, parameters: dict) -> dict:
    with stack.api() as client:
        deployment = client.get(f"/deployments/name/{name}/{name}").raise_for_status().json()
        run = (
            client.post(f"/deployments/{deployment['id']}/create_flow_run", json={"parameters": parameters})
            .raise_for_status()
            .json()
        )
    finished = stack.wait_for_final_state(run["id"], RUN_TIMEOUT)
    assert finished["state"]["type"] == "COMPLETED", (finished["state"], stack.log_tail())
    return finished


def _offered(stack: CouncilStack, timeout: float = 90) -> list[str]:
    """The candidates the confirm-candidates form offers, once the read-replies run pushed them."""
    deadline = time.monotonic() + timeout
    while True:
        with stack.api() as client:
            schema = (
                client.get("/deployments/name/confirm-candidates/confirm-candidates")
                .raise_for_status()
                .json()
            )
        form = schema["parameter_openapi_schema"]["definitions"]["CandidatesIn"]["properties"]
        offered = form["vahvista"]["items"].get("enum", [])
        if offered or time.monotonic() > deadline:
            return offered
        time.sleep(2)


def test_a_minutes_extract_is_confirmed_in_the_prefect_ui(chromium, stack: CouncilStack) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    reply = EmailMessage()
    reply["From"] = "Humppilan kunnan kirjaamo <kirjaamo@humppila.example>"  # the roster's domain
    reply["To"] = "hyvinvointivaliokunta@forssanseutu.example"
    reply["Subject"] = "Pöytäkirjanote: järjestöjen ja julkisen sektorin yhteistyömalli"
    reply["Message-ID"] = "<ote-112@humppila.example>"
    reply.set_content((MINUTES / "humppila-kh-112.txt").read_text(encoding="utf-8"))
    inbox = stack.state_dir / "saapuneet"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "ote-112.eml").write_bytes(reply.as_bytes())

    _run_deployment(stack, "read-replies", {})
    offered = _offered(stack)
    assert len(offered) == 4, offered
    point_3 = next(label for label in offered if "Humppilan kunta, kohta 3: palautettu valmisteluun" in label)
    assert "Kohta 3 palautettiin uudelleen valmisteltavaksi" in point_3  # the evidence is in the choice

    context = chromium.new_context(
        viewport={"width": 1400, "height": 1000}, locale="fi-FI", timezone_id="Europe/Helsinki"
    )
    context.set_default_timeout(UI_TIMEOUT)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    try:
        _open_form(page, stack, "confirm-candidates")
        page.get_by_role("button", name="Select Vahvista", exact=True).click()
        expect(page.get_by_role("option", name=point_3, exact=True)).to_be_visible()
        _save(page, stack, "forms/confirm-candidates-list.png")  # each finding with its evidence
        page.get_by_role("option", name=point_3, exact=True).click()
        page.keyboard.press("Escape")
        expect(page.get_by_text(re.compile(r"kohta 3: palautettu valmisteluun")).first).to_be_visible()
        _save(page, stack, "forms/confirm-candidates-chosen.png")
        run_id = _submit(page)
        run = stack.wait_for_final_state(run_id, RUN_TIMEOUT)
        assert run["state"]["type"] == "COMPLETED", (run["state"], stack.log_tail())
    except Exception:
        with suppress(Exception):
            _save(page, stack, "prefect-ui-candidates-failure.png")
        raise
    finally:
        context.close()
    assert not problems, problems
    assert run["parameters"]["vahvistus"]["vahvista"] == [point_3]

    humppila = next(b for b in stack.status()["bodies"] if b["body_id"] == "humppila")
    cells = {c["point"]: c for c in humppila["cells"]}
    assert (cells[3]["outcome"], cells[3]["section"], cells[3]["meeting_date"]) == (
        "palautettu valmisteluun",
        112,
        "2021-04-19",
    )
    assert [cells[p]["outcome"] for p in (1, 2, 4)] == [None, None, None]  # the others still wait
    assert len(_offered(stack)) == 3
