"""Stored values that today's rules refuse ("poison"): checked before they go into a message.

An older version or a hand edit may have stored a liaison name with a line separator or an address
with a display name. Such a value must not stop other bodies' work: each body's message is prepared
inside :func:`one_message`, which turns a refused value into that message's failure (named by the
field, in Finnish) and lets the loop go on with the next body.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from pydantic import BaseModel, ValidationError

from council.errors import CouncilError, validation_message
from models.decisions import StoredDecision
from models.enums import MessageState
from models.results import DeliveryFailure
from models.tables import Decision

log = logging.getLogger(__name__)


class StoredValueError(CouncilError):
    """A stored value that today's field rules refuse; names the body, the point and the field."""

    def __init__(self, body_name: str, point: int, field_name: str, detail: str, version: int):
        self.field_name = field_name
        super().__init__(
            f"{body_name}, kohta {point}: tallennettu kenttä '{field_name}' ei kelpaa ({detail}). "
            f"Korjaa kirjaus (versio {version}); viestiä ei lähetetty."
        )


@dataclass
class Prepared:
    """What one preparing step queued (outbox ids) and which messages it refused, ``label -> why``."""

    ids: list[int] = field(default_factory=list)
    refused: dict[str, DeliveryFailure] = field(default_factory=dict)

    def add(self, other: Prepared) -> None:
        self.ids += other.ids
        self.refused.update(other.refused)


def field_title(model: type[BaseModel], loc: tuple) -> str:
    """'järjestöyhdyshenkilö: nimi' for ``("liaison", "name")``: the fields' Finnish titles."""
    names, current = [], model
    for part in loc:
        info = current.model_fields.get(str(part)) if current is not None else None
        if info is None:
            names.append(str(part))
            current = None
            continue
        names.append((info.title or str(part)).lower())
        annotation = info.annotation
        nested = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)]
        current = next((a for a in nested if issubclass(a, BaseModel)), None)
    return ": ".join(names)


def check_stored(cell: Decision, body_name: str) -> None:
    """Raise :class:`StoredValueError` when the cell's stored free text breaks today's rules."""
    try:
        StoredDecision.model_validate(cell, from_attributes=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise StoredValueError(
            body_name,
            cell.point_number,
            field_title(StoredDecision, first["loc"]),
            validation_message(first),
            cell.version,
        ) from None


@contextmanager
def one_message(label: str, prepared: Prepared) -> Iterator[None]:
    """Prepare one body's message: a refused stored value, or one the email package cannot put in a
    header (ValueError) or encode (UnicodeError), fails this message only."""
    try:
        yield
    except StoredValueError as exc:
        prepared.refused[label] = DeliveryFailure(state=MessageState.failed, error=str(exc))
        log.warning("Viestiä %s ei muodostettu: %s", label, exc)
    except (ValueError, UnicodeError) as exc:
        why = f"viestiä ei voitu muodostaa tallennetuista tiedoista: {exc}"
        prepared.refused[label] = DeliveryFailure(state=MessageState.failed, error=why)
        log.warning("Viestiä %s ei muodostettu: %s", label, why)
