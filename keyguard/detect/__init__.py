"""Detection: pure functions from text to candidates. No files, git, clock or settings here."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from keyguard.detect import decode
from keyguard.detect.rule import Hit, Rule
from keyguard.detect.rules import RULES
from keyguard.model import Blob, Candidate, Confidence

__all__ = ["RULES", "Rule", "detect"]


def detect(blob: Blob, rules: Sequence[Rule] = RULES, first_line: int = 1,
           at_least: Confidence = Confidence.LOW) -> Iterator[Candidate]:
    """Every secret in the blob graded `at_least`, once per line, in reading order; the blob's
    text starts at line `first_line` (a window of a larger text). Which rule's grading counts
    for a secret does not depend on `at_least`: leaving out lower ones is filtering after."""
    # The last rule's hits win a line only over its own less sure ones: those below `at_least`
    # can never count and are left out at once (a log's request ids, by the thousand).
    last = len(rules) - 1
    floors = [at_least if order == last else Confidence.LOW for order in range(len(rules))]
    hits = [(order, hit) for order, rule in enumerate(rules)
            for hit in rule.find(blob.text, blob.path, floors[order])
            if order < last or hit.confidence >= at_least]
    for variant in decode.variants(blob.text):
        for order, rule in enumerate(rules):
            hits.extend((order, _located(hit, variant, blob.text))
                        for hit in rule.find(variant.text, blob.path, floors[order])
                        if variant.covers(hit.start) and (order < last or hit.confidence >= at_least))
    yield from _candidates(blob.text, hits, rules, first_line, at_least)


def _located(hit: Hit, variant: decode.Variant, text: str) -> Hit:
    """Move a hit found in decoded text back to the encoded text it came from."""
    verbatim = text.find(hit.secret, variant.origin, variant.origin_end)
    start = verbatim if verbatim >= 0 else variant.origin
    return Hit(start=start, secret=hit.secret, confidence=hit.confidence,
               signals=(*hit.signals, variant.kind), label=hit.label)


def _candidates(text: str, hits: list[tuple[int, Hit]], rules: Sequence[Rule], first_line: int,
                at_least: Confidence) -> Iterator[Candidate]:
    best: dict[tuple[int, str], tuple[int, Hit]] = {}
    line, counted_to = first_line, 0
    for order, hit in sorted(hits, key=lambda item: item[1].start):
        line += text.count("\n", counted_to, hit.start)  # each newline counted once
        counted_to = hit.start
        key = (line, hit.secret)
        kept = best.get(key)
        # One finding per secret and line: the most specific rule, then the surest grade.
        if kept is None or (order, -hit.confidence) < (kept[0], -kept[1].confidence):
            best[key] = (order, hit)
    sure = [item for item in best.items() if item[1][1].confidence >= at_least]
    for (line, _), (order, hit) in sorted(sure, key=lambda item: item[1][1].start):
        column = hit.start - text.rfind("\n", 0, hit.start)
        yield Candidate(rule_id=rules[order].id, secret=hit.secret, line=line,
                        column=column, confidence=hit.confidence,
                        signals=hit.signals, label=hit.label)
