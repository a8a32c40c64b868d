"""What every flow shares: the forms' vocabularies from the content files and the actor name."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from prefect.runtime import flow_run
from pydantic import ValidationError

from council.config import get_settings
from council.content.loading import load_proposal_by_id, load_roster
from council.errors import CouncilError, UnknownBodyError

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


def actor() -> str:
    """Who did it, for the event log: the Prefect flow run's name."""
    name = flow_run.get_name()
    return f"prefect:{name}" if name else "prefect"
