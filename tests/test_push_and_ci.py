"""`keyguard pre-push` with a real bare remote and `git push`; `keyguard ci` ranges."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Repo, fake_key

KEY = fake_key("push")
ZERO = "0" * 40


@pytest.fixture
def pushed(repo: Repo, tmp_path: Path) -> Repo:
    """A repository with a bare remote that already has main."""
    remote = tmp_path / "remote.git"
    repo.git("init", "-q", "--bare", str(remote))
    repo.git("remote", "add", "origin", str(remote))
    repo.write("README.md", "hello\n")
    repo.stage()
    repo.commit("base")
    repo.git("push", "-q", "origin", "main")
    return repo


def bare_remotes(repo: Repo, tmp_path: Path, *names: str) -> dict[str, Path]:
    """A bare repository for each name, added to `repo` as a remote of that name."""
    bares = {}
    for name in names:
        bares[name] = tmp_path / f"{name.replace('/', '-')}.git"
        repo.git("init", "-q", "--bare", str(bares[name]))
        repo.git("remote", "add", name, str(bares[name]))
    return bares


def refused(repo: Repo, remote: str, bare: Path) -> bool:
    """Whether the pre-push hook stops main going to `remote` as a new branch (in `bare`)."""
    repo.git("push", "-q", remote, "main:refs/heads/feature", check=False)
    return "refs/heads/feature" not in repo.git("ls-remote", "--heads", str(bare))


def add_commits(repo: Repo, leak_at: int, count: int) -> list[str]:
    commits = []
    for n in range(count):
        if n == leak_at:
            repo.write("client.sh", f"curl -H 'X-API-KEY: {KEY}' https://x\n")
        else:
            repo.write(f"file{n}.txt", f"{n}\n")
        repo.stage()
        commits.append(repo.commit(f"commit {n}"))
    return commits


def test_push_of_a_new_branch_with_a_key_three_commits_back_is_blocked(pushed: Repo) -> None:
    assert pushed.keyguard("install", "--hook", "pre-push").code == 0
    pushed.git("checkout", "-q", "-b", "feature")
    add_commits(pushed, leak_at=2, count=5)  # the third from last adds the key
    done = pushed.git("push", "-q", "origin", "feature", check=False)
    branches = pushed.git("ls-remote", "--heads", "origin")
    assert "refs/heads/feature" not in branches, done
    pushed.write("client.sh", "curl -H \"X-API-KEY: $IMIN_API_KEY\" https://x\n")
    pushed.stage()
    pushed.commit("fix")  # the key is still in history: still blocked
    pushed.git("push", "-q", "origin", "feature", check=False)
    assert "refs/heads/feature" not in pushed.git("ls-remote", "--heads", "origin")


def test_a_remote_named_like_an_option_is_not_read_as_one(pushed: Repo, tmp_path: Path) -> None:
    # git passes the remote's name to the hook: `-h` made it print help and exit 0
    assert pushed.keyguard("install", "--hook", "pre-push").code == 0
    other = tmp_path / "other.git"
    pushed.git("init", "-q", "--bare", str(other))
    pushed.git("remote", "add", "--", "-h", str(other))
    add_commits(pushed, leak_at=0, count=1)
    done = subprocess.run(["git", "push", "--", "-h", "main"], cwd=pushed.path, capture_output=True,
                          text=True, check=False)
    assert done.returncode != 0 and "x-api-key" in done.stdout + done.stderr, done.stderr
    assert "refs/heads/main" not in pushed.git("ls-remote", "--heads", str(other))


def test_what_another_remote_has_is_not_what_this_one_has(pushed: Repo, tmp_path: Path) -> None:
    # origin holds the key; a first push to another remote sends it there: blocked
    add_commits(pushed, leak_at=0, count=2)
    pushed.git("push", "-q", "--no-verify", "origin", "main")
    assert pushed.keyguard("install", "--hook", "pre-push").code == 0
    public = tmp_path / "public.git"
    pushed.git("init", "-q", "--bare", str(public))
    pushed.git("remote", "add", "public", str(public))
    done = subprocess.run(["git", "push", "public", "main"], cwd=pushed.path, capture_output=True,
                          text=True, check=False)
    assert done.returncode != 0 and "x-api-key" in done.stdout + done.stderr, done.stderr
    assert "refs/heads/main" not in pushed.git("ls-remote", "--heads", "public")
    pushed.git("checkout", "-q", "-b", "feature")  # a new branch on origin: what origin has is known
    add_commits(pushed, leak_at=-1, count=1)
    pushed.git("push", "-q", "origin", "feature")


def test_refs_of_a_remote_named_under_this_ones_name_or_pushing_elsewhere_count_for_nothing(
        pushed: Repo, tmp_path: Path) -> None:
    # refs/remotes/team/x/* are remote team/x's; origin's refs describe its fetch URL only
    add_commits(pushed, leak_at=0, count=1)
    bares = bare_remotes(pushed, tmp_path, "team/x", "team")
    pushed.git("push", "-q", "--no-verify", "team/x", "main")
    pushed.git("push", "-q", "--no-verify", "origin", "main")
    fork = bare_remotes(pushed, tmp_path, "fork")["fork"]
    pushed.git("config", "remote.origin.pushurl", str(fork))
    assert pushed.keyguard("install", "--hook", "pre-push").code == 0
    assert refused(pushed, "team", bares["team"]) and refused(pushed, "origin", fork)


def test_a_ref_two_remotes_could_own_and_a_remote_with_two_urls_count_for_nothing(
        pushed: Repo, tmp_path: Path) -> None:
    # refs/remotes/team/x/main is remote team's branch x/main and could be remote team/x's;
    # a remote with two URLs pushes to both but fetches from the first
    add_commits(pushed, leak_at=0, count=1)
    bares = bare_remotes(pushed, tmp_path, "team", "team/x")
    pushed.git("push", "-q", "--no-verify", "team", "HEAD:refs/heads/x/main")
    pushed.git("fetch", "-q", "team")
    pushed.git("push", "-q", "--no-verify", "origin", "main")
    second = bare_remotes(pushed, tmp_path, "second")["second"]
    pushed.git("config", "--add", "remote.origin.url", str(second))
    assert pushed.keyguard("install", "--hook", "pre-push").code == 0
    assert refused(pushed, "team/x", bares["team/x"]) and refused(pushed, "origin", second)


def test_a_push_that_moves_a_big_file_the_remote_has_passes(pushed: Repo) -> None:
    pushed.write(".keyguard.toml", 'max-file-size = "1k"\n')
    pushed.write("big.txt", "x" * 2000 + "\n")
    pushed.stage()
    pushed.commit("big")
    pushed.git("push", "-q", "--no-verify", "origin", "main")
    assert pushed.keyguard("install", "--hook", "pre-push").code == 0
    pushed.git("mv", "big.txt", "big2.txt")
    pushed.commit("moved")
    pushed.git("push", "-q", "origin", "main")  # raises if the hook blocks
    pushed.write("big2.txt", "y" * 2000 + "\n")  # new text over the cap: blocked
    pushed.stage()
    pushed.commit("changed")
    pushed.git("push", "-q", "origin", "main", check=False)
    assert pushed.git("rev-parse", "HEAD").strip() not in pushed.git("ls-remote", "origin", "main")


def test_a_push_url_rewritten_elsewhere_counts_for_nothing(pushed: Repo, tmp_path: Path) -> None:
    # url.<B>.pushInsteadOf <A>: origin fetches from A and pushes to B
    add_commits(pushed, leak_at=0, count=1)
    pushed.git("push", "-q", "--no-verify", "origin", "main")
    other = bare_remotes(pushed, tmp_path, "other")["other"]
    pushed.git("config", f"url.{other}.pushInsteadOf", str(tmp_path / "remote.git"))
    assert pushed.keyguard("install", "--hook", "pre-push").code == 0
    assert refused(pushed, "origin", other)


def test_pre_commits_from_ref_is_trusted_only_where_the_remote_pushes(pushed: Repo, tmp_path: Path) -> None:
    # the key is on origin (a.git); FROM_REF as pre-commit derives it for a new branch
    add_commits(pushed, leak_at=0, count=1)
    pushed.git("push", "-q", "--no-verify", "origin", "main")
    add_commits(pushed, leak_at=-1, count=1)
    from_ref = pushed.git("rev-parse", "origin/main").strip()
    env = {"PRE_COMMIT": "1", "PRE_COMMIT_FROM_REF": from_ref, "PRE_COMMIT_TO_REF": "HEAD",
           "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/main"}
    remote_url = str(tmp_path / "remote.git")
    assert pushed.keyguard("pre-push", env={**env, "PRE_COMMIT_REMOTE_NAME": "origin"}).code == 0
    assert pushed.keyguard("pre-push", env={**env, "PRE_COMMIT_REMOTE_NAME": remote_url}).code == 0
    second = bare_remotes(pushed, tmp_path, "second")["second"]
    pushed.git("config", "--add", "remote.origin.url", str(second))  # a push goes to both
    assert pushed.keyguard("pre-push", env={**env, "PRE_COMMIT_REMOTE_NAME": "origin"}).code == 1


def test_a_merged_key_renamed_afterwards_adds_nothing(repo: Repo) -> None:
    repo.write("conf.txt", "a\nb\n")
    repo.stage()
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "pr")
    repo.write("f.txt", "f\n")
    repo.stage()
    repo.commit("f")
    repo.git("checkout", "-q", "main")
    repo.write("conf.txt", f"a\nb\nIMIN_API_KEY={KEY}\n")
    repo.stage()
    repo.commit("key on main")
    repo.git("checkout", "-q", "pr")
    repo.git("merge", "-q", "--no-edit", "main")
    assert repo.keyguard("ci", "--base", "main").code == 0
    repo.git("mv", "conf.txt", "conf2.txt")
    repo.commit("move")
    assert repo.keyguard("ci", "--base", "main").code == 0
    repo.write("conf2.txt", f"a\nb\nIMIN_API_KEY={KEY}\nIMIN_OTHER_KEY={fake_key('second')}\n")
    repo.stage()
    repo.commit("a new key")
    run = repo.keyguard("ci", "--base", "main")
    assert run.code == 1 and "conf2.txt:4:" in run.out and "conf2.txt:3:" not in run.out


def test_a_merge_of_what_the_remote_has_adds_nothing(pushed: Repo, tmp_path: Path) -> None:
    # `git pull` merges the remote's commits, a key among them: the merge does not add it
    clone = Repo(tmp_path / "clone")
    clone.git("pull", "-q", str(tmp_path / "remote.git"), "main")
    clone.write("client.sh", f"curl -H 'X-API-KEY: {KEY}' https://x\n")
    clone.stage()
    clone.commit("key, pushed before keyguard")
    clone.git("push", "-q", str(tmp_path / "remote.git"), "main")
    assert pushed.keyguard("install", "--hook", "pre-push").code == 0
    add_commits(pushed, leak_at=-1, count=1)
    pushed.git("-c", "pull.rebase=false", "pull", "-q", "--no-edit", "origin", "main")
    pushed.git("push", "-q", "origin", "main")
    pushed.write("late.sh", f"curl -H 'X-API-KEY: {KEY}' https://y\n")  # a new place: blocked
    pushed.stage()
    pushed.commit("again")
    pushed.git("push", "-q", "origin", "main", check=False)
    assert pushed.git("rev-parse", "HEAD").strip() not in pushed.git("ls-remote", "origin", "main")


def test_clean_push_goes_through_and_deletion_scans_nothing(pushed: Repo) -> None:
    assert pushed.keyguard("install", "--hook", "pre-push").code == 0
    pushed.git("checkout", "-q", "-b", "feature")
    add_commits(pushed, leak_at=-1, count=3)
    pushed.git("push", "-q", "origin", "feature")
    assert "refs/heads/feature" in pushed.git("ls-remote", "--heads", "origin")
    pushed.git("push", "-q", "origin", "--delete", "feature")
    assert "refs/heads/feature" not in pushed.git("ls-remote", "--heads", "origin")


def test_pre_push_input_update_and_merge(pushed: Repo) -> None:
    base = pushed.git("rev-parse", "HEAD").strip()
    pushed.git("checkout", "-q", "-b", "side")
    side = add_commits(pushed, leak_at=0, count=1)[0]
    pushed.git("checkout", "-q", "main")
    pushed.write("main.txt", "m\n")
    pushed.stage()
    pushed.commit("main")
    pushed.git("merge", "-q", "--no-ff", "side", "-m", "merge side")
    head = pushed.git("rev-parse", "HEAD").strip()
    line = f"refs/heads/main {head} refs/heads/main {base}\n"
    run = pushed.keyguard("pre-push", "origin", "url", input=line)
    assert run.code == 1 and side[:12] in run.out and "push blocked" in run.err
    deletion = f"(delete) {ZERO} refs/heads/old {base}\n"
    assert pushed.keyguard("pre-push", "origin", "url", input=deletion).code == 0


def test_push_of_an_annotated_tag_with_a_key_in_its_message_is_blocked(pushed: Repo) -> None:
    """The tag's commit is on the remote already: its message is what the push sends."""
    assert pushed.keyguard("install", "--hook", "pre-push").code == 0
    pushed.git("tag", "-a", "v1", "-m", "release 1")
    pushed.git("push", "-q", "origin", "v1")  # a clean tag goes through
    pushed.git("tag", "-a", "v2", "-m", f"release 2\napi_key={KEY}")
    pushed.git("tag", "-a", "v2-signed", "-m", "a tag of a tag", "v2")
    for tag in ("v2", "v2-signed"):
        done = subprocess.run(["git", "push", "origin", tag], cwd=pushed.path, capture_output=True,
                              text=True, check=False)
        assert done.returncode != 0, done
        assert f"(tag message) refs/tags/{tag}:2:9" in done.stderr + done.stdout, done
    assert pushed.git("ls-remote", "--tags", "--refs", "origin").split()[1::2] == ["refs/tags/v1"]
    env = {"PRE_COMMIT_FROM_REF": ZERO, "PRE_COMMIT_TO_REF": pushed.git("rev-parse", "v2").strip(),
           "PRE_COMMIT_LOCAL_BRANCH": "refs/tags/v2"}  # pre-commit's pre-push stage
    run = pushed.keyguard("pre-push", env=env)
    assert run.code == 1 and "(tag message) refs/tags/v2:2:9" in run.out, run.out + run.err


