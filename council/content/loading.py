"""Loading the content files: proposals and rosters (YAML), validated by pydantic.

An invalid file is refused as a whole with a :class:`ContentError` that names the file, the line
("rivi") and the field of every problem. YAML anchors/aliases and Python tags are refused
outright (no alias bombs, no object construction).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from council.errors import ContentError, Problem, UnknownBodyError, UnknownProposalError, validation_message
from council.paths import write_atomic
from models.schemas import BodyIn, LocatedValueError, ProposalIn, RosterIn

MAX_CONTENT_BYTES = 2_000_000
M = TypeVar("M", bound=BaseModel)


MAX_DEPTH = 50

#: Files already parsed and validated in this process, by their model, path and content digest, so
#: a roster read once per batch (a 329-body roster took ~0.4 s to parse) is parsed once. The
#: models are frozen, and a changed file has another digest, so an edit is always read.
_PARSED: OrderedDict[tuple[type, str, bytes], BaseModel] = OrderedDict()
_PARSED_MAX = 16
_PARSED_LOCK = threading.Lock()


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases (defends against 'billion laughs'), nesting deeper
    than MAX_DEPTH (``[[[[…`` would exhaust the recursion limit) and a key repeated in one mapping
    (PyYAML would silently keep the last value)."""

    _depth = 0

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML-viittaukset (alias) eivät ole sallittuja", event.start_mark
            )
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None, None, "YAML-ankkurit eivät ole sallittuja", event.start_mark
            )
        if self._depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"rakenne on liian syvä (yli {MAX_DEPTH} tasoa)", event.start_mark
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"avain {key_node.value!r} esiintyy useammin kuin kerran "
                        f"(ensin rivillä {seen[key_node.value]})",
                        key_node.start_mark,
                    )
                seen[key_node.value] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _node_line(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Line number (1-based) of the YAML node at a pydantic error location, as deep as it exists."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _field_name(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for key in loc:
        if isinstance(key, int):
            parts.append(f"[{key + 1}]")
        else:
            parts.append(("." if parts else "") + str(key))
    return "".join(parts) or "(tiedosto)"


def load_yaml_model(path: Path, model: type[M]) -> M:
    """Read ``path`` as YAML and validate it as ``model``; every problem is reported together."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ContentError(name, [Problem(name, None, "(tiedosto)", "tiedostoa ei löydy")]) from exc
    if len(raw) > MAX_CONTENT_BYTES:
        raise ContentError(name, [Problem(name, None, "(tiedosto)", "tiedosto on liian suuri")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1
        raise ContentError(
            name, [Problem(name, row, "(tiedosto)", f"ei ole UTF-8-tekstiä (tavu {exc.start})")]
        ) from exc
    key = (model, name, hashlib.blake2b(raw, digest_size=20).digest())
    with _PARSED_LOCK:
        if (parsed := _PARSED.get(key)) is not None:
            _PARSED.move_to_end(key)
            return parsed  # type: ignore[return-value]
    parsed = _parse_and_validate(name, text, model)
    with _PARSED_LOCK:
        _PARSED[key] = parsed
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return parsed


def _parse_and_validate(name: str, text: str, model: type[M]) -> M:
    try:
        loader = _NoAliasLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        row = mark.line + 1 if mark else None
        raise ContentError(name, [Problem(name, row, "(YAML)", f"{exc.problem or exc.context}")]) from exc
    except yaml.YAMLError as exc:  # pragma: no cover - other YAML errors carry no mark
        raise ContentError(name, [Problem(name, None, "(YAML)", str(exc))]) from exc
    except RecursionError as exc:  # pragma: no cover - MAX_DEPTH stops nesting well before this
        raise ContentError(name, [Problem(name, None, "(YAML)", "rakenne on liian syvä")]) from exc
    if not isinstance(data, dict):
        row = root.start_mark.line + 1 if root is not None else None
        raise ContentError(
            name, [Problem(name, row, "(tiedosto)", "tiedosto on tyhjä tai ei ole YAML-kartta")]
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            bad = err.get("input")
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, LocatedValueError):  # a model-level check that knows its field
                loc, bad = loc + cause.loc, cause.value
            value = bad if isinstance(bad, str) else None
            problems.append(
                Problem(name, _node_line(root, loc), _field_name(loc), validation_message(err), value)
            )
        raise ContentError(name, problems) from exc


def load_proposal(path: Path) -> ProposalIn:
    """Load and validate a proposal content file; its id must match its file name."""
    proposal = load_yaml_model(path, ProposalIn)
    if path.stem != proposal.id:
        raise ContentError(
            str(path),
            [Problem(str(path), None, "id", "tunnisteen on vastattava tiedostonimeä", proposal.id)],
        )
    return proposal


def dump_proposal_yaml(proposal: ProposalIn, path: Path) -> Path:
    """Write ``proposal`` as a content file that :func:`load_proposal` reads back equal: UTF-8, block
    style, keys in the schema's order, written atomically. Returns ``path``."""
    text = yaml.safe_dump(
        proposal.model_dump(mode="json"),
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=100,
    )
    return write_atomic(path, text)


def load_proposal_by_id(data_dir: Path, proposal_id: str) -> ProposalIn:
    path = data_dir / "proposals" / f"{proposal_id}.yaml"
    if not path.is_file():
        raise UnknownProposalError(proposal_id, f"Sisältötiedostoa {path} ei ole.")
    return load_proposal(path)


def load_roster(path: Path) -> RosterIn:
    """Load and validate a roster file."""
    return load_yaml_model(path, RosterIn)


def select_bodies(roster: RosterIn, body_ids: list[str] | None) -> list[BodyIn]:
    """The bodies named by ``body_ids`` (all when None or empty), in roster order."""
    if not body_ids:
        return list(roster.bodies)
    known = {b.id: b for b in roster.bodies}
    unknown = [b for b in body_ids if b not in known]
    if unknown:
        raise UnknownBodyError(unknown[0], sorted(known))
    wanted = set(body_ids)
    return [b for b in roster.bodies if b.id in wanted]
