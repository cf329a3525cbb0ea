"""The grading benchmark's script runs (generation and collection only; the figures are
measured by running it by hand, see docs/instructors.md)."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_benchmark_generates_and_collects():
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "term_grading.py"), "--n", "5", "--dry-run"],
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "5 submissions of 03_xor" in result.stdout and "'crash': 1" in result.stdout
