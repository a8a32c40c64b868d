"""The choices the coordinator's forms offer (bodies by official name, points by label), written into
the deployments' parameter schemas on the running Prefect server.

A flow declares such a field as plain text marked ``json_schema_extra={CHOICES_KEY: "bodies"}`` (or
``"points"``), so nothing reads the content files when a flow is imported; :func:`with_choices`
fills in the ``enum`` from the content as it is now, and the entry point that talks to Prefect
(``council run`` after deploying) writes the schema back. A changed roster reaches the forms
without a re-deploy, and a body the dropdown did not offer is still checked by the flow itself.
"""

from __future__ import annotations

import base64
import copy
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.orm import Session

from council.config import Settings
from council.content.loading import load_roster
from council.errors import CouncilError
from council.services.intake import choice_labels
from council.store.engine import checked_engine_for
from council.store.proposals import list_proposals, proposal_content
from council.store.recipients import recipient_ids

#: The JSON-schema key that marks a text field whose choices come from the content.
CHOICES_KEY = "x-council-choices"


def point_label(number: int, short_title: str) -> str:
    """'1 – Järjestöyhdyshenkilö', as the forms list the points."""
    return f"{number} – {short_title}"


#: The key prefix of one proposal's recipients in the choices: ``"recipients:<proposal label>"``.
RECIPIENTS_PREFIX = "recipients:"


def form_choices(settings: Settings) -> dict[str, list[str]]:
    """What each kind of marked field offers, read now: the roster's official names, the active
    proposals as "short title (id)" (newest first), the points of each of them (one label per point
    wording; the run checks a point against the proposal it was given) and each active proposal's
    recipients by official name (``recipients:<label>``), and the decision candidates waiting for
    the coordinator (``candidates``)."""
    roster = load_roster(settings.path(settings.roster_file))
    names = {b.id: b.name for b in roster.bodies}
    recipients: dict[str, list[str]] = {}
    candidates: list[str] = []
    try:
        with Session(checked_engine_for(settings)) as session:
            candidates = choice_labels(session)
            active = [p for p in list_proposals(session=session) if p.active]
            for p in active:
                ids = set(recipient_ids(session=session, proposal_id=p.id))
                recipients[RECIPIENTS_PREFIX + p.label] = [b.name for b in roster.bodies if b.id in ids]
    except CouncilError:
        active = []  # no database yet: the configured proposal's file is all there is
    ids = [p.id for p in active] or [settings.proposal_id]
    points: list[str] = []
    for proposal_id in ids:
        for p in proposal_content(settings, proposal_id).points:
            label = point_label(p.number, p.short_title)
            if label not in points:
                points.append(label)
    return {
        "bodies": list(names.values()),
        "points": points,
        "proposals": [p.label for p in active],
        "proposal_files": proposal_files(settings),
        "candidates": candidates,
        **recipients,
    }


def proposal_files(settings: Settings) -> list[str]:
    """The new proposals waiting in the coordinator's folder (.docx, .yaml), by file name."""
    folder = settings.proposals_inbox_dir
    if not folder.is_dir():
        return []
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in (".docx", ".yaml", ".yml") and not p.name.startswith(("~$", "."))
    )


def with_choices(schema: dict[str, Any], choices: dict[str, list[str]]) -> dict[str, Any]:
    """A copy of a parameter schema with an ``enum`` on every marked field (on its items for a list);
    a kind without choices is left free text. In a form that chooses a proposal and its body (or
    bodies), the body dropdown lists the chosen proposal's recipients: with one active proposal
    its recipients only, with several one tab per proposal (:func:`_per_proposal`)."""
    result = copy.deepcopy(schema)
    _restore(result)
    _fill(result, choices)
    _per_proposal(result, choices)
    return result


#: The property that holds one tab per proposal, and where it keeps the fields it replaced.
PER_PROPOSAL = "kohde"
_REPLACED = "x-council-replaced"


def _marked(properties: dict[str, Any], kind: str) -> str | None:
    """The name of the property marked with ``kind`` (directly or on a list's items)."""
    for name, prop in properties.items():
        if isinstance(prop, dict) and kind in (prop.get(CHOICES_KEY), (prop.get("items") or {}).get(CHOICES_KEY)):
            return name
    return None


def _with_enum(prop: dict[str, Any], values: list[str]) -> dict[str, Any]:
    prop = copy.deepcopy(prop)
    target = prop["items"] if prop.get("type") == "array" and isinstance(prop.get("items"), dict) else prop
    target["enum"] = list(values)
    return prop


