"""The field types every way in shares: content files, forms, CLI options, CSV/XLSX rows, settings.

A value refused in one path is refused in all, with the same Finnish message:

* ``Text`` (paragraphs) and ``Line`` (one line) refuse C0/C1 control characters, the Unicode line
  and paragraph separators (U+2028, U+2029) and the bidirectional controls (U+202A–U+202E,
  U+2066–U+2069, U+200E, U+200F, U+061C) that would reorder what a reader sees; ``Line`` also
  refuses line breaks. Both are stripped and bounded.
* ``Email`` is a bare address (addr-spec) only: no display name, comment, group or list, so what a
  reviewer reads is where the mail goes. A domain with ä/ö is stored in its IDNA (``xn--``) form,
  which every SMTP server accepts; a local part (before @) with non-ASCII letters would need
  SMTPUTF8 and is refused at input.
* ``WorkTime`` is a positive amount with its unit ("8 h/kk", "10 % työajasta").
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BeforeValidator, StringConstraints

# C0 controls (TAB, LF and CR are judged by the field; NEL U+0085 is C1), line/paragraph
# separators, every bidirectional formatting character,
# and the noncharacters U+FFFE/U+FFFF, which XML (so DOCX) cannot hold.
_FORBIDDEN = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ufffe\uffff]"
)
_BREAKS = re.compile(r"[\r\n]")
_NAMES = {
    "\u2028": "rivierotin (U+2028)",
    "\u2029": "kappale-erotin (U+2029)",
    "\u200e": "suuntamerkki (U+200E)",
    "\u200f": "suuntamerkki (U+200F)",
    "\u061c": "suuntamerkki (U+061C)",
    "\ufffe": "ei-merkki (U+FFFE)",
    "\uffff": "ei-merkki (U+FFFF)",
}
_WORK_TIME = re.compile(r"^(\d+(?:[.,]\d+)?)\s*[^\d\s.,]")  # a positive amount, then its unit


def forbidden_character(value: str) -> str | None:
    """A Finnish name of the first character no text field may hold, or None."""
    found = _FORBIDDEN.search(value)
    if found is None:
        return None
    char = found.group()
    if char in _NAMES:
        return _NAMES[char]
    if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        return f"tekstin suunnan ohjausmerkki (U+{ord(char):04X})"
    return f"ohjausmerkki (U+{ord(char):04X})"


def _no_forbidden(value: str) -> str:
    name = forbidden_character(value)
    if name is not None:
        raise ValueError(f"sisältää ohjausmerkkejä: {name}")
    return value


def _single_line(value: str) -> str:
    if _BREAKS.search(value):
        raise ValueError("ei saa sisältää rivinvaihtoja")
    return value


def bare_address(value: object) -> str:
    """A bare, deliverable address in the form it is stored; ValueError (Finnish) otherwise."""
    if not isinstance(value, str):
        raise ValueError("sähköpostiosoitteen on oltava tekstiä")
    text = value.strip()
    if not text:
        raise ValueError("sähköpostiosoite puuttuu")
    name = forbidden_character(text)
    if name is not None or _BREAKS.search(text):
        raise ValueError(f"sähköpostiosoite sisältää ohjausmerkkejä: {name or 'rivinvaihto'}")
    if any(c in text for c in '<>()[],;:"\\') or any(c.isspace() for c in text):
        raise ValueError(
            "anna pelkkä sähköpostiosoite (esim. kirjaamo@kunta.fi) ilman nimeä, kulmasulkeita, "
            "välilyöntejä tai useita osoitteita"
        )
    if text.count("@") != 1:
        raise ValueError("sähköpostiosoitteessa on oltava täsmälleen yksi @-merkki")
    local = text.split("@", 1)[0]
    if not local.isascii():
        raise ValueError(
            "sähköpostiosoitteen nimiosassa (ennen @-merkkiä) saa olla vain ASCII-merkkejä (ei ä, ö, å)"
        )
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(f"virheellinen sähköpostiosoite: {exc}") from None
    return checked.ascii_email or checked.normalized


def _work_time(value: str) -> str:
    match = _WORK_TIME.match(value)
    if match is None or float(match.group(1).replace(",", ".")) <= 0:
        raise ValueError("anna työaika positiivisena määränä yksikköineen, esim. 8 h/kk tai 10 % työajasta")
    return value


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5000),
    AfterValidator(_no_forbidden),
]
Line = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    AfterValidator(_no_forbidden),
    AfterValidator(_single_line),
]
Email = Annotated[str, BeforeValidator(bare_address), StringConstraints(max_length=254)]
WorkTime = Annotated[Line, StringConstraints(max_length=100), AfterValidator(_work_time)]


#: A date as people write it in Finland, 15.3.2021 (leading zeros allowed). Forms use it as a plain
#: text field with this pattern, so the Prefect UI refuses "2021-03-15" or "15/3/2021" before a run.
FI_DATE_PATTERN = r"^\s*\d{1,2}\.\d{1,2}\.\d{4}\s*$"
#: The same, or empty (a form's optional date: empty means today).
FI_DATE_OR_EMPTY_PATTERN = r"^\s*(\d{1,2}\.\d{1,2}\.\d{4})?\s*$"


def parse_fi_date(text: str) -> date:
    """``"15.3.2021"`` (or ``"15.03.2021"``) as a date; ValueError with a Finnish message otherwise."""
    day, month, year = (text.strip().split(".") + ["", "", ""])[:3]
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"päivämäärä {text.strip()!r} ei ole olemassa; anna muodossa 15.3.2021") from None
