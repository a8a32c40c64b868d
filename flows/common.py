"""What every flow shares: the forms' vocabularies from the content files, the Finnish form helpers
(titles, dates as 15.3.2021, official names), how a run is refused (``refuse``) or reports what it
did (``report_done``), the coordinator's run-failed hook (``ON_FAILURE``) and the actor name."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import FailedRun
from prefect.runtime import flow_run
from prefect.states import Failed, State
from pydantic import Field, ValidationError
from pydantic.fields import FieldInfo

from council.config import get_settings
from council.content.loading import load_proposal_by_id, load_roster
from council.errors import CouncilError, InvalidInputError, UnknownBodyError
from models.clock import today_helsinki
from models.fields import parse_fi_date
from models.results import Refusal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Vocabularies:
    """What the forms offer in their dropdowns, read from the content files when Prefect imports a
    flow (at deploy time and when a worker runs it). Content that does not load leaves the forms
    with free-text fields, so one bad roster cannot stop every flow: the run itself then reports
    the content error in Finnish."""

    body_names: tuple[str, ...] = ()
    body_id_by_name: dict[str, str] = field(default_factory=dict)
    point_labels: tuple[str, ...] = ()
    duties_point: int = 1


def read_vocabularies() -> Vocabularies:
    try:
        settings = get_settings()
        roster = load_roster(settings.path(settings.roster_file))
        proposal = load_proposal_by_id(settings.path(settings.data_dir), settings.proposal_id)
    except (CouncilError, ValidationError, OSError) as exc:
        log.warning("Lomakkeiden valintalistoja ei voitu lukea, kentät ovat vapaata tekstiä: %s", exc)
        return Vocabularies()
    return Vocabularies(
        body_names=tuple(b.name for b in roster.bodies),
        body_id_by_name={b.name: b.id for b in roster.bodies},
        point_labels=tuple(f"{p.number} – {p.short_title}" for p in proposal.points),
        duties_point=proposal.duty_description.duties_point,
    )


_vocabularies = read_vocabularies()
#: Official names of the roster's bodies: the Prefect UI shows these in its dropdowns.
BODY_NAMES = _vocabularies.body_names
BodyName = Literal[BODY_NAMES] if BODY_NAMES else str  # type: ignore[valid-type]
#: Point labels for the UI dropdowns, e.g. "1 – Järjestöyhdyshenkilö".
POINT_LABELS = _vocabularies.point_labels
PointLabel = Literal[POINT_LABELS] if POINT_LABELS else str  # type: ignore[valid-type]
#: The point whose decision names the NGO liaison (``duty_description.duties_point``).
DUTIES_POINT: int = _vocabularies.duties_point


def form_title(title: str, description: str | None = None) -> FieldInfo:
    """Annotate a flow's form parameter with it (``Annotated[FormIn, form_title("…")]``): Prefect
    otherwise titles the form with the parameter's name ("kirjaus"), and the UI shows the model's
    Finnish title instead."""
    extra = {"title": title} | ({"description": description} if description else {})
    return Field(json_schema_extra=extra)


def point_number(label: str) -> int:
    return int(label.split(" ", 1)[0])


def body_ids(names: list[str]) -> list[str]:
    """Map official names chosen in the UI back to roster ids; a name the dropdown did not offer is
    looked up in the roster now (its id, or its name), which reports bad content in Finnish."""
    known = _vocabularies.body_id_by_name
    if all(name in known for name in names):
        return [known[name] for name in names]
    settings = get_settings()
    roster = load_roster(settings.path(settings.roster_file))
    by_key = {key.casefold(): b.id for b in roster.bodies for key in (b.id, b.name)}
    unknown = [name for name in names if name.strip().casefold() not in by_key]
    if unknown:
        raise UnknownBodyError(unknown[0], sorted(b.id for b in roster.bodies))
    return [by_key[name.strip().casefold()] for name in names]


def body_name(body_id: str) -> str:
    """A body's official name for what the coordinator reads (its id when the roster lacks it)."""
    names = {body: name for name, body in _vocabularies.body_id_by_name.items()}
    return names.get(body_id, body_id)


def message_label(label: str) -> str:
    """An outbox label ``jokioinen/proposal/0`` with the body's official name in front."""
    body_id, _, rest = label.partition("/")
    return f"{body_name(body_id)} ({rest})" if rest else body_name(body_id)


def form_day(text: str, field: str = "Päivä") -> date:
    """A form's optional day (15.3.2021): empty is today; InvalidInputError names the field."""
    if not text.strip():
        return today_helsinki()
    try:
        return parse_fi_date(text)
    except ValueError as exc:
        raise InvalidInputError("Virheellinen päivä", [f"{field}: {exc}"]) from None


def actor() -> str:
    """Who did it, for the event log: the Prefect flow run's name."""
    name = flow_run.get_name()
    return f"prefect:{name}" if name else "prefect"


class _RefusalEcho(logging.Filter):
    """Drops the engine's repeat of a refused run: a worker's flow-run process re-raises a Failed
    state's message as ``FailedRun`` and logs it at ERROR with a traceback ("Engine execution
    exited with unexpected exception"). For a refusal that says nothing new: its paragraph is already
    logged at WARNING by :func:`refuse`. Every other failure keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (isinstance(error, FailedRun) and str(error).startswith(Refusal.PREFIX))


logging.getLogger("prefect.flow_runs").addFilter(_RefusalEcho())


def refuse(refusal: Refusal) -> State:
    """End the run without storing anything: the Finnish "what happened – what to do" paragraph as
    the failed state's message, as a markdown artifact and as one WARNING line (no traceback)."""
    get_run_logger().warning(refusal.message)
    create_markdown_artifact(markdown=refusal.markdown(), description="Ajo keskeytettiin: mitä tehdä")
    return Failed(message=refusal.message)


def report_done(markdown: str) -> None:
    """What a completed run did, in Finnish, as the run's markdown artifact."""
    create_markdown_artifact(markdown=markdown, description="Ajon yhteenveto")


_PREFECT_PREFIX = re.compile(r"^(Flow run encountered an exception|Flow run crashed)[^:]*: (\w+: )?")


def notify_coordinator(flow: object, flow_run: FlowRun, state: State) -> None:
    """A failed or crashed run's hook: one email to the coordinator (council/services/alerts.py),
    unless the run was refused for bad input. Never raises: a hook's error would hide the run's."""
    if (state.message or "").startswith(Refusal.PREFIX):
        return
    from council.delivery.mail import SmtpMailer
    from council.services.alerts import notify_failed_run

    logger = logging.getLogger(__name__)
    try:
        settings = get_settings()
        ui = f"http://127.0.0.1:{settings.prefect_port}"
        notify_failed_run(
            settings,
            deployment=getattr(flow, "name", "") or flow_run.name,
            run_name=flow_run.name,
            run_id=flow_run.id,
            # Prefect's own English prefix says nothing the coordinator needs
            error=_PREFECT_PREFIX.sub("", state.message or state.name or ""),
            run_url=f"{ui}/runs/flow-run/{flow_run.id}",
            failed_at=state.timestamp,
            mailer=SmtpMailer(settings),
            actor=f"prefect:{flow_run.name}",
        )
    except Exception as exc:  # noqa: BLE001 - reported, and the run's own failure stays the story
        logger.warning("Koordinaattorille ei voitu ilmoittaa epäonnistuneesta ajosta: %s", exc)


#: Every deployment's flow: ``@flow(..., **ON_FAILURE)``.
ON_FAILURE = {"on_failure": [notify_coordinator], "on_crashed": [notify_coordinator]}
