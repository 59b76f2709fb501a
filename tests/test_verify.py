"""--verify against a real HTTP server on loopback that answers like the Events API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import Repo, fake_key

KEYS = {name: fake_key(f"verify-{name}")
        for name in ("live", "revoked", "busy", "slow", "moved", "trickle", "broken")}
EXAMPLE_KEY = "6aa0fa074bec4a5cb0e8ed8fd36151ce"


class Api(BaseHTTPRequestHandler):
    requests: ClassVar[Counter[str]] = Counter()

    def do_GET(self) -> None:
        key = self.headers.get("X-API-KEY", "")
        Api.requests[key] += 1
        if key == KEYS["live"]:
            self._answer(200, b'{"items": []}')
        elif key == KEYS["busy"]:
            self._answer(429 if Api.requests[key] == 1 else 200, b"{}", {"Retry-After": "0"})
        elif key == KEYS["slow"]:
            time.sleep(3)
            self._answer(200, b"{}")
        elif key == KEYS["moved"]:
            self._answer(302, b"", {"Location": "https://elsewhere.example/steal"})
        elif key == KEYS["broken"]:
            self._answer(302, b"", {"Location": "https://[oops/"})
        elif key == KEYS["trickle"]:  # a byte a second: each read within the timeout
            self.send_response(200)
            self.send_header("Content-Length", "30")
            self.end_headers()
            for _ in range(30):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return
                time.sleep(1)
        else:
            self._answer(401, b'{"error": "unauthorised"}')

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the timeout case)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[int]:
    Api.requests.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def configure(repo: Repo, port: int, allow_private: bool = True) -> None:
    repo.write(".keyguard.toml", f"""
[[verify]]
rules = ["x-api-key", "hex32-key"]
url = "http://127.0.0.1:{port}/events-api/v2/event-series?mode=discovery-geo&limit=1"
allow-private = {str(allow_private).lower()}
timeout = 1
rate = 50
""")


def leaks(repo: Repo) -> None:
    for name, key in KEYS.items():
        repo.write(f"{name}.env", f"IMIN_API_KEY={key}\n")
    repo.write("copy1.sh", f"curl -H 'X-API-KEY: {KEYS['live']}' http://x\n")
    repo.write("copy2.py", f'API_KEY = "{KEYS["live"]}"\n')
    repo.write("docs.md", f"X-API-KEY: {EXAMPLE_KEY}\n")


def verdicts(repo: Repo, *args: str) -> dict[str, str]:
    run = repo.keyguard("scan", "--verify", "--format", "json", "--show-secrets",
                        "--min-confidence", "low", *args)
    assert run.code == 1, run.err
    return {f["secret"]: f["verification"] for f in json.loads(run.out)["findings"]}


def test_each_state_and_one_request_per_key(repo: Repo, api: int) -> None:
    configure(repo, api)
    leaks(repo)
    found = verdicts(repo)
    assert found[KEYS["live"]] == "live (HTTP 200)"
    assert found[KEYS["revoked"]] == "rejected (HTTP 401)"
    assert found[KEYS["busy"]] == "live (HTTP 200)"  # 429 first, then retried
    assert found[KEYS["slow"]] == "unknown (timeout)"
    assert found[KEYS["moved"]] == "unknown (redirect to elsewhere.example not followed)"
    assert found[KEYS["broken"]] == "unknown (redirect to an invalid location not followed)"
    assert found[KEYS["trickle"]] == "unknown (timeout)"  # timeout = 1 bounds the whole request
    assert found[EXAMPLE_KEY] == "public (documented-example)"
    assert Api.requests[KEYS["live"]] == 1  # found in three files, asked once
    assert Api.requests[KEYS["busy"]] == 2 and EXAMPLE_KEY not in Api.requests


def test_only_live_filters_but_never_unblocks(repo: Repo, api: int) -> None:
    configure(repo, api)
    leaks(repo)
    run = repo.keyguard("scan", "--verify", "--only-live", "--format", "json")
    assert run.code == 1
    assert {f["verification"] for f in json.loads(run.out)["findings"]} == {"live (HTTP 200)"}
    (repo.path / "live.env").unlink()
    for name in ("copy1.sh", "copy2.py", "busy.env"):
        (repo.path / name).unlink()
    run = repo.keyguard("scan", "--verify", "--only-live")
    assert run.code == 1  # rejected keys still block: a leak is a leak


def test_private_addresses_are_refused_unless_allowed(repo: Repo, api: int) -> None:
    configure(repo, api, allow_private=False)
    repo.write("a.env", f"IMIN_API_KEY={KEYS['live']}\n")
    found = verdicts(repo)
    assert found[KEYS["live"]].startswith("unknown (refused: 127.0.0.1 resolves to a non-public")
    assert sum(Api.requests.values()) == 0


def test_plain_http_only_to_loopback(repo: Repo) -> None:
    repo.write(".keyguard.toml", '[[verify]]\nrules = ["hex32-key"]\nurl = "http://192.0.2.1/x"\n'
               "allow-private = true\n")
    repo.write("a.env", f"IMIN_API_KEY={KEYS['live']}\n")
    assert verdicts(repo)[KEYS["live"]] == "unknown (refused: plain http is allowed for loopback only)"


NO_SOCKETS = """
import sys
def guard(event, args):
    if event.startswith("socket.") and event != "socket.gethostname":
        raise SystemExit(f"socket used: {event}")
