"""[[rules]] from the configuration: a user's regex as a rule, proven by its own examples."""

from __future__ import annotations

from collections.abc import Iterator

from keyguard.detect.linear import compile_linear
from keyguard.detect.rule import Finder, Hit, Rule
from keyguard.lazyre import lazy
from keyguard.model import Confidence

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any

RULE_KEYS = ("id", "regex", "keywords", "confidence", "description", "examples", "counterexamples")
_ID = lazy(r"[a-z0-9][a-z0-9-]*")


def parse_rule(raw: dict[str, Any], where: str, taken: set[str], problems: list[str]) -> Rule | None:
    before = len(problems)
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _ID.fullmatch(rule_id):
        problems.append(f"{where}: 'id' must be lower-case letters, digits and dashes")
    elif rule_id in taken:
        problems.append(f"{where}: 'id' {rule_id!r} is already a rule")
    pattern = _pattern(raw.get("regex"), where, problems)
    confidence = raw.get("confidence", "medium")
    if confidence not in ("low", "medium", "high"):
        problems.append(f"{where}: 'confidence' must be low, medium or high, not {confidence!r}")
    lists = {key: _strings(raw, key, where, problems) for key in ("keywords", "examples", "counterexamples")}
    description = raw.get("description", f"custom rule {rule_id}")
    if not isinstance(description, str):
        problems.append(f"{where}: 'description' must be a string")
    if len(problems) > before:
        return None
    finder = _finder(pattern, tuple(k.lower() for k in lists["keywords"]), Confidence.parse(confidence))
    rule = Rule(id=str(rule_id), name=str(rule_id), confidences=f"{confidence} (configured)",
                description=description, find=finder,
                examples=tuple(lists["examples"]), counterexamples=tuple(lists["counterexamples"]))
    _check_examples(rule, where, problems)
    return rule if len(problems) == before else None


def _pattern(value: object, where: str, problems: list[str]) -> Any:
    if not isinstance(value, str) or not value:
        problems.append(f"{where}: 'regex' is required: a pattern whose group 'secret' is the key")
        return None
    try:
        return compile_linear(value)
    except ValueError as e:
        problems.append(f"{where}: 'regex': invalid regex {value!r}: {e}")
        return None


def _strings(raw: dict[str, Any], key: str, where: str, problems: list[str]) -> list[str]:
    value = raw.get(key, [])
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    problems.append(f"{where}: '{key}' must be a list of strings")
    return []


def _finder(pattern: Any, keywords: tuple[str, ...], confidence: Confidence) -> Finder:
    """The secret is the group named `secret`, else group 1, else the whole match."""
    group = pattern.groupindex.get("secret", 1 if pattern.groups else 0)

    def find(text: str, path: str, at_least: Confidence = Confidence.LOW) -> Iterator[Hit]:
        if keywords and not any(k in text.lower() for k in keywords):
            return
        for match in pattern.finditer(text):
            secret = match.group(group)
            if secret:
                yield Hit(start=match.start(group), secret=secret, confidence=confidence,
                          signals=("custom-rule",))

    return find


def _check_examples(rule: Rule, where: str, problems: list[str]) -> None:
    for example in rule.examples:
        if not any(rule.find(example, "example", Confidence.LOW)):
            problems.append(f"{where}: example does not match: {example!r}")
    for counterexample in rule.counterexamples:
        if any(rule.find(counterexample, "example", Confidence.LOW)):
            problems.append(f"{where}: counterexample matches: {counterexample!r}")
