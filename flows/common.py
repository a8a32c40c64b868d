"""What every flow shares: the forms' choice fields (filled in from the content by the service), the Finnish form helpers
(titles, dates as 15.3.2021, official names), how a run is refused (``refuse``) or reports what it
did (``report_done``), the coordinator's run-failed hook (``ON_FAILURE``) and the actor name."""

from __future__ import annotations

import functools
import inspect
import logging
import re
import typing
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import httpx
from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import FailedRun
from prefect.runtime import flow_run
from prefect.states import Failed, State
from pydantic import BaseModel, Field, model_validator
from pydantic.fields import FieldInfo

from council.config import Settings, get_settings, using_proposal
from council.content.loading import load_roster
from council.errors import CouncilError, InvalidInputError, UnknownBodyError
from council.services.forms import CHOICES_KEY, PER_PROPOSAL, refresh_forms
from council.store.proposals import choose_proposal
from models.clock import today_helsinki
from models.fields import parse_fi_date
from models.results import Refusal

log = logging.getLogger(__name__)


# The dropdowns' choices are not read here: importing a flow reads no content file, so a broken
# roster cannot stop a flow from importing, and a changed roster needs no re-deploy. The fields are
# text marked with CHOICES_KEY; `council run` (and `council refresh-forms`) writes the roster's
# names and the proposal's points into the deployments' schemas (council/services/forms.py), and
# each run checks what it got against the content as it is then.
#: An official body name, chosen from the roster's names in the form.
BodyName = Annotated[str, Field(min_length=1, max_length=200, json_schema_extra={CHOICES_KEY: "bodies"})]
#: A point label, e.g. "1 – Järjestöyhdyshenkilö", chosen from the proposal's points in the form.
PointLabel = Annotated[
    str, Field(pattern=r"^[0-9]{1,2} – ", max_length=300, json_schema_extra={CHOICES_KEY: "points"})
]


#: The proposal a run acts on, chosen by its title; empty = the only active proposal.
ProposalTitle = Annotated[
    str,
    Field(
        max_length=500,
        title="Esitys",
        description="Minkä esityksen asia tämä on. Tyhjä = ainoa seurannassa oleva esitys",
        json_schema_extra={CHOICES_KEY: "proposals"},
    ),
]


class ProposalForm(BaseModel):
    """A form with a proposal field (``esitys``) and a body field: with several active proposals the
    server shows the two as one choice per proposal (``kohde``, council/services/forms.py), whose
    value is read back into the two fields here."""

    @model_validator(mode="before")
    @classmethod
    def _from_tabs(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get(PER_PROPOSAL), dict):
            data = {**data, **data[PER_PROPOSAL]}
            del data[PER_PROPOSAL]
        return data


def for_chosen_proposal(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run a flow for the proposal its form names (a form model's ``esitys``; empty = the only
    active one): every ``get_settings()`` within the run, its tasks' too, reads that proposal. A
    proposal that cannot be chosen, or is closed (these flows send, record or remind), ends the run
    as refused, in Finnish."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        given = inspect.signature(fn).bind_partial(*args, **kwargs).arguments
        wanted = given.get("esitys") or next(
            (getattr(v, "esitys", None) for v in given.values() if hasattr(v, "esitys")), None
        )
        try:
            chosen = choose_proposal(get_settings(), wanted, to_change=True)
        except CouncilError as exc:
            return refuse(exc.refusal())
        with using_proposal(chosen):
            return fn(*args, **kwargs)

    # Prefect builds the form and validates the parameters from the signature; with postponed
    # annotations it would resolve the names in this module, so hand it the resolved ones.
    run.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
    run.__annotations__ = typing.get_type_hints(fn, include_extras=True)
    return run


def form_title(title: str, description: str | None = None) -> FieldInfo:
    """Annotate a flow's form parameter with it (``Annotated[FormIn, form_title("…")]``): Prefect
    otherwise titles the form with the parameter's name ("kirjaus"), and the UI shows the model's
    Finnish title instead."""
    extra = {"title": title} | ({"description": description} if description else {})
    return Field(json_schema_extra=extra)


def point_number(label: str) -> int:
    return int(label.split(" ", 1)[0])


def body_ids(names: list[str]) -> list[str]:
    """Map official names chosen in the UI back to roster ids, looked up in the roster now (its id or
    its name, in any case); an unknown name, or a roster that does not load, is reported in Finnish."""
    settings = get_settings()
    roster = load_roster(settings.path(settings.roster_file))
    by_key = {key.casefold(): b.id for b in roster.bodies for key in (b.id, b.name)}
    unknown = [name for name in names if name.strip().casefold() not in by_key]
    if unknown:
        raise UnknownBodyError(unknown[0], sorted(b.id for b in roster.bodies))
    return [by_key[name.strip().casefold()] for name in names]


def body_name(body_id: str, settings: Settings | None = None) -> str:
    """A body's official name for what the coordinator reads (its id when the roster lacks it).

    A caller naming hundreds of bodies passes its ``settings``: reading them costs milliseconds.
    """
    settings = settings or get_settings()
    path = settings.path(settings.roster_file)
    try:
        names = _roster_names(path, path.stat().st_mtime_ns)
    except (CouncilError, OSError):
        return body_id
    return names.get(body_id, body_id)


@lru_cache(maxsize=4)
def _roster_names(path: Path, _mtime_ns: int) -> dict[str, str]:
    """id -> official name of the roster file as it is now (read again when the file changes): a
    run's summary names hundreds of bodies, and a national roster takes a while to validate."""
    return {b.id: b.name for b in load_roster(path).bodies}


def message_label(label: str, settings: Settings | None = None) -> str:
    """An outbox label ``jokioinen/proposal/0`` with the body's official name in front."""
    body_id, _, rest = label.partition("/")
    name = body_name(body_id, settings)
    return f"{name} ({rest})" if rest else name


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


def push_choices(settings: Settings) -> None:
    """Every form's dropdowns at once (`council run` would catch up within seconds anyway); a
    failure leaves them as they are and is logged: the run's own work is done."""
    from prefect.settings import PREFECT_API_URL

    try:
        if not (url := PREFECT_API_URL.value()):
            raise ValueError("PREFECT_API_URL puuttuu")
        refresh_forms(settings, url)
    except (CouncilError, httpx.HTTPError, ValueError) as exc:
        get_run_logger().warning("Lomakkeiden valintalistoja ei päivitetty: %s", exc)
