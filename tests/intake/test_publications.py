"""The publication parsers on recorded pages: a Dynasty feed and its agenda and minutes item pages, a
Tweb meeting list, meeting page and item documents in Latin-1, a page of PDF links with PDFs made by
LibreOffice; pages they do not understand raise PageNotUnderstood, empty lists give []."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from council.intake.publications import (
    STOP_LABELS,
    PageNotUnderstood,
    PdfLink,
    PublishedItem,
    TwebListedItem,
    TwebMeeting,
    UnknownSystemError,
    decode_page,
    is_label,
    labelled_parts,
    parse_dynasty_feed,
    parse_dynasty_item,
    parse_pdf_item,
    parse_pdf_list,
    parse_tweb_item,
    parse_tweb_meeting,
    parse_tweb_meetings,
    read_publication,
)
from tests.intake.conftest import fixture_bytes

DYNASTY = "https://tammela10.oncloudos.example:443/cgi/DREQUEST.PHP"
DYNASTY_FEED = f"{DYNASTY}?page=rss/meetingitems&show=30"
TWEB = "https://forssa.tweb.example/ktwebbin"
TWEB_LIST = f"{TWEB}/dbisa.dll/ktwebscr/pk_kokl_tweb.htm"
PDF_PAGE = "https://jokioinen.example/paatoksenteko/poytakirjat/"

SITES = {
    DYNASTY_FEED: "dynasty/meetingitems.xml",
    f"{DYNASTY}?page=meetingitem&id=2026141-7": "dynasty/meetingitem-2026141-7.html",
    f"{DYNASTY}?page=meetingitem&id=2026128-5": "dynasty/meetingitem-2026128-5.html",
    TWEB_LIST: "tweb/pk_kokl_tweb.htm",
    f"{TWEB}/dbisa.dll/ktwebscr/pk_asil_tweb.htm?+bid=4812": "tweb/pk_asil_tweb-4812.htm",
    f"{TWEB}/dbisa.dll/ktwebscr/pk_asil_tweb.htm?+bid=4790": "tweb/pk_asil_tweb-4790.htm",
    f"{TWEB}/ktproxy2.dll?doctype=3&docid=35090101": "tweb/ktproxy2-35090101.htm",
    f"{TWEB}/ktproxy2.dll?doctype=3&docid=35090102": "tweb/ktproxy2-35090102.htm",
    PDF_PAGE: "pdf-list/poytakirjat.html",
    "https://jokioinen.example/media/kunnanhallitus/kh_2026-05-12_poytakirja.pdf": "pdf-list/kh_2026-05-12_poytakirja.pdf",
    "https://jokioinen.example/media/kunnanhallitus/kh_2026-05-26_esityslista.pdf": "pdf-list/kh_2026-05-26_esityslista.pdf",
}


class Site:
    """A fetch over the recorded pages that remembers what was asked."""

    def __init__(self, overrides: dict[str, bytes] | None = None):
        self.asked: list[str] = []
        self.overrides = overrides or {}

    def __call__(self, url: str) -> bytes:
        self.asked.append(url)
        if url in self.overrides:
            return self.overrides[url]
        return fixture_bytes(SITES[url])


# --- Dynasty -------------------------------------------------------------------------------------


def test_dynasty_feed_lists_items_newest_first() -> None:
    """Each feed item gives its body, meeting date, subject (HTML references decoded) and page link."""
    entries = parse_dynasty_feed(fixture_bytes("dynasty/meetingitems.xml"), DYNASTY_FEED)

    assert [(e.deciding_body, e.meeting_date, e.title, e.url) for e in entries] == [
        (
            "Kunnanhallitus",
            date(2026, 5, 26),
            "Hyvinvointikertomus 2025 ja hyvinvointisuunnitelma 2026–2027",
            f"{DYNASTY}?page=meetingitem&id=2026141-7",
        ),
        (
            "Kunnanhallitus",
            date(2026, 5, 12),
            "Järjestöyhteistyön toimintamalli Forssan seudulla",
            f"{DYNASTY}?page=meetingitem&id=2026128-5",
        ),
    ]


def test_an_empty_dynasty_feed_is_an_empty_list() -> None:
    """A well-formed feed without items is [], not an error."""
    assert parse_dynasty_feed(fixture_bytes("dynasty/meetingitems-empty.xml"), DYNASTY_FEED) == []


def test_dynasty_minutes_item_holds_the_current_decision() -> None:
    """A minutes page: § 45 of 12.5.2026, its Dnro, the draft resolution and the decision of this
    handling only (the earlier tabling, the deliberation and the distribution list left out)."""
    url = f"{DYNASTY}?page=meetingitem&id=2026128-5"
    item = parse_dynasty_item(fixture_bytes("dynasty/meetingitem-2026128-5.html"), url)

    assert item == PublishedItem(
        system="dynasty",
        kind="minutes",
        url=url,
        title="Järjestöyhteistyön toimintamalli Forssan seudulla",
        meeting_date=date(2026, 5, 12),
        section="45",
        deciding_body="Kunnanhallitus",
        text=(
            "Päätösehdotus Kunnanjohtaja Matti Malli\n"
            "Kunnanhallitus päättää\n"
            "1. nimetä kunnan järjestöyhdyshenkilöksi hyvinvointikoordinaattori Liisa Yhteys ja varata "
            "tehtävään 10 % työajasta,\n"
            "2. sopia säännöllisistä yhteistyömuodoista järjestöjen kanssa liitteen 3 mukaisesti.\n"
            "Päätös\n"
            "Ehdotus hyväksyttiin yksimielisesti."
        ),
        published_case_number="TAMDno-2026-87",
    )


def test_dynasty_agenda_item_has_the_draft_resolution_only() -> None:
    """An agenda page ("Esityslista …/Pykälä 61"): kind agenda, the Päätösehdotus part, no decision."""
    url = f"{DYNASTY}?page=meetingitem&id=2026141-7"
    item = parse_dynasty_item(fixture_bytes("dynasty/meetingitem-2026141-7.html"), url)

    assert (item.kind, item.section, item.meeting_date, item.deciding_body) == (
        "agenda",
        "61",
        date(2026, 5, 26),
        "Kunnanhallitus",
    )
    assert item.published_case_number == "442/00.04.01/2026"
    assert item.text.splitlines() == [
        "Päätösehdotus Kunnanjohtaja Matti Malli",
        "Kunnanhallitus esittää valtuustolle, että valtuusto hyväksyy hyvinvointikertomuksen 2025",
        "ja hyvinvointisuunnitelman 2026–2027.",
    ]


@pytest.mark.parametrize(
    ("line", "opens"),
    [
        ("Päätös", True),
        ("Päätös:", True),
        ("Päätösehdotus Kunnanjohtaja Matti Malli", True),
        ("Ehdotus: Kunnanhallitus päättää hyväksyä toimintamallin.", True),
        ("Ehdotus hyväksyttiin yksimielisesti.", False),
        ("Päätös tehdään kunnanhallituksessa, kun lautakunnat ovat antaneet lausuntonsa.", False),
        ("Päätöksestä tiedotetaan järjestöille", False),
        ("Liite 3 hyväksyttiin muutettuna,", False),
    ],
    ids=[
        "alone",
        "colon",
        "presenter",
        "colon-sentence",
        "sentence",
        "long-sentence",
        "longer-word",
        "comma",
    ],
)
def test_a_label_opens_a_part_but_a_sentence_does_not(line: str, opens: bool) -> None:
    """A part label stands alone, with a colon or a presenter; a sentence starting with the word is text."""
    assert is_label(line, ("Päätösehdotus", "Ehdotus", "Päätös", "Liite")) is opens


def test_parts_run_to_the_next_label() -> None:
    """The wanted parts are taken up to the next label; a sentence starting with a label word stays in."""
    lines = [
        "Selostus",
        "Päätös tehdään kunnanhallituksessa.",
        "Ehdotus",
        "Kunnanhallitus hyväksyy mallin.",
        "Käsittely",
        "Keskusteltiin.",
        "Päätös",
        "Liite 3 hyväksyttiin muutettuna.",
        "Tiedoksi",
        "Valiokunta",
    ]
    assert labelled_parts(lines, ("Ehdotus", "Päätös"), STOP_LABELS) == [
        "Ehdotus",
        "Kunnanhallitus hyväksyy mallin.",
        "Päätös",
        "Liite 3 hyväksyttiin muutettuna.",
    ]


# --- Tweb ----------------------------------------------------------------------------------------


def test_tweb_meeting_list_in_latin1() -> None:
    """The meeting rows of a Latin-1 list (charset only in a meta tag): body, date, link, kind."""
    meetings = parse_tweb_meetings(fixture_bytes("tweb/pk_kokl_tweb.htm"), TWEB_LIST)

    assert [(m.deciding_body, m.meeting_date, m.kind, m.url) for m in meetings] == [
        (
            "Sivistyslautakunta",
            date(2026, 5, 5),
            "minutes",
            f"{TWEB}/dbisa.dll/ktwebscr/pk_asil_tweb.htm?+bid=4790",
        ),
        (
            "Kaupunginhallitus",
            date(2026, 5, 18),
            "minutes",
            f"{TWEB}/dbisa.dll/ktwebscr/pk_asil_tweb.htm?+bid=4812",
        ),
    ]


def test_tweb_meeting_page_lists_items_with_sections() -> None:
    """A meeting page's rows: § number, title (ä and the cp1252 dash decoded), item document link."""
    url = f"{TWEB}/dbisa.dll/ktwebscr/pk_asil_tweb.htm?+bid=4812"
    items = parse_tweb_meeting(fixture_bytes("tweb/pk_asil_tweb-4812.htm"), url)

    assert [(i.section, i.title, i.url) for i in items] == [
        (
            "101",
            "Järjestöyhteistyön toimintamalli Forssan seudulla",
            f"{TWEB}/ktproxy2.dll?doctype=3&docid=35090101",
        ),
        (
            "102",
            "Lausunto Forssan seudun joukkoliikennesuunnitelmasta 2026–2030",
            f"{TWEB}/ktproxy2.dll?doctype=3&docid=35090102",
        ),
    ]


