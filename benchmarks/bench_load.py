"""In-process time to load a small extension: extrun's loader vs CPython's native one.

    python benchmarks/bench_load.py [--rounds N]

Both load the same multi-phase fixture under a fresh name each round (create + exec, nothing
cached but what each loader itself caches), interleaved, in one process; prints the median per
load of each and the ratio extrun/native. Target (issue 2): <= 1.5.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import build
from tests.conftest import native_load as native

from extrun.loader import load


def ours(path: str, name: str) -> object:
    return load(path, name, register=False)


def main() -> None:
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 2000
    path = build("multiphase")
    native(path, "mp_good"), ours(path, "mp_good")  # dlopen once, warm both
    times: dict[str, list[float]] = {"native": [], "extrun": []}
    for _ in range(rounds):
        for label, fn in (("native", native), ("extrun", ours)):
            t = time.perf_counter()
            fn(path, "mp_good")
            times[label].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"native load: {med['native'] * 1e6:8.1f} us (median of {rounds})")
    print(f"extrun load: {med['extrun'] * 1e6:8.1f} us (median of {rounds})")
    print(f"ratio extrun/native: {med['extrun'] / med['native']:.2f}  (target <= 1.5)")


if __name__ == "__main__":
    main()
