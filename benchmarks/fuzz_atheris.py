"""Coverage-guided fuzzing of ``engine.extract`` with atheris (libFuzzer for Python).

    pip install atheris
    mkdir -p /tmp/imgmeta-corpus
    python benchmarks/fuzz_atheris.py /tmp/imgmeta-corpus data/samples tests/hostile ../shared/samples \\
        -max_total_time=900 -timeout=10 -rss_limit_mb=2048 \\
        -artifact_prefix=tests/hostile/regressions/atheris-

libFuzzer writes the inputs it finds interesting into the *first* corpus
directory only (keep it outside the repository); the others are seeds. The
engine and Pillow's Python plugins are instrumented for coverage (the C
decoders are not). Any exception other than ``MetadataError`` is a finding:
libFuzzer stops and saves the input under ``-artifact_prefix``, where
``tests/test_hostile.py`` picks it up as a regression test. ``-timeout`` turns
a slow input into a finding too, ``-rss_limit_mb`` a memory blow-up.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

with atheris.instrument_imports(include=["engine", "PIL"]):
    import engine  # lazy: the modules extract() uses must be imported here to be instrumented
    import engine.exif
    import engine.formats
    import engine.hashing
    import engine.metadata
    import engine.quality
    import engine.render
    from engine.errors import MetadataError

warnings.simplefilter("ignore")


def test_one_input(data: bytes) -> None:
    try:
        engine.extract(data)
    except MetadataError:
        pass


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
