"""mark-agenda under Prefect's test harness: the form, what it stores, what follow-up then does."""

from __future__ import annotations

from datetime import date

import pytest
from prefect.utilities.callables import parameter_schema
from sqlalchemy.orm import Session

from council.config import Settings
from council.rules.formatting import fi_date
from council.services.follow_up import find_due
from council.store.decisions import history
from council.store.engine import make_engine
from council.store.tracking import status_matrix
from flows.mark_agenda import AgendaIn, mark_agenda
from models.fields import FI_DATE_PATTERN
from tests.helpers import delivered_proposal

pytestmark = pytest.mark.prefect


def _cells(settings: Settings, body_id: str) -> list[tuple[int, str, str | None]]:
    with Session(make_engine(settings.effective_database_url)) as session:
        row = next(
            r
            for r in status_matrix(session=session, proposal_id=settings.proposal_id).bodies
            if r.body_id == body_id
        )
    return [(c.point, c.status.value, c.meeting_date) for c in row.cells]



def _deployed(flow) -> dict:  # noqa: ANN001
    """The form's schema as `council run` leaves it on the server: choices filled in from the content."""
    from council.config import get_settings
    from council.services.forms import form_choices, with_choices

    return with_choices(parameter_schema(flow).model_dump(), form_choices(get_settings()))

def test_form_has_dropdowns_and_finnish_labels() -> None:
    """Body and points are dropdowns of official names and point labels; the date is typed as 15.3.2021."""
    defs = _deployed(mark_agenda)["definitions"]
    form = defs["AgendaIn"]["properties"]
    assert form["vastaanottaja"]["title"] == "Vastaanottaja"
    assert "Tammelan kunta" in form["vastaanottaja"]["enum"]
    assert form["kokouspaiva"]["pattern"] == FI_DATE_PATTERN
    assert form["kohdat"]["items"]["enum"][3] == "4 – Järjestötietous"
    assert "Merkitse vastaanottajan kohdat" in defs["AgendaIn"]["description"]


def test_chosen_points_go_on_the_agenda_and_follow_up_waits(prefect_harness: None, sent: Settings) -> None:
    """Points 2 and 3 of Tammela on a meeting: stored and logged; no reminder until the day after it."""
    sent_on, meeting = date(2026, 5, 15), date(2026, 6, 9)
    for body_id in ("jokioinen", "tammela"):
        delivered_proposal(sent, body_id, logical_date=sent_on)
    before, after = date(2026, 6, 5), date(2026, 6, 10)  # first reminder day; the day after the meeting
    count = mark_agenda(
        merkinta=AgendaIn(
            vastaanottaja="Tammelan kunta",
            kokouspaiva=fi_date(meeting),
            kohdat=["2 – Säännölliset yhteistyömuodot", "3 – Kehittämisyhteistyön kohdat"],
        )
    )
    assert count == 2
    assert _cells(sent, "tammela") == [
        (1, "sent", None),
        (2, "on_agenda", meeting.isoformat()),
        (3, "on_agenda", meeting.isoformat()),
        (4, "sent", None),
    ]
    due_before = {d.body_id: d for d in find_due(sent, before)}
    due_after = {d.body_id: d for d in find_due(sent, after)}
    assert "jokioinen" in due_before and "tammela" not in due_before
    assert due_after["tammela"].open_points == (1, 2, 3, 4)
    with Session(make_engine(sent.effective_database_url)) as session:
        events = history(session=session, proposal_id=sent.proposal_id, body_id="tammela")
    agenda_events = [
        e
        for e in events
        if isinstance(e.data.get("new"), dict) and e.data["new"].get("status") == "on_agenda"
    ]
    assert [e.point_number for e in agenda_events] == [2, 3]
    assert all(e.actor.startswith("prefect:") and e.actor.endswith("(koordinaattori)") for e in agenda_events)


def test_no_points_means_every_open_point(prefect_harness: None, sent: Settings) -> None:
    """An empty point list puts every point still open on the agenda."""
    assert mark_agenda(merkinta=AgendaIn(vastaanottaja="Ypäjän kunta", kokouspaiva="1.9.2026")) == 4
    assert {status for _, status, _ in _cells(sent, "ypaja")} == {"on_agenda"}


def test_same_point_twice_is_refused_before_anything_is_stored() -> None:
    """A repeated point breaks the parameter schema, which the Prefect server checks before a run exists."""
    from prefect.utilities.schema_tools.validation import is_valid

    schema = parameter_schema(mark_agenda).model_dump_for_openapi()
    form = {"vastaanottaja": "Ypäjän kunta", "kokouspaiva": "1.9.2026"}
    assert is_valid({"merkinta": form | {"kohdat": ["1 – Järjestöyhdyshenkilö"]}}, schema)
    twice = form | {"kohdat": ["1 – Järjestöyhdyshenkilö", "1 – Järjestöyhdyshenkilö"]}
    assert not is_valid({"merkinta": twice}, schema)
    assert not is_valid({"merkinta": form | {"kokouspaiva": "2026-09-01"}}, schema)
