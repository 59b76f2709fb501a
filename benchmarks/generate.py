#!/usr/bin/env python3
"""Generate a realistic git repository for benchmarking secret scanners, with `git fast-import`.

The whole history is streamed into one `git fast-import` process (no `git commit` per commit).
The shape, for the default 24,000 commits:

- a few hundred to ~1,000 small text files in nested directories (Python, TypeScript, Go, Java,
  shell, SQL, YAML, TOML, Markdown, .env, .http ...), edited a few lines at a time, with hot
  files edited far more often than cold ones; files are added, deleted and renamed;
- a handful of large text files (1-5 MB at --scale 1: JSON, JSON lines, CSV, an access log, a
  PO file, an OpenAPI document) edited often, a few lines per edit, each edit a new blob;
- a few binary files (random bytes, a few hundred KB) replaced now and then;
- feature branches forked from main and merged back (`from` + `merge`), some never merged,
  annotated and lightweight tags;
- a few dozen planted fake keys (32 lowercase hex from the seeded RNG) in key-like contexts,
  about half removed again later; hex ids in non-key contexts (request ids, etags, commit
  SHAs) that a precise scanner must not block on.

Everything comes from one `random.Random(seed)`: the same seed and options give the same
commits (same SHAs). The planted keys are listed in `<output>.manifest.json` beside the
repository, never inside it.

Packing: by default the repository is repacked (`git repack -a -d -f`, git's default window and
depth) into the pack a clone or `git gc` gives: most versions of a big file are stored as deltas
of others, so reading them in another order than the pack's costs git delta reconstruction.
`--pack fast-import` leaves fast-import's own pack instead (it deltas a blob only against the
blob written just before it, so most big-file versions are stored whole and git's zlib inflate
becomes the bottleneck of every scanner). Refs are packed with `git pack-refs --all`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

WORDS = [
    "account", "address", "admin", "agent", "alert", "app", "archive", "asset", "audit", "backend",
    "balance", "batch", "billing", "buffer", "build", "bundle", "cache", "callback", "cart",
    "catalog", "channel", "chart", "check", "client", "cluster", "code", "column", "command",
    "config", "connection", "consumer", "context", "cookie", "count", "counter", "country", "credit",
    "cursor", "customer", "dashboard", "data", "database", "date", "debug", "default", "delivery",
    "device", "dispatch", "document", "domain", "draft", "driver", "email", "endpoint", "engine",
    "entry", "error", "event", "export", "feature", "feed", "field", "file", "filter", "flag", "form",
    "format", "gateway", "graph", "group", "handler", "header", "health", "history", "host", "image",
    "import", "index", "input", "instance", "invoice", "item", "job", "label", "layout", "ledger",
    "level", "limit", "link", "list", "loader", "locale", "lock", "log", "login", "manager", "map",
    "market", "media", "merchant", "message", "metric", "migration", "mode", "model", "module",
    "monitor", "node", "notice", "notification", "offset", "order", "output", "owner", "package",
    "page", "parser", "partner", "payload", "payment", "peer", "period", "plan", "policy", "pool",
    "port", "post", "price", "printer", "process", "product", "profile", "project", "provider",
    "proxy", "query", "queue", "quota", "rate", "reader", "receipt", "record", "region", "registry",
    "release", "report", "request", "resource", "response", "result", "retry", "review", "role",
    "route", "rule", "runner", "schema", "scope", "search", "section", "segment", "sender", "server",
    "service", "session", "setting", "shard", "shipment", "signal", "snapshot", "source", "spec",
    "stage", "state", "status", "step", "storage", "store", "stream", "subscription", "summary",
    "supplier", "sync", "table", "tag", "target", "task", "template", "tenant", "terminal", "thread",
    "ticket", "timer", "topic", "trace", "tracker", "transaction", "transfer", "trigger", "type",
    "unit", "update", "upload", "user", "value", "vendor", "version", "view", "voucher", "wallet",
    "warehouse", "webhook", "widget", "worker", "zone",
]
VERBS = [
    "get", "set", "load", "save", "build", "parse", "render", "update", "create", "delete", "fetch",
    "send", "sync", "validate", "apply", "merge", "compute", "resolve", "refresh", "handle", "format",
    "normalize", "encode", "decode",
]
NAMES = ("Ana Silva", "Ben Carter", "Chen Wei", "Dana Kowalski", "Eli Cohen", "Fatima Noor",
         "Gustavo Lima", "Hana Sato", "Ivan Petrov", "Julia Berg", "Kofi Mensah", "Lena Fischer",
         "Mateo Ruiz", "Nina Haddad", "Omar Aziz", "Priya Raman", "Quinn Doyle", "Rosa Marin",
         "Sam Okafor", "Tariq Khan", "Uma Iyer", "Victor Hugo", "Wen Li", "Yara Costa")
CITIES = [
    "Lisbon", "Berlin", "Nairobi", "Osaka", "Lima", "Oslo", "Austin", "Pune", "Porto", "Accra",
    "Quito", "Seoul",
]

# Extension -> language group (line generator) for the small files.
AREAS: list[tuple[str, tuple[str, ...]]] = [
    ("services/{w}/app/{w}", ("py",)),
    ("services/{w}/tests", ("py",)),
    ("services/{w}/migrations", ("sql", "py")),
    ("web/src/{comp}/{w}", ("ts", "tsx", "css")),
    ("web/src/lib", ("ts", "js")),
    ("cmd/{w}", ("go",)),
    ("internal/{w}/{w}", ("go",)),
    ("android/app/src/main/java/com/imin/{w}", ("java",)),
    ("scripts", ("sh", "py")),
    ("deploy/k8s/{env}", ("yaml",)),
    ("deploy/terraform/{w}", ("tf",)),
    ("config/{env}", ("yaml", "toml", "env")),
    ("docs/{w}", ("md",)),
    ("docs/api", ("md", "http")),
    ("tools/{w}", ("rb", "py", "sh")),
]
COMPONENT_DIRS = ("components", "pages", "hooks", "features", "widgets")
ENVIRONMENTS = ("dev", "staging", "prod", "qa")


def ident(r: random.Random) -> str:
    n = r.randint(1, 3)
    return "_".join(r.choice(WORDS) for _ in range(n))


def camel(r: random.Random) -> str:
    parts = [r.choice(VERBS)] + [r.choice(WORDS).capitalize() for _ in range(r.randint(1, 2))]
    return "".join(parts)


def pascal(r: random.Random) -> str:
    return "".join(r.choice(WORDS).capitalize() for _ in range(r.randint(1, 3)))


def hex32(r: random.Random) -> str:
    return f"{r.getrandbits(128):032x}"


def uuid4_hex(r: random.Random) -> str:
    """A version-4 UUID without dashes, as `uuid.uuid4().hex` gives, from the seeded RNG."""
    value = r.getrandbits(128)
    value = (value & ~(0xF000 << 64)) | (4 << 76)  # version nibble
    value = (value & ~(0xC000 << 48)) | (0x8000 << 48)  # variant bits
    return f"{value:032x}"


def sentence(r: random.Random, low: int = 3, high: int = 12) -> str:
    return " ".join(r.choice(WORDS) for _ in range(r.randint(low, high)))


def indent(r: random.Random, unit: str = "    ") -> str:
    return unit * r.choice((0, 1, 1, 1, 2, 2, 3))


# One text line for each language: cheap, varied, roughly the look of real code.
def line_py(r: random.Random) -> str:
    k = r.random()
    i = indent(r)
    if k < 0.25:
        return f"{i}{ident(r)} = {ident(r)}.{r.choice(VERBS)}({ident(r)}, {r.randint(0, 999)})"
    if k < 0.35:
        return f"{i}def {r.choice(VERBS)}_{ident(r)}(self, {ident(r)}: str) -> {pascal(r)}:"
    if k < 0.45:
        return f"{i}# {sentence(r)}"
    if k < 0.55:
        return f"{i}if {ident(r)} is None or {ident(r)} > {r.randint(1, 500)}:"
    if k < 0.63:
        return f"{i}return {pascal(r)}({ident(r)}={ident(r)}, {ident(r)}=\"{r.choice(WORDS)}\")"
    if k < 0.70:
        return f"{i}logger.info(\"{sentence(r, 2, 6)} %s\", {ident(r)})"
    if k < 0.72:
        return f"{i}request_id = \"{hex32(r)}\""
    if k < 0.73:
        return f"{i}etag = \"{hex32(r)}\"  # md5 of the payload"
    if k < 0.80:
        return ""
    return f"{i}{ident(r)}.append({ident(r)}[{r.randint(0, 9)}])"


def line_ts(r: random.Random) -> str:
    k = r.random()
    i = indent(r, "  ")
    if k < 0.25:
        return f"{i}const {camel(r)} = await {camel(r)}({camel(r)}, {r.randint(0, 99)});"
    if k < 0.40:
        return f"{i}export function {camel(r)}({camel(r)}: {pascal(r)}): {pascal(r)} {{"
    if k < 0.50:
        return f"{i}// {sentence(r)}"
    if k < 0.60:
        return f"{i}<{pascal(r)} {camel(r)}={{{camel(r)}}} label=\"{sentence(r, 1, 3)}\" />"
    if k < 0.70:
        return f"{i}if (!{camel(r)}) return {camel(r)}.{r.choice(VERBS)}();"
    if k < 0.72:
        return f"{i}traceId: \"{hex32(r)}\","
    if k < 0.80:
        return f"{i}}}"
    return f"{i}{camel(r)}.{r.choice(VERBS)}({{ {camel(r)}: {r.randint(0, 999)} }});"


def line_go(r: random.Random) -> str:
    k = r.random()
    i = "\t" * r.choice((0, 1, 1, 2, 2, 3))
    if k < 0.25:
        return f"{i}{camel(r)}, err := {r.choice(WORDS)}.{pascal(r)}(ctx, {camel(r)})"
    if k < 0.40:
        return f"{i}if err != nil {{ return nil, fmt.Errorf(\"{sentence(r, 2, 5)}: %w\", err) }}"
    if k < 0.50:
        return f"{i}// {pascal(r)} {sentence(r)}"
    if k < 0.60:
        return f"{i}func (s *{pascal(r)}) {pascal(r)}(ctx context.Context) error {{"
    if k < 0.62:
        return f"{i}// fixed in {r.getrandbits(160):040x}"
    if k < 0.75:
        return f"{i}}}"
    return f"{i}{camel(r)} := make(map[string]{pascal(r)}, {r.randint(1, 64)})"


def line_java(r: random.Random) -> str:
    k = r.random()
    i = indent(r)
    if k < 0.3:
        return f"{i}{pascal(r)} {camel(r)} = {camel(r)}.{camel(r)}({camel(r)});"
    if k < 0.45:
        return f"{i}public {pascal(r)} {camel(r)}({pascal(r)} {camel(r)}) {{"
    if k < 0.55:
        return f"{i}// {sentence(r)}"
    if k < 0.70:
        return f"{i}}}"
    return f"{i}this.{camel(r)}.{camel(r)}(\"{r.choice(WORDS)}\", {r.randint(0, 99)});"


def line_sh(r: random.Random) -> str:
    k = r.random()
    if k < 0.3:
        return (f"{r.choice(WORDS).upper()}_{r.choice(WORDS).upper()}="
                f"\"${{{r.choice(WORDS).upper()}:-{r.choice(WORDS)}}}\"")
    if k < 0.5:
        command = r.choice(("curl -fsS", "kubectl get", "docker run --rm", "jq -r"))
        return f"  {command} {r.choice(WORDS)}/{r.choice(WORDS)}"
    if k < 0.7:
        return f"# {sentence(r)}"
    return f"  echo \"{sentence(r, 2, 6)}\" >&2"


def line_sql(r: random.Random) -> str:
    k = r.random()
    if k < 0.4:
        return f"  {ident(r)} {r.choice(('TEXT', 'INTEGER', 'BIGINT', 'TIMESTAMPTZ', 'BOOLEAN'))} NOT NULL,"
    if k < 0.6:
        return f"CREATE INDEX idx_{ident(r)} ON {ident(r)} ({ident(r)});"
    if k < 0.8:
        return f"-- {sentence(r)}"
    return f"SELECT {ident(r)}, {ident(r)} FROM {ident(r)} WHERE {ident(r)} = {r.randint(0, 99)};"


def line_yaml(r: random.Random) -> str:
    k = r.random()
    i = "  " * r.choice((0, 1, 1, 2, 2, 3))
    if k < 0.45:
        return f"{i}{ident(r)}: {r.choice((str(r.randint(0, 9999)), r.choice(WORDS), 'true', 'false'))}"
    if k < 0.65:
        return f"{i}- name: {ident(r)}"
    if k < 0.75:
        return f"{i}# {sentence(r)}"
    if k < 0.77:
        return f"{i}checksum: {hex32(r)}"
    return (f"{i}image: registry.example.com/{r.choice(WORDS)}:"
            f"{r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 9)}")


def line_toml(r: random.Random) -> str:
    k = r.random()
    if k < 0.15:
        return f"[{ident(r)}]"
    if k < 0.8:
        return f"{ident(r)} = {r.choice((str(r.randint(0, 9999)), repr(r.choice(WORDS)), 'true'))}"
    return f"# {sentence(r)}"


def line_env(r: random.Random) -> str:
    k = r.random()
    if k < 0.8:
        name = f"{r.choice(WORDS).upper()}_{r.choice(WORDS).upper()}"
        return f"{name}={r.choice((r.choice(WORDS), str(r.randint(0, 65535))))}"
    return f"# {sentence(r)}"


def line_md(r: random.Random) -> str:
    k = r.random()
    if k < 0.08:
        return f"## {sentence(r, 2, 5).capitalize()}"
    if k < 0.15:
        return f"- `{ident(r)}`: {sentence(r)}"
    if k < 0.20:
        return ""
    if k < 0.22:
        return f"Fixed in commit {r.getrandbits(160):040x}."
    return sentence(r, 8, 20).capitalize() + "."


def line_http(r: random.Random) -> str:
    k = r.random()
    if k < 0.3:
        method = r.choice(("GET", "POST", "PUT", "DELETE"))
        return f"{method} https://api.example.com/v1/{r.choice(WORDS)}/{r.randint(1, 9999)}"
    if k < 0.5:
        return "Content-Type: application/json"
    if k < 0.6:
        return "X-API-KEY: {{api_key}}"
    if k < 0.8:
        return f"  \"{camel(r)}\": \"{r.choice(WORDS)}\","
    return "###"


def line_tf(r: random.Random) -> str:
    k = r.random()
    if k < 0.2:
        kind = r.choice(("aws_s3_bucket", "aws_iam_role", "google_sql_database"))
        return f"resource \"{kind}\" \"{ident(r)}\" {{"
    if k < 0.7:
        return f"  {ident(r)} = \"{r.choice(WORDS)}-{r.choice(ENVIRONMENTS)}\""
    return "}"


def line_rb(r: random.Random) -> str:
    k = r.random()
    if k < 0.4:
        return f"    {ident(r)} = {pascal(r)}.{ident(r)}({ident(r)}: {r.randint(0, 99)})"
    if k < 0.6:
        return f"  def {ident(r)}"
    if k < 0.8:
        return "  end"
    return f"  # {sentence(r)}"


def line_css(r: random.Random) -> str:
    k = r.random()
    if k < 0.2:
        return f".{r.choice(WORDS)}-{r.choice(WORDS)} {{"
    if k < 0.8:
        return f"  {r.choice(('margin', 'padding', 'color', 'width', 'gap'))}: {r.randint(0, 64)}px;"
    return "}"


LINES: dict[str, Callable[[random.Random], str]] = {
    "py": line_py, "ts": line_ts, "tsx": line_ts, "js": line_ts, "go": line_go,
    "java": line_java, "sh": line_sh, "sql": line_sql, "yaml": line_yaml, "toml": line_toml,
    "env": line_env, "md": line_md, "http": line_http, "tf": line_tf, "rb": line_rb,
    "css": line_css,
}

# Contexts a planted key is written in, per file extension ({k} is the key).
KEY_CONTEXTS: dict[str, tuple[str, ...]] = {
    "py": ('IMIN_API_KEY = "{k}"', '    api_key = "{k}"', '    headers = {{"X-API-KEY": "{k}"}}'),
    "ts": ('  headers: {{ "X-API-KEY": "{k}" }},', 'const apiKey = "{k}";'),
    "tsx": ('  headers: {{ "X-API-KEY": "{k}" }},',),
    "js": ('const IMIN_API_KEY = "{k}";',),
    "go": ('\treq.Header.Set("X-API-KEY", "{k}")', 'const iminAPIKey = "{k}"'),
    "java": ('        conn.setRequestProperty("X-API-KEY", "{k}");',),
    "sh": ('export IMIN_API_KEY={k}', 'curl -H "X-API-KEY: {k}" https://api.example.com/v1/orders'),
    "yaml": ('  imin_api_key: "{k}"', '  api_key: {k}'),
    "toml": ('api_key = "{k}"',),
    "env": ('IMIN_API_KEY={k}',),
    "md": ('curl -H "X-API-KEY: {k}" https://api.example.com/v1/orders',),
    "http": ('X-API-KEY: {k}',),
    "rb": ('  IMIN_API_KEY = "{k}"',),
    "tf": ('  imin_api_key = "{k}"',),
}


# The large, often-edited data files: path, target size in MB at --scale 1, line generator.
def big_json(r: random.Random) -> str:
    return (f'  {{"id": {r.randint(1, 10**7)}, "name": "{r.choice(NAMES)}", '
            f'"email": "{r.choice(WORDS)}.{r.randint(1, 999)}@example.com", '
            f'"city": "{r.choice(CITIES)}", "score": {r.random():.4f}, '
            f'"active": {r.choice(("true", "false"))}, "tags": ["{r.choice(WORDS)}", "{r.choice(WORDS)}"]}},')


def big_jsonl(r: random.Random) -> str:
    return (f'{{"ts": "2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:'
            f'{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z", '
            f'"event": "{r.choice(WORDS)}.{r.choice(VERBS)}", '
            f'"user": {r.randint(1, 99999)}, "amount": {r.randint(0, 100000) / 100:.2f}}}')


def big_csv(r: random.Random) -> str:
    return (f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d},{r.choice(WORDS)}-{r.randint(1, 40)},"
            f"{r.choice(CITIES)},{r.randint(0, 10**6)},{r.random():.5f},{r.random():.5f},{r.choice(WORDS)}")


def big_log(r: random.Random) -> str:
    return (f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)} - - "
            f"[{r.randint(1, 28):02d}/Mar/2024:{r.randint(0, 23):02d}:"
            f"{r.randint(0, 59):02d}:{r.randint(0, 59):02d} +0000] "
            f"\"{r.choice(('GET', 'POST', 'PUT'))} /v1/{r.choice(WORDS)}/{r.randint(1, 9999)} HTTP/1.1\" "
            f"{r.choice((200, 200, 200, 201, 204, 301, 404, 500))} {r.randint(100, 90000)} "
            f"request_id={hex32(r)} rt={r.random():.3f}")


def big_po(r: random.Random) -> str:
    return f'msgid "{sentence(r, 2, 8)}"\nmsgstr "{sentence(r, 2, 8)}"\n'


def big_openapi(r: random.Random) -> str:
    return (f"{'  ' * r.randint(1, 5)}{camel(r)}: "
            f"{{type: {r.choice(('string', 'integer', 'boolean'))}, description: {sentence(r, 3, 9)}}}")


BIG_FILES: list[tuple[str, float, Callable[[random.Random], str]]] = [
    ("data/fixtures/customers.json", 3.0, big_json),
    ("data/exports/ledger-2024.csv", 4.0, big_csv),
    ("tests/fixtures/access.log", 5.0, big_log),
    ("data/events/sample-events.jsonl", 2.0, big_jsonl),
    ("docs/api/openapi-full.yaml", 1.5, big_openapi),
    ("web/public/locales/messages.po", 1.0, big_po),
]
BINARY_FILES: list[tuple[str, int]] = [
    ("web/public/img/hero.png", 420), ("web/public/img/logo.png", 120),
    ("android/app/src/main/res/drawable/splash.webp", 300), ("docs/img/architecture.png", 250),
    ("data/models/ranker.bin", 600), ("assets/fonts/Inter-Regular.woff2", 180),
    ("tests/fixtures/sample.pdf", 350), ("assets/audio/notify.ogg", 90),
]
BINARY_MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".webp": b"RIFF\x00\x00\x00\x00WEBP",
                ".pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", ".ogg": b"OggS\x00\x02",
                ".woff2": b"wOF2\x00\x01\x00\x00", ".bin": b"\x00\x01MODEL\x00"}


@dataclass(frozen=True, slots=True)
class Entry:
    """One file version: its fast-import mark and its content (lines for text, bytes)."""

    mark: int
    lines: tuple[str, ...] | None
    data: bytes | None = None


@dataclass(slots=True)
class Branch:
    name: str
    tip: int
    state: dict[str, Entry]
    base: dict[str, Entry] = field(default_factory=dict)  # the state it forked from
    made: int = 0  # commits made on it
    target: int = 0  # commits before it is merged
    merge: bool = True


@dataclass(slots=True)
class Planted:
    key: str
    path: str
    branch: str
    line: str
    commit_mark: int
    context: str
    remove_at: int | None
    removed_mark: int | None = None


@dataclass(slots=True)
class Shape:
    """Everything that decides the repository's size."""

    commits: int
    scale: float
    seed: int
    keys: int
    initial_files: int = 320
    max_files: int = 950
    small_changes: float = 3.0  # mean small-file edits per commit
    add_prob: float = 0.06
    delete_prob: float = 0.012
    rename_prob: float = 0.006
    big_edit_prob: float = 0.06
    binary_edit_prob: float = 0.008
    feature_share: float = 0.3  # commits made on feature branches
    max_features: int = 6


