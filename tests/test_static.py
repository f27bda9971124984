"""The static reader on real free-threaded wheels from PyPI (numpy, markupsafe, rpds-py, cp313t)
for manylinux x86_64 and aarch64: every module gets a free-threading verdict, read from its data
without loading anything, the same on both platforms, and on the free-threaded 3.13t the same
as the dynamic audit of the installed packages. The wheels are fetched once into the fixture
cache; without the network (no PyPI) the test skips."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from extrun import inspection
from extrun.static import wheel, wheel_tags

from .conftest import CACHE

PROJECTS = {"numpy": "2.4.6", "markupsafe": "3.0.3", "rpds-py": "2026.5.1"}
PLATFORMS = {"x86_64": ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64"),
             "aarch64": ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64")}


@pytest.fixture(scope="module")
def wheels() -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for arch, platforms in PLATFORMS.items():
        where = CACHE / "wheels" / arch
        where.mkdir(parents=True, exist_ok=True)
        if len(list(where.glob("*.whl"))) < len(PROJECTS):
            args = [f"--platform={p}" for p in platforms]
            proc = subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(where),
                 "--only-binary=:all:", "--python-version=3.13", "--abi=cp313t", *args,
                 *(f"{name}=={version}" for name, version in PROJECTS.items())],
                capture_output=True, text=True, timeout=600)
            if proc.returncode:
                pytest.skip(f"cannot fetch the wheels: {proc.stderr.strip()[-200:]}")
        out[arch] = sorted(where.glob("*.whl"))
    return out


def _verdicts(paths: list[Path]) -> dict[str, bool | None]:
    verdicts = {}
    for path in paths:
        assert wheel_tags(str(path)) == ((3, 13), True)
        for r in wheel(str(path)):
            assert r["status"] == "ok", r
            verdicts[str(r["module"])] = r["free_threading"]
    return verdicts


def test_every_module_gets_a_verdict_on_every_platform(wheels: dict[str, list[Path]]) -> None:
    by_platform = {arch: _verdicts(paths) for arch, paths in wheels.items()}
    x86, arm = by_platform["x86_64"], by_platform["aarch64"]
    assert x86 and x86 == arm
    assert None not in x86.values(), [m for m, v in x86.items() if v is None]
    print(f"static verdicts of {len(x86)} modules in {len(wheels['x86_64'])} cp313t wheels, "
          "the same on manylinux x86_64 and aarch64")


@pytest.mark.skipif("t" not in sys.abiflags or sys.version_info[:2] != (3, 13),
                    reason="the wheels are for the free-threaded 3.13")
def test_static_verdicts_are_the_dynamic_ones(wheels: dict[str, list[Path]]) -> None:
    """The installed packages (the same versions, from the same kind of wheels), inspected by
    loading them, give the verdicts read from the wheels."""
    import importlib.util

    static = _verdicts(wheels["x86_64"])
    items = []
    for module in static:
        try:
            spec = importlib.util.find_spec(module)
        except ImportError:
            spec = None
        if spec is not None and spec.origin:
            items.append({"module": module, "path": spec.origin})
    if not items:
        pytest.skip("numpy, markupsafe and rpds-py are not installed here")
    for r in inspection.inspect_all(items, jobs=2):
        assert r["status"] == "ok" and r["free_threading"] == static[str(r["module"])], r
