"""What the bodies publish about their meetings, as :class:`PublishedItem` rows, and the shared parts
of reading it: decoding a page, its text and links, Finnish dates, and :func:`read_publication`,
which follows a source's feed or list to its item pages.

The parsers of the three systems (CGI/Innofactor Dynasty, Triplan Tweb/KTweb, a page of PDF
links) are pure: bytes in, items out. They share one module because the shared parts and
:func:`read_publication` would otherwise import each other (no import cycles, even inside
functions). Fetching is the caller's: :func:`read_publication` takes a ``fetch`` callable
(URL -> bytes), which the services layer builds from ``PublicHttpClient.fetch``
(``council.delivery.http``); intake does not import delivery.

A page a parser does not recognise (an error page, a login page, a redesigned site) raises
:class:`PageNotUnderstood` naming the URL and what was expected; an empty but well-formed feed or list
gives ``[]``. So a source that changed shows as failing, never as "nothing new".
"""

from __future__ import annotations

import codecs
import html
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree import ElementTree

from council.errors import ConfigurationError, CouncilError

System = Literal["dynasty", "tweb", "pdf-list"]
Kind = Literal["agenda", "minutes"]
SYSTEMS: tuple[str, ...] = ("dynasty", "tweb", "pdf-list")

#: How many item pages one read follows at most (the newest first).
DEFAULT_LIMIT = 50


class PageNotUnderstood(CouncilError):
    """A fetched page has none of the structure its parser expects; the message names the URL and
    what was expected, so the source shows as failing ("lähde ei vastaa") instead of empty."""

    advice = "Tarkista lähteen osoite ja järjestelmä; jos sivusto on uudistettu, jäsennin on päivitettävä."

    def __init__(self, url: str, expected: str):
        self.url = url
        self.expected = expected
        super().__init__(f"Sivua {url} ei tunnistettu; odotettu sisältö: {expected}")


class UnknownSystemError(CouncilError):
    """A source names a publication system that has no parser."""

    advice = "Valitse julkaisujärjestelmäksi dynasty, tweb tai pdf-list."

    def __init__(self, system: str):
        self.system = system
        super().__init__(f"Tuntematon julkaisujärjestelmä {system!r} (sallitut: {', '.join(SYSTEMS)})")


@dataclass(frozen=True)
class PublishedItem:
    """One agenda or minutes item as a body published it. ``section`` is the § number as digits,
    ``text`` the item's plain text with paragraphs separated by "\\n" (for Dynasty and Tweb the
    draft resolution and the decision), ``published_case_number`` the body's own Dnro if shown."""

    system: System
    kind: Kind
    url: str
    title: str
    meeting_date: date | None
    section: str | None
    deciding_body: str | None
    text: str
    published_case_number: str | None = None


Fetch = Callable[[str], bytes]


def read_publication(
    system: str, address: str, fetch: Fetch, *, limit: int = DEFAULT_LIMIT
) -> list[PublishedItem]:
    """Read a body's meeting publication at ``address``: its feed or list, then up to ``limit`` item
    pages (newest first), each fetched with ``fetch``. Raises :class:`PageNotUnderstood` when a page
    is not what the system publishes, :class:`UnknownSystemError` for an unknown ``system``."""
    readers = {"dynasty": read_dynasty, "tweb": read_tweb, "pdf-list": read_pdf_list}
    if system not in readers:
        raise UnknownSystemError(system)
    return readers[system](address, fetch, limit=limit)


# --- decoding ------------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""")


def _codec(label: str) -> str | None:
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    # Browsers read a page labelled ISO-8859-1 as windows-1252 (the WHATWG encoding standard);
    # Finnish pages written on Windows carry its quotes and dashes under that label.
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name


def decode_page(data: bytes, declared: str | None = None) -> str:
    """Text of a page: a byte-order mark first, then the charset the server declared, the XML
    declaration or a ``<meta>`` tag in the first 4 kB; without any, UTF-8 if it decodes, else
    windows-1252 (which covers ISO-8859-1). Latin-1 pages of Tweb often declare it only in a meta tag."""
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(name, errors="replace")
    head = data[:4096]
    found = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    for label in (declared, found.group(1).decode("ascii") if found else None):
        name = _codec(label) if label else None
        if name:
            try:
                return data.decode(name)
            except UnicodeDecodeError:
                if name == "cp1252":
                    return data.decode("latin-1")
                return data.decode(name, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


# --- text and links of an HTML page --------------------------------------------------------------

_BLOCK = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "table", "title", "tr", "ul",
}  # fmt: skip
_SKIP = {"script", "style", "noscript", "template"}


