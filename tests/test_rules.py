"""Every rule's examples and counterexamples, run through the whole detector."""

from __future__ import annotations

import pytest

from keyguard.detect import RULES, detect
from keyguard.model import Blob, Confidence

EXAMPLES = [(rule.id, text) for rule in RULES for text in rule.examples]
COUNTEREXAMPLES = [(rule.id, text) for rule in RULES for text in rule.counterexamples]


@pytest.mark.parametrize(("rule_id", "text"), EXAMPLES)
def test_example_is_found(rule_id: str, text: str) -> None:
    found = [c for c in detect(Blob(path="example.txt", text=text)) if c.rule_id == rule_id]
    assert found and max(c.confidence for c in found) >= Confidence.MEDIUM


@pytest.mark.parametrize(("rule_id", "text"), COUNTEREXAMPLES)
def test_counterexample_is_not_found(rule_id: str, text: str) -> None:
    assert [c for c in detect(Blob(path="example.txt", text=text)) if c.rule_id == rule_id] == []


def test_every_rule_carries_proof() -> None:
    for rule in RULES:
        assert len(rule.examples) >= 5 and len(rule.counterexamples) >= 5, rule.id