@pytest.mark.parametrize(
    ("parse", "name"),
    [
        (parse_tweb_meetings, "tweb/pk_kokl_tweb-empty.htm"),
        (parse_tweb_meeting, "tweb/pk_asil_tweb-4790.htm"),
    ],
    ids=["meeting-list", "meeting-page"],
)
def test_empty_tweb_lists_are_empty(parse, name: str) -> None:
    """A list with its header row and no rows is [], not an error."""
    assert parse(fixture_bytes(name), TWEB_LIST) == []


def test_tweb_item_document() -> None:
    """An item document: its handling line, Dnro, "Ehdotus" and "Päätös" parts (not the background,
    whose "Esitys koskee …" sentence is no label), minutes from its PÖYTÄKIRJA heading."""
    url = f"{TWEB}/ktproxy2.dll?doctype=3&docid=35090101"
    item = parse_tweb_item(fixture_bytes("tweb/ktproxy2-35090101.htm"), url)

    assert item == PublishedItem(
        system="tweb",
        kind="minutes",
        url=url,
        title="Järjestöyhteistyön toimintamalli Forssan seudulla",
        meeting_date=date(2026, 5, 18),
        section="101",
        deciding_body="Kaupunginhallitus",
        text=(
            "Ehdotus\nKaupunginjohtaja:\n"
            "Kaupunginhallitus päättää nimetä kaupungin järjestöyhdyshenkilöksi vapaa-aikapäällikkö Pekka "
            "Perälä (työaika 20 %) ja hyväksyä toimintamallin kohdat 2–4.\n"
            "Päätös\nEhdotus hyväksyttiin."
        ),
        published_case_number="311/00.04.01/2026",
    )


