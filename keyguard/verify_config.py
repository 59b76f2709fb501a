"""[[verify]] entries: where a found key may be sent to ask whether it is live."""

from __future__ import annotations

from keyguard.lazyre import lazy
from keyguard.record import Record

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any

VERIFY_KEYS = ("rules", "url", "method", "header", "live-status", "rejected-status", "timeout",
               "concurrency", "rate", "allow-private")
IMIN_EVENTS_API = ("https://search.imin.co/events-api/v2/event-series"
                   "?mode=discovery-geo&geo[radial]=0,0,1&limit=1")


class VerifyEntry(Record):
    rules: tuple[str, ...]
    url: str
    method: str = "GET"
    header: str = "X-API-KEY"
    live_status: tuple[int, ...] = (200,)
    rejected_status: tuple[int, ...] = (401, 403)
    timeout: float = 5.0
    concurrency: int = 4
    rate: float = 5.0  # requests per second, for the whole run
    allow_private: bool = False  # loopback, private and link-local addresses (tests, internal APIs)


IMIN = VerifyEntry(rules=("x-api-key", "hex32-key"), url=IMIN_EVENTS_API)


# key, default, (lowest, highest): a request may wait minutes at most, and a run not forever
_NUMBERS = (("timeout", 5.0, (0.1, 300)), ("concurrency", 4, (1, 64)), ("rate", 5.0, (0.01, 1000)))
_HEADER_NAME = lazy(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token


def parse_verify(raw: dict[str, Any], where: str, problems: list[str],
                 known_rules: tuple[str, ...] = ()) -> VerifyEntry | None:
    import urllib.parse  # only configurations with [[verify]] entries need it

    before = len(problems)
    url = raw.get("url")
    parsed = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parsed is None or parsed.scheme not in ("https", "http") or not parsed.hostname:
        problems.append(f"{where}: 'url' must be an https:// URL")
    rules = _list(raw, "rules", str, where, problems)
    if not rules:
        problems.append(f"{where}: 'rules' must name the rules whose keys this endpoint checks")
    # a misspelt rule would leave the entry unused, its keys sent to the built-in endpoint
    problems += [f"{where}: 'rules': no rule {name!r} (rules: {', '.join(known_rules)})"
                 for name in rules if isinstance(name, str) and name not in known_rules]
    method = raw.get("method", "GET")
    if method not in ("GET", "HEAD", "POST"):
        problems.append(f"{where}: 'method' must be GET, HEAD or POST")
    numbers = {key: raw.get(key, default) for key, default, _ in _NUMBERS}
    for key, _, (low, high) in _NUMBERS:
        value = numbers[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            problems.append(f"{where}: '{key}' must be a number from {low} to {high}")
    if not isinstance(raw.get("allow-private", False), bool):
        problems.append(f"{where}: 'allow-private' must be true or false")
    header = raw.get("header", "X-API-KEY")
    if not isinstance(header, str) or not _HEADER_NAME.fullmatch(header):
        problems.append(f"{where}: 'header' must be an HTTP header name, such as X-API-KEY")
    if len(problems) > before:
        return None
    return VerifyEntry(rules=tuple(rules), url=str(url), method=method,
                       header=header,
                       live_status=tuple(_list(raw, "live-status", int, where, problems) or (200,)),
                       rejected_status=tuple(_list(raw, "rejected-status", int, where, problems)
                                             or (401, 403)),
                       timeout=float(numbers["timeout"]), concurrency=int(numbers["concurrency"]),
                       rate=float(numbers["rate"]), allow_private=raw.get("allow-private", False))


def _list(raw: dict[str, Any], key: str, kind: type, where: str, problems: list[str]) -> list[Any]:
    value = raw.get(key, [])
    if isinstance(value, list) and all(isinstance(v, kind) and not isinstance(v, bool) for v in value):
        return value
    problems.append(f"{where}: '{key}' must be a list of {kind.__name__}s")
    return []
