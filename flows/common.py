"""What every flow shares: parameter vocabularies from the roster and the actor name."""

from __future__ import annotations

from typing import Literal

from prefect.runtime import flow_run

from council.config import get_settings
from council.content.loading import load_proposal_by_id, load_roster

_settings = get_settings()
_roster = load_roster(_settings.path(_settings.roster_file))

#: Official names of the roster's bodies: the Prefect UI shows these in its dropdowns.
BODY_NAMES: tuple[str, ...] = tuple(b.name for b in _roster.bodies)
BODY_ID_BY_NAME: dict[str, str] = {b.name: b.id for b in _roster.bodies}
BodyName = Literal[BODY_NAMES]  # type: ignore[valid-type]

_proposal = load_proposal_by_id(_settings.path(_settings.data_dir), _settings.proposal_id)
#: Point labels for the UI dropdowns, e.g. "1 – Järjestöyhdyshenkilö".
POINT_LABELS: tuple[str, ...] = tuple(f"{p.number} – {p.short_title}" for p in _proposal.points)
PointLabel = Literal[POINT_LABELS]  # type: ignore[valid-type]
#: The point whose decision names the NGO liaison (``duty_description.duties_point``).
DUTIES_POINT: int = _proposal.duty_description.duties_point


def point_number(label: str) -> int:
    return int(label.split(" ", 1)[0])


def body_ids(names: list[str]) -> list[str]:
    """Map official names chosen in the UI back to roster ids."""
    return [BODY_ID_BY_NAME[name] for name in names]


def actor() -> str:
    """Who did it, for the event log: the Prefect flow run's name."""
    name = flow_run.get_name()
    return f"prefect:{name}" if name else "prefect"

