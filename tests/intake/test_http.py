"""The publication client against a real HTTP server on 127.0.0.1: conditional GET, retries and
backoff, Retry-After, no retry on 404, per-host spacing, the User-Agent, timeouts."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from council.delivery.http import PageFetchError, PublicHttpClient
from council.errors import CouncilError
from council.intake.publications import read_publication
from tests.intake.conftest import FIXTURES, PageServer, Seen, fixture_bytes

FEED = "/cgi/DREQUEST.PHP?page=rss/meetingitems&show=30"


def client(tmp_path: Path, **options) -> tuple[PublicHttpClient, list[float]]:
    """A client with a fake sleep that records each wait, no spacing unless asked."""
    waits: list[float] = []
    options = {"min_interval": 0.0, "backoff": 0.5, "retries": 3, "timeout": 5.0, **options}
    return PublicHttpClient(
        "kirjaamo@hyvinvointivaliokunta.example", tmp_path / "cache", sleep=waits.append, **options
    ), waits


def test_reads_a_page_naming_the_service_and_its_contact(page_server: PageServer, tmp_path: Path) -> None:
    """A 200 gives the body, content type and charset; the server sees the service's User-Agent."""
    feed = fixture_bytes("dynasty/meetingitems.xml")
    page_server.respond = lambda seen, count: (
        200,
        {"Content-Type": "application/rss+xml; charset=ISO-8859-1"},
        feed,
    )
    http, _ = client(tmp_path)

    page = http.get(page_server.base + FEED)

    assert (page.status, page.body, page.not_modified) == (200, feed, False)
    assert (page.content_type, page.charset) == ("application/rss+xml", "iso-8859-1")
    assert page.url == page_server.base + FEED and page.fetched_at.tzinfo is not None
    agent = page_server.seen[0].headers["user-agent"]
    assert agent == "council-decision-intake/1.0 (+kirjaamo yhteys: kirjaamo@hyvinvointivaliokunta.example)"


def _conditional(validator: str, value: str, condition: str):
    body = b"<html><p>Esityslista</p></html>"

    def respond(seen: Seen, count: int):
        if seen.headers.get(condition) == value:
            return 304, {validator: value}, b""
        return 200, {"Content-Type": "text/html; charset=utf-8", validator: value}, body

    return body, respond


@pytest.mark.parametrize(
    ("validator", "value", "condition"),
    [
        ("ETag", '"v1-abc"', "if-none-match"),
        ("Last-Modified", "Tue, 12 May 2026 10:00:00 GMT", "if-modified-since"),
    ],
    ids=["etag", "last-modified"],
)
def test_an_unchanged_page_comes_from_the_cache(
    page_server: PageServer, tmp_path: Path, validator: str, value: str, condition: str
) -> None:
    """The second read sends the stored validator; on 304 the stored body returns, marked not modified,
    also to a new client on the same cache folder (the cache is on disk)."""
    body, page_server.respond = _conditional(validator, value, condition)
    url = page_server.base + "/ktwebscr/pk_kokl_tweb.htm"
    first, _ = client(tmp_path)
    assert first.get(url).not_modified is False

    again = first.get(url)
    later, _ = client(tmp_path)
    restarted = later.get(url)

    assert [seen.headers.get(condition) for seen in page_server.seen] == [None, value, value]
    for page in (again, restarted):
        assert (page.status, page.body, page.not_modified) == (304, body, True)
        assert (page.content_type, page.charset) == ("text/html", "utf-8")


def test_a_damaged_cache_entry_is_not_used(page_server: PageServer, tmp_path: Path) -> None:
    """A stored body that does not match its recorded digest is ignored: the page is read in full."""
    body, page_server.respond = _conditional("ETag", '"v1"', "if-none-match")
    url = page_server.base + "/sivu"
    http, _ = client(tmp_path)
    http.get(url)
    for stored in (tmp_path / "cache").glob("*.body"):
        stored.write_bytes(b"half")

    page = http.get(url)

    assert (page.status, page.body) == (200, body)
    assert page_server.seen[-1].headers.get("if-none-match") is None


