"""Whole-history audits of many repositories: one entry per distinct secret, with every place
it has been, whether it is still there, policy flags and a rotation checklist."""

from __future__ import annotations

import datetime
import os
import posixpath
import re
import tempfile
from collections.abc import Callable, Sequence

from keyguard import git
from keyguard.config import CONFIG_NAME, Config, find_config, load_config, parse_size, tool_section_in
from keyguard.errors import GitError, KeyguardError
from keyguard.history import scan_history
from keyguard.model import Blob, Confidence, Finding, Origin, is_file_path, redact
from keyguard.record import Record, field
from keyguard.scan import Policy, candidates_in, findings_at
from keyguard.sources.text import decode_text

UNREACHABLE = "(unreachable blob)"

# Where anyone who runs the product can read a key: front-end sources and bundles, HTML,
# mobile apps, browser extensions. Decided from the path (docs/audit.md).
_CLIENT_EXTENSIONS = (".html", ".htm", ".vue", ".svelte", ".jsx", ".tsx", ".swift", ".kt", ".dart",
                      ".m", ".mm")
_CLIENT_DIRS = re.compile(r"(?i)(^|/)(web|www|frontend|front-end|client|public|static|assets|ui|"
                          r"android|ios|mobile|app/src/main|extension|chrome-extension|dist|build)/")
_BUNDLE = re.compile(r"(?i)\.(min|bundle|chunk)\.js$|(^|/)(dist|build)/.*\.js$")
_SERVICE_ROOTS = ("services", "apps", "packages", "cmd")


class Repository(Record):
    name: str
    path: str
    error: str | None = None  # not scanned, and why


class Location(Record):
    repository: str
    path: str
    rule_id: str
    line: int
    origin: Origin | None  # None: an unreachable blob, in no commit
    at_head: bool

    @property
    def service(self) -> str:
        parts = self.path.split("/")
        inner = parts[1] if len(parts) > 2 and parts[0] in _SERVICE_ROOTS else ""
        return f"{self.repository}:{inner}" if inner else self.repository


class Secret(Record, frozen=False):
    """One distinct secret and everywhere it was found."""

    digest: str  # sha256:…, the identity across repositories
    shown: str = field(repr=False)  # redacted, unless the audit asked for secrets
    confidence: Confidence
    label: str | None
    locations: list[Location] = field(default_factory=list)

    @property
    def client_side(self) -> list[Location]:
        return [loc for loc in self.locations if is_client_side(loc.path)]

    @property
    def services(self) -> list[str]:
        return sorted({loc.service for loc in self.locations})

    @property
    def shared(self) -> bool:
        return len(self.services) > 1

    @property
    def live_at_head(self) -> list[Location]:
        return [loc for loc in self.locations if loc.at_head]

    @property
    def first_appeared(self) -> str:
        return min((loc.origin.date for loc in self.locations if loc.origin), default="", key=utc)

    @property
    def last_appeared(self) -> str:
        return max((loc.origin.date for loc in self.locations if loc.origin), default="", key=utc)


def utc(date: str) -> str:
    """An ISO 8601 date as UTC, so that dates written in different time zones compare as
    instants; "" stays ""."""
    try:
        return datetime.datetime.fromisoformat(date).astimezone(datetime.timezone.utc).isoformat()
    except ValueError:
        return date


def is_client_side(path: str) -> bool:
    lowered = path.lower()
    if lowered.endswith(_CLIENT_EXTENSIONS) or _BUNDLE.search(lowered):
        return True
    return lowered.endswith((".js", ".ts", ".mjs", ".json", ".java")) and bool(_CLIENT_DIRS.search(lowered))


class AuditSettings(Record):
    report_at: Confidence
    max_file_size: str | None
    include_unreachable: bool
    show_secrets: bool
    jobs: int = 1  # processes inside one repository


class RepositoryFailed(Exception):
    """A repository could not be audited; the message says why, on one line."""