def test_a_tweb_item_served_as_pdf_is_read_with_pdftotext() -> None:
    """Some Tweb servers give the item document as a PDF: its parts are read from the PDF's text and
    what it does not say (§, date, body) from the meeting page's row and the meeting list."""
    url = f"{TWEB}/ktproxy2.dll?doctype=3&docid=35090172"
    listed = TwebListedItem(url=url, section="72", title="Järjestöyhteistyön toimintamalli Forssan seudulla")
    meeting = TwebMeeting(
        url=TWEB_LIST, deciding_body="Kunnanhallitus", meeting_date=date(2026, 5, 12), kind="minutes"
    )

    item = parse_tweb_item(fixture_bytes("pdf-list/kh_2026-05-12_poytakirja.pdf"), url, listed, meeting)

    assert (item.kind, item.section, item.meeting_date, item.deciding_body, item.title) == (
        "minutes",
        "72",
        date(2026, 5, 12),
        "Kunnanhallitus",
        "Järjestöyhteistyön toimintamalli Forssan seudulla",
    )
    assert item.text.splitlines()[-1] == "Päätös: Ehdotus hyväksyttiin yksimielisesti."


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("<meta charset='iso-8859-1'><p>Pöytäkirja – 2026</p>".encode("cp1252"), "<p>Pöytäkirja – 2026</p>"),
        (
            '<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=windows-1252"><p>Päätös</p>'.encode(
                "cp1252"
            ),
            "<p>Päätös</p>",
        ),
        ("<p>Päätös</p>".encode(), "<p>Päätös</p>"),
        ("<p>Päätös</p>".encode("latin-1"), "<p>Päätös</p>"),
        (
            "<?xml version='1.0' encoding='iso-8859-1'?><a>Jokioisten kunnanhallitus</a>".encode("latin-1"),
            "<a>Jokioisten kunnanhallitus</a>",
        ),
    ],
    ids=["meta-charset", "meta-http-equiv", "utf8-undeclared", "latin1-undeclared", "xml-declaration"],
)
def test_pages_decode_by_what_they_declare(data: bytes, expected: str) -> None:
    """A page's text by its declared charset, else UTF-8, else windows-1252 (never mojibake)."""
    assert decode_page(data).endswith(expected)