def test_push_of_a_tag_naming_a_blob_is_blocked(pushed: Repo) -> None:
    text = f'API_KEY = "{fake_key("pushed blob")}"\n'
    blob = pushed.git("hash-object", "-w", "--stdin", input=text).strip()
    pushed.git("tag", "keyblob", blob)
    line = f"refs/tags/keyblob {blob} refs/tags/keyblob {ZERO}\n"
    run = pushed.keyguard("pre-push", "origin", "x", input=line)
    assert run.code == 1 and "(tagged blob) refs/tags/keyblob" in run.out


def test_pre_push_bad_input_is_a_usage_error(pushed: Repo) -> None:
    run = pushed.keyguard("pre-push", input="garbage\n")
    assert run.code == 2 and "line 1" in run.err


def test_pre_push_from_pre_commit_environment(pushed: Repo) -> None:
    base = pushed.git("rev-parse", "HEAD").strip()
    commits = add_commits(pushed, leak_at=0, count=2)
    env = {"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": commits[-1]}
    assert pushed.keyguard("pre-push", env=env).code == 1
    env = {"PRE_COMMIT_FROM_REF": commits[0], "PRE_COMMIT_TO_REF": commits[-1]}
    assert pushed.keyguard("pre-push", env=env).code == 0


# keyguard ci: the range under test from the CI's environment (recorded events, no network)

