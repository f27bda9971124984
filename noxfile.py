"""The interpreter matrix: one ``tests`` session per CPython, plus ``lint``.

    nox                      # every interpreter found on PATH (missing ones are skipped)
    nox -s "tests-3.15"      # one interpreter
    bash .ci/run             # what CI runs: fetches the interpreters, then all sessions

Interpreters: the machine's python3.11, Debian's debug build python3.11-dbg, 3.13/3.14/3.15 and
the free-threaded 3.13t (``../shared/pythons/get-python``, put on PATH by .ci/run).
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = False
nox.options.reuse_existing_virtualenvs = True  # local runs; .ci/run starts clean
nox.options.sessions = ["tests", "lint"]

PYTHONS = ["3.11", "python3.11-dbg", "3.13", "3.14", "3.15", "3.13t"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    # ast-serialize (the newest mypy's) has no wheel for free-threaded builds and its source
    # build fetches Rust crates: from wheels only, so pip picks a mypy that needs none there
    session.install("--prefer-binary", "--only-binary", "ast-serialize", ".[test]")
    extra = ("numpy",) if session.python == "3.13t" else ()  # free-threaded verdicts, checked
    for package in ("markupsafe", "msgpack", "rpds-py", "pybind11", *extra):  # .[realworld],
        # but from binary wheels only: a package without one for this interpreter is skipped
        session.run("python", "-m", "pip", "install", "-q", "--only-binary", ":all:", package,
                    success_codes=[0, 1])
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("ruff", "mypy", "pytest", ".")  # "." : the static reader's libraries
    session.run("ruff", "check", "src", "tests", "benchmarks", "examples", "noxfile.py")
    session.run("mypy")
