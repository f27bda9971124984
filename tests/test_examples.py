"""The README's demo (examples/demo.py), run by a fresh venv's interpreter."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .conftest import make_venv

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


def test_demo(tmp_path: Path) -> None:
    python, site = make_venv(tmp_path / "venv")
    proc = subprocess.run([python, str(DEMO)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "Hello, Ada! (greeting 1 from module __main__)" in out
    assert "Hello, Grace! (greeting 2 from module __main__)" in out
    assert "No code object available for hello" in out  # CPython alone
    assert out.rstrip().endswith("Hello, Ada! (greeting 1 from module __main__)")  # the integration
    assert not (site / "extrun-integration.pth").exists()  # and it is gone again
