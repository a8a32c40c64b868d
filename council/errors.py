"""Every error the service raises on purpose, in one hierarchy.

::

    CouncilError                      base: catch this at a boundary (CLI, flow) to show a message
    ├── ContentError                  a content file (proposal, roster, import) is invalid
    │   └── (carries file, row, field and the bad value for each problem found)
    ├── UnknownBodyError              a body id that is not in the roster
    ├── UnknownProposalError          a proposal id that has no content file / no database row
    ├── InvalidTransitionError        a status change the workflow does not allow (body, point, from, to)
    ├── DecisionConflictError         the cell changed since it was read (optimistic lock), or is
    │                                 already decided and no version to correct was given
    ├── InvalidDecisionError          a decision that breaks a rule (future date, liaison on point 2…)
    ├── TemplateRenderError           a template failed to render (names template and variable)
    ├── UnsafePathError               a file name or id would escape outputs/
    ├── MailDeliveryError             the SMTP server refused or lost a message
    │   └── RecipientsRefusedError    the server refused one or more recipients
    ├── ConfigurationError            a setting that does not validate (names COUNCIL_<NAME>), or
    │                                 settings that cannot work together (login without password)
    ├── DatabaseNotReadyError         the schema is missing or older than the code; run `council init`
    ├── DatabaseBusyError             another writer held the SQLite lock past the busy timeout
    └── DatabaseUnavailableError      the database cannot be opened, written or reached (names the URL)

Errors carry what a user needs to fix the input: file, row, field and the bad value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from pydantic import BaseModel, ValidationError

from models.enums import STATUS_LABEL_FI, DecisionStatus
from models.results import Refusal


class CouncilError(Exception):
    """Base class of the service's own errors.

    ``advice`` says in one Finnish sentence what the user can do about it; a flow shows it after
    "Mitä tehdä:" in the run's message and artifact.
    """

    advice = "Korjaa tiedot ja aja uudelleen. Mitään ei tallennettu."

    def refusal(self) -> Refusal:
        """What happened and what to do, for a run that stops without storing anything."""
        return Refusal(what_happened=str(self).rstrip(".") + ".", what_to_do=self.advice)


def _limit(ctx: dict, key: str) -> str:
    return str(ctx.get(key, ""))


#: pydantic's own error types in Finnish (``ctx`` holds the limits); our own checks raise Finnish
#: ValueErrors, which come through as "value_error".
_FINNISH: dict[str, Callable[[dict], str]] = {
    "missing": lambda c: "pakollinen tieto puuttuu",
    "string_too_short": lambda c: "ei saa olla tyhjä"
    if _limit(c, "min_length") == "1"
    else f"vähintään {_limit(c, 'min_length')} merkkiä",
    "string_too_long": lambda c: f"liian pitkä: enintään {_limit(c, 'max_length')} merkkiä",
    "string_type": lambda c: "on oltava tekstiä",
    "string_pattern_mismatch": lambda c: "ei ole oikeassa muodossa",
    "int_type": lambda c: "on oltava kokonaisluku",
    "int_parsing": lambda c: "on oltava kokonaisluku",
    "int_from_float": lambda c: "on oltava kokonaisluku (ilman desimaaleja)",
    "float_parsing": lambda c: "on oltava luku",
    "greater_than_equal": lambda c: f"on oltava vähintään {_limit(c, 'ge')}",
    "greater_than": lambda c: f"on oltava suurempi kuin {_limit(c, 'gt')}",
    "less_than_equal": lambda c: f"saa olla enintään {_limit(c, 'le')}",
    "less_than": lambda c: f"on oltava pienempi kuin {_limit(c, 'lt')}",
    "bool_type": lambda c: "on oltava kyllä tai ei",
    "bool_parsing": lambda c: "on oltava kyllä tai ei",
    "date_type": lambda c: "anna päivämäärä muodossa 15.3.2021",
    "date_parsing": lambda c: "anna päivämäärä muodossa 15.3.2021",
    "date_from_datetime_parsing": lambda c: "anna päivämäärä muodossa 15.3.2021",
    "date_from_datetime_inexact": lambda c: "anna pelkkä päivämäärä ilman kellonaikaa",
    "enum": lambda c: f"sallitut arvot: {_limit(c, 'expected')}",
    "literal_error": lambda c: f"sallitut arvot: {_limit(c, 'expected')}",
    "extra_forbidden": lambda c: "tuntematon kenttä",
    "url_type": lambda c: "on oltava http(s)-osoite",
    "url_parsing": lambda c: "ei ole kelvollinen http(s)-osoite",
    "url_scheme": lambda c: "linkin on oltava http(s)-osoite",
    "url_too_long": lambda c: "osoite on liian pitkä",
    "list_type": lambda c: "on oltava luettelo",
    "too_short": lambda c: f"vähintään {_limit(c, 'min_length')} kohtaa",
    "too_long": lambda c: f"enintään {_limit(c, 'max_length')} kohtaa",
    "dict_type": lambda c: "on oltava ryhmä kenttiä",
    "model_type": lambda c: "on oltava ryhmä kenttiä",
    "model_attributes_type": lambda c: "on oltava ryhmä kenttiä",
    "frozen_instance": lambda c: "tietoa ei voi muuttaa",
}


def validation_message(error: dict) -> str:
    """A pydantic error's message for a person, in Finnish: our own checks' text without pydantic's
    "Value error, " prefix, pydantic's built-in errors translated by their type."""
    kind = str(error.get("type", ""))
    if kind in _FINNISH:
        return _FINNISH[kind](error.get("ctx") or {})
    message = str(error.get("msg", ""))
    if kind in ("value_error", "assertion_error"):
        return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return "virheellinen arvo"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a content file: where it is and what is wrong. ``unit`` names what ``row``
    counts: a line ("rivi") of a YAML or CSV file, a paragraph ("kappale") of a DOCX file."""

    file: str
    row: int | None
    field: str
    message: str
    value: str | None = None
    unit: str = "rivi"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", {self.unit} {self.row}"
        text = f"{where}, kenttä '{self.field}': {self.message}"
        if self.value is not None:
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            text += f" (arvo: {shown!r})"
        return text


#: A content error shows at most this many problems (and how many more there are).
MAX_SHOWN_PROBLEMS = 50


class ContentError(CouncilError):
    """A content file is invalid; ``problems`` lists every problem found, not just the first."""

    advice = "Korjaa tiedostosta mainitut rivit tai kappaleet ja kentät ja aja uudelleen. Mitään ei tallennettu."

    def __init__(self, file: str | Path, problems: list[Problem]):
        self.file = str(file)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems[:MAX_SHOWN_PROBLEMS])
        if len(problems) > MAX_SHOWN_PROBLEMS:
            lines += f"\n  … ja {len(problems) - MAX_SHOWN_PROBLEMS} muuta virhettä (korjaa nämä ensin)"
        super().__init__(f"Virheellinen tiedosto {self.file} ({len(problems)} virhettä):\n{lines}")


class UnknownBodyError(CouncilError):
    advice = "Valitse vastaanottaja luettelosta tai lisää se vastaanottajaluetteloon (data/rosters)."

    def __init__(self, body_id: str, known: list[str] | None = None):
        self.body_id = body_id
        hint = f" Tunnetut: {', '.join(known)}." if known else ""
        super().__init__(f"Tuntematon vastaanottaja {body_id!r}.{hint}")


class UnknownProposalError(CouncilError):
    advice = "Tarkista esityksen tunniste (COUNCIL_PROPOSAL_ID) ja aja council init."

    def __init__(self, proposal_id: str, detail: str = ""):
        self.proposal_id = proposal_id
        super().__init__(f"Tuntematon esitys {proposal_id!r}. {detail}".strip())


class InvalidTransitionError(CouncilError):
    advice = "Katso kohdan tila tilannesivulta tai komennolla council history ja kirjaa sen mukaan."

    def __init__(self, body_id: str, point: int, old: str, new: str):
        self.body_id, self.point, self.old, self.new = body_id, point, old, new
        super().__init__(
            f"{body_id}, kohta {point}: tilasta {status_label(old)} ei voi siirtyä tilaan {status_label(new)}"
        )


def status_label(status: str) -> str:
    """A workflow status in Finnish ("päätetty"), never its internal name ("decided")."""
    try:
        return f"'{STATUS_LABEL_FI[DecisionStatus(status)]}'"
    except ValueError:
        return repr(status)


class DecisionConflictError(CouncilError):
    advice = (
        "Katso kohdan nykyinen versio tilannesivulta tai komennolla council history; jos haluat "
        "korjata kirjauksen, anna se kentässä Korjattava versio ja aja uudelleen."
    )

    def __init__(self, body_id: str, point: int, detail: str):
        self.body_id, self.point = body_id, point
        super().__init__(f"{body_id}, kohta {point}: {detail}")


class InvalidDecisionError(CouncilError):
    def __init__(self, body_id: str, point: int | None, field: str, detail: str):
        self.body_id, self.point, self.field = body_id, point, field
        where = f"{body_id}, kohta {point}" if point is not None else body_id
        super().__init__(f"{where}, kenttä '{field}': {detail}")


class InvalidInputError(CouncilError):
    """Input that passed the form but not the service's rules; each problem names the field by
    its Finnish title ("Kokouspäivä: 15.3.2030 on tulevaisuudessa")."""

    advice = "Korjaa mainittu kenttä lomakkeella (Run → Custom run) ja käynnistä ajo uudelleen. Mitään ei tallennettu."

    def __init__(self, what: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"{what}: " + "; ".join(problems))


#: pydantic's own messages by error type, in Finnish (our validators' messages are Finnish already).
PYDANTIC_FI = {
    "url_parsing": "anna http(s)-osoite, esim. https://kunta.fi/poytakirja",
    "url_scheme": "linkin on oltava http(s)-osoite",
    "url_type": "anna http(s)-osoite",
    "string_too_long": "enintään {max_length} merkkiä",
    "string_too_short": "ei saa olla tyhjä",
    "greater_than_equal": "vähintään {ge}",
    "less_than_equal": "enintään {le}",
    "int_parsing": "anna kokonaisluku",
    "int_type": "anna kokonaisluku",
    "missing": "puuttuu",
    "extra_forbidden": "tuntematon kenttä",
    "date_parsing": "anna päivämäärä muodossa 15.3.2021",
    "date_from_datetime_parsing": "anna päivämäärä muodossa 15.3.2021",
    "enum": "ei ole sallittu arvo",
    "literal_error": "ei ole sallittu arvo",
}


def finnish_message(error: dict) -> str:
    """One pydantic error's message in Finnish: ours as they are, pydantic's by its error type."""
    template = PYDANTIC_FI.get(str(error.get("type")))
    if template is None:
        return validation_message(error)
    return template.format(**(error.get("ctx") or {}))


def field_problems(exc: ValidationError, model: type[BaseModel]) -> list[str]:
    """A pydantic error as "Title: message" lines, each field named by its Finnish ``title`` in
    ``model`` (nested models too), never by its attribute name."""
    problems = []
    for error in exc.errors():
        titles: list[str] = []
        current: type[BaseModel] | None = model
        for part in error["loc"]:
            if isinstance(part, int):
                titles.append(f"rivi {part + 1}")
                continue
            info = current.model_fields.get(str(part)) if current else None
            titles.append(info.title if info and info.title else str(part))
            annotation = info.annotation if info else None
            for candidate in (annotation, *get_args(annotation)):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    current = candidate
                    break
            else:
                current = None
        where = ", ".join(titles)
        message = finnish_message(error)
        problems.append(f"{where}: {message}" if where else message)
    return problems


class TemplateRenderError(CouncilError):
    def __init__(self, template: str, detail: str):
        self.template = template
        super().__init__(f"Mallipohjan {template} täyttö epäonnistui: {detail}")


class UnsafePathError(CouncilError):
    def __init__(self, value: str):
        self.value = value
        super().__init__(f"Turvaton tiedostonimi tai tunniste: {value!r}")


class MailDeliveryError(CouncilError):
    """A message not delivered. ``permanent``: do not retry automatically. ``maybe_delivered``: the
    server may have passed it on to some recipients (a partial refusal, a connection lost during
    the send), so sending it again could duplicate it."""

    def __init__(self, message: str, *, permanent: bool = False, maybe_delivered: bool = False):
        self.permanent = permanent
        self.maybe_delivered = maybe_delivered
        super().__init__(message)


class RecipientsRefusedError(MailDeliveryError):
    """Recipients the server refused. Permanent unless told otherwise: when the message reached the
    other recipients, sending it again would duplicate it to them."""

    def __init__(self, refused: dict[str, str], *, permanent: bool = True, maybe_delivered: bool = False):
        self.refused = refused
        detail = "; ".join(f"{addr}: {why}" for addr, why in refused.items())
        super().__init__(
            f"SMTP-palvelin hylkäsi vastaanottajat: {detail}",
            permanent=permanent,
            maybe_delivered=maybe_delivered,
        )


class ConfigurationError(CouncilError):
    pass


class DatabaseUnavailableError(CouncilError):
    def __init__(self, where: str, detail: str):
        self.where = where
        super().__init__(
            f"Tietokantaa {where + ' ' if where else ''}ei voi käyttää: {detail}. Tarkista COUNCIL_DATABASE_URL "
            "(tiedoston kansio on olemassa ja kirjoitettavissa, PostgreSQL-tietokanta on luotu) "
            "ja aja council init."
        )


class DatabaseNotReadyError(CouncilError):
    def __init__(self, detail: str):
        super().__init__(f"Tietokantaa ei ole alustettu ({detail}). Aja ensin: council init")


class DatabaseBusyError(CouncilError):
    def __init__(self, detail: str):
        super().__init__(
            f"Tietokanta on varattu ({detail}). Mitään ei tallennettu; yritä hetken päästä uudelleen."
        )


#: Errors a user causes and can fix (bad input, a conflict, a rule only the service can check): a
#: flow ends its run with their Refusal, logged as a warning without a traceback. Anything else is
#: a fault of the service or its surroundings.
INPUT_ERRORS: tuple[type[CouncilError], ...] = (
    ContentError,
    UnknownBodyError,
    UnknownProposalError,
    InvalidTransitionError,
    DecisionConflictError,
    InvalidDecisionError,
    InvalidInputError,
    UnsafePathError,
)