class Stream:
    """Writes the fast-import command stream."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.next_mark = 1
        self.blob_bytes = 0
        self.blobs = 0

    def mark(self) -> int:
        m = self.next_mark
        self.next_mark += 1
        return m

    def blob(self, data: bytes) -> int:
        m = self.mark()
        self.out.write(b"blob\nmark :%d\ndata %d\n" % (m, len(data)))
        self.out.write(data)
        self.out.write(b"\n")
        self.blobs += 1
        self.blob_bytes += len(data)
        return m

    def commit(self, ref: str, who: str, when: int, message: str, parent: int | None,
               merge: int | None, changes: list[tuple[str, int | None]]) -> int:
        m = self.mark()
        email = who.lower().replace(" ", ".") + "@example.com"
        msg = message.encode()
        parts = [b"commit %s\nmark :%d\n" % (ref.encode(), m),
                 b"author %s <%s> %d +0000\n" % (who.encode(), email.encode(), when),
                 b"committer %s <%s> %d +0000\n" % (who.encode(), email.encode(), when),
                 b"data %d\n%s\n" % (len(msg), msg)]
        if parent is not None:
            parts.append(b"from :%d\n" % parent)
        if merge is not None:
            parts.append(b"merge :%d\n" % merge)
        for path, mark in changes:
            quoted = _quote(path)
            if mark is None:
                parts.append(b"D %s\n" % quoted)
            else:
                parts.append(b"M 100644 :%d %s\n" % (mark, quoted))
        parts.append(b"\n")
        self.out.write(b"".join(parts))
        return m

    def tag(self, name: str, target: int, who: str, when: int, message: str) -> None:
        email = who.lower().replace(" ", ".") + "@example.com"
        msg = message.encode()
        self.out.write(b"tag %s\nfrom :%d\ntagger %s <%s> %d +0000\ndata %d\n%s\n"
                       % (name.encode(), target, who.encode(), email.encode(), when, len(msg), msg))

    def lightweight_tag(self, name: str, target: int) -> None:
        self.out.write(b"reset refs/tags/%s\nfrom :%d\n\n" % (name.encode(), target))


def _quote(path: str) -> bytes:
    if any(c in path for c in ' "\n\\'):
        return json.dumps(path).encode()
    return path.encode()


def encode_lines(lines: tuple[str, ...]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


class Generator:
    def __init__(self, shape: Shape, stream: Stream) -> None:
        self.shape = shape
        self.r = random.Random(shape.seed)
        self.s = stream
        self.when = 1546300800  # 2019-01-01
        self.hot: list[str] = []  # small-file paths, hot ones several times
        self.known_paths: set[str] = set()
        self.big: dict[str, Callable[[random.Random], str]] = {}
        self.big_sizes: dict[str, int] = {}
        self.planted: list[Planted] = []
        self.features: list[Branch] = []
        self.retired: list[str] = []  # merged feature branch refs (most deleted at the end)
        self.kept_unmerged: list[str] = []
        self.feature_names: set[str] = set()
        self.tags = 0
        self.merges = 0
        self.commits = 0
        self.main = Branch("refs/heads/main", 0, {})

    # --- content -------------------------------------------------------------------
    def new_path(self) -> str:
        r = self.r
        while True:
            area, exts = r.choice(AREAS)
            directory = area.replace("{comp}", r.choice(COMPONENT_DIRS)).replace(
                "{env}", r.choice(ENVIRONMENTS))
            while "{w}" in directory:
                directory = directory.replace("{w}", r.choice(WORDS[:80]), 1)
            ext = r.choice(exts)
            base = ident(r) if ext not in ("tsx", "java") else pascal(r)
            name = ".env." + r.choice(ENVIRONMENTS) if ext == "env" else f"{base}.{ext}"
            path = f"{directory}/{name}"
            if path not in self.known_paths:
                self.known_paths.add(path)
                return path

    def gen_lines(self, ext: str, count: int) -> list[str]:
        make = LINES[ext]
        return [make(self.r) for _ in range(count)]

    def small_size(self) -> int:
        """Lines in a new small file: log-normal, median ~90 lines, capped."""
        return max(5, min(2500, int(self.r.lognormvariate(4.5, 0.9))))

    def new_small(self, path: str) -> Entry:
        ext = path.rsplit(".", 1)[-1] if not path.rsplit("/", 1)[-1].startswith(".env") else "env"
        lines = tuple(self.gen_lines(ext, self.small_size()))
        return Entry(self.s.blob(encode_lines(lines)), lines)

    def edit_small(self, path: str, entry: Entry) -> Entry:
        r = self.r
        ext = _ext(path)
        lines = list(entry.lines or ())
        for _ in range(1 + int(r.expovariate(0.55))):
            k = r.random()
            size = r.randint(1, 6) if k < 0.6 else r.randint(6, 30) if k < 0.93 else r.randint(30, 150)
            at = r.randint(0, len(lines))
            op = r.random()
            if op < 0.55:  # replace
                lines[at:at + size] = self.gen_lines(ext, size)
            elif op < 0.8 or len(lines) < 40:  # insert
                lines[at:at] = self.gen_lines(ext, size)
            else:  # delete
                del lines[at:at + size]
        if len(lines) > 3000:
            start = r.randint(0, 2000)
            del lines[start:start + 500]
        result = tuple(lines or self.gen_lines(ext, 5))
        return Entry(self.s.blob(encode_lines(result)), result)

    def new_big(self, path: str, make: Callable[[random.Random], str], mb: float) -> Entry:
        target = int(mb * self.shape.scale * 1024 * 1024)
        lines: list[str] = []
        size = 0
        while size < target:
            line = make(self.r)
            lines.append(line)
            size += len(line) + 1
        self.big[path] = make
        self.big_sizes[path] = target
        result = tuple(lines)
        return Entry(self.s.blob(encode_lines(result)), result)

    def edit_big(self, path: str, entry: Entry) -> Entry:
        r = self.r
        make = self.big[path]
        lines = list(entry.lines or ())
        for _ in range(r.randint(1, 6)):
            at = r.randrange(len(lines))
            lines[at] = make(r)
        if r.random() < 0.3:  # appended records; the oldest rotated out to keep the size
            add = r.randint(5, 60)
            lines.extend(make(r) for _ in range(add))
            del lines[:add]
        result = tuple(lines)
        return Entry(self.s.blob(encode_lines(result)), result)

    def new_binary(self, path: str, kb: int) -> Entry:
        size = max(1024, int(kb * 1024 * self.shape.scale * self.r.uniform(0.8, 1.2)))
        ext = "." + path.rsplit(".", 1)[-1]
        data = BINARY_MAGIC.get(ext, b"\x00") + self.r.randbytes(size)
        return Entry(self.s.blob(data), None, data)

    # --- commits -------------------------------------------------------------------
    def tick(self) -> int:
        self.when += int(self.r.expovariate(1 / 7000)) + 30
        return self.when

    def message(self, paths: list[str]) -> str:
        r = self.r
        what = paths[0].rsplit("/", 1)[-1] if paths else "repository"
        head = r.choice(("Fix", "Add", "Update", "Refactor", "Remove", "Tidy", "Speed up", "Document"))
        title = f"{head} {sentence(r, 1, 4)} in {what}"
        if r.random() < 0.4:
            return f"{title}\n\n{sentence(r, 10, 30).capitalize()}.\n"
        return title + "\n"

    def pick_small(self, state: dict[str, Entry]) -> str | None:
        for _ in range(20):
            path = self.r.choice(self.hot)
            if path in state and path not in self.big and state[path].lines is not None:
                return path
        return None

    def regular_commit(self, branch: Branch, index: int) -> None:  # noqa: PLR0912, PLR0915
        r, shape = self.r, self.shape
        state = branch.state
        changes: dict[str, int | None] = {}
        touched: list[str] = []
        count = 1 + int(r.expovariate(1 / max(0.1, shape.small_changes - 1)) + 0.5)
        for _ in range(count):
            path = self.pick_small(state)
            if path is None or path in changes:
                continue
            state[path] = self.edit_small(path, state[path])
            changes[path] = state[path].mark
            touched.append(path)
        small_count = sum(1 for p in state if p not in self.big and state[p].lines is not None)
        if r.random() < shape.add_prob and small_count < shape.max_files:
            path = self.new_path()
            state[path] = self.new_small(path)
            changes[path] = state[path].mark
            self.hot.extend([path] * _heat(r))
            touched.append(path)
        if r.random() < shape.delete_prob and small_count > shape.initial_files // 2:
            path = self.pick_small(state)
            if path is not None and path not in changes:
                del state[path]
                changes[path] = None
                touched.append(path)
        if r.random() < shape.rename_prob:
            path = self.pick_small(state)
            if path is not None and path not in changes:
                directory = path.rsplit("/", 1)[0]
                new = f"{directory}/{ident(r)}.{_ext(path)}" if _ext(path) != "env" else path
                if new not in state and new not in self.known_paths:
                    self.known_paths.add(new)
                    state[new] = state.pop(path)
                    changes[path] = None
                    changes[new] = state[new].mark
                    self.hot.extend([new] * 2)
                    touched.append(new)
        if r.random() < shape.big_edit_prob:
            path = r.choice([p for p in self.big if p in state] or [""])
            if path:
                state[path] = self.edit_big(path, state[path])
                changes[path] = state[path].mark
                touched.append(path)
        if r.random() < shape.binary_edit_prob:
            binaries = [p for p in state if state[p].data is not None]
            if binaries:
                path = r.choice(binaries)
                kb = dict(BINARY_FILES).get(path, 200)
                state[path] = self.new_binary(path, kb)
                changes[path] = state[path].mark
                touched.append(path)
        self.plant_and_remove(branch, index, changes, touched)
        if not changes:
            path = self.pick_small(state) or next(iter(state))
            state[path] = self.edit_small(path, state[path])
            changes[path] = state[path].mark
            touched.append(path)
        who = r.choice(NAMES)
        branch.tip = self.s.commit(branch.name, who, self.tick(), self.message(touched), branch.tip or None,
                                   None, list(changes.items()))
        branch.made += 1
        self.commits += 1
        for p in self.planted:
            if p.commit_mark == -1:
                p.commit_mark = branch.tip
            if p.removed_mark == -1:
                p.removed_mark = branch.tip

    def plant_and_remove(self, branch: Branch, index: int, changes: dict[str, int | None],
                         touched: list[str]) -> None:
        r, state = self.r, branch.state
        for p in self.planted:
            if p.remove_at is not None and p.removed_mark is None and index >= p.remove_at \
                    and p.branch == branch.name and p.path in state and p.path not in changes:
                entry = state[p.path]
                if entry.lines is not None and p.line in entry.lines:
                    kept = tuple(line for line in entry.lines if line != p.line)
                    state[p.path] = Entry(self.s.blob(encode_lines(kept)), kept)
                    changes[p.path] = state[p.path].mark
                    touched.append(p.path)
                    p.removed_mark = -1
        if index not in self.plant_at:
            return
        for _ in range(20):
            path = self.pick_small(state)
            if path is None or path in changes or _ext(path) not in KEY_CONTEXTS:
                continue
            key = uuid4_hex(r)
            context = r.choice(KEY_CONTEXTS[_ext(path)])
            line = context.format(k=key)
            lines = list(state[path].lines or ())
            lines.insert(r.randint(0, len(lines)), line)
            result = tuple(lines)
            state[path] = Entry(self.s.blob(encode_lines(result)), result)
            changes[path] = state[path].mark
            touched.append(path)
            remove_at = index + r.randint(1, max(2, self.shape.commits // 8)) if r.random() < 0.5 else None
            label = context.split("{k}")[0].strip().replace("{{", "{")
            self.planted.append(Planted(key, path, branch.name, line, -1, label, remove_at))
            return

    def fork(self) -> Branch:
        r = self.r
        while True:
            prefix = r.choice(("feature", "feature", "fix", "chore"))
            name = f"refs/heads/{prefix}/{r.choice(VERBS)}-{r.choice(WORDS)}"
            if name not in self.feature_names:
                self.feature_names.add(name)
                break
        branch = Branch(name, self.main.tip, dict(self.main.state), dict(self.main.state),
                        target=r.randint(2, 30), merge=r.random() > 0.08)
        self.features.append(branch)
        return branch

    def merge(self, feature: Branch) -> None:
        changes: dict[str, int | None] = {}
        for path, entry in feature.state.items():
            if feature.base.get(path) is not entry:
                self.main.state[path] = entry
                changes[path] = entry.mark
        for path in feature.base:
            if path not in feature.state and path in self.main.state:
                del self.main.state[path]
                changes[path] = None
        short = feature.name.removeprefix("refs/heads/")
        who = self.r.choice(NAMES)
        self.main.tip = self.s.commit(self.main.name, who, self.tick(),
                                      f"Merge branch '{short}'\n", self.main.tip, feature.tip,
                                      list(changes.items()))
        for p in self.planted:
            if p.branch == feature.name:
                p.branch = self.main.name  # its removal, if any, now happens on main
        self.commits += 1
        self.merges += 1
        self.retired.append(feature.name)

    def run(self) -> None:  # noqa: PLR0912, PLR0915
        r, shape = self.r, self.shape
        self.plant_at = set(r.sample(range(max(1, shape.commits // 50), shape.commits),
                                     min(shape.keys, shape.commits - shape.commits // 50)))
        # The first commit: the initial files, the big and binary files come a bit later.
        state = self.main.state
        for _ in range(shape.initial_files):
            path = self.new_path()
            state[path] = self.new_small(path)
            self.hot.extend([path] * _heat(r))
        state[".gitignore"] = _entry(self.s, ("__pycache__/", "node_modules/", ".venv/", "*.pyc", "dist/"))
        state["README.md"] = self.new_small("README.md")
        self.main.tip = self.s.commit(self.main.name, r.choice(NAMES), self.tick(), "Initial import\n",
                                      None, None, [(p, e.mark) for p, e in state.items()])
        self.commits = 1
        pending_big = list(BIG_FILES)
        pending_bin = list(BINARY_FILES)
        arrive = max(1, shape.commits // 10)
        tag_every = max(50, shape.commits // 24)
        index = 1
        while self.commits < shape.commits:
            if pending_big and r.random() < len(BIG_FILES) / arrive:
                path, mb, make = pending_big.pop(0)
                state[path] = self.new_big(path, make, mb)
                self.main.tip = self.s.commit(self.main.name, r.choice(NAMES), self.tick(),
                                              f"Add {path.rsplit('/', 1)[-1]}\n", self.main.tip, None,
                                              [(path, state[path].mark)])
                self.commits += 1
                continue
            if pending_bin and r.random() < len(BINARY_FILES) / arrive:
                path, kb = pending_bin.pop(0)
                state[path] = self.new_binary(path, kb)
                self.main.tip = self.s.commit(self.main.name, r.choice(NAMES), self.tick(),
                                              f"Add {path.rsplit('/', 1)[-1]}\n", self.main.tip, None,
                                              [(path, state[path].mark)])
                self.commits += 1
                continue
            ready = [f for f in self.features if f.made >= f.target]
            if ready:
                feature = ready[0]
                self.features.remove(feature)
                if feature.merge:
                    self.merge(feature)
                    index += 1
                    continue
                self.kept_unmerged.append(feature.name)
            if r.random() < shape.feature_share:
                if len(self.features) < shape.max_features and (not self.features or r.random() < 0.15):
                    branch = self.fork()
                else:
                    branch = r.choice(self.features) if self.features else self.fork()
            else:
                branch = self.main
            self.regular_commit(branch, index)
            index += 1
            if branch is self.main and self.commits % tag_every < 1:
                self.tags += 1
                version = f"v{1 + self.tags // 10}.{self.tags % 10}.0"
                if r.random() < 0.7:
                    self.s.tag(version, self.main.tip, r.choice(NAMES), self.when, f"Release {version}\n")
                else:
                    self.s.lightweight_tag(version, self.main.tip)
        self.kept_unmerged.extend(f.name for f in self.features)  # in progress at the end
        self.s.out.write(b"done\n")


def _ext(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return "env" if name.startswith(".env") else name.rsplit(".", 1)[-1]


def _heat(r: random.Random) -> int:
    """How many times a file is in the pick list: most are cold, a few are very hot."""
    return 1 + int(r.paretovariate(1.6)) if r.random() < 0.5 else 1


def _entry(stream: Stream, lines: tuple[str, ...]) -> Entry:
    return Entry(stream.blob(encode_lines(lines)), lines)


def git(repo: str, *args: str, capture: bool = True) -> str:
    done = subprocess.run(["git", "-C", repo, *args], check=True,
                          stdout=subprocess.PIPE if capture else None)
    return done.stdout.decode() if capture else ""


def blob_stats(repo: str) -> tuple[int, int]:
    """(unique blobs, total blob bytes) over every object in the repository."""
    proc = subprocess.Popen(["git", "-C", repo, "cat-file", "--batch-all-objects",
                             "--batch-check=%(objecttype) %(objectsize)"], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    blobs = total = 0
    for line in proc.stdout:
        kind, size = line.split()
        if kind == b"blob":
            blobs += 1
            total += int(size)
    proc.wait()
    return blobs, total


def log_patch_bytes(repo: str) -> int:
    proc = subprocess.Popen(["git", "-C", repo, "log", "-p", "-U0", "--all"], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    total = 0
    while chunk := proc.stdout.read(1 << 20):
        total += len(chunk)
    proc.wait()
    return total


def read_marks(path: str) -> dict[int, str]:
    """fast-import's exported marks: mark number -> object name."""
    marks: dict[int, str] = {}
    with open(path, encoding="ascii") as handle:
        for line in handle:
            mark, sha = line.split()
            marks[int(mark[1:])] = sha
    return marks


