"""The event log in Finnish words, for `council history`: what each event says, never its keys.

``describe(kind, data)`` turns an event's stored data ({"old": {...}, "new": {...}}, a message's
kind and round, …) into one readable Finnish phrase with dates as 15.3.2021 and statuses by their
Finnish names ("lähetetty → muistutettu"), so no internal name (``status=decided``,
``deciding_body``) reaches the coordinator.
"""

from __future__ import annotations

from datetime import date

from council.rules.formatting import fi_date
from models.enums import STATUS_LABEL_FI, DecisionStatus, EventKind

MESSAGE_KIND_FI = {
    "proposal": "esitys",
    "reminder": "muistutus",
    "combined_reminder": "yhdistetty muistutus",
    "duty_description": "toimenkuva",
    "confirmation": "kiitos",
    "digest": "viikkokooste",
    "run_failed": "ilmoitus epäonnistuneesta ajosta",
}
BODY_FIELD_FI = {
    "name": "nimi",
    "name_genitive": "genetiivi",
    "name_inessive": "inessiivi",
    "kind": "tyyppi",
    "deciding_body": "toimielin",
    "registry_email": "kirjaamo",
    "language": "kieli",
}


def status_fi(value: object) -> str:
    try:
        return STATUS_LABEL_FI[DecisionStatus(str(value))]
    except ValueError:
        return str(value)


def _day(value: object) -> str:
    try:
        return fi_date(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def decision_fi(cell: dict) -> str:
    """A recorded decision: 'hyväksytty … 15.3.2021 § 59, Jokioisten kunnanhallitus, Dnro 12/2021'."""
    parts = [str(cell.get("outcome") or status_fi(cell.get("status")))]
    when = _day(cell["meeting_date"]) if cell.get("meeting_date") else ""
    if when or cell.get("section"):
        parts[0] += f" {when}" + (f" § {cell['section']}" if cell.get("section") else "")
    if cell.get("deciding_body"):
        parts.append(str(cell["deciding_body"]))
    if cell.get("diary_number"):
        parts.append(f"Dnro {cell['diary_number']}")
    liaison = cell.get("liaison")
    if isinstance(liaison, dict) and liaison.get("name"):
        parts.append(
            f"yhdyshenkilö {liaison['name']} ({liaison.get('title', '')}, {liaison.get('work_time', '')})"
        )
    if cell.get("note"):
        parts.append(f"lisätieto: {cell['note']}")
    return ", ".join(parts)


def describe(kind: str, data: dict) -> str:
    """One event's details in Finnish."""
    new, old = data.get("new"), data.get("old")
    if kind == EventKind.decision_recorded and isinstance(new, dict):
        return f"versio {new.get('version')}: {decision_fi(new)}"
    if kind == EventKind.status_changed:
        before = old.get("status") if isinstance(old, dict) else old
        after = new.get("status") if isinstance(new, dict) else new
        text = f"{status_fi(before)} → {status_fi(after)}"
        if isinstance(new, dict) and new.get("meeting_date"):
            text += f", kokous {_day(new['meeting_date'])}"
        return text
    if kind in (EventKind.message_queued, EventKind.message_sent):
        label = MESSAGE_KIND_FI.get(str(data.get("kind")), str(data.get("kind", "viesti")))
        if data.get("round"):
            label += f" {data['round']}"
        recipients = data.get("recipients") or []
        return f"{label}: {', '.join(recipients)}" if recipients else label
    if kind == EventKind.message_failed:
        text = f"yritys {data.get('attempt')}: {data.get('error', '')}"
        return text + (" (ei uusita)" if data.get("final") else " (uusitaan)")
    if kind == EventKind.document_generated:
        return str(data.get("file", ""))
    if kind == EventKind.body_synced:
        return ", ".join(f"{BODY_FIELD_FI.get(k, k)}: {v}" for k, v in data.items())
    if kind == EventKind.proposal_synced:
        return "esityksen sisältö tallennettu"
    return ", ".join(f"{v}" for v in data.values() if v not in (None, "", {}, []))
