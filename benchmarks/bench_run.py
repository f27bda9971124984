"""Whole-process wall time of running an extension as __main__, against what -m itself costs.

    python benchmarks/bench_run.py [--rounds N]

In a fresh venv (the real binary, no site-packages: a base interpreter's .pth files would add
their own start-up), interleaved in one run, median of N each:
  extrun:  python -m extrun run -m trivial_ext   (a multi-phase extension doing trivial work)
  pyequiv: python -m pyequiv                     (a pure-Python module doing the same)
  import:  python -c "import trivial_ext"
  integrated:  python -m trivial_ext                 (a second venv, with `extrun hook install`)
Prints the ratios extrun/pyequiv (target <= 1.20), extrun/import and integrated/pyequiv.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import EXT_SUFFIX, compile_c  # noqa: E402

TRIVIAL_C = r"""
#include <Python.h>
static int trivial_exec(PyObject *m) { return PyModule_AddIntConstant(m, "answer", 42); }
static PyModuleDef_Slot slots[] = {{Py_mod_exec, trivial_exec}, {0, NULL}};
static PyModuleDef def = {PyModuleDef_HEAD_INIT, .m_name = "trivial_ext", .m_slots = slots};
PyMODINIT_FUNC PyInit_trivial_ext(void) { return PyModuleDef_Init(&def); }
"""


def main() -> None:
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 100
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "trivial_ext.c").write_text(TRIVIAL_C)
        shutil.copy(compile_c(work / "trivial_ext.c", "trivial_ext"),
                    work / f"trivial_ext{EXT_SUFFIX}")
        (work / "pyequiv.py").write_text("answer = 42\n")
        venv.create(work / "venv", with_pip=False)
        venv.create(work / "integrated", with_pip=False)
        python = str(work / "venv" / "bin" / "python")
        integrated = str(work / "integrated" / "bin" / "python")
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        env.pop("PYTHONSTARTUP", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its .pyc files
        subprocess.run([integrated, "-m", "extrun", "hook", "install"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        commands = {
            "extrun": [python, "-m", "extrun", "run", "-m", "trivial_ext"],
            "pyequiv": [python, "-m", "pyequiv"],
            "import": [python, "-c", "import trivial_ext"],
            "integrated": [integrated, "-m", "trivial_ext"],
        }
        for cmd in commands.values():  # warm the page cache and __pycache__
            subprocess.run(cmd, cwd=work, env=env, check=True)
        times: dict[str, list[float]] = {k: [] for k in commands}
        order = list(commands.items())
        for i in range(rounds):  # the order rotates: a start's position in a round matters
            for label, cmd in order[i % len(order):] + order[:i % len(order)]:
                t = time.perf_counter()
                subprocess.run(cmd, cwd=work, env=env, check=True)
                times[label].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    for label, cmd in commands.items():
        print(f"{label:8} {med[label] * 1000:6.1f} ms  {' '.join(cmd[1:])}")
    print(f"ratio extrun/pyequiv: {med['extrun'] / med['pyequiv']:.3f}  (target <= 1.20)")
    print(f"ratio extrun/import:  {med['extrun'] / med['import']:.3f}")
    print(f"ratio integrated/pyequiv: {med['integrated'] / med['pyequiv']:.3f}  "
          "(python -m, the integration)")


if __name__ == "__main__":
    main()