def test_a_charset_from_the_server_wins_over_the_meta_tag() -> None:
    """The HTTP Content-Type charset, when given, decides over a stale meta tag."""
    data = "<meta charset='iso-8859-1'><p>Päätös</p>".encode()
    assert decode_page(data, "utf-8").endswith("<p>Päätös</p>")


# --- PDF list ------------------------------------------------------------------------------------


def test_pdf_list_finds_agenda_and_minutes_links() -> None:
    """The agenda and minutes PDFs with kind, body and date from the link text; other PDFs left out."""
    links = parse_pdf_list(fixture_bytes("pdf-list/poytakirjat.html"), PDF_PAGE)

    assert links == [
        PdfLink(
            url="https://jokioinen.example/media/kunnanhallitus/kh_2026-05-26_esityslista.pdf",
            title="Kunnanhallitus 26.5.2026 esityslista",
            kind="agenda",
            deciding_body="Kunnanhallitus",
            meeting_date=date(2026, 5, 26),
        ),
        PdfLink(
            url="https://jokioinen.example/media/kunnanhallitus/kh_2026-05-12_poytakirja.pdf",
            title="Kunnanhallitus 12.5.2026 pöytäkirja",
            kind="minutes",
            deciding_body="Kunnanhallitus",
            meeting_date=date(2026, 5, 12),
        ),
    ]


def test_a_minutes_pdf_is_read_with_pdftotext() -> None:
    """A minutes PDF made by LibreOffice: its text, line by line, with the decision in it."""
    link = parse_pdf_list(fixture_bytes("pdf-list/poytakirjat.html"), PDF_PAGE)[1]
    item = parse_pdf_item(fixture_bytes("pdf-list/kh_2026-05-12_poytakirja.pdf"), link)

    assert (item.system, item.kind, item.meeting_date, item.section) == (
        "pdf-list",
        "minutes",
        date(2026, 5, 12),
        None,
    )
    lines = item.text.splitlines()
    assert "§ 72 Järjestöyhteistyön toimintamalli Forssan seudulla" in lines
    assert "Päätös: Ehdotus hyväksyttiin yksimielisesti." in lines


