"""Regexes compiled on first use (keyguard/lazyre.py)."""

from __future__ import annotations

import copy
import pickle

from keyguard.detect import header, hexkey
from keyguard.lazyre import lazy


def test_lazy_patterns_pickle_and_copy_as_their_pattern() -> None:
    # a spawned worker, or Dask, would pickle a rule's patterns
    fresh = lazy(r"a+b")
    used = lazy(r"c+d")
    assert used.search("xccd") is not None  # compiled now
    for pattern in (fresh, used, hexkey.HEX_RUN, header.NAME.compiled):
        for clone in (pickle.loads(pickle.dumps(pattern)), copy.copy(pattern)):
            assert clone.pattern == pattern.pattern
    assert pickle.loads(pickle.dumps(fresh)).fullmatch("aab")


def test_a_lazy_pattern_compiles_once_and_answers_as_re_does() -> None:
    pattern = lazy(r"(?P<word>[a-z]+)(\d)")
    assert "search" not in vars(pattern)
    assert [m.group("word") for m in pattern.finditer("ab1 cd2")] == ["ab", "cd"]
    assert "search" in vars(pattern) and pattern.groups == 2 and pattern.sub("-", "x1y") == "-y"
