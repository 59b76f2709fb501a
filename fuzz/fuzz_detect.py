"""Coverage-guided fuzzing of the detector and the git output parsers with atheris.

    pip install atheris
    python fuzz/fuzz_detect.py -max_total_time=300 -print_final_stats=1

Not part of the test suite (tests/test_properties.py runs the bounded, hypothesis version).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from keyguard.detect import detect
    from keyguard.detect.decode import decode_base64
    from keyguard.errors import KeyguardError
    from keyguard.model import Blob
    from keyguard.sources.history import parse_log
    from keyguard.sources.staged import added_lines, staged_blobs


def one_input(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    first = list(detect(Blob(path="fuzz.txt", text=text)))
    if first != list(detect(Blob(path="fuzz.txt", text=text))):
        raise AssertionError("detection is not deterministic")
    decode_base64(text)
    for parse in (parse_log, lambda d: list(staged_blobs(d)), added_lines):
        try:
            parse(data)
        except KeyguardError:
            pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
