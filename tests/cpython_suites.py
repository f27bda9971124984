"""Run this interpreter's own CPython tests of the loader and of runpy, with extrun swapped in.

    python tests/cpython_suites.py loader|runpy [--native] [--json]

``loader``: ``test.test_importlib.extension.test_loader``, every test class that takes a
``machinery`` attribute (the ``Source_*`` and ``Frozen_*`` variants) given one whose
``ExtensionFileLoader`` is :class:`extrun.ExtensionLoader`. ``runpy``: ``test.test_runpy`` with
its module-level ``run_module``/``run_path`` replaced by extrun's. ``--native`` runs the same
tests unchanged (what CPython itself passes and skips here). Prints one line per test that did
not pass, then ``N passed, N failed, N skipped``; with ``--json``, the outcome of every test.
Exit status 0 only if nothing failed.
"""

from __future__ import annotations

import importlib
import json
import sys
import types
import unittest

SUITES = {
    "loader": "test.test_importlib.extension.test_loader",
    "runpy": "test.test_runpy",
}


def _swap_loader(module: types.ModuleType) -> None:
    import extrun

    for value in vars(module).values():
        machinery = getattr(value, "machinery", None)
        if isinstance(value, type) and isinstance(machinery, types.ModuleType):
            swapped = types.SimpleNamespace(**vars(machinery))
            swapped.ExtensionFileLoader = extrun.ExtensionLoader
            value.machinery = swapped


def _swap_runpy(module: types.ModuleType) -> None:
    import extrun

    module.run_module = extrun.run_module  # type: ignore[attr-defined]
    module.run_path = extrun.run_path  # type: ignore[attr-defined]


def _ids(suite: unittest.TestSuite) -> list[str]:
    out: list[str] = []
    for test in suite:
        out += _ids(test) if isinstance(test, unittest.TestSuite) else [test.id()]
    return out


def run(suite: str, native: bool) -> dict[str, str]:
    module = importlib.import_module(SUITES[suite])
    if not native:
        (_swap_loader if suite == "loader" else _swap_runpy)(module)
    tests = unittest.defaultTestLoader.loadTestsFromModule(module)
    outcomes = dict.fromkeys(_ids(tests), "passed")  # before: running empties the suite
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=0).run(tests)
    for test, _ in result.skipped:
        outcomes[test.id()] = "skipped"
    for test, _ in [*result.failures, *result.errors]:
        outcomes[getattr(test, "test_case", test).id()] = "failed"  # a subtest: its test's
    for test in result.unexpectedSuccesses:
        outcomes[test.id()] = "failed"
    return outcomes


def main(argv: list[str]) -> int:
    suite = argv[0]
    outcomes = run(suite, "--native" in argv)
    counts = {k: sum(1 for v in outcomes.values() if v == k)
              for k in ("passed", "failed", "skipped")}
    if "--json" in argv:
        print(json.dumps(outcomes))
    else:
        for test, outcome in sorted(outcomes.items()):
            if outcome != "passed":
                print(f"{outcome}: {test}")
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped",
          file=sys.stderr if "--json" in argv else sys.stdout)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