def test_a_page_without_validators_is_read_in_full_again(page_server: PageServer, tmp_path: Path) -> None:
    """When a page stops sending its ETag, the old ETag is not sent again."""
    page_server.respond = lambda seen, count: (200, {"ETag": '"v1"'} if count == 1 else {}, b"ok")
    http, _ = client(tmp_path)
    for _ in range(3):
        http.get(page_server.base + "/sivu")
    assert [seen.headers.get("if-none-match") for seen in page_server.seen] == [None, '"v1"', None]


def test_503_is_retried_with_exponential_backoff(page_server: PageServer, tmp_path: Path) -> None:
    """Two 503 answers, then 200: three requests, waits of backoff, 2 × backoff."""
    page_server.respond = lambda seen, count: (503, {}, b"") if count < 3 else (200, {}, b"ok")
    http, waits = client(tmp_path, backoff=0.5)

    assert http.get(page_server.base + "/sivu").body == b"ok"
    assert len(page_server.seen) == 3
    assert waits == [0.5, 1.0]


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), ("3600", 30.0)], ids=["seconds", "capped"])
def test_429_waits_for_retry_after(
    page_server: PageServer, tmp_path: Path, header: str, expected: float
) -> None:
    """A 429 with Retry-After waits the seconds given, at most max_wait, then tries again."""
    page_server.respond = lambda seen, count: (
        (429, {"Retry-After": header}, b"") if count == 1 else (200, {}, b"ok")
    )
    http, waits = client(tmp_path, max_wait=30.0)

    assert http.get(page_server.base + "/sivu").body == b"ok"
    assert waits == [expected]


def test_retry_after_may_be_a_date(page_server: PageServer, tmp_path: Path) -> None:
    """A 503 with Retry-After as an HTTP date waits until that moment."""
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    page_server.respond = lambda seen, count: (
        (503, {"Retry-After": when}, b"") if count == 1 else (200, {}, b"ok")
    )
    http, waits = client(tmp_path, max_wait=60.0)

    assert http.get(page_server.base + "/sivu").body == b"ok"
    assert len(waits) == 1 and 17.0 <= waits[0] <= 20.0


def test_spacing_is_per_host(page_server: PageServer, tmp_path: Path) -> None:
    """Another host is not held back; the same host waits for the rest of its interval."""
    page_server.respond = lambda seen, count: (200, {}, b"ok")
    http, waits = client(tmp_path, min_interval=30.0)
    other_host = page_server.base.replace("127.0.0.1", "localhost")

    http.get(page_server.base + "/yksi")
    http.get(other_host + "/kaksi")
    assert waits == []
    http.get(page_server.base + "/kolme")
    assert len(waits) == 1 and 29.0 <= waits[0] <= 30.0


def test_404_is_not_retried(page_server: PageServer, tmp_path: Path) -> None:
    """A 404 is final: one request, a Finnish error naming the URL and the status."""
    page_server.respond = lambda seen, count: (404, {}, b"")
    http, waits = client(tmp_path)
    url = page_server.base + "/poistettu"

    with pytest.raises(PageFetchError) as caught:
        http.get(url)

    assert len(page_server.seen) == 1 and waits == []
    assert caught.value.status == 404 and isinstance(caught.value, CouncilError)
    assert str(caught.value) == f"Sivua {url} ei voitu hakea: palvelin vastasi 404 Not Found"


def test_retries_end_in_an_error_naming_the_url(page_server: PageServer, tmp_path: Path) -> None:
    """A server that keeps answering 500 gets retries + 1 requests, then the error says how many."""
    page_server.respond = lambda seen, count: (500, {}, b"")
    http, waits = client(tmp_path, retries=2)
    url = page_server.base + "/sivu"

    with pytest.raises(
        PageFetchError, match=f"^Sivua {url} ei voitu hakea: palvelin vastasi 500 .*3 yritystä"
    ):
        http.get(url)
    assert len(page_server.seen) == 3 and len(waits) == 2