@pytest.fixture
def ci_repo(pushed: Repo) -> tuple[Repo, str, list[str]]:
    base = pushed.git("rev-parse", "HEAD").strip()
    pushed.git("checkout", "-q", "-b", "feature")
    return pushed, base, add_commits(pushed, leak_at=1, count=3)


def github_env(repo: Repo, name: str, event: dict) -> dict[str, str]:
    path = repo.path.parent / f"{name}.json"
    path.write_text(json.dumps(event))
    return {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(path),
            "GITHUB_SHA": repo.git("rev-parse", "HEAD").strip()}


def test_github_push_event(ci_repo: tuple[Repo, str, list[str]]) -> None:
    repo, base, commits = ci_repo
    env = github_env(repo, "push", {"before": base, "after": commits[-1],
                                    "repository": {"default_branch": "main"}})
    run = repo.keyguard("ci", env=env)
    assert run.code == 1 and commits[1][:12] in run.out
    after_leak = github_env(repo, "push", {"before": commits[1], "after": commits[-1]})
    assert repo.keyguard("ci", env=after_leak).code == 0


def test_github_first_push_falls_back_to_the_default_branch(ci_repo: tuple[Repo, str, list[str]]) -> None:
    repo, _, commits = ci_repo
    env = github_env(repo, "push", {"before": ZERO, "after": commits[-1],
                                    "repository": {"default_branch": "main"}})
    run = repo.keyguard("ci", "--format", "json", env=env)
    assert run.code == 1
    assert {f["origin"]["commit"] for f in json.loads(run.out)["findings"]} == {commits[1]}


