"""Opt-in verification: ask the key's own API whether it still works. Nothing here runs
unless the user asked (`--verify`); each key goes only to its configured host, over HTTPS
(plain HTTP only to loopback), to a checked address, without following redirects."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from keyguard import __version__
from keyguard.model import Finding
from keyguard.record import Record
from keyguard.verify_config import VerifyEntry

_RETRIES_AFTER_429 = 2
_LOOPBACK_NAMES = ("localhost",)


class Verdict(Record, kw_only=False):
    state: str  # live | rejected | unknown | public
    reason: str

    def __str__(self) -> str:
        return self.state if not self.reason else f"{self.state} ({self.reason})"


def verify_findings(findings: Sequence[Finding], entries: Sequence[VerifyEntry]) -> dict[str, Verdict]:
    """A verdict per distinct secret (by its sha256): one request per key, however often found."""
    verdicts: dict[str, Verdict] = {}
    work: dict[str, tuple[VerifyEntry, str]] = {}
    for finding in findings:
        digest = finding.secret_sha256
        if digest in verdicts or digest in work:
            continue
        if finding.label is not None:
            verdicts[digest] = Verdict("public", finding.label)  # documented: no request
            continue
        entry = next((e for e in entries if finding.rule_id in e.rules), None)
        if entry is None:
            verdicts[digest] = Verdict("unknown", f"no [[verify]] endpoint for {finding.rule_id}")
        else:
            work[digest] = (entry, finding.secret)
    if work:
        limiter = _RateLimit(min(entry.rate for entry, _ in work.values()))
        workers = min(max(entry.concurrency for entry, _ in work.values()), len(work))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {d: pool.submit(check, e, s, limiter) for d, (e, s) in work.items()}
            verdicts.update({digest: future.result() for digest, future in futures.items()})
    return verdicts


class _RateLimit:
    """At most `rate` requests a second across all threads."""

    def __init__(self, rate: float) -> None:
        self.interval, self.next, self.lock = 1.0 / rate, 0.0, threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            delay, self.next = max(0.0, self.next - now), max(self.next, now) + self.interval
        time.sleep(delay)


def check(entry: VerifyEntry, secret: str, limiter: _RateLimit) -> Verdict:
    url = urllib.parse.urlsplit(entry.url)
    host, port = url.hostname or "", url.port or (443 if url.scheme == "https" else 80)
    try:
        address = _checked_address(host, port, url.scheme, entry.allow_private)
    except _Refused as refusal:
        return Verdict("unknown", f"refused: {refusal}")
    except OSError as e:
        return Verdict("unknown", f"cannot resolve {host}: {e.__class__.__name__}")
    for attempt in range(_RETRIES_AFTER_429 + 1):
        limiter.wait()
        try:
            status, headers = _request(entry, url, address, port, secret)
        except TimeoutError:
            return Verdict("unknown", "timeout")
        except (OSError, http.client.HTTPException) as e:
            return Verdict("unknown", f"network error: {e.__class__.__name__}")
        if status != 429:
            return _judge(entry, status, headers, host)
        if attempt < _RETRIES_AFTER_429:
            time.sleep(min(_retry_after(headers), 2.0))
    return Verdict("unknown", "rate limited (429)")


class _Refused(Exception):
    pass


def _checked_address(host: str, port: int, scheme: str, allow_private: bool) -> str:
    """The address to connect to, resolved once and checked (no rebinding between the check
    and the connection)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    loopback = all(a.is_loopback for a in addresses) or host in _LOOPBACK_NAMES
    if scheme != "https" and not loopback:
        raise _Refused("plain http is allowed for loopback only")
    for address in addresses:
        if not allow_private and (address.is_private or address.is_loopback or address.is_link_local
                                  or address.is_reserved or address.is_multicast
                                  or address.is_unspecified):
            raise _Refused(f"{host} resolves to a non-public address (set allow-private to permit)")
    return str(addresses[0])


def _request(entry: VerifyEntry, url: urllib.parse.SplitResult, address: str, port: int,
             secret: str) -> tuple[int, http.client.HTTPMessage]:
    connection: http.client.HTTPConnection
    if url.scheme == "https":
        connection = _PinnedHTTPS(url.hostname or "", address, port, entry.timeout)
    else:
        connection = _PinnedHTTP(url.hostname or "", address, port, entry.timeout)
    target = url.path + (f"?{url.query}" if url.query else "")
    # `timeout` bounds the whole request: a socket timeout alone bounds each read, and a
    # server sending a byte a second would hold the scan for as long as it likes
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        with contextlib.suppress(OSError, AttributeError):
            connection.sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked read

    timer = threading.Timer(entry.timeout, expire)
    timer.start()
    try:
        connection.request(entry.method, target or "/", headers={
            entry.header: secret, "User-Agent": f"keyguard/{__version__} (key verification)",
            "Accept": "application/json"})
        response = connection.getresponse()
        response.read(1 << 16)
    except (OSError, http.client.HTTPException):
        if expired.is_set():
            raise TimeoutError from None
        raise
    finally:
        timer.cancel()
        connection.close()
    if expired.is_set():
        raise TimeoutError
    return response.status, response.headers


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _judge(entry: VerifyEntry, status: int, headers: http.client.HTTPMessage, host: str) -> Verdict:
    if status in entry.live_status:
        return Verdict("live", f"HTTP {status}")
    if status in entry.rejected_status:
        return Verdict("rejected", f"HTTP {status}")
    if 300 <= status < 400:
        try:
            target = urllib.parse.urlsplit(headers.get("Location", "")).hostname or host
        except ValueError:  # `[oops` and the like: the server's problem, not the scan's
            target = "an invalid location"
        return Verdict("unknown", f"redirect to {target} not followed")
    if status >= 500:
        return Verdict("unknown", f"server error {status}")
    return Verdict("unknown", f"unexpected HTTP {status}")


def _retry_after(headers: http.client.HTTPMessage) -> float:
    try:
        return max(0.0, float(headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0
