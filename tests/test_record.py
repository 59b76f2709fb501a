"""keyguard.record: the model's records behave as the dataclasses they replaced."""

from __future__ import annotations

import pickle

import pytest

from keyguard.model import Confidence, Finding
from keyguard.record import Record, field, replace


def finding(**changes: object) -> Finding:
    values: dict = dict(rule_id="hex32-key", path="a.py", secret="s" * 32, line=3, column=5,
                        confidence=Confidence.HIGH, blocking=True)
    return Finding(**(values | changes))


def test_fields_by_keyword_with_defaults() -> None:
    f = finding()
    assert (f.path, f.line, f.signals, f.label, f.origin, f.excerpt) == ("a.py", 3, (), None, None, "")
    with pytest.raises(TypeError, match="missing secret"):
        Finding(rule_id="r", path="p", line=1, column=1, confidence=Confidence.LOW, blocking=False)
    with pytest.raises(TypeError, match="no field colour"):
        finding(colour="red")


def test_immutable_unless_declared_mutable() -> None:
    f = finding()
    with pytest.raises(AttributeError, match="immutable"):
        f.line = 4  # type: ignore[misc]

    class Tally(Record, frozen=False, kw_only=False):
        seen: list[str] = field(default_factory=list)
        count: int = 0

    one, two = Tally(), Tally()
    one.seen.append("x")
    one.count += 1
    assert (one.seen, one.count, two.seen) == (["x"], 1, [])  # a list each
    with pytest.raises(TypeError, match="unhashable"):
        hash(one)
    with pytest.raises(TypeError, match="cannot extend"):

        class More(Tally):
            extra: int = 0


def test_equality_and_hash_only_over_compared_fields() -> None:
    a, b = finding(), finding(line=90, column=1, excerpt="elsewhere")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != finding(path="b.py") and a != "a.py"


def test_repr_leaves_out_secrets() -> None:
    shown = repr(finding(excerpt="key = " + "s" * 32))
    assert shown.startswith("Finding(rule_id='hex32-key', path='a.py'") and "s" * 8 not in shown


def test_pickle_and_replace_keep_every_field() -> None:
    f = finding(excerpt="line", signals=("key-word",))
    copy = pickle.loads(pickle.dumps(f))
    assert type(copy) is Finding
    assert [getattr(copy, n) for n, _ in Finding._fields] == [getattr(f, n) for n, _ in Finding._fields]
    moved = replace(f, line=9)
    assert (moved.line, moved.excerpt, moved.signals, f.line) == (9, "line", ("key-word",), 3)
    with pytest.raises(TypeError, match="no field lin"):
        replace(f, lin=9)
