"""What the `python -m` integration costs interpreters that do not use it.

    python benchmarks/bench_integration.py [--rounds N] [--pth-line LINE]

Two fresh venvs of the running interpreter, identical (extrun importable in both, as an
installed package, without a .pth file of its own) except that one has the integration installed.
Each round runs every case in both, interleaved; median of N each:
  python -c pass           with the hook vs without  (target <= 1.02; 3.15: <= 1.04)
  python -m pure_module    with the hook vs without  (target <= 1.03; 3.15: <= 1.05)
(The floor, any .pth file with an import line: `import sys` alone costs ~1.01 on 3.11 and
~1.025 on 3.15, where reading an environment's first .pth file imports a codec.)

Nothing is written between runs: moving the .pth file in and out of one venv (as an earlier
version of this benchmark did) changes the directory right before each start and adds ~0.2 ms
to whichever variant follows. The order alternates from round to round: the first of two
back-to-back starts is measurably slower here (~1%), whichever it is.

--pth-line LINE puts a .pth file holding LINE in place of the integration's (its module stays
installed, for lines that import it): what any .pth line costs (the floor: `--pth-line "import
sys"`).
"""

from __future__ import annotations

import os
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


def main() -> None:
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 100
    line = sys.argv[sys.argv.index("--pth-line") + 1] if "--pth-line" in sys.argv else None
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "pure_module.py").write_text("answer = 42\n")
        pythons = {"with": make_venv(work / "integrated", True, line),
                   "without": make_venv(work / "plain", False)}
        cases = {"-c pass": ["-c", "pass"], "-m pure_module": ["-m", "pure_module"]}
        times: dict[tuple[str, str], list[float]] = {
            (c, v): [] for c in cases for v in pythons}
        for i in range(rounds + 3):  # 3 rounds of warm-up (and __pycache__)
            for case, args in cases.items():
                order = list(pythons.items())
                for variant, python in order if i % 2 else order[::-1]:
                    t = time.perf_counter()
                    subprocess.run([python, *args], cwd=work, env=env, check=True)
                    if i >= 3:
                        times[case, variant].append(time.perf_counter() - t)
    targets = (1.04, 1.05) if sys.version_info >= (3, 15) else (1.02, 1.03)
    for case, target in zip(("-c pass", "-m pure_module"), targets, strict=True):
        without = statistics.median(times[case, "without"])
        integrated = statistics.median(times[case, "with"])
        print(f"python {case:15} without {without * 1000:5.2f} ms, with the integration "
              f"{integrated * 1000:5.2f} ms: ratio {integrated / without:.3f}  "
              f"(target <= {target})")


if __name__ == "__main__":
    main()
