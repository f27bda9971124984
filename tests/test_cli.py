"""The command line: ``extrun`` and ``python -m extrun`` in real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import extrun

SRC = str(Path(extrun.__file__).parent.parent)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=SRC)
    return subprocess.run([sys.executable, "-m", "extrun", *args], capture_output=True,
                          text=True, env=env)


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout == f"extrun {extrun.__version__}\n"


def test_help() -> None:
    proc = run("--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: extrun")


def test_unknown_command() -> None:
    proc = run("frobnicate")
    assert proc.returncode == 2 and "unknown command 'frobnicate'" in proc.stderr


def test_non_cpython_is_refused() -> None:
    code = ("import sys, types\n"
            "sys.implementation = types.SimpleNamespace(**{**vars(sys.implementation),"
            " 'name': 'pypy'})\n"
            "try:\n import extrun\nexcept ImportError as e: print(e)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=SRC))
    assert "extrun needs CPython >= 3.11" in proc.stdout
