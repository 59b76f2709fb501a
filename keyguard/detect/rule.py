"""What a rule is: a pure finder over text, with the examples that prove it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from keyguard.model import Confidence


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    """A rule's raw match: an offset into the scanned text, not yet a line and column."""

    start: int
    secret: str = field(repr=False)
    confidence: Confidence
    signals: tuple[str, ...]
    label: str | None = None


Finder = Callable[[str, str], Iterator[Hit]]  # (text, path) -> hits


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    name: str
    description: str
    confidences: str  # how the rule grades its findings, for `keyguard rules`
    find: Finder
    examples: tuple[str, ...]  # each must give a finding of this rule at medium or above
    counterexamples: tuple[str, ...]  # each must give no finding of this rule at all