def audit_one(name: str, location: str, settings: AuditSettings,
              progress: Callable[[int, int], None] | None = None) -> list[Sighting]:
    """Audit one repository, from a path this process can see or a URL it clones. Runs in any
    worker (a local process, a Dask worker); only sightings travel back."""
    if not is_url(location):
        return _audit_path(name, location, settings, progress)
    with tempfile.TemporaryDirectory(prefix="keyguard-audit-") as scratch:
        try:
            git.run(["clone", "--quiet", "--no-checkout", "--", location, scratch])
        except GitError as e:
            raise RepositoryFailed(str(e)) from e
        return _audit_path(name, scratch, settings, progress)


def _audit_path(name: str, path: str, settings: AuditSettings,
                progress: Callable[[int, int], None] | None) -> list[Sighting]:
    try:
        if not os.path.isdir(path):
            raise RepositoryFailed(f"no such directory: {path}")
        root, found = find_config(path)
        top = git.repository_dir(path)
        config = load_config(found, root, datetime.date.today()) if found else _config_at_head(top)
        policy = Policy(config=config, report_at=settings.report_at, base=root)
        limit = parse_size(settings.max_file_size) if settings.max_file_size else config.max_file_size
        findings = audit_repository(top, policy, limit, settings.jobs, settings.include_unreachable,
                                    progress)
        return sightings(name, top, findings, settings.show_secrets, policy)
    except (KeyguardError, ValueError) as e:
        raise RepositoryFailed(str(e).splitlines()[0]) from e


def _config_at_head(top: str) -> Config:
    """The configuration HEAD holds, for a repository with no work tree to read it from: a
    bare one, a mirror, a clone made for the audit."""
    for name in (CONFIG_NAME, "pyproject.toml"):
        try:
            content = git.run(["show", f"HEAD:{name}"], cwd=top)
        except GitError:
            continue  # not in HEAD, or no HEAD
        if name == CONFIG_NAME or tool_section_in(content.decode("utf-8", "replace")):
            return load_config(name, top, datetime.date.today(), label=f"HEAD:{name}", content=content)
    return Config(root=top)


def is_url(location: str) -> bool:
    return "://" in location or re.match(r"[\w.-]+@[\w.-]+:", location) is not None


def audit_repository(root: str, policy: Policy, max_size: int, jobs: int, include_unreachable: bool,
                     progress: Callable[[int, int], None] | None = None) -> list[Finding]:
    """Findings of every ref, tag and reachable commit of the work tree at `root` (and
    unreachable blobs if asked)."""
    result = scan_history([], [], policy, max_size, cwd=root, progress=progress, jobs=jobs)
    findings = list(result.findings)
    if include_unreachable:
        findings += _unreachable(root, policy, max_size)
    return findings


def _unreachable(root: str, policy: Policy, max_size: int) -> list[Finding]:
    out = git.run(["fsck", "--unreachable", "--no-reflogs", "--no-progress"], cwd=root)
    shas = [line.split()[2] for line in out.decode().splitlines() if line.startswith("unreachable blob ")]
    found: list[Finding] = []
    with git.ObjectReader(root) as objects:
        for sha, (_, data) in zip(shas, objects.read_many(shas, max_size), strict=True):
            if data is None:
                continue
            path, text = f"{UNREACHABLE} {sha[:12]}", decode_text(data)
            if text is not None:  # not binary
                blob = Blob(path=path, text=text, data=data)
                found += findings_at(path, text, candidates_in(blob, policy), policy)[0]
    return found


def head_contents(root: str, paths: Sequence[str]) -> dict[str, bytes]:
    """The content of each path in HEAD's tree (absent paths are left out)."""
    real = [p for p in paths if is_file_path(p)]
    try:
        git.run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd=root)
    except GitError:
        return {}
    listing = git.run(["ls-tree", "-r", "-z", "--full-tree", "HEAD", "--", *real], cwd=root) if real else b""
    blobs = {}
    for entry in listing.split(b"\0"):
        meta, _, name = entry.partition(b"\t")
        if meta.split()[1:2] == [b"blob"]:
            blobs[name.decode("utf-8", "surrogateescape")] = meta.split()[2].decode()
    with git.ObjectReader(root) as objects:
        return {p: data for p, (_, data) in zip(blobs, objects.read_many(list(blobs.values())), strict=True)
                if data is not None}


