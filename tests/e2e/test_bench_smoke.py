"""The benchmark harness starts everything and prints its table (tiny parameters, a few
seconds). The benchmark itself runs on demand: python -m bench (docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO


def test_bench_quick_pass_prints_the_overhead_table(tmp_path: Path) -> None:
    output = tmp_path / "bench.md"
    tiny = "--quick --upstream stub --only overhead --rate 200 --duration 1 --warmup 0.5"
    done = subprocess.run(
        [sys.executable, "-m", "bench", *tiny.split(), "--no-install", "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = output.read_text()
    # Only the harness is checked: on a busy machine the figures themselves may be poor.
    assert "| direct (HTTP/1.1)" in text
    assert "| through the sidecar (gRPC)" in text
    assert "| **overhead** |" in text
    assert "| p50 overhead | <= 0.5 ms |" in text
