"""Vocabularies shared by tables, schemas, documents and the UI."""

from __future__ import annotations

from enum import StrEnum


class BodyKind(StrEnum):
    kaupunki = "kaupunki"
    kunta = "kunta"
    kuntayhtyma = "kuntayhtymä"
    hyvinvointialue = "hyvinvointialue"


class Language(StrEnum):
    fi = "fi"
    sv = "sv"


class DecisionStatus(StrEnum):
    """Workflow state of one body × point (DESIGN.md section 3)."""

    not_sent = "not_sent"
    sent = "sent"
    reminded = "reminded"
    on_agenda = "on_agenda"
    decided = "decided"
    final = "final"


STATUS_LABEL_FI: dict[DecisionStatus, str] = {
    DecisionStatus.not_sent: "lähettämättä",
    DecisionStatus.sent: "lähetetty",
    DecisionStatus.reminded: "muistutettu",
    DecisionStatus.on_agenda: "esityslistalla",
    DecisionStatus.decided: "päätetty",
    DecisionStatus.final: "lainvoimainen",
}


class MessageKind(StrEnum):
    proposal = "proposal"
    reminder = "reminder"
    duty_description = "duty_description"
    confirmation = "confirmation"
    digest = "digest"


class MessageState(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class EventKind(StrEnum):
    body_synced = "body_synced"
    proposal_synced = "proposal_synced"
    status_changed = "status_changed"
    document_generated = "document_generated"
    message_queued = "message_queued"
    message_sent = "message_sent"
    message_failed = "message_failed"
