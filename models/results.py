"""Typed results that services return and Prefect tasks pass between them.

A delivery failure carries the outbox state it left the message in (:class:`MessageState`), so
"failed for good" is a comparison with an enum, not a string prefix.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from models.enums import MessageState


class DeliveryFailure(BaseModel):
    """One message that was not delivered: ``queued`` (retried by a later run) or ``failed`` (for good)."""

    state: MessageState
    error: str

    @property
    def permanent(self) -> bool:
        return self.state == MessageState.failed

    def __str__(self) -> str:
        return f"{self.state.value}: {self.error}"


class DeliveryReport(BaseModel):
    """What one delivery run did, each message named ``body/kind/round``."""

    sent: list[str] = Field(default_factory=list)
    failed: dict[str, DeliveryFailure] = Field(default_factory=dict)
    skipped: list[str] = Field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        """Fold another batch's report into this one."""
        self.sent += other.sent
        self.failed.update(other.failed)
        self.skipped += other.skipped

    @property
    def permanent(self) -> dict[str, DeliveryFailure]:
        """The failures no later run will retry."""
        return {label: f for label, f in self.failed.items() if f.permanent}

    def failed_text(self) -> dict[str, str]:
        """``label -> "state: error"``, as the flows return it and the logs print it."""
        return {label: str(f) for label, f in self.failed.items()}


class SendReport(DeliveryReport):
    """A send: the delivery report and how many bodies it was for."""

    targets: int = 0


class Refusal(BaseModel):
    """Why a run stopped without storing anything, for the coordinator: what happened and what to do.

    Flows return it as their failed state's message and as a markdown artifact; the CLI prints it.
    """

    #: How every refusal's message begins.
    PREFIX: ClassVar[str] = "Mitä tapahtui: "

    what_happened: str
    what_to_do: str

    @property
    def message(self) -> str:
        """One paragraph: "Mitä tapahtui: … Mitä tehdä: …"."""
        return f"{self.PREFIX}{self.what_happened} Mitä tehdä: {self.what_to_do}"

    def markdown(self) -> str:
        return f"## Ajo keskeytettiin, mitään ei tallennettu\n\n**Mitä tapahtui:** {self.what_happened}\n\n**Mitä tehdä:** {self.what_to_do}\n"
