"""The fuzz job in CI: every decoder of outside data, mutated inputs, a bounded time.

``benchmarks/fuzz.py`` does the work; here it runs for ``POSEMU_FUZZ_SECONDS`` (default 12)
with a seed that changes every day, so CI explores new inputs while any failure it finds
is printed with its seed and input for replay.
"""

from __future__ import annotations

import os
from datetime import date

import pytest

from benchmarks import fuzz


@pytest.mark.fuzz
def test_no_decoder_lets_an_untyped_error_escape_or_hangs(capsys):
    seconds = os.environ.get("POSEMU_FUZZ_SECONDS", "12")
    seed = str(date.today().toordinal())
    code = fuzz.main(["--seconds", seconds, "--seed", seed])
    out = capsys.readouterr().out
    print(out)
    assert code == 0, out
    rows = [line.split() for line in out.splitlines()[1:-1] if not line.startswith("FAIL")]
    assert len(rows) >= 16  # 4 dialects x (unpack, host, framer) + TLV, QR and track targets
    for row in rows:
        assert int(row[-5]) > 0, row  # every target really got inputs
