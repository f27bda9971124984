"""Audit of an environment with >= 300 extension modules, vs one subprocess per module.

    python benchmarks/bench_audit.py [--modules N] [--jobs N]

Builds one library defining N export hooks (2/3 multi-phase, 1/3 single-phase) and links it
under N module names in a directory (PEP 489's several modules in one library), then times,
in one run:
  audit:  extrun audit DIR --json --jobs J        (batched, crash-isolated workers)
  static: extrun audit DIR --json --static        (reads the libraries' bytes, loads nothing;
          the library is parsed once, as the dynamic loader maps it once; also printed: the
          same of N distinct copies, each parsed)
  naive:  python -m extrun inspect --in-process --json LIB, once per module, J at a time
and prints the wall times, the ratios audit/naive (target <= 0.2; audit <= 10 s on 2 cores)
and static/audit (target <= 0.5), and the peak memory (max RSS) of each audit's processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import EXT_SUFFIX, compile_c  # noqa: E402

SOURCE = r"""
#include <Python.h>
static int ex(PyObject *m) { return PyModule_AddIntConstant(m, "answer", 42); }
static PyModuleDef_Slot slots[] = {{Py_mod_exec, ex}, {0, NULL}};
#define MULTI(N) static PyModuleDef d##N = {PyModuleDef_HEAD_INIT, "m" #N, .m_slots = slots}; \
    PyMODINIT_FUNC PyInit_m##N(void) { return PyModuleDef_Init(&d##N); }
#define SINGLE(N) static PyModuleDef d##N = {PyModuleDef_HEAD_INIT, "m" #N, .m_size = -1}; \
    PyMODINIT_FUNC PyInit_m##N(void) { return PyModule_Create(&d##N); }
"""


def main() -> None:
    count = int(sys.argv[sys.argv.index("--modules") + 1]) if "--modules" in sys.argv else 300
    jobs = int(sys.argv[sys.argv.index("--jobs") + 1]) if "--jobs" in sys.argv else 2
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "many.c"
        source.write_text(SOURCE + "\n".join(
            f"{'SINGLE' if i % 3 == 2 else 'MULTI'}({i})" for i in range(count)) + "\n")
        library = compile_c(source, "many")
        env_dir = work / "env"
        env_dir.mkdir()
        copies = work / "copies"
        copies.mkdir()
        paths = []
        for i in range(count):
            path = env_dir / f"m{i}{EXT_SUFFIX}"
            # one file under N names (a hard link, or a symbolic one across file systems)
            os.link(library, path) if os.stat(library).st_dev == os.stat(tmp).st_dev else \
                path.symlink_to(library)
            paths.append(str(path))
            (copies / path.name).write_bytes(Path(library).read_bytes())

        audit_time, audit_rss, records = timed_audit(env_dir, env, "--jobs", str(jobs))
        assert len(records) == count and all(r["status"] == "ok" for r in records)
        static_time, static_rss, records = timed_audit(env_dir, env, "--static")
        assert len(records) == count and all(r["status"] == "ok" for r in records)
        copies_time, _, records = timed_audit(copies, env, "--static")
        assert len(records) == count and all(r["status"] == "ok" for r in records)

        def naive(path: str) -> None:
            subprocess.run([sys.executable, "-m", "extrun", "inspect", "--in-process",
                            "--json", path], env=env, capture_output=True, check=True)

        start = time.perf_counter()
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(naive, paths))
        naive_time = time.perf_counter() - start
    print(f"audit of {count} extension modules, {jobs} jobs: {audit_time:.2f} s "
          f"(target <= 10 s)")
    print(f"naive, one subprocess per module, {jobs} at a time: {naive_time:.2f} s")
    print(f"ratio audit/naive: {audit_time / naive_time:.3f}  (target <= 0.2)")
    print(f"static audit: {static_time:.2f} s, ratio static/audit: "
          f"{static_time / audit_time:.3f}  (target <= 0.5)")
    print(f"static audit of {count} distinct copies of the library (each parsed): "
          f"{copies_time:.2f} s, {copies_time / audit_time:.3f} of the audit")
    print(f"peak memory (max RSS of a process): audit {audit_rss / 1024:.0f} MiB, "
          f"static {static_rss / 1024:.0f} MiB")


# Each audit runs under its own `python -c` parent, so that its children's peak memory
# (ru_maxrss: the largest process's) is that audit's alone.
_MEASURE = ("import json, resource, subprocess, sys, time; t = time.perf_counter(); "
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True); "
            "print(json.dumps([time.perf_counter() - t, "
            "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.stdout]))")


def timed_audit(directory: Path, env: dict[str, str], *options: str
                ) -> tuple[float, int, list[dict[str, object]]]:
    """(wall time, peak RSS in KiB, records) of `extrun audit DIRECTORY --json OPTIONS`: the
    median time of 5 runs (a run of a tenth of a second moves by a third between runs here)."""
    runs = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "extrun",
                              "audit", str(directory), "--json", *options], env=env,
                             capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(out))
    seconds, rss, stdout = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
    return seconds, rss, json.loads(stdout)["modules"]


if __name__ == "__main__":
    main()