sys.addaudithook(guard)
from keyguard.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_without_verify_no_socket_is_opened(repo: Repo, api: int, tmp_path: Path) -> None:
    configure(repo, api)
    leaks(repo)
    repo.stage()
    repo.commit("leaks")
    script = tmp_path / "no_sockets.py"
    script.write_text(NO_SOCKETS)
    for command in (["scan"], ["history"], ["scan", "--format", "sarif"]):
        done = subprocess.run([sys.executable, str(script), *command], cwd=repo.path,
                              capture_output=True, text=True, check=False, env=os.environ)
        assert done.returncode == 1 and "socket used" not in done.stderr, (command, done.stderr)
    done = subprocess.run([sys.executable, str(script), "scan", "--verify"], cwd=repo.path,
                          capture_output=True, text=True, check=False)
    assert "socket used" in done.stderr  # the guard does catch a socket when one is opened
    assert sum(Api.requests.values()) == 0


def test_keys_never_appear_in_errors(repo: Repo, api: int) -> None:
    configure(repo, api)
    leaks(repo)
    run = repo.keyguard("scan", "--verify")
    assert not any(key in run.out + run.err for key in KEYS.values())
    assert "verified: live (HTTP 200)" in run.out


HOSTS_ASKED = """
import sys
def guard(event, args):
    if event == "socket.getaddrinfo":  # where a key would go; nothing leaves the machine
        print(f"asked for {args[0]}", file=sys.stderr)
        raise SystemExit(9)
sys.addaudithook(guard)
from keyguard.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_repositorys_config_cannot_send_keys_without_verify(repo: Repo, api: int, tmp_path: Path) -> None:
    # verify-by-default in a committed config asks only the built-in imin endpoint, never the
    # config's own [[verify]] host; with --verify, that host is used and named on stderr
    configure(repo, api)
    repo.write(".keyguard.toml", "verify-by-default = true\n" + (repo.path / ".keyguard.toml").read_text())
    repo.write("a.env", f"IMIN_API_KEY={KEYS['live']}\n")
    script = tmp_path / "hosts_asked.py"
    script.write_text(HOSTS_ASKED)
    done = subprocess.run([sys.executable, str(script), "scan"], cwd=repo.path, capture_output=True,
                          text=True, check=False)
    assert "asked for search.imin.co" in done.stderr and "127.0.0.1" not in done.stderr, done.stderr
    run = repo.keyguard("scan", "--verify")
    assert run.code == 1 and Api.requests[KEYS["live"]] == 1
    assert f"--verify: sending keys to 127.0.0.1:{api}, as the configuration's [[verify]] says" in run.err


def test_only_live_says_what_it_hides(repo: Repo, api: int) -> None:
    configure(repo, api)
    repo.write("a.env", f"IMIN_API_KEY={KEYS['revoked']}\n")
    run = repo.keyguard("scan", "--verify", "--only-live")
    assert run.code == 1
    assert "1 blocking finding not shown (--only-live: not verified live); they still block" in run.err


@pytest.mark.parametrize(("setting", "message"), [
    ('header = ""', "'header' must be an HTTP header name"),
    ('header = "X-API-KEY\\r\\nX-Evil: 1"', "'header' must be an HTTP header name"),
    ('header = "X API KEY"', "'header' must be an HTTP header name"),
    ("timeout = 1e300", "'timeout' must be a number from 0.1 to 300"),
    ("rate = 1e-300", "'rate' must be a number from 0.01 to 1000"),
    ("concurrency = 100000", "'concurrency' must be a number from 1 to 64"),
    # a misspelt rule left the entry unused: its keys went to the built-in endpoint instead
    ('rules = ["hex32_key"]', "'rules': no rule 'hex32_key' (rules: x-api-key, hex32-key)"),
])
def test_verify_settings_out_of_range_are_configuration_errors(repo: Repo, setting: str,
                                                               message: str) -> None:
    rules = "" if setting.startswith("rules") else 'rules = ["hex32-key"]\n'
    entry = f'url = "https://example.org/x"\n{rules}'
    repo.write(".keyguard.toml", f"[[verify]]\n{entry}{setting}\n")
    run = repo.keyguard("config", "check")
    assert run.code == 3 and message in run.err and "Traceback" not in run.err
