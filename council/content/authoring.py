"""Reading a proposal that a coordinator wrote in Word or LibreOffice on ``templates/esityspohja.docx``.

The document's parts, top to bottom (the template explains each in Finnish):

* the title in the Title style;
* key-value tables ("Kenttä | Arvo"): the basic data, the duty description's title and point, the
  reminder policy (empty value: the default);
* the chapters: any Heading 1 / Heading 2 with body paragraphs under it;
* the reserved Heading 1 parts: "Esitys" (the lead, then the points as a numbered list, each followed by
  "Lyhyt otsikko: …", "Päätösehdotus: [päättävä toimielin] päättää, että [vastaanottajassa] …", an
  optional lead paragraph and a bulleted example list), "Lähteet" (one link a paragraph), "Toimenkuva"
  (Heading 2 parts Tarkoitus, Foorumit, Raportointi), "Perustiedot" and "Muistutukset" (tables only).

Paragraphs that begin with "Ohje:" are the template's instructions and are skipped. Paragraphs are
numbered from the start of the document, empty ones and table cells' included (as ``council templates
check`` numbers them). Every problem is collected and raised together as one :class:`ContentError`
whose problems name the paragraph ("kappale N") and the field in Finnish; nothing is returned then.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from council.content.docx_blocks import Block, document_blocks, heading_level, is_instruction, open_docx
from council.errors import ContentError, Problem, validation_message
from models.schemas import LocatedValueError, ProposalIn

PLACEHOLDERS = ("[päättävä toimielin]", "[vastaanottaja]", "[vastaanottajan]", "[vastaanottajassa]")
_PLACEHOLDER = re.compile(r"\[([^\W\d_][^\W\d_ ]*(?: [^\W\d_]+)*)\]")
_OPENING = re.compile(
    r"^\[päättävä toimielin\]\s+päättää\s*,?\s+että\s+\[vastaanottajassa\]\s*(?P<rest>.*)$", re.I | re.S
)
_TYPED_NUMBER = re.compile(r"^(\d{1,2})[.)]\s+(\S.*)$", re.S)
_TYPED_BULLET = re.compile(r"^[-–•*]\s+(\S.*)$", re.S)
_LABELLED = re.compile(r"^(lyhyt otsikko|päätösehdotus)\s*:\s*(.*)$", re.I | re.S)
_EXAMPLES_LABEL = re.compile(r"^esimerkiksi\s*:?$", re.I)

#: Table labels (lower case, without a parenthetical) -> the field's place in ProposalIn and kind.
TABLE_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "lyhyt otsikko": (("short_title",), "text"),
    "lähettäjä": (("sender",), "text"),
    "lähettäjälle": (("sender_allative",), "text"),
    "lähettäjän organisaatio": (("sender_unit",), "text"),
    "vastaanottajat": (("recipients_text",), "text"),
    "valmistelija": (("preparer",), "text"),
    "dnro": (("diary_number",), "text"),
    "tunniste": (("id",), "text"),
    "lähdemerkintä": (("source_note",), "text"),
    "viikkokoosteen vastaanottajat": (("committee_emails",), "emails"),
    "toimenkuvan otsikko": (("duty_description", "title"), "text"),
    "tehtävät kohdasta": (("duty_description", "duties_point"), "text"),
    "ensimmäinen muistutus": (("reminder_policy", "first_after_days"), "text"),
    "muistutusväli": (("reminder_policy", "interval_days"), "text"),
    "muistutuksia enintään": (("reminder_policy", "max_reminders"), "text"),
    "kopio puheenjohtajalle alkaen": (("reminder_policy", "escalate_after"), "text"),
    "puheenjohtajan sähköposti": (("reminder_policy", "escalation_email"), "text"),
    "vastausaika": (("reminder_policy", "deadline_days"), "text"),
    "ohita viikonloput": (("reminder_policy", "skip_weekends"), "bool"),
    "ohita arkipyhät": (("reminder_policy", "skip_holidays"), "bool"),
    "ei muistutuksia heinäkuussa": (("reminder_policy", "skip_july"), "bool"),
}
_TABLE_LABELS = {loc: label[0].upper() + label[1:] for label, (loc, _) in TABLE_FIELDS.items()}
_HEADER_LABELS = {"kenttä", "tieto"}
_RESERVED = ("perustiedot", "esitys", "lähteet", "toimenkuva", "muistutukset")
_DUTY_PARTS = {"tarkoitus": "purpose", "foorumit": "forums", "raportointi": "reporting"}
_POINT_FIELDS = {
    "title": "otsikko",
    "number": "numero",
    "short_title": "lyhyt otsikko",
    "resolution": "päätösehdotus",
    "lead": "johdanto",
    "examples": "esimerkit",
}
_DUTY_FIELDS = {"purpose": "tarkoitus", "forums": "foorumit", "reporting": "raportointi"}


@dataclass
class _Reader:
    file: str
    data: dict[str, Any] = field(default_factory=dict)
    where: dict[tuple[Any, ...], int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    reported: list[tuple[Any, ...]] = field(default_factory=list)
    pending_point: int | None = None  # an empty numbered paragraph: a point whose title is missing
    last_typed: int | None = None  # the number typed by hand before the previous point's title

    def problem(self, row: int | None, loc: tuple[Any, ...], message: str, value: str | None = None) -> None:
        self.problems.append(Problem(self.file, row, field_label(loc), message, value, unit="kappale"))
        self.reported.append(loc)

    def put(self, loc: tuple[Any, ...], value: Any, row: int) -> None:
        target = self.data
        for key in loc[:-1]:
            target = target.setdefault(key, {})
        target[loc[-1]] = value
        self.where[loc] = row


def field_label(loc: tuple[Any, ...]) -> str:
    """The Finnish name of a field at a ProposalIn location: ``("points", 2, "short_title")`` ->
    "kohta 3: lyhyt otsikko"."""
    if loc in _TABLE_LABELS:
        return _TABLE_LABELS[loc]
    head, rest = (loc[0] if loc else ""), loc[1:]
    if head == "title":
        return "Otsikko"
    if head == "proposal_lead":
        return "Esityksen johdanto"
    if head == "sections":
        if not rest:
            return "Luvut"
        return f"Luku {rest[0] + 1}" + (": kappale" if "paragraphs" in rest else ": otsikko")
    if head == "points":
        if not rest:
            return "Kohdat"
        name = _POINT_FIELDS.get(rest[1], "otsikko") if len(rest) > 1 else "otsikko"
        return f"Kohta {rest[0] + 1}: {name}"
    if head == "references":
        return "Lähteet" + (f": linkki {rest[0] + 1}" if rest else "")
    if head == "committee_emails":
        return _TABLE_LABELS[("committee_emails",)]
    if head == "duty_description":
        if rest and rest[0] in _DUTY_FIELDS:
            return f"Toimenkuva: {_DUTY_FIELDS[rest[0]]}"
        return "Toimenkuva"
    if head == "reminder_policy":
        return "Muistutukset"
    return str(head) or "(tiedosto)"


def read_authoring_docx(path: Path) -> ProposalIn:
    """Read a proposal written on the authoring template; every problem is reported together."""
    name = str(path)
    document = open_docx(path)
    reader = _Reader(name)
    blocks, tables = document_blocks(document)
    for rows in tables:
        _read_table(reader, rows)
    _read_body(reader, blocks)
    _check_placeholders(reader, [*blocks, *(cell for rows in tables for row in rows for cell in row)])
    proposal = _validate(reader)
    if reader.problems:
        reader.problems.sort(key=lambda p: (p.row is None, p.row or 0))
        raise ContentError(name, reader.problems)
    assert proposal is not None
    return proposal


def _read_table(reader: _Reader, rows: list[list[Block]]) -> None:
    for cells in rows:
        if not cells or not cells[0].text:
            continue
        label = cells[0].text.split("(")[0].strip().rstrip(":").strip().lower()
        if label in _HEADER_LABELS:
            continue
        if label not in TABLE_FIELDS:
            reader.problems.append(
                Problem(reader.file, cells[0].number, cells[0].text, "tuntematon kenttä", unit="kappale")
            )
            continue
        loc, kind = TABLE_FIELDS[label]
        cell = cells[1] if len(cells) > 1 else cells[0]
        if loc in reader.where:
            reader.problem(cell.number, loc, "kenttä on taulukoissa useammin kuin kerran")
            continue
        reader.where[loc] = cell.number
        value = cell.text if len(cells) > 1 else ""
        if not value:
            continue  # optional fields take their defaults; a missing required one is reported
        if kind == "emails":
            emails = [e for e in re.split(r"[\s,;]+", value) if e]
            reader.put(loc, emails, cell.number)
            for index in range(len(emails)):
                reader.where[(*loc, index)] = cell.number
        elif kind == "bool":
            answers = {"kyllä": True, "ei": False}
            reader.put(loc, answers.get(value.lower(), value), cell.number)
        else:
            reader.put(loc, value, cell.number)


def _read_body(reader: _Reader, blocks: list[Block]) -> None:
    part: str | None = None  # None: before any heading; "section": a chapter; or a reserved part
    sections: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    references: list[str] = []
    duty: dict[str, list[str]] = {}
    duty_part: str | None = None
    title_seen = False
    for block in blocks:
        if not block.text:
            if heading_level(block) == 0:
                reader.where.setdefault(("title",), block.number)
            if part == "esitys" and block.list_kind == "number":
                reader.pending_point = block.number  # a point only if its other paragraphs follow
            continue
        if is_instruction(block):
            continue
        if block.style.lower() == "ohje":
            reader.problems.append(
                Problem(
                    reader.file,
                    block.number,
                    "(kappale)",
                    "kappale on Ohje-tyyliä, joten se jäisi "
                    "huomiotta; vaihda sen tyyliksi Normaali tai poista se",
                    block.text,
                    unit="kappale",
                )
            )
            continue
        level = heading_level(block)
        if level == 0:
            if title_seen:
                reader.problem(
                    block.number, ("title",), "asiakirjassa saa olla vain yksi Otsikko-tyylinen kappale"
                )
            else:
                title_seen = True
                reader.put(("title",), block.text, block.number)
            continue
        if level is not None and level > 2:
            reader.problem(block.number, ("sections",), "käytä vain otsikkotasoja 1 ja 2", block.text)
            continue
        if level is not None:
            name = block.text.rstrip(":").strip().lower()
            if part == "toimenkuva" and level == 2:
                if name in _DUTY_PARTS:
                    duty_part = _DUTY_PARTS[name]
                    reader.where[("duty_description", duty_part)] = block.number
                    duty.setdefault(duty_part, [])
                else:
                    reader.problem(
                        block.number,
                        ("duty_description",),
                        "Toimenkuva-osan alaotsikoiden on oltava Tarkoitus, Foorumit ja Raportointi",
                        block.text,
                    )
                continue
            if level == 1 and name in _RESERVED:
                part = name
                reader.where[
                    {
                        "esitys": ("points",),
                        "lähteet": ("references",),
                        "toimenkuva": ("duty_description",),
                        "muistutukset": ("reminder_policy",),
                    }.get(name, (name,))
                ] = block.number
                if name == "esitys":
                    reader.where[("proposal_lead",)] = block.number
                continue
            if part not in (None, "section") and level == 2:
                reader.problem(
                    block.number,
                    ("sections",),
                    f"osassa {part.capitalize()} ei voi olla alaotsikkoa",
                    block.text,
                )
                continue
            part = "section"
            index = len(sections)
            sections.append({"heading": block.text, "level": level, "paragraphs": []})
            reader.where[("sections", index)] = block.number
            reader.where[("sections", index, "heading")] = block.number
            continue
        if part == "section":
            index = len(sections) - 1
            reader.where[("sections", index, "paragraphs", len(sections[-1]["paragraphs"]))] = block.number
            sections[-1]["paragraphs"].append(block.text)
        elif part == "esitys":
            _read_point_block(reader, block, points)
        elif part == "lähteet":
            reader.where[("references", len(references))] = block.number
            references.append(_strip_bullet(block))
        elif part == "toimenkuva":
            if duty_part is None:
                reader.problem(
                    block.number,
                    ("duty_description",),
                    "kirjoita toimenkuvan teksti alaotsikoiden Tarkoitus, Foorumit tai Raportointi alle",
                )
                continue
            reader.where[("duty_description", duty_part, len(duty[duty_part]))] = block.number
            duty[duty_part].append(_strip_bullet(block))
        else:
            where = "ennen ensimmäistä otsikkoa" if part is None else f"osassa {part.capitalize()}"
            reader.problem(
                block.number,
                ("sections",),
                f"kappale {where} ei kuulu mihinkään kenttään; kirjoita se luvun otsikon alle tai taulukkoon",
                block.text,
            )
    _finish_body(reader, title_seen, sections, points, references, duty)


def _strip_bullet(block: Block) -> str:
    typed = _TYPED_BULLET.match(block.text)
    return typed.group(1) if typed and block.list_kind is None else block.text


def _new_point(reader: _Reader, points: list[dict[str, Any]], row: int, title: str | None) -> int:
    index = len(points)
    points.append({"number": index + 1, "examples": []} | ({"title": title} if title else {}))
    for key in ("", "title", "number"):
        reader.where[("points", index, key) if key else ("points", index)] = row
    if not title:
        reader.problem(row, ("points", index, "title"), f"kohdan {index + 1} otsikko puuttuu")
    return index


def _read_point_block(reader: _Reader, block: Block, points: list[dict[str, Any]]) -> None:
    typed_number = _TYPED_NUMBER.match(block.text) if block.list_kind is None else None
    pending, reader.pending_point = reader.pending_point, None
    if block.list_kind == "number" or typed_number:
        title = typed_number.group(2) if typed_number else block.text
        index = _new_point(reader, points, block.number, title)
        if typed_number:
            # a gap is reported once: the next point continues from the number typed
            typed, expected = int(typed_number.group(1)), (reader.last_typed or index) + 1
            reader.last_typed = typed
            if typed != expected:
                reader.problem(
                    block.number,
                    ("points", index, "number"),
                    f"kohtien numerointi ei etene järjestyksessä: tämän kohdan numeron pitäisi olla {expected}",
                    str(typed),
                )
        return
    labelled = _LABELLED.match(block.text)
    if pending is not None:
        _new_point(reader, points, pending, None)
    elif labelled and not points:
        reader.problem(
            block.number,
            ("points",),
            "kirjoita tämä numeroidun kohdan alle (kohdan otsikko numeroituna luettelona)",
            block.text,
        )
        return
    if not points:
        if "proposal_lead" in reader.data:
            reader.problem(
                block.number,
                ("proposal_lead",),
                "Esitys-osan johdannon on oltava yksi kappale ennen numeroituja kohtia; numeroi kohdat "
                "numeroidulla luettelolla tai kirjoita numero kohdan alkuun (1. …)",
                block.text,
            )
            return
        reader.put(("proposal_lead",), block.text, block.number)
        return
    index = len(points) - 1
    point = points[-1]
    if labelled:
        key = "short_title" if labelled.group(1).lower() == "lyhyt otsikko" else "resolution"
        value = labelled.group(2).strip()
        reader.where[("points", index, key)] = block.number
        if key in point:
            reader.problem(
                block.number, ("points", index, key), f"kohdassa {index + 1} on kaksi kertaa tämä tieto"
            )
        elif key == "resolution":
            if (resolution := _resolution(reader, block, index, value)) is not None:
                point[key] = resolution
        elif value:
            point[key] = value
        return
    if _EXAMPLES_LABEL.match(block.text):
        return
    if block.list_kind == "bullet" or _TYPED_BULLET.match(block.text):
        reader.where[("points", index, "examples", len(point["examples"]))] = block.number
        point["examples"].append(_strip_bullet(block))
        return
    reader.where[("points", index, "lead")] = block.number
    if "lead" in point:
        reader.problem(
            block.number,
            ("points", index, "lead"),
            f"kohdan {index + 1} johdannon on oltava yksi kappale; esimerkit kirjoitetaan luettelona",
            block.text,
        )
        return
    point["lead"] = block.text


def _resolution(reader: _Reader, block: Block, index: int, value: str) -> str | None:
    """The part of the draft resolution after "[päättävä toimielin] päättää, että [vastaanottajassa]",
    without the closing ';' or '.' (the documents add it)."""
    opening = _OPENING.match(value)
    if opening is None:
        if value:
            reader.problem(
                block.number,
                ("points", index, "resolution"),
                "päätösehdotuksen on alettava sanoin '[päättävä toimielin] päättää, että [vastaanottajassa]'",
                value,
            )
        return None
    rest = opening.group("rest").strip()
    if rest.endswith((";", ".")):
        rest = rest[:-1].rstrip()
    return rest or None


def _finish_body(
    reader: _Reader,
    title_seen: bool,
    sections: list[dict[str, Any]],
    points: list[dict[str, Any]],
    references: list[str],
    duty: dict[str, list[str]],
) -> None:
    if not title_seen:
        reader.problem(
            reader.where.get(("title",)),
            ("title",),
            "esityksen otsikko puuttuu; kirjoita se asiakirjan alkuun Otsikko-tyylillä",
        )
    if not sections:
        reader.problem(
            None, ("sections",), "esityksessä ei ole yhtään lukua; kirjoita luvut Otsikko 1 -tyylillä"
        )
    for index, section in enumerate(sections):
        if not section["paragraphs"]:
            reader.problem(
                reader.where[("sections", index)],
                ("sections", index, "paragraphs"),
                f"luvussa '{section['heading']}' ei ole yhtään kappaletta",
            )
    reader.data["sections"] = sections
    if ("points",) not in reader.where:
        reader.problem(None, ("points",), "Esitys-osa puuttuu; lisää Otsikko 1 -tyylinen otsikko Esitys")
    elif not points:
        reader.problem(
            reader.where[("points",)], ("points",), "Esitys-osassa ei ole yhtään numeroitua kohtaa"
        )
    if ("points",) in reader.where and "proposal_lead" not in reader.data:
        reader.problem(reader.where[("points",)], ("proposal_lead",), "Esitys-osasta puuttuu johdantokappale")
    for index, point in enumerate(points):
        row = reader.where[("points", index)]
        for key, name in (("short_title", "lyhyt otsikko"), ("resolution", "päätösehdotus")):
            if key not in point and ("points", index, key) not in reader.reported:
                reader.problem(
                    reader.where.get(("points", index, key), row),
                    ("points", index, key),
                    f"kohdasta {index + 1} puuttuu {name}",
                )
    reader.data["points"] = points
    reader.data["references"] = references
    if ("duty_description",) not in reader.where:
        # No Toimenkuva part: a proposal without an NGO liaison (no duty description is sent). Its
        # table's values without the heading are still an error: the heading was lost, not the part.
        if "duty_description" in reader.data:
            reader.problem(
                None,
                ("duty_description",),
                "Toimenkuva-osan otsikko puuttuu; lisää Otsikko 1 -tyylinen otsikko Toimenkuva "
                "tai poista koko osa, jos esityksessä ei ole järjestöyhdyshenkilöä",
            )
    else:
        for key in ("purpose", "reporting"):
            if not duty.get(key):
                reader.problem(
                    reader.where.get(("duty_description", key), reader.where[("duty_description",)]),
                    ("duty_description", key),
                    f"toimenkuvasta puuttuu {_DUTY_FIELDS[key]}",
                )
        reader.data.setdefault("duty_description", {}).update(duty)
    if "id" not in reader.data:
        if isinstance(reader.data.get("short_title"), str):
            reader.put(("id",), slug(reader.data["short_title"]), reader.where[("short_title",)])
        else:
            reader.reported.append(("id",))  # made from the short title, whose absence is reported


def _check_placeholders(reader: _Reader, blocks: list[Block]) -> None:
    """Report a bracketed word that is not a placeholder, or a placeholder out of place: the
    documents fill them in only in the draft resolutions (each body's own case forms)."""
    opening_rows = {row for loc, row in reader.where.items() if len(loc) == 3 and loc[2] == "resolution"}
    for block in blocks:
        if not block.text or is_instruction(block):
            continue
        text = block.text
        in_resolution = False
        if block.number in opening_rows and (opening := _OPENING.match(_LABELLED.sub(r"\2", text).strip())):
            text, in_resolution = opening.group("rest"), True
        for match in _PLACEHOLDER.finditer(text):
            found = match.group(0)
            if in_resolution and found.lower() in PLACEHOLDERS:
                continue  # filled in for each body where the resolution is printed
            if found.lower() in PLACEHOLDERS:
                message = (
                    f"paikkamerkki {found} täytetään vain päätösehdotuksessa "
                    "('[päättävä toimielin] päättää, että [vastaanottajassa] …'); kirjoita tämä kohta ilman sitä"
                )
            else:
                message = f"tuntematon paikkamerkki {found}; käytettävissä ovat {', '.join(PLACEHOLDERS)}"
            reader.problems.append(
                Problem(reader.file, block.number, "Paikkamerkki", message, found, unit="kappale")
            )


def slug(text: str) -> str:
    """A proposal id from its short title: 'Järjestöjen yhteistyömalli' -> 'jarjestojen-yhteistyomalli'."""
    plain = unicodedata.normalize("NFKD", text.lower().translate(str.maketrans("äöå", "aoa")))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:100].rstrip("-")


def _validate(reader: _Reader) -> ProposalIn | None:
    try:
        return ProposalIn.model_validate(reader.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            bad = err.get("input")
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, LocatedValueError):
                loc, bad = loc + cause.loc, cause.value
            if any(loc[: len(done)] == done for done in reader.reported):
                continue
            row = next(
                (reader.where[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in reader.where), None
            )
            message = validation_message(err)
            if err["type"] == "string_pattern_mismatch" and loc[:1] == ("references",):
                message = "anna linkki muodossa https://… ilman välilyöntejä"
            elif err["type"] == "string_pattern_mismatch" and loc == ("id",):
                message = "tunnisteessa saa olla vain pieniä kirjaimia a–z, numeroita ja väliviivoja (2–100 merkkiä)"
            value = bad if isinstance(bad, str) else None
            reader.problems.append(
                Problem(reader.file, row, field_label(loc), message, value, unit="kappale")
            )
        return None