def test_requests_to_one_host_are_spaced(page_server: PageServer, tmp_path: Path) -> None:
    """With min_interval 0.3 s two requests to the same host arrive at least about 0.3 s apart."""
    page_server.respond = lambda seen, count: (200, {}, b"ok")
    http = PublicHttpClient("kirjaamo@example.invalid", tmp_path / "cache", min_interval=0.3)

    http.get(page_server.base + "/yksi")
    http.get(page_server.base + "/kaksi")

    first, second = page_server.seen
    assert second.at - first.at >= 0.28


def test_a_slow_server_times_out(page_server: PageServer, tmp_path: Path) -> None:
    """A server that does not answer within the timeout gives a Finnish timeout error."""

    def slow(seen: Seen, count: int):
        time.sleep(1.0)
        return 200, {}, b"myohassa"

    page_server.respond = slow
    http, _ = client(tmp_path, timeout=0.2, retries=0)
    url = page_server.base + "/hidas"

    with pytest.raises(
        PageFetchError, match=f"^Sivua {url} ei voitu hakea: palvelin ei vastannut 0.2 sekunnissa$"
    ):
        http.get(url)


def test_a_closed_port_is_a_connection_error(tmp_path: Path) -> None:
    """Nothing listening: retried, then a Finnish error naming the URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http, waits = client(tmp_path, retries=1)
    url = f"http://127.0.0.1:{port}/"

    with pytest.raises(PageFetchError, match=f"^Sivua {url} ei voitu hakea: yhteys ei onnistunut"):
        http.get(url)
    assert len(waits) == 1


def test_only_http_addresses_are_read(tmp_path: Path) -> None:
    """A file: address is refused before any request."""
    http, _ = client(tmp_path)
    with pytest.raises(PageFetchError, match="vain http- ja https-osoitteet"):
        http.get(f"file://{FIXTURES}/other/login.html")


def test_read_publication_follows_a_tweb_list_over_http(page_server: PageServer, tmp_path: Path) -> None:
    """The client's fetch drives read_publication through a Tweb list served in Latin-1 without a
    charset header: the meeting list, its pages and the item documents, newest meeting first."""
    files = {
        "/ktwebbin/dbisa.dll/ktwebscr/pk_kokl_tweb.htm": "tweb/pk_kokl_tweb.htm",
        "/ktwebbin/dbisa.dll/ktwebscr/pk_asil_tweb.htm?+bid=4812": "tweb/pk_asil_tweb-4812.htm",
        "/ktwebbin/dbisa.dll/ktwebscr/pk_asil_tweb.htm?+bid=4790": "tweb/pk_asil_tweb-4790.htm",
        "/ktwebbin/ktproxy2.dll?doctype=3&docid=35090101": "tweb/ktproxy2-35090101.htm",
        "/ktwebbin/ktproxy2.dll?doctype=3&docid=35090102": "tweb/ktproxy2-35090102.htm",
    }

    def respond(seen: Seen, count: int):
        if seen.path not in files:
            return 404, {}, b""
        return 200, {"Content-Type": "text/html"}, fixture_bytes(files[seen.path])

    page_server.respond = respond
    http = PublicHttpClient("kirjaamo@example.invalid", tmp_path / "cache", min_interval=0.0)

    items = read_publication(
        "tweb", page_server.base + "/ktwebbin/dbisa.dll/ktwebscr/pk_kokl_tweb.htm", http.fetch
    )

    assert [(item.section, item.title) for item in items] == [
        ("101", "Järjestöyhteistyön toimintamalli Forssan seudulla"),
        ("102", "Lausunto Forssan seudun joukkoliikennesuunnitelmasta 2026–2030"),
    ]
    assert sorted(seen.path for seen in page_server.seen) == sorted(files)