def test_a_pdf_without_a_date_in_its_link_takes_it_from_the_text() -> None:
    """A link without a date: the meeting date comes from the PDF's first lines."""
    link = PdfLink(
        url="https://jokioinen.example/a.pdf",
        title="Esityslista",
        kind="agenda",
        deciding_body=None,
        meeting_date=None,
    )
    item = parse_pdf_item(fixture_bytes("pdf-list/kh_2026-05-26_esityslista.pdf"), link)
    assert item.meeting_date == date(2026, 5, 26)


# --- pages not understood ------------------------------------------------------------------------

LOGIN = "other/login.html"


@pytest.mark.parametrize(
    ("parse", "name", "expected"),
    [
        (parse_dynasty_feed, LOGIN, "Dynastyn kokousasioiden RSS-syöte"),
        (parse_dynasty_feed, "other/news-feed.xml", "Dynastyn kokousasioiden RSS-syöte"),
        (parse_dynasty_item, LOGIN, "Dynastyn kokousasian sivu"),
        (parse_dynasty_item, "tweb/ktproxy2-35090101.htm", "Dynastyn kokousasian sivu"),
        (parse_tweb_meetings, LOGIN, "Tweb-kokousluettelo"),
        (parse_tweb_meetings, "dynasty/meetingitem-2026128-5.html", "Tweb-kokousluettelo"),
        (parse_tweb_meeting, LOGIN, "Tweb-kokouksen asialista"),
        (parse_tweb_item, LOGIN, "Tweb-asiakirja"),
        (parse_pdf_list, LOGIN, "sivu, jolla on linkkejä esityslistojen tai pöytäkirjojen PDF-tiedostoihin"),
    ],
    ids=[
        "dynasty-feed-login",
        "dynasty-feed-news-rss",
        "dynasty-item-login",
        "dynasty-item-tweb-page",
        "tweb-list-login",
        "tweb-list-dynasty-page",
        "tweb-meeting-login",
        "tweb-item-login",
        "pdf-list-login",
    ],
)
def test_a_page_not_understood_says_so(parse, name: str, expected: str) -> None:
    """A login page, another system's page or a news feed raises PageNotUnderstood naming the URL
    and what was expected; it is never an empty result."""
    url = "https://kunta.example/sivu"
    with pytest.raises(PageNotUnderstood) as caught:
        parse(fixture_bytes(name), url)
    assert str(caught.value).startswith(f"Sivua {url} ei tunnistettu; odotettu sisältö: {expected}")
    assert caught.value.url == url


def test_an_html_page_behind_a_pdf_link_is_not_understood() -> None:
    """An error page served where a PDF was linked raises PageNotUnderstood, naming the PDF's URL."""
    link = parse_pdf_list(fixture_bytes("pdf-list/poytakirjat.html"), PDF_PAGE)[0]
    with pytest.raises(
        PageNotUnderstood, match=f"^Sivua {link.url} ei tunnistettu; odotettu sisältö: PDF-tiedosto"
    ):
        parse_pdf_item(fixture_bytes(LOGIN), link)


# --- read_publication ----------------------------------------------------------------------------


def test_read_dynasty_follows_the_feed_to_each_item() -> None:
    """The feed, then each item page: the agenda item and the minutes item, newest first."""
    site = Site()
    items = read_publication("dynasty", DYNASTY_FEED, site)

    assert [(i.kind, i.section, i.meeting_date) for i in items] == [
        ("agenda", "61", date(2026, 5, 26)),
        ("minutes", "45", date(2026, 5, 12)),
    ]
    assert site.asked == [DYNASTY_FEED, *(i.url for i in items)]


def test_read_publication_stops_at_the_limit() -> None:
    """With limit 1 only the newest item page is fetched."""
    site = Site()
    items = read_publication("dynasty", DYNASTY_FEED, site, limit=1)
    assert [i.section for i in items] == ["61"] and len(site.asked) == 2