@dataclass(frozen=True)
class Link:
    href: str
    text: str


class _PageText(HTMLParser):
    """Lines of visible text (each block element and table row breaks a line) and the links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.links: list[Link] = []
        self._current: list[str] = []
        self._skipping = 0
        self._href: str | None = None
        self._link_text: list[str] = []

    def _break(self) -> None:
        line = " ".join("".join(self._current).split())
        if line:
            self.lines.append(line)
        self._current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self._break()
        elif tag in ("td", "th"):
            self._current.append(" ")  # a table row is one line: "Päätösehdotus Kunnanjohtaja N.N."
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK:
            self._break()
        if tag == "a" and self._href is not None:
            self.links.append(Link(self._href.strip(), " ".join("".join(self._link_text).split())))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        data = data.replace("\xa0", " ")
        self._current.append(data)
        if self._href is not None:
            self._link_text.append(data)

    def close(self) -> None:
        super().close()
        self._break()


def page_text(markup: str) -> tuple[list[str], list[Link]]:
    """The visible text of ``markup`` as stripped, non-empty lines, and its links in page order."""
    parser = _PageText()
    parser.feed(markup)
    parser.close()
    return parser.lines, parser.links


# --- Finnish dates, sections and case numbers ----------------------------------------------------

DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
#: A diary number as registries write it: "123/00.01.02/2026" (the classification in the middle),
#: or the newer "FORDno-2026-123" form, optionally after "Dnro", "Dno" or "Diaarinumero".
CASE_NUMBER = re.compile(
    r"(?:\b(?:Dnro|Dno|Diaarinumero|Asianumero)\.?:?\s*)?"
    r"\b(\d{1,6}/\d{2}(?:\.\d{2}){0,3}/\d{4}|[A-ZÅÄÖ]{2,10}Dno-\d{4}-\d+)\b"
)


def finnish_date(text: str) -> date | None:
    """The first valid d.m.yyyy date in ``text`` ("12.05.2026" or "12.5.2026"), else None."""
    for match in DATE.finditer(text):
        day, month, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None


def case_number(lines: list[str]) -> str | None:
    """The first diary number in ``lines`` ("123/00.01.02/2026", "FORDno-2026-123"), else None."""
    for line in lines:
        match = CASE_NUMBER.search(line)
        if match:
            return match.group(1)
    return None


def is_label(line: str, labels: tuple[str, ...]) -> bool:
    """``line`` opens a part named by one of ``labels``: the label alone ("Päätös"), with a colon
    ("Ehdotus: Kunnanhallitus päättää …") or followed by a presenter ("Päätösehdotus Kunnanjohtaja
    N.N."); not a sentence that merely starts with the word ("Ehdotus hyväksyttiin yksimielisesti.")."""
    head, _, rest = line.partition(" ")
    if head.rstrip(":").casefold() not in {label.casefold() for label in labels}:
        return False
    return (
        not rest or head.endswith(":") or (len(line) <= 100 and not line.endswith((".", "!", "?", ";", ",")))
    )


def labelled_parts(lines: list[str], wanted: tuple[str, ...], stops: tuple[str, ...]) -> list[str]:
    """The lines of each part of ``lines`` opened by a label in ``wanted`` ("Päätösehdotus
    Kunnanjohtaja N.N.", "Päätös"), up to the next label in ``wanted`` or ``stops``; the label lines
    are kept, so the text reads as published."""
    taken: list[str] = []
    inside = False
    for line in lines:
        if is_label(line, wanted):
            inside = True
        elif is_label(line, stops):
            inside = False
        if inside:
            taken.append(line)
    return taken


#: Labels that end a draft-resolution or decision part.
STOP_LABELS = (
    "Selostus", "Perustelut", "Valmistelija", "Valmistelijat", "Esittelijä", "Lisätiedot", "Liitteet",
    "Liite", "Oheismateriaali", "Tiedoksi", "Toimenpiteet", "Muutoksenhaku", "Oikaisuvaatimusohje",
    "Valitusosoitus", "Täytäntöönpano", "Käsittely", "Edellinen", "Kokousasia", "Muutoksenhakuohje",
)  # fmt: skip


# --- CGI/Innofactor Dynasty ----------------------------------------------------------------------


@dataclass(frozen=True)
class FeedEntry:
    """One item of Dynasty's meeting-items feed: "Kunnanhallitus 12.05.2026 / Otsikko" and its link."""

    url: str
    title: str
    deciding_body: str | None
    meeting_date: date | None


_FEED_TITLE = re.compile(r"^(?P<body>.+?)\s+(?P<date>\d{1,2}\.\d{1,2}\.\d{4})\s*/\s*(?P<subject>.+)$", re.S)
_FEED_EXPECTED = (
    "Dynastyn kokousasioiden RSS-syöte (rss/channel/item, otsikkona 'Toimielin pp.kk.vvvv / Asia')"
)


def parse_dynasty_feed(data: bytes, url: str) -> list[FeedEntry]:
    """The entries of a Dynasty meeting-items feed (``DREQUEST.PHP?page=rss/meetingitems``), in feed
    order (newest first); ``[]`` for a feed with no items."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        raise PageNotUnderstood(url, _FEED_EXPECTED) from None
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise PageNotUnderstood(url, _FEED_EXPECTED)
    entries = []
    for item in channel.findall("item"):
        # Dynasty leaves HTML references ("&ndash;") undecoded inside its CDATA sections.
        title = " ".join(html.unescape(item.findtext("title") or "").split())
        link = (item.findtext("link") or "").strip()
        match = _FEED_TITLE.match(title)
        if not link or match is None:
            raise PageNotUnderstood(url, f"{_FEED_EXPECTED}; kohta {title[:80]!r} ei ole tätä muotoa")
        entries.append(
            FeedEntry(
                url=urljoin(url, link),
                title=match["subject"].strip(),
                deciding_body=match["body"].strip(),
                meeting_date=finnish_date(match["date"]),
            )
        )
    return entries


_DYNASTY_HEADER = re.compile(
    r"(?P<kind>Pöytäkirja|Esityslista)\s+(?P<date>\d{1,2}\.\d{1,2}\.\d{4})\s*/\s*Pykälä\s+(?P<section>\d+)",
    re.IGNORECASE,
)
_SECTION_LINE = re.compile(r"^§\s*(\d+)$")
_ITEM_EXPECTED = "Dynastyn kokousasian sivu, jossa on rivi 'Pöytäkirja pp.kk.vvvv/Pykälä N' tai 'Esityslista pp.kk.vvvv/Pykälä N'"


def parse_dynasty_item(data: bytes, url: str, entry: FeedEntry | None = None) -> PublishedItem:
    """A Dynasty item page (``DREQUEST.PHP?page=meetingitem&id=…``): an agenda item ("Esityslista
    12.05.2026/Pykälä 45", a draft resolution) or a minutes item ("Pöytäkirja …", with the decision).
    The text is the current handling's "Päätösehdotus" and "Päätös" parts; an earlier handling
    shown on the same page (a committee before the board) is left out."""
    lines, _links = page_text(decode_page(data))
    at = next((i for i, line in enumerate(lines) if _DYNASTY_HEADER.search(line)), None)
    if at is None:
        raise PageNotUnderstood(url, _ITEM_EXPECTED)
    header = _DYNASTY_HEADER.search(lines[at])
    assert header is not None
    kind: Kind = "minutes" if header["kind"].casefold() == "pöytäkirja" else "agenda"
    section, meeting_date = header["section"], finnish_date(header["date"])
    before = lines[at][: header.start()].strip()
    body = before or (lines[at - 1] if at > 0 and not any(c.isdigit() for c in lines[at - 1]) else None)
    body = body or (entry.deciding_body if entry else None)

    rest = lines[at + 1 :]
    # The current handling starts at "Kunnanhallitus 12.05.2026 § 45"; earlier ones come before it.
    handling = re.compile(rf"{re.escape(header['date'])}\s*§\s*{section}\b")
    start = next((i for i, line in enumerate(rest) if handling.search(line)), 0)
    current = rest[start:]
    titled = next(
        (i for i, line in enumerate(current) if _SECTION_LINE.match(line) and i + 1 < len(current)), None
    )
    title = current[titled + 1] if titled is not None else (entry.title if entry else lines[at])
    text = labelled_parts(current, ("Päätösehdotus", "Päätös"), STOP_LABELS)
    return PublishedItem(
        system="dynasty",
        kind=kind,
        url=url,
        title=title,
        meeting_date=meeting_date,
        section=section,
        deciding_body=body,
        text="\n".join(text or current),
        published_case_number=case_number(rest[: start + (titled + 2 if titled is not None else 5)]),
    )


def read_dynasty(address: str, fetch: Fetch, *, limit: int = DEFAULT_LIMIT) -> list[PublishedItem]:
    """The newest ``limit`` items of the Dynasty feed at ``address``, each read from its item page."""
    entries = parse_dynasty_feed(fetch(address), address)[:limit]
    return [parse_dynasty_item(fetch(entry.url), entry.url, entry) for entry in entries]


# --- Triplan Tweb / KTweb ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str
    links: tuple[Link, ...]


class _Rows(HTMLParser):
    """The rows of every table on a page, each a list of cells with their text and links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[Cell]] = []
        self._row: list[Cell] | None = None
        self._text: list[str] | None = None
        self._links: list[Link] = []
        self._href: str | None = None
        self._link_text: list[str] = []

    def _end_cell(self) -> None:
        if self._row is not None and self._text is not None:
            self._row.append(Cell(" ".join("".join(self._text).split()), tuple(self._links)))
        self._text, self._links = None, []

    def _end_row(self) -> None:
        self._end_cell()
        if self._row:
            self.rows.append(self._row)
        self._row = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._end_row()
            self._row = []
        elif tag in ("td", "th"):
            self._end_cell()
            self._text = []
        elif tag == "a":
            self._href = dict(attrs).get("href")
            self._link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._end_cell()
        elif tag in ("tr", "table"):
            self._end_row()
        elif tag == "a" and self._href is not None:
            self._links.append(Link(self._href.strip(), " ".join("".join(self._link_text).split())))
            self._href = None

    def handle_data(self, data: str) -> None:
        data = data.replace("\xa0", " ")
        if self._text is not None:
            self._text.append(data)
        if self._href is not None:
            self._link_text.append(data)


def table_rows(markup: str) -> list[list[Cell]]:
    parser = _Rows()
    parser.feed(markup)
    parser.close()
    parser._end_row()
    return parser.rows


@dataclass(frozen=True)
class TwebMeeting:
    """One row of a Tweb meeting list: "Kunnanhallitus: 5/2026" and its "12.5.2026 17:00" link."""

    url: str
    deciding_body: str | None
    meeting_date: date | None
    kind: Kind


@dataclass(frozen=True)
class TwebListedItem:
    """One row of a Tweb meeting page: the § number and the item's title linking to its document."""

    url: str
    section: str | None
    title: str


_TWEB_MEETING_LINK = re.compile(r"\b(pk|epj)_asil_tweb\.htm\?\+?bid=\d+", re.IGNORECASE)
_TWEB_ITEM_LINK = re.compile(r"(?:ktproxy2\.dll|fileshow)\?.*\bdocid=\d+", re.IGNORECASE)
_TWEB_BODY = re.compile(r"^(.+?)\s*:\s*\d+\s*/\s*\d{4}$")
_SECTION = re.compile(r"^(?:§\s*)?(\d+)(?:\s*§)?$")


def parse_tweb_meetings(data: bytes, url: str) -> list[TwebMeeting]:
    """The meetings of a Tweb meeting list (``pk_kokl_tweb.htm`` for minutes, ``epj_…`` for agendas),
    in page order; ``[]`` for a list with its "Toimielin" header and no rows."""
    rows = table_rows(decode_page(data))
    meetings = []
    for row in rows:
        link = next((lk for cell in row for lk in cell.links if _TWEB_MEETING_LINK.search(lk.href)), None)
        if link is None:
            continue
        match = _TWEB_MEETING_LINK.search(link.href)
        assert match is not None
        named = next((_TWEB_BODY.match(cell.text) for cell in row if _TWEB_BODY.match(cell.text)), None)
        meetings.append(
            TwebMeeting(
                url=urljoin(url, link.href),
                deciding_body=named.group(1) if named else None,
                meeting_date=finnish_date(link.text) or finnish_date(" ".join(cell.text for cell in row)),
                kind="minutes" if match.group(1).casefold() == "pk" else "agenda",
            )
        )
    if not meetings and not any(cell.text.casefold() == "toimielin" for row in rows for cell in row):
        raise PageNotUnderstood(
            url, "Tweb-kokousluettelo (taulukko, jossa sarake 'Toimielin' ja linkit pk_asil_tweb.htm?+bid=N)"
        )
    return meetings


def parse_tweb_meeting(data: bytes, url: str) -> list[TwebListedItem]:
    """The items of a Tweb meeting page (``pk_asil_tweb.htm?+bid=…``), in page order; ``[]`` for a
    meeting page with its "§" header and no items."""
    rows = table_rows(decode_page(data))
    items = []
    for row in rows:
        link = next((lk for cell in row for lk in cell.links if _TWEB_ITEM_LINK.search(lk.href)), None)
        if link is None:
            continue
        section = next((m.group(1) for cell in row if (m := _SECTION.match(cell.text))), None)
        items.append(TwebListedItem(url=urljoin(url, link.href), section=section, title=link.text))
    if not items and not any(cell.text in ("§", "Pykälä") for row in rows for cell in row):
        raise PageNotUnderstood(
            url,
            "Tweb-kokouksen asialista (taulukko, jossa sarake '§' ja linkit ktproxy2.dll?doctype=3&docid=N)",
        )
    return items


_TWEB_HANDLING = re.compile(
    r"^(?P<body>[A-ZÅÄÖ][^\d§]{2,80}?)\s+(?:§\s*(?P<n1>\d+)\s+(?P<d1>\d{1,2}\.\d{1,2}\.\d{4})"
    r"|(?P<d2>\d{1,2}\.\d{1,2}\.\d{4})\s+§\s*(?P<n2>\d+))\b"
)
_DOCUMENT_KIND = re.compile(r"\b(PÖYTÄKIRJA|ESITYSLISTA)\b")


def parse_tweb_item(
    data: bytes, url: str, listed: TwebListedItem | None = None, meeting: TwebMeeting | None = None
) -> PublishedItem:
    """A Tweb item document (``ktproxy2.dll?doctype=3&docid=…``, HTML in Latin-1 or a PDF): its
    handling line ("Kunnanhallitus § 45 12.05.2026"), the diary number and the "Ehdotus" /
    "Päätösehdotus" and "Päätös" parts. What the page does not say comes from the list rows."""
    lines = pdf_lines(data, url) if data.startswith(b"%PDF") else page_text(decode_page(data))[0]
    at = next((i for i, line in enumerate(lines) if _TWEB_HANDLING.match(line)), None)
    proposal_labels = ("Päätösehdotus", "Ehdotus", "Päätös")
    if at is None and not any(is_label(line, proposal_labels) for line in lines):
        raise PageNotUnderstood(
            url, "Tweb-asiakirja, jossa on rivi 'Toimielin § N pp.kk.vvvv' tai kohdat 'Ehdotus' ja 'Päätös'"
        )
    handling = _TWEB_HANDLING.match(lines[at]) if at is not None else None
    declared = next((m.group(1) for line in lines[:10] if (m := _DOCUMENT_KIND.search(line.upper()))), None)
    kind: Kind = (
        ("minutes" if declared == "PÖYTÄKIRJA" else "agenda")
        if declared
        else (meeting.kind if meeting else "minutes")
    )
    rest = lines[at + 1 :] if at is not None else lines
    text = labelled_parts(rest, proposal_labels, STOP_LABELS)
    title = listed.title if listed and listed.title else (rest[0] if rest else url)
    return PublishedItem(
        system="tweb",
        kind=kind,
        url=url,
        title=title,
        meeting_date=finnish_date(handling["d1"] or handling["d2"])
        if handling
        else (meeting.meeting_date if meeting else None),
        section=(handling["n1"] or handling["n2"]) if handling else (listed.section if listed else None),
        deciding_body=handling["body"].strip() if handling else (meeting.deciding_body if meeting else None),
        text="\n".join(text or rest),
        published_case_number=case_number(rest[:6]),
    )


def read_tweb(address: str, fetch: Fetch, *, limit: int = DEFAULT_LIMIT) -> list[PublishedItem]:
    """Up to ``limit`` items from the Tweb meeting list at ``address``, newest meeting first."""
    meetings = parse_tweb_meetings(fetch(address), address)
    meetings.sort(key=lambda m: m.meeting_date or date.min, reverse=True)
    found: list[PublishedItem] = []
    for meeting in meetings:
        for listed in parse_tweb_meeting(fetch(meeting.url), meeting.url):
            if len(found) >= limit:
                return found
            found.append(parse_tweb_item(fetch(listed.url), listed.url, listed, meeting))
    return found


# --- a page of PDF links -------------------------------------------------------------------------


def pdf_text(data: bytes, url: str) -> str:
    """The text of a PDF by ``pdftotext -layout`` (poppler-utils), form feeds as line breaks."""
    if not data.startswith(b"%PDF"):
        raise PageNotUnderstood(url, "PDF-tiedosto")
    binary = shutil.which("pdftotext")
    if binary is None:
        raise ConfigurationError("pdftotext puuttuu: asenna poppler-utils (apt-get install poppler-utils)")
    with tempfile.TemporaryDirectory(prefix="council-pdf-") as folder:
        source = Path(folder) / "item.pdf"
        source.write_bytes(data)
        try:
            done = subprocess.run(
                [binary, "-layout", "-enc", "UTF-8", str(source), "-"],
                capture_output=True,
                timeout=120,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PageNotUnderstood(
                url, "PDF-tiedosto, jonka teksti saadaan luettua (pdftotext ei valmistunut)"
            ) from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PageNotUnderstood(
            url, f"luettava PDF-tiedosto (pdftotext: {detail[-1] if detail else done.returncode})"
        )
    return done.stdout.decode("utf-8", "replace").replace("\f", "\n")


def pdf_lines(data: bytes, url: str) -> list[str]:
    return [" ".join(line.split()) for line in pdf_text(data, url).splitlines() if line.strip()]


@dataclass(frozen=True)
class PdfLink:
    """A link to an agenda or minutes PDF: "Kunnanhallitus 12.5.2026 pöytäkirja"."""

    url: str
    title: str
    kind: Kind
    deciding_body: str | None
    meeting_date: date | None


_PDF_HREF = re.compile(r"\.pdf(?:$|[?#])", re.IGNORECASE)
_MINUTES_WORDS = re.compile(r"pöytäkirja|poytakirja|\bptk\b|protokoll", re.IGNORECASE)
_AGENDA_WORDS = re.compile(r"esityslista|kokouskutsu|asialista|föredragningslista", re.IGNORECASE)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _link_date(text: str) -> date | None:
    found = finnish_date(text)
    if found is None and (iso := _ISO_DATE.search(text)):
        try:
            found = date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            return None
    return found


def parse_pdf_list(data: bytes, url: str) -> list[PdfLink]:
    """The agenda and minutes PDFs linked from a page, in page order; links to other PDFs (a privacy
    notice, a guide) are left out. A page with no PDF links at all is not a PDF list."""
    _lines, links = page_text(decode_page(data))
    pdfs = [link for link in links if _PDF_HREF.search(link.href)]
    if not pdfs:
        raise PageNotUnderstood(
            url, "sivu, jolla on linkkejä esityslistojen tai pöytäkirjojen PDF-tiedostoihin"
        )
    found = []
    for link in pdfs:
        name = unquote(urlsplit(link.href).path.rsplit("/", 1)[-1])
        words = f"{link.text} {name}"
        kind: Kind | None = (
            "minutes" if _MINUTES_WORDS.search(words) else "agenda" if _AGENDA_WORDS.search(words) else None
        )
        if kind is None:
            continue
        dated = DATE.search(link.text)
        body = link.text[: dated.start()].strip(" -–,") if dated else ""
        found.append(
            PdfLink(
                url=urljoin(url, link.href),
                title=link.text or name,
                kind=kind,
                deciding_body=body or None,
                meeting_date=_link_date(link.text) or _link_date(name),
            )
        )
    return found


def parse_pdf_item(data: bytes, listed: PdfLink) -> PublishedItem:
    """One agenda or minutes PDF as an item: its whole text; the date from the link, else the PDF."""
    lines = pdf_lines(data, listed.url)
    return PublishedItem(
        system="pdf-list",
        kind=listed.kind,
        url=listed.url,
        title=listed.title,
        meeting_date=listed.meeting_date or finnish_date("\n".join(lines[:40])),
        section=None,
        deciding_body=listed.deciding_body,
        text="\n".join(lines),
        published_case_number=None,
    )


def read_pdf_list(address: str, fetch: Fetch, *, limit: int = DEFAULT_LIMIT) -> list[PublishedItem]:
    """The first ``limit`` agenda and minutes PDFs linked from the page at ``address``, each read."""
    return [parse_pdf_item(fetch(link.url), link) for link in parse_pdf_list(fetch(address), address)[:limit]]