def _per_proposal(node: Any, choices: dict[str, list[str]]) -> None:
    """Where an object has a proposal field and a body field: with one active proposal the body
    field lists its recipients; with several the two fields become one ``kohde`` field, a choice of
    one object per proposal (the Prefect UI shows them as tabs) holding that proposal (its only
    option) and a body field that lists its recipients. The flows read ``kohde`` back into the two
    fields (flows/common.py ProposalForm); the replaced fields are kept for the next push."""
    if isinstance(node, list):
        for value in node:
            _per_proposal(value, choices)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _per_proposal(value, choices)
    properties = node.get("properties")
    if not isinstance(properties, dict):
        return
    proposal_field, body_field = _marked(properties, "proposals"), _marked(properties, "bodies")
    offered = {label: choices.get(RECIPIENTS_PREFIX + label) for label in choices.get("proposals", [])}
    offered = {label: names for label, names in offered.items() if names}
    if proposal_field is None or body_field is None or not offered:
        return
    if len(offered) == 1:
        properties[body_field] = _with_enum(properties[body_field], next(iter(offered.values())))
        return
    required = list(node.get("required", []))
    body_required = body_field in required
    variants = []
    for label, names in offered.items():
        chosen = {"title": properties[proposal_field].get("title", "Esitys"), "type": "string", "enum": [label], "default": label}
        variants.append(
            {
                "title": label,
                "type": "object",
                "properties": {proposal_field: chosen, body_field: _with_enum(properties[body_field], names)},
                "required": [proposal_field, body_field] if body_required else [proposal_field],
            }
        )
    replaced = {
        "fields": {proposal_field: properties[proposal_field], body_field: properties[body_field]},
        "required": node.get("required"),
        "order": list(properties),
    }
    combined = {
        "title": "Esitys ja " + str(properties[body_field].get("title", "vastaanottaja")).lower(),
        "description": "Valitse ensin esitys (välilehdet); vastaanottajissa ovat vain sen vastaanottajat.",
        "anyOf": variants,
        _REPLACED: replaced,
    }
    rebuilt: dict[str, Any] = {}
    for name, prop in properties.items():
        if name == proposal_field:
            rebuilt[PER_PROPOSAL] = combined
        elif name != body_field:
            rebuilt[name] = prop
    node["properties"] = rebuilt
    node["required"] = [PER_PROPOSAL] + [r for r in required if r not in (proposal_field, body_field)]


def _restore(node: Any) -> None:
    """Undo :func:`_per_proposal` (a schema read back from the server), so each push starts from
    the flow's own fields."""
    if isinstance(node, list):
        for value in node:
            _restore(value)
        return
    if not isinstance(node, dict):
        return
    properties = node.get("properties")
    if isinstance(properties, dict) and isinstance(properties.get(PER_PROPOSAL), dict):
        replaced = properties[PER_PROPOSAL].get(_REPLACED)
        if isinstance(replaced, dict):
            fields = {**properties, **replaced["fields"]}
            fields.pop(PER_PROPOSAL)
            node["properties"] = {name: fields[name] for name in replaced["order"] if name in fields} | {
                name: prop for name, prop in fields.items() if name not in replaced["order"]
            }
            if replaced["required"] is None:
                node.pop("required", None)
            else:
                node["required"] = replaced["required"]
    for value in node.values():
        _restore(value)


def _fill(node: Any, choices: dict[str, list[str]]) -> None:
    if isinstance(node, dict):
        kind = node.get(CHOICES_KEY)
        target = node["items"] if node.get("type") == "array" and isinstance(node.get("items"), dict) else node
        if kind in choices and not choices[kind]:
            # Nothing to offer now (every proposal closed, the folder emptied): free text again
            # rather than the last push's stale choices.
            target.pop("enum", None)
        elif kind in choices:
            values = list(choices[kind])
            default = node.get("default")
            if isinstance(default, str) and default not in values:
                values.insert(0, default)  # an optional choice ("" = the usual one) stays valid
            target["enum"] = values
        for value in node.values():
            _fill(value, choices)
    elif isinstance(node, list):
        for value in node:
            _fill(value, choices)


def _patient(request: Callable[[], httpx.Response], attempts: int = 5) -> httpx.Response:
    """Send a request again while a busy server answers 502/503/504 (SQLite locked under load)."""
    for attempt in range(attempts):
        response = request()
        if response.status_code not in (502, 503, 504) or attempt == attempts - 1:
            break
        time.sleep(1 + attempt)
    response.raise_for_status()
    return response


def refresh_forms(settings: Settings, api_url: str, choices: dict[str, list[str]] | None = None) -> int:
    """Write the forms' current choices (bodies, points) into every deployment's parameter schema on
    the server at ``api_url`` (see council/services/forms.py); returns how many changed. Content that
    does not load leaves the forms as they are and raises its Finnish ContentError. ``choices``: already
    read by the caller (they are read from the content otherwise)."""
    choices = choices if choices is not None else form_choices(settings)
    headers = {}
    auth = os.environ.get("PREFECT_API_AUTH_STRING")
    if auth:  # the same basic auth the Prefect client sends
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    changed = 0
    with httpx.Client(base_url=api_url.rstrip("/"), timeout=30, headers=headers) as client:
        # A server with CSRF protection wants a token on every POST and PATCH, as the Prefect client sends.
        client_id = str(uuid.uuid4())
        csrf = client.get("/csrf-token", params={"client": client_id})
        if csrf.status_code == 200:
            client.headers.update({"Prefect-Csrf-Token": csrf.json()["token"], "Prefect-Csrf-Client": client_id})
        response = _patient(lambda: client.post("/deployments/filter", json={}))
        for deployment in response.json():
            schema = deployment.get("parameter_openapi_schema") or {}
            filled = with_choices(schema, choices)
            if filled != schema:
                _patient(
                    lambda d=deployment, f=filled: client.patch(
                        f"/deployments/{d['id']}", json={"parameter_openapi_schema": f}
                    )
                )
                changed += 1
    return changed
