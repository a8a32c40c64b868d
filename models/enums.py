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
    #: One email to a body that is due reminders of several proposals on the same day: it lists each
    #: proposal's open points and carries each one's reminder document (see MessageState.carried).
    combined_reminder = "combined_reminder"
    duty_description = "duty_description"
    confirmation = "confirmation"
    digest = "digest"
    run_failed = "run_failed"  # to the coordinator: a Prefect run failed (not for bad input)


class MessageState(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    #: A proposal's reminder round that goes out inside a combined reminder (``carried_by``), never
    #: on its own: it counts as the round, and its cells become "reminded" when the carrier is sent.
    carried = "carried"


class EventKind(StrEnum):
    body_synced = "body_synced"
    proposal_synced = "proposal_synced"
    status_changed = "status_changed"
    decision_recorded = "decision_recorded"
    document_generated = "document_generated"
    message_queued = "message_queued"
    message_sent = "message_sent"
    message_failed = "message_failed"
    reply_received = "reply_received"
    #: One reading of the committee's mailbox that succeeded / failed (``data.error``).
    mailbox_read = "mailbox_read"
    mailbox_failed = "mailbox_failed"
    candidate_found = "candidate_found"
    candidate_confirmed = "candidate_confirmed"
    candidate_rejected = "candidate_rejected"
    proposal_state_changed = "proposal_state_changed"
    recipients_chosen = "recipients_chosen"


class PublicationSystem(StrEnum):
    """Where a body publishes its agendas and minutes (issue 16)."""

    dynasty = "dynasty"  # CGI/Innofactor Dynasty: an RSS feed of meeting items
    tweb = "tweb"  # Triplan Tweb/KTweb: HTML lists of meetings and items
    pdf_list = "pdf-lista"  # any page listing the agendas and minutes as PDF links


class CandidateKind(StrEnum):
    decision = "decision"  # a decision on one point
    agenda = "agenda"  # the body's proposal is on a meeting's agenda


class CandidateState(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    rejected = "rejected"


class ProposalState(StrEnum):
    """An esitys as a campaign: a draft until it is first sent, open until every point of every
    recipient is final or the coordinator closes it, then archived once its package is written."""

    draft = "draft"
    sent = "sent"
    closed = "closed"
    archived = "archived"


PROPOSAL_STATE_FI: dict[ProposalState, str] = {
    ProposalState.draft: "luonnos",
    ProposalState.sent: "lähetetty",
    ProposalState.closed: "päättynyt",
    ProposalState.archived: "arkistoitu",
}
#: States in which a proposal is followed (sent, reminded, shown as open).
ACTIVE_STATES: frozenset[ProposalState] = frozenset({ProposalState.draft, ProposalState.sent})


# The ten outcomes of Helsinki's Ahjo, the de-facto Finnish municipal vocabulary. The docstring is
# Finnish because pydantic shows it in the Prefect UI form.
class Outcome(StrEnum):
    """Päätöksen lopputulos (kunnallinen päätössanasto)."""

    hyvaksytty = "hyväksytty ehdotuksen mukaisesti"
    hyvaksytty_aanestys = "hyväksytty äänestyksen jälkeen"
    hyvaksytty_muutettu_ehdotus = "hyväksytty esittelijän muutetun ehdotuksen mukaan"
    hyvaksytty_muutettuna = "hyväksytty muutettuna"
    hylatty = "hylätty"
    merkitty_tiedoksi = "merkitty tiedoksi"
    palautettu = "palautettu valmisteluun"
    poistettu = "poistettu esityslistalta"
    poydalle = "pantu pöydälle"
    vaali = "(vaali)"


#: Outcomes after which the point is still open: follow-up goes on.
OPEN_OUTCOMES: frozenset[Outcome] = frozenset({Outcome.palautettu, Outcome.poistettu, Outcome.poydalle})

#: Days after the meeting during which a rectification claim (oikaisuvaatimus) can be made.
RECTIFICATION_DAYS = 14


EVENT_LABEL_FI: dict[str, str] = {
    EventKind.body_synced: "vastaanottaja tallennettu",
    EventKind.proposal_synced: "esitys tallennettu",
    EventKind.status_changed: "tila muuttui",
    EventKind.decision_recorded: "päätös kirjattu",
    EventKind.document_generated: "asiakirja tuotettu",
    EventKind.message_queued: "viesti jonossa",
    EventKind.message_sent: "viesti lähetetty",
    EventKind.message_failed: "viestin lähetys epäonnistui",
    EventKind.reply_received: "vastaus luettu",
    EventKind.mailbox_read: "postilaatikko luettu",
    EventKind.mailbox_failed: "postilaatikkoa ei voitu lukea",
    EventKind.candidate_found: "päätös löytyi, odottaa vahvistusta",
    EventKind.candidate_confirmed: "löydetty päätös vahvistettu",
    EventKind.candidate_rejected: "löydetty päätös hylätty",
}