def test_first_push_of_the_default_branch_scans_all_of_it(repo: Repo, tmp_path: Path) -> None:
    # a new repository's first push: after checkout, origin/main is the pushed commit itself
    repo.write("k.py", f'API_KEY = "{fake_key("first-push")}"\n')
    repo.stage()
    repo.commit("key")
    subprocess.run(["git", "clone", "-q", str(repo.path), str(tmp_path / "ci")], check=True)
    ci = Repo.__new__(Repo)
    ci.path = tmp_path / "ci"
    head = ci.git("rev-parse", "HEAD").strip()
    env = github_env(ci, "push", {"ref": "refs/heads/main", "before": ZERO, "after": head,
                                  "repository": {"default_branch": "main"}})
    assert ci.keyguard("ci", env=env).code == 1
    gitlab = {"GITLAB_CI": "true", "CI_COMMIT_SHA": head, "CI_COMMIT_BEFORE_SHA": ZERO,
              "CI_DEFAULT_BRANCH": "main", "CI_COMMIT_BRANCH": "main"}
    assert ci.keyguard("ci", env=gitlab).code == 1


def test_github_pull_request_event(ci_repo: tuple[Repo, str, list[str]]) -> None:
    repo, base, commits = ci_repo
    event = {"pull_request": {"base": {"sha": base}, "head": {"sha": commits[-1]}}}
    assert repo.keyguard("ci", env=github_env(repo, "pull_request", event)).code == 1
    event = {"pull_request": {"base": {"sha": commits[1]}, "head": {"sha": commits[-1]}}}
    assert repo.keyguard("ci", env=github_env(repo, "pull_request", event)).code == 0