def test_read_tweb_goes_newest_meeting_first() -> None:
    """The meeting list, each meeting page newest first (18.5. before 5.5., though listed after it),
    each item document."""
    site = Site()
    items = read_publication("tweb", TWEB_LIST, site)
    assert [(i.deciding_body, i.section, i.kind) for i in items] == [
        ("Kaupunginhallitus", "101", "minutes"),
        ("Kaupunginhallitus", "102", "minutes"),
    ]
    assert site.asked == [
        TWEB_LIST,
        f"{TWEB}/dbisa.dll/ktwebscr/pk_asil_tweb.htm?+bid=4812",
        f"{TWEB}/ktproxy2.dll?doctype=3&docid=35090101",
        f"{TWEB}/ktproxy2.dll?doctype=3&docid=35090102",
        f"{TWEB}/dbisa.dll/ktwebscr/pk_asil_tweb.htm?+bid=4790",
    ]


def test_read_pdf_list_reads_each_pdf() -> None:
    """One item per agenda or minutes PDF, in page order."""
    items = read_publication("pdf-list", PDF_PAGE, Site())
    assert [(i.kind, i.meeting_date) for i in items] == [
        ("agenda", date(2026, 5, 26)),
        ("minutes", date(2026, 5, 12)),
    ]


def test_a_broken_item_page_fails_the_read() -> None:
    """One item page turned into a login page fails the whole read with its URL, not a shorter list."""
    broken = f"{DYNASTY}?page=meetingitem&id=2026128-5"
    with pytest.raises(PageNotUnderstood, match=f"^Sivua {broken.replace('?', '[?]')} ei tunnistettu"):
        read_publication("dynasty", DYNASTY_FEED, Site({broken: fixture_bytes(LOGIN)}))


def test_an_unknown_system_is_refused() -> None:
    """A source naming no known system gets a Finnish error listing the known ones."""
    with pytest.raises(
        UnknownSystemError,
        match="Tuntematon julkaisujärjestelmä 'ahjo' \\(sallitut: dynasty, tweb, pdf-list\\)",
    ):
        read_publication("ahjo", "https://kunta.example/", Site())


# --- any input -----------------------------------------------------------------------------------

_PAGES = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400).map(str.encode),
    st.lists(
        st.sampled_from(
            [
                "<html>",
                "<table>",
                "<tr>",
                "<td>",
                "</td>",
                "</tr>",
                "<p>",
                "</p>",
                "<br>",
                "Päätös",
                "Päätösehdotus",
                "Pöytäkirja 12.05.2026/Pykälä 45",
                "Esityslista 1.1.2026/Pykälä 7",
                "§ 45",
                "Kaupunginhallitus § 101 18.05.2026",
                "<a href='pk_asil_tweb.htm?+bid=1'>1.2.2026</a>",
                "<a href='ktproxy2.dll?doctype=3&docid=9'>Asia</a>",
                "<a href='x.pdf'>pöytäkirja 1.2.2026</a>",
                "Toimielin",
                "<rss><channel><item><title>x</title></item></channel></rss>",
                "&auml;",
                "\xa0",
            ]
        ),  # fmt: skip
        max_size=30,
    ).map(lambda parts: "".join(parts).encode("cp1252", "replace")),
)


@settings(max_examples=150, deadline=None)
@given(data=_PAGES)
def test_any_page_gives_items_or_page_not_understood(data: bytes) -> None:
    """Whatever a server returns, a parser gives its result or PageNotUnderstood, never another error."""
    for parse in (
        parse_dynasty_feed,
        parse_dynasty_item,
        parse_tweb_meetings,
        parse_tweb_meeting,
        parse_tweb_item,
    ):
        with contextlib.suppress(PageNotUnderstood):
            parse(data, "https://kunta.example/sivu")


@given(text=st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäöÅÄÖ –§.,:;0123456789", max_size=200))
def test_a_latin1_page_declared_in_meta_decodes_to_its_text(text: str) -> None:
    """Any Finnish text written as windows-1252 with its charset only in a meta tag decodes unchanged."""
    page = f'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><p>{text}</p>'
    assert decode_page(page.encode("cp1252")) == page