class Sighting(Record):
    """What an audit worker sends back for one finding: never the key itself unless asked,
    its hash so that reuse across repositories is still seen."""

    digest: str
    shown: str = field(repr=False)
    confidence: Confidence
    label: str | None
    location: Location


def sightings(name: str, root: str, findings: Sequence[Finding], show_secrets: bool,
              policy: Policy) -> list[Sighting]:
    """Findings of one repository as sightings, each knowing whether it is still at HEAD."""
    heads = head_contents(root, sorted({f.path for f in findings}))
    found_at_head: dict[str, set[str]] = {}

    def at_head(finding: Finding) -> bool:
        content = heads.get(finding.path, b"")
        if finding.secret.encode() in content:
            return True
        # encoded there (base64 in a Kubernetes Secret, percent-escapes): what detection finds
        if finding.path not in found_at_head:
            text = decode_text(content) if content else None
            found_at_head[finding.path] = set() if text is None else {
                c.secret for c in candidates_in(Blob(path=finding.path, text=text), policy)}
        return finding.secret in found_at_head[finding.path]

    return [Sighting(digest=f.secret_sha256, shown=f.secret if show_secrets else redact(f.secret),
                     confidence=f.confidence, label=f.label,
                     location=Location(repository=name, path=f.path, rule_id=f.rule_id, line=f.line,
                                       origin=f.origin, at_head=at_head(f)))
            for f in findings]


def collect(all_sightings: Sequence[Sighting]) -> list[Secret]:
    """One entry per distinct secret across repositories, most severe and most spread first."""
    secrets: dict[str, Secret] = {}
    for sighting in all_sightings:
        entry = secrets.setdefault(sighting.digest, Secret(
            digest=sighting.digest, shown=sighting.shown, confidence=sighting.confidence,
            label=sighting.label))
        entry.confidence = max(entry.confidence, sighting.confidence)
        entry.locations.append(sighting.location)
    for entry in secrets.values():
        entry.locations.sort(key=lambda loc: (utc(loc.origin.date) if loc.origin else "", loc.repository,
                                              loc.path))
    return sorted(secrets.values(), key=lambda s: (-s.confidence, -len(s.services), s.first_appeared))


def checklist(secret: Secret) -> list[str]:
    """What to do about one key, in order."""
    steps = []
    if secret.label is not None:
        return [f"A public key ({secret.label}): nothing to rotate; remove it if it misleads."]
    services = ", ".join(secret.services)
    steps.append(f"Issue a new key for each service that uses this one ({services}); one key per "
                 "service.")
    for loc in secret.live_at_head:
        steps.append(f"Replace it in {loc.repository}: {loc.path} (still at HEAD) with an "
                     "environment variable, e.g. IMIN_API_KEY, and deploy.")
    if secret.client_side:
        steps.append("Move the calls made from client-side code "
                     f"({', '.join(sorted({loc.path for loc in secret.client_side}))}) to a server: a key "
                     "in a browser, app or bundle is public (unless the provider agreed to open-data use).")
    steps.append("Revoke the old key with the provider, then confirm: keyguard scan --verify.")
    past = sorted({f"{loc.repository}: {loc.path}" for loc in secret.locations if not loc.at_head})
    if past:
        steps.append("It stays readable in history at " + "; ".join(past)
                     + ": rewrite history (git filter-repo) where the repository is shared.")
    return steps


def repository_name(path: str, taken: set[str]) -> str:
    name = posixpath.basename(path.rstrip("/")) or path
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate)
    return candidate
