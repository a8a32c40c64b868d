"""A polite client for reading public web pages (the bodies' meeting publications).

- a User-Agent naming the service and a contact address, so a municipality's web team knows who reads
  and how to reach us;
- a timeout on every request; retries with exponential backoff on connection errors, timeouts, 5xx
  and 429 (a ``Retry-After`` in seconds or as a date is honoured, capped); any other 4xx is final;
- at most one request per ``min_interval`` seconds to the same host (retries included);
- conditional GET: the ETag, Last-Modified and body of each URL are kept in ``cache_dir`` (written
  atomically); a 304 answer gives back the stored body with ``not_modified=True``.

Every failure raises :class:`PageFetchError`, whose Finnish message names the URL and the cause.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from council.errors import CouncilError
from council.paths import write_atomic

SERVICE = "council-decision-intake/1.0"


class PageFetchError(CouncilError):
    """A page could not be read: ``status`` is the HTTP status (None for a connection error or
    timeout), ``attempts`` how many requests were made."""

    advice = "Tarkista lähteen osoite; jos palvelin on tilapäisesti poissa, haku yritetään uudelleen seuraavalla ajolla."

    def __init__(self, url: str, cause: str, *, status: int | None = None, attempts: int = 1):
        self.url, self.status, self.attempts = url, status, attempts
        tries = f" ({attempts} yritystä)" if attempts > 1 else ""
        super().__init__(f"Sivua {url} ei voitu hakea: {cause}{tries}")


@dataclass(frozen=True)
class FetchedPage:
    """A page as read: on a 304 ``status`` is 304 and ``body`` the stored copy (``not_modified``)."""

    url: str
    status: int
    body: bytes
    content_type: str
    charset: str | None
    not_modified: bool
    fetched_at: datetime


class _Retry(Exception):
    def __init__(self, cause: str, status: int | None, wait: float | None = None):
        self.cause, self.status, self.wait = cause, status, wait


class PublicHttpClient:
    """Reads public pages politely (see the module docstring). ``contact`` is an address the site's
    operators can write to (the registry's, "kirjaamo@…"); ``sleep`` and ``clock`` are replaceable
    for tests."""

    def __init__(
        self,
        contact: str,
        cache_dir: Path,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 2.0,
        max_wait: float = 120.0,
        min_interval: float = 1.0,
        max_bytes: int = 50_000_000,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.user_agent = f"{SERVICE} (+kirjaamo yhteys: {contact})"
        self.cache_dir = Path(cache_dir)
        self.timeout, self.retries, self.backoff, self.max_wait = timeout, retries, backoff, max_wait
        self.min_interval, self.max_bytes = min_interval, max_bytes
        self._sleep, self._clock = sleep, clock
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self._opener = urllib.request.build_opener()

    def fetch(self, url: str) -> bytes:
        """The body of ``url`` (the stored one when unchanged): the ``fetch`` that intake's
        ``read_publication`` takes."""
        return self.get(url).body

    def get(self, url: str) -> FetchedPage:
        if urlsplit(url).scheme not in ("http", "https"):
            raise PageFetchError(url, "vain http- ja https-osoitteet ovat sallittuja")
        cached = self._load(url)
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._once(url, cached)
            except _Retry as retry:
                if attempt > self.retries:
                    raise PageFetchError(url, retry.cause, status=retry.status, attempts=attempt) from None
                wait = retry.wait if retry.wait is not None else self.backoff * 2 ** (attempt - 1)
                self._sleep(min(max(wait, 0.0), self.max_wait))

    # --- one request ---------------------------------------------------------------------------

    def _space(self, host: str) -> None:
        """Wait until ``min_interval`` has passed since the last request to ``host``."""
        with self._lock:
            now = self._clock()
            ready = self._last.get(host, now - self.min_interval) + self.min_interval
            self._last[host] = max(now, ready)
        if ready > now:
            self._sleep(ready - now)

    def _once(self, url: str, cached: dict | None) -> FetchedPage:
        headers = {"User-Agent": self.user_agent, "Accept": "*/*", "Accept-Encoding": "identity"}
        if cached:
            if cached.get("etag"):
                headers["If-None-Match"] = cached["etag"]
            if cached.get("last_modified"):
                headers["If-Modified-Since"] = cached["last_modified"]
        self._space(urlsplit(url).netloc.lower())
        request = urllib.request.Request(url, headers=headers, method="GET")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body = response.read(self.max_bytes + 1)
                if len(body) > self.max_bytes:
                    raise PageFetchError(url, f"sivu on suurempi kuin {self.max_bytes} tavua")
                return self._fresh(url, response.status, response.headers, body)
        except urllib.error.HTTPError as error:
            error.close()
            if error.code == 304 and cached is not None:
                return self._unchanged(url, cached)
            cause = f"palvelin vastasi {error.code} {error.reason}"
            if error.code == 429 or error.code >= 500:
                raise _Retry(cause, error.code, _retry_after(error.headers.get("Retry-After"))) from None
            raise PageFetchError(url, cause, status=error.code) from None
        except TimeoutError:
            raise _Retry(f"palvelin ei vastannut {self.timeout:g} sekunnissa", None) from None
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, TimeoutError):
                raise _Retry(f"palvelin ei vastannut {self.timeout:g} sekunnissa", None) from None
            raise _Retry(f"yhteys ei onnistunut ({reason})", None) from None
        except (http.client.HTTPException, ConnectionError) as error:
            raise _Retry(f"yhteys katkesi ({error.__class__.__name__}: {error})", None) from None

    def _fresh(self, url: str, status: int, headers: Message, body: bytes) -> FetchedPage:
        page = FetchedPage(
            url=url,
            status=status,
            body=body,
            content_type=headers.get_content_type(),
            charset=headers.get_content_charset(),
            not_modified=False,
            fetched_at=datetime.now(UTC),
        )
        etag, modified = headers.get("ETag"), headers.get("Last-Modified")
        if etag or modified:
            self._store(url, page, etag, modified)
        else:  # validators no longer sent: forget the old ones rather than send them again
            for stale in self._paths(url):
                stale.unlink(missing_ok=True)
        return page

    def _unchanged(self, url: str, cached: dict) -> FetchedPage:
        return FetchedPage(
            url=url,
            status=304,
            body=cached["body"],
            content_type=cached.get("content_type") or "application/octet-stream",
            charset=cached.get("charset"),
            not_modified=True,
            fetched_at=datetime.now(UTC),
        )

    # --- the conditional-GET cache ----------------------------------------------------------------

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.cache_dir / f"{key}.json", self.cache_dir / f"{key}.body"

    def _store(self, url: str, page: FetchedPage, etag: str | None, modified: str | None) -> None:
        meta_path, body_path = self._paths(url)
        meta = {
            "url": url,
            "etag": etag,
            "last_modified": modified,
            "content_type": page.content_type,
            "charset": page.charset,
            "sha256": hashlib.sha256(page.body).hexdigest(),
        }
        write_atomic(body_path, page.body)
        write_atomic(meta_path, json.dumps(meta, ensure_ascii=False, indent=1))

    def _load(self, url: str) -> dict | None:
        """The stored validators and body of ``url``; None when missing, unreadable or when the
        body does not match the digest its metadata records (a crash between the two writes)."""
        meta_path, body_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            body = body_path.read_bytes()
        except (OSError, ValueError):
            return None
        if meta.get("url") != url or meta.get("sha256") != hashlib.sha256(body).hexdigest():
            return None
        return {**meta, "body": body}


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: "120" or an HTTP date; None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