def dir_bytes(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(root, name)).st_size
    return total


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", nargs="?", default="/tmp/kg-bench/repo",
                        help="repository to create (default: /tmp/kg-bench/repo; "
                             "--small: /tmp/kg-bench/small)")
    parser.add_argument("--commits", type=int, help="number of commits (default 24000; --small 2000)")
    parser.add_argument("--scale", type=float,
                        help="size of the big and binary files (1.0: 1-5 MB and a few hundred KB; "
                             "--small 0.8)")
    parser.add_argument("--seed", type=int, default=1, help="RNG seed (default 1)")
    parser.add_argument("--keys", type=int, help="planted fake keys (default 40; --small 24)")
    parser.add_argument("--small", action="store_true", help="quick preset: 2,000 commits, ~300 MB of blobs")
    parser.add_argument("--compression", type=int, default=1,
                        help="zlib level for fast-import's pack (default 1: fast to generate; git's own "
                             "default is -1)")
    parser.add_argument("--pack", choices=["repack", "fast-import"], default="repack",
                        help="repack as a clone or git gc would (default; ~75 s more at full size), "
                             "or keep fast-import's pack (big-file versions mostly stored whole)")
    parser.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    parser.add_argument("--no-log-size", action="store_true",
                        help="skip measuring `git log -p -U0 --all` (takes a while on the full size)")
    args = parser.parse_args(argv)

    output = args.output
    if args.small and output == "/tmp/kg-bench/repo":
        output = "/tmp/kg-bench/small"
    output = os.path.abspath(output)
    main_repo = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    if output == main_repo or output.startswith(main_repo + os.sep):
        parser.error(f"refusing to generate inside {main_repo}: use a path under /tmp")
    shape = Shape(commits=args.commits or (2000 if args.small else 24000),
                  scale=args.scale if args.scale is not None else (0.8 if args.small else 1.0),
                  seed=args.seed, keys=args.keys or (24 if args.small else 40))
    if os.path.exists(output):
        if not args.force:
            parser.error(f"{output} exists (use --force to replace it)")
        shutil.rmtree(output)
    os.makedirs(output)
    started = time.monotonic()
    git(output, "init", "-q", "-b", "main")
    git(output, "config", "gc.autoDetach", "false")
    marks_path = output.rstrip("/") + ".marks"
    importer = subprocess.Popen(
        ["git", "-C", output, "-c", f"pack.compression={args.compression}", "fast-import", "--quiet",
         "--done", "--active-branches=16", f"--export-marks={marks_path}"],
        stdin=subprocess.PIPE, bufsize=1 << 20)
    assert importer.stdin is not None
    stream = Stream(importer.stdin)
    generator = Generator(shape, stream)
    try:
        generator.run()
        importer.stdin.close()
    except BrokenPipeError:
        pass
    if importer.wait() != 0:
        print("git fast-import failed", file=sys.stderr)
        return 1
    imported = time.monotonic() - started
    # Most merged branches are deleted, as after a pull request; the last few stay.
    deletions = "".join(f"delete {ref}\n" for ref in generator.retired[:-8])
    subprocess.run(["git", "-C", output, "update-ref", "--stdin"], input=deletions.encode(), check=True)
    git(output, "pack-refs", "--all")
    if args.pack == "repack":
        git(output, "repack", "-a", "-d", "-f", "-q")
    git(output, "reset", "--hard", "-q", "main")
    blobs, blob_bytes = blob_stats(output)
    commits = int(git(output, "rev-list", "--all", "--count").strip())
    refs = git(output, "for-each-ref", "--format=%(refname)").split()
    tracked = git(output, "ls-files").splitlines()
    head_bytes = sum(os.lstat(os.path.join(output, p)).st_size for p in tracked)
    log_bytes = None if args.no_log_size else log_patch_bytes(output)
    manifest_path = output.rstrip("/") + ".manifest.json"
    head_text = "\n".join("\n".join(e.lines) for e in generator.main.state.values() if e.lines)
    head_keys = [p.key for p in generator.planted if p.key in head_text]
    stats = {
        "path": output, "seed": shape.seed, "commits": commits, "merges": generator.merges,
        "branches": sum(1 for r in refs if r.startswith("refs/heads/")),
        "tags": sum(1 for r in refs if r.startswith("refs/tags/")),
        "files_at_head": len(tracked), "head_bytes": head_bytes,
        "unique_blobs": blobs, "blob_bytes": blob_bytes,
        "pack": args.pack, "pack_bytes": dir_bytes(os.path.join(output, ".git")),
        "log_patch_bytes": log_bytes, "planted_keys": len(generator.planted),
        "keys_removed_later": sum(1 for p in generator.planted if p.removed_mark is not None),
        "keys_at_head": len(head_keys),
        "generate_seconds": round(time.monotonic() - started, 1), "import_seconds": round(imported, 1),
    }
    commit_of = read_marks(marks_path)
    os.unlink(marks_path)
    manifest = {
        "stats": stats,
        "keys": [{"key": p.key, "path": p.path, "context": p.context,
                  "added_in": commit_of.get(p.commit_mark),
                  "removed_in": commit_of.get(p.removed_mark or 0), "at_head": p.key in head_text}
                 for p in generator.planted],
    }
    with open(manifest_path, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2)
        handle.write("\n")
    mb = 1024 * 1024
    print(f"repository      {output}")
    print(f"commits         {commits} ({generator.merges} merges), {stats['branches']} branches, "
          f"{stats['tags']} tags")
    print(f"files at HEAD   {len(tracked)} ({head_bytes / mb:.1f} MB)")
    print(f"unique blobs    {blobs}")
    print(f"blob bytes      {blob_bytes / mb:.1f} MB (git cat-file --batch-all-objects)")
    print(f".git on disk    {stats['pack_bytes'] / mb:.1f} MB ({args.pack} pack)")
    if log_bytes is not None:
        print(f"git log -p -U0  {log_bytes / mb:.1f} MB (--all)")
    print(f"planted keys    {len(generator.planted)} ({stats['keys_removed_later']} removed by a later "
          f"commit, {len(head_keys)} still at HEAD); manifest {manifest_path}")
    print(f"time            {stats['generate_seconds']} s (fast-import stream {imported:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
