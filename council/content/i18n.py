"""Language of a body's documents and emails: Finnish (fi) or Swedish (sv).

Templates come in both languages with the same variables and one context model
(``esitys.docx`` / ``esitys.sv.docx``, ``email/esitys.txt`` / ``email/esitys.sv.txt``); the phrases
that the code composes live in ``templates/wording.yaml`` beside them, where a secretary edits them
(:data:`PHRASES` says which placeholders each may use). Dates are 15.2.2021 in both languages.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from string import Formatter

from pydantic import BaseModel, ConfigDict, model_validator

from council.config import TEMPLATES_DIR
from models.enums import Language, Outcome
from models.schemas import ProposalIn

_translations: dict[tuple[Path, float], ProposalIn] = {}

WORDING_FILE = TEMPLATES_DIR / "wording.yaml"

#: Every phrase the code composes, with the placeholders it supplies (a phrase may use fewer).
PHRASES: dict[str, frozenset[str]] = {
    key: frozenset(names)
    for key, names in {
        "proposal_type": (),
        "duty_type": (),
        "report_type": (),
        "reminder_note": (),
        "resolution_intro": ("deciding_body", "name_inessive"),
        "resolution_outro": ("sender_allative",),
        "duty_title": ("name", "name_genitive", "title", "title_lower"),
        "duties_lead": (),
        "agenda": ("date",),
        "file_proposal": ("name",),
        "file_reminder": ("name", "round"),
        "file_duty": ("name",),
        "file_duty_filled": ("name",),
        "file_report": ("date",),
        "report_title": ("short_title",),
        "report_summary": ("sent", "decided", "total", "percent", "date"),
        "report_reminders": ("name", "count", "last"),
        "report_no_reminders": (),
        "report_overdue": ("name", "deadline", "days", "points"),
        "file_metadata": ("document",),
        "attachment_line": ("number", "label", "files"),
        "label_proposal": (),
        "label_reminder": (),
        "label_duty": (),
        "label_duty_filled": (),
        "label_metadata": (),
        "relation_annex": ("title",),
    }.items()
}


class WordingIn(BaseModel):
    """templates/wording.yaml: the fixed phrases in Finnish and Swedish, and the outcomes in Swedish."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fi: dict[str, str]
    sv: dict[str, str]
    outcomes_sv: dict[Outcome, str]

    @model_validator(mode="after")
    def _complete(self) -> WordingIn:
        problems = []
        for lang in ("fi", "sv"):
            phrases = getattr(self, lang)
            missing = sorted(set(PHRASES) - set(phrases))
            unknown = sorted(set(phrases) - set(PHRASES))
            if missing:
                problems.append(f"{lang}: puuttuu {', '.join(missing)}")
            if unknown:
                problems.append(f"{lang}: tuntematon {', '.join(unknown)}")
            for key, phrase in phrases.items():
                used = {name for _, name, _, _ in Formatter().parse(phrase) if name is not None}
                extra = sorted(used - PHRASES.get(key, frozenset(used)))
                if extra:
                    problems.append(
                        f"{lang}.{key}: tuntematon paikkamerkki {{{extra[0]}}} "
                        f"(sallitut: {', '.join(sorted(PHRASES[key])) or 'ei yhtään'})"
                    )
        missing_outcomes = [o.value for o in Outcome if o not in self.outcomes_sv]
        if missing_outcomes:
            problems.append(f"outcomes_sv: puuttuu {', '.join(missing_outcomes)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


_wording: dict[tuple[Path, float], WordingIn] = {}


def wording(path: Path = WORDING_FILE) -> WordingIn:
    """The fixed phrases, read once per change of ``path`` (a file a secretary may edit)."""
    from council.content.loading import load_yaml_model

    key = (path, path.stat().st_mtime if path.exists() else 0.0)
    if key not in _wording:
        _wording[key] = load_yaml_model(path, WordingIn)
    return _wording[key]


def text(lang: str, key: str, **values: object) -> str:
    """The phrase ``key`` in ``lang`` (Finnish for any other) with its placeholders filled."""
    phrases = wording().sv if lang == Language.sv.value else wording().fi
    return phrases[key].format(**values)


def outcome_label(outcome: str, lang: str) -> str:
    """The stored (Finnish) outcome in the body's language."""
    if lang == Language.sv.value:
        try:
            return wording().outcomes_sv[Outcome(outcome)]
        except ValueError:
            return outcome
    return outcome


def localized(template_name: str, lang: str) -> str:
    """'esitys.docx' → 'esitys.sv.docx' for Swedish; Finnish is the unsuffixed original."""
    if lang in (None, "", Language.fi.value):
        return template_name
    path = PurePath(template_name)
    return str(path.with_name(f"{path.stem}.{lang}{path.suffix}"))


def translated(proposal: ProposalIn, lang: str) -> ProposalIn:
    """The proposal's content in ``lang`` (``data/proposals/<id>.<lang>.yaml``), when that file exists.

    Without a translation the Finnish content is used inside the ``lang`` templates.
    """
    if lang in (None, "", Language.fi.value):
        return proposal
    from council.config import get_settings
    from council.content.loading import load_yaml_model
    from council.errors import ContentError, Problem

    settings = get_settings()
    path = settings.path(settings.data_dir) / "proposals" / f"{proposal.id}.{lang}.yaml"
    if not path.is_file():
        return proposal
    key = (path, path.stat().st_mtime)
    if key not in _translations:
        loaded = load_yaml_model(path, ProposalIn)
        if loaded.id != proposal.id or len(loaded.points) != len(proposal.points):
            raise ContentError(
                str(path),
                [
                    Problem(
                        str(path), None, "id", "käännöksen tunnisteen ja kohtien on vastattava alkuperäistä"
                    )
                ],
            )
        if loaded.duties_point != proposal.duties_point:
            # Whether a duty description is sent, and which point names the liaison, is the Finnish
            # file's to say: a body must not get a duty description the others do not.
            raise ContentError(
                str(path),
                [
                    Problem(
                        str(path),
                        None,
                        "duty_description",
                        "käännöksessä on oltava järjestöyhdyshenkilön toimenkuva (samasta kohdasta) "
                        "täsmälleen silloin, kun alkuperäisessä on",
                    )
                ],
            )
        # One case, one diary number: the committee's Dnro is the Finnish file's in every language.
        _translations[key] = loaded.model_copy(update={"diary_number": proposal.diary_number})
    return _translations[key]
