"""What the `python -m` integration costs interpreters that do not use it.

    python benchmarks/bench_integration.py [--rounds N] [--pth-line LINE] [--floor]
                                           [--instructions]

Two fresh venvs of the running interpreter, identical (extrun importable in both, as an
installed package, without a .pth file of its own) except that one has the integration installed.
Each round runs every case in both, interleaved, in turns; median of N each:
  python -c pass           with the integration vs without  (target <= 1.02; 3.15: <= 1.04)
  python -m pure_module    with the integration vs without  (target <= 1.03; 3.15: <= 1.05)
(The floor, any .pth file with an import line: `import sys` alone costs ~1.01 on 3.11 and
~1.025 on 3.15, where reading an environment's first .pth file imports a codec.)

Nothing is written between runs: moving the .pth file in and out of one venv (as an earlier
version of this benchmark did) changes the directory right before each start and adds ~0.2 ms
to whichever variant follows. The order rotates from round to round: the first of two
back-to-back starts is measurably slower here (~1%), whichever it is.

--pth-line LINE puts a .pth file holding LINE in place of the integration's (its module stays
installed, for lines that import it): what any .pth line costs. --floor adds a third venv whose
.pth file holds `import sys` (the floor: what any import line costs), timed in the same rounds.
--instructions counts instructions instead (valgrind's callgrind, PYTHONHASHSEED=0, median of
3 starts; with the floor): deterministic, unlike the times, though cold caches make a start's
time grow faster than its instructions.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_venv(root: Path, integrated: bool, pth_line: str | None = None) -> str:
    venv.create(root, with_pip=False)
    python = str(root / "bin" / "python")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    # extrun importable as an installed package is: no .pth file of its own (on 3.15 the first
    # .pth file of an environment costs importing the utf-8-sig codec, ~0.3 ms, to read it)
    (Path(site.stdout.strip()) / "extrun").symlink_to(ROOT / "src" / "extrun")
    if integrated:
        subprocess.run([python, "-m", "extrun", "integration", "install"], check=True,
                       stdout=subprocess.DEVNULL)
    if integrated and pth_line is not None:  # the module stays, for lines that import it
        (Path(site.stdout.strip()) / "extrun-integration.pth").write_text(pth_line + "\n")
    return python


def instructions(python: str, args: list[str], cwd: Path, env: dict[str, str]) -> int:
    """What callgrind counts for one start (the median of 3): the same for the same binary and
    files whatever else the machine does."""
    counts = []
    for _ in range(3):
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                               python, *args], cwd=cwd, env=env, capture_output=True, text=True,
                              check=True)
        counts.append(int(re.findall(r"Collected : (\d+)", proc.stderr)[-1]))
    return sorted(counts)[1]


def main() -> None:
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 100
    line = sys.argv[sys.argv.index("--pth-line") + 1] if "--pth-line" in sys.argv else None
    count = "--instructions" in sys.argv
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPATH", None)
    if count:
        env["PYTHONHASHSEED"] = "0"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "pure_module.py").write_text("answer = 42\n")
        pythons = {"with": make_venv(work / "integrated", True, line),
                   "without": make_venv(work / "plain", False)}
        if "--floor" in sys.argv or count:
            pythons["floor"] = make_venv(work / "floor", True, "import sys")
        cases = {"-c pass": ["-c", "pass"], "-m pure_module": ["-m", "pure_module"]}
        times: dict[tuple[str, str], list[float]] = {
            (c, v): [] for c in cases for v in pythons}
        for i in range(1 if count else rounds + 3):  # 3 rounds of warm-up (and __pycache__)
            for case, args in cases.items():
                order = list(pythons.items())  # rotated: each variant first as often
                for variant, python in order[i % len(order):] + order[:i % len(order)]:
                    t = time.perf_counter()
                    subprocess.run([python, *args], cwd=work, env=env, check=True)
                    if i >= 3:
                        times[case, variant].append(time.perf_counter() - t)
        if count:
            for case, args in cases.items():
                for variant, python in pythons.items():
                    times[case, variant] = [instructions(python, args, work, env)]
    targets = (1.04, 1.05) if sys.version_info >= (3, 15) else (1.02, 1.03)
    unit = "M instructions" if count else "ms"
    scale = 1e-6 if count else 1000
    for case, target in zip(("-c pass", "-m pure_module"), targets, strict=True):
        without = statistics.median(times[case, "without"])
        integrated = statistics.median(times[case, "with"])
        floor = (f"; the floor, a .pth line `import sys`: "
                 f"{statistics.median(times[case, 'floor']) / without:.3f}"
                 if (case, "floor") in times else "")
        print(f"python {case:15} without {without * scale:5.2f} {unit}, with the integration "
              f"{integrated * scale:5.2f} {unit}: ratio {integrated / without:.3f}  "
              f"(target <= {target}{' in time' if count else ''}){floor}")


if __name__ == "__main__":
    main()