def test_gitlab_variables(ci_repo: tuple[Repo, str, list[str]]) -> None:
    repo, base, commits = ci_repo
    gitlab = {"GITLAB_CI": "true", "CI_COMMIT_SHA": commits[-1], "CI_DEFAULT_BRANCH": "main"}
    merge_request = {**gitlab, "CI_MERGE_REQUEST_DIFF_BASE_SHA": base}
    assert repo.keyguard("ci", env=merge_request).code == 1
    assert repo.keyguard("ci", env={**gitlab, "CI_COMMIT_BEFORE_SHA": commits[1]}).code == 0
    assert repo.keyguard("ci", env={**gitlab, "CI_COMMIT_BEFORE_SHA": ZERO}).code == 1


def test_base_option_and_no_ci(ci_repo: tuple[Repo, str, list[str]]) -> None:
    repo, base, _ = ci_repo
    clean = {"GITHUB_ACTIONS": "", "GITLAB_CI": ""}
    assert repo.keyguard("ci", "--base", base, env=clean).code == 1
    run = repo.keyguard("ci", env=clean)
    assert run.code == 2 and "--base" in run.err
    assert repo.keyguard("ci", "--base", base, "--show-secrets", env=clean).code == 2


def test_shallow_clone_without_the_base_says_how_to_fetch(ci_repo: tuple[Repo, str, list[str]],
                                                          tmp_path: Path) -> None:
    repo, base, commits = ci_repo
    clone = tmp_path / "shallow"
    repo.git("clone", "-q", "--depth", "1", "--branch", "feature", f"file://{repo.path}", str(clone))
    shallow = Repo.__new__(Repo)
    shallow.path = clone
    env = {"GITLAB_CI": "true", "CI_COMMIT_SHA": commits[-1], "CI_COMMIT_BEFORE_SHA": base,
           "GITHUB_ACTIONS": ""}
    run = shallow.keyguard("ci", env=env)
    assert run.code == 4 and "shallow clone" in run.err and "fetch-depth: 0" in run.err


def test_a_range_past_a_shallow_clones_boundary_is_incomplete(repo: Repo, tmp_path: Path) -> None:
    """A pull request longer than the CI's fetch depth: its base and head are there, the commits
    between are cut off by the boundary (a key added, then removed). Not a clean scan: exit 4."""
    repo.write("m.txt", "1\n")
    repo.stage()
    repo.commit("m1")
    repo.git("checkout", "-q", "-b", "pr")
    repo.write("k.env", f"IMIN_API_KEY={KEY}\n")
    repo.stage()
    repo.commit("add the key")
    repo.git("rm", "-q", "k.env")
    repo.commit("remove it")
    repo.write("p.txt", "p\n")
    repo.stage()
    head = repo.commit("more work")
    repo.git("checkout", "-q", "main")
    repo.write("m.txt", "2\n")
    repo.stage()
    base = repo.commit("m2")
    repo.git("checkout", "-q", "-b", "merge-ref")
    repo.git("merge", "-q", "--no-edit", "pr")  # what a pull request's merge ref checks out
    clone = Repo.__new__(Repo)
    clone.path = tmp_path / "shallow"
    repo.git("clone", "-q", "--depth", "2", "--branch", "merge-ref", f"file://{repo.path}", str(clone.path))
    event = {"pull_request": {"base": {"sha": base}, "head": {"sha": head}}}
    for where, expected in ((repo, 1), (clone, 4)):
        run = where.keyguard("ci", env=github_env(where, "pull_request", event))
        assert run.code == expected, run.out + run.err
        assert where.keyguard("history", head, f"^{base}").code == expected
    assert "shallow clone" in run.err and "fetch-depth: 0" in run.err
    within = clone.keyguard("history", "HEAD", "^HEAD^1", "^HEAD^2")  # the merge alone: complete
    assert within.code == 0, within.out + within.err
