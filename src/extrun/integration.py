"""Opt-in integration: plain ``python -m extension_module`` runs through extrun.

``extrun integration install`` writes one ``.pth`` file into site-packages, and the small module
``_extrun_integration`` its single line imports. That runs at every start-up of that environment's
interpreter, except ``python -c`` (by then ``sys.argv[0]`` is ``"-c"``, and a ``-c`` start
should cost no import): it replaces ``ExtensionFileLoader.get_code`` (which answers None, hence
runpy's "No code object available") with a small function. runpy asks that method for code
only when the module it looks up is an extension module (``python -m X``, ``python DIR``, a
program's own ``runpy.run_module``); then, and only then, is extrun imported
(:mod:`extrun._integration`) to run it. Python targets, and every error, never meet extrun:
runpy finds, imports and reports as it always does.

If runpy's internals are not as :mod:`extrun._integration` expects, the integration stays out of
the way (``status`` says so). Python 3.18 ignores import lines in ``.pth`` files (PEP 829): there,
``install`` refuses (a ``.start`` entry point calling into ``_extrun_integration`` would do the
same work, but no 3.18 exists to test it on).
"""

from __future__ import annotations

import os
import sys

from ._integration import runpy_incompatibility

PTH_NAME = "extrun-integration.pth"
MODULE_NAME = "_extrun_integration"  # beside it in site-packages: what the .pth line imports
# The .pth file's one line is read and compiled at every start-up, twice in venvs before 3.15
# (site processes their site-packages twice): so it is short, and imports the module below
# (whose code is compiled once, into its .pyc, and runs once per process), except for `-c`,
# whose starts pay no import (so `-c` code asking runpy for an extension module gets CPython's
# answer). A line holding the whole patch cost more, at every start, than this does
# (benchmarks/bench_integration.py; figures in benchmarks/README.md).
PTH_LINE = f"import sys;'-c'!=sys.argv[0]and __import__({MODULE_NAME!r})"  # -c: nothing more
PTH_CONTENT = (
    "# extrun: `python -m` runs extension modules too "
    "(`extrun integration uninstall` removes this)\n"
    + PTH_LINE + "\n"
)
# The module replaces ExtensionFileLoader.get_code with a function that imports
# extrun._integration when called, which only happens when something asks an extension loader
# for code (see _integration): `python -m`, `python DIR`, and a script's or the REPL's own
# runpy.run_module, are answered alike. If extrun was uninstalled and these files left behind,
# that import fails and the original method answers.
MODULE_CONTENT = '''\
"""extrun's `python -m` integration: written by `extrun integration install`, removed by `extrun
integration uninstall` (with extrun-integration.pth, which imports it at start-up)."""
import sys

_loader = sys.modules["_frozen_importlib_external"].ExtensionFileLoader
if _loader.get_code.__name__ != "extrun_get_code":
    def extrun_get_code(self, fullname, original=_loader.get_code):
        try:
            from extrun._integration import get_code
        except Exception:
            return original(self, fullname)
        return get_code(self, fullname, original)

    _loader.get_code = extrun_get_code
'''
FILES = {PTH_NAME: PTH_CONTENT, MODULE_NAME + ".py": MODULE_CONTENT}


# --- install / uninstall / status -------------------------------------------------------------


def _site_dir(user: bool) -> str:
    if user:
        import site

        return site.getusersitepackages()
    import sysconfig

    return sysconfig.get_paths()["purelib"]


# extrun 0.1's file, under the command's old name ("hook", a word extrun keeps for export hooks):
# install and uninstall remove it, status calls it outdated
LEGACY_PTH_NAME = "extrun-hook.pth"


def _installed() -> list[str]:
    """The .pth files of extrun's, this version's or an older one's, in both site dirs."""
    found = []
    for user in (False, True):
        for name in (PTH_NAME, LEGACY_PTH_NAME):
            path = os.path.join(_site_dir(user), name)
            if os.path.exists(path):
                found.append(path)
    return found


class IntegrationError(Exception):
    """A one-line reason why the integration could not be installed or removed."""


def pth_unsupported(version: tuple[int, ...] = sys.version_info[:2]) -> str | None:
    """None if this interpreter runs import lines of .pth files, else why not."""
    if version >= (3, 18):
        return (f"Python {version[0]}.{version[1]} ignores import lines in .pth files (PEP 829), "
                "and extrun does not write .start entry points yet")
    return None


def inactive_reason() -> str | None:
    """Why the integration would stay out of the way in this interpreter, or None."""
    return pth_unsupported() or runpy_incompatibility()


def install(user: bool = False) -> tuple[str, bool]:
    """Write the .pth file and its module; returns (the .pth file's path, whether anything
    changed)."""
    unsupported = pth_unsupported()
    if unsupported:
        raise IntegrationError(f"cannot install the integration: {unsupported}")
    directory = _site_dir(user)
    path = os.path.join(directory, PTH_NAME)
    if _is_current(path) and not os.path.exists(os.path.join(directory, LEGACY_PTH_NAME)):
        return path, False
    try:
        os.makedirs(directory, exist_ok=True)
        for name, content in sorted(FILES.items(), key=lambda f: f[0] == PTH_NAME):
            target = os.path.join(directory, name)  # the module first: the .pth imports it
            tmp = target + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(content)
            os.replace(tmp, target)
        legacy = os.path.join(directory, LEGACY_PTH_NAME)
        if os.path.exists(legacy):
            os.remove(legacy)
    except OSError as exc:
        raise IntegrationError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path, True


def uninstall() -> list[str]:
    """Remove every copy of the .pth file and its module (and the module's compiled form);
    returns the .pth files' paths removed."""
    removed = []
    for path in _installed():
        directory = os.path.dirname(path)
        cache = os.path.join(directory, "__pycache__")
        compiled = [os.path.join(cache, n) for n in _listdir(cache)
                    if n.startswith(MODULE_NAME + ".") and n.endswith(".pyc")]
        try:
            os.remove(path)  # the .pth first: its line then imports nothing
            for leftover in [os.path.join(directory, MODULE_NAME + ".py"), *compiled]:
                if os.path.exists(leftover):
                    os.remove(leftover)
        except OSError as exc:
            raise IntegrationError(f"cannot remove {path}: {exc.strerror or exc}") from None
        removed.append(path)
    return removed


def _listdir(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:
        return []


def status() -> tuple[list[str], str | None]:
    """(paths where the integration is installed, why it would stay out of the way or None)."""
    paths = _installed()
    return paths, inactive_reason() or _outdated(paths)


def _outdated(paths: list[str]) -> str | None:
    """Why a file another version of extrun wrote would not work, or None."""
    for path in paths:
        if not _is_current(path):
            return (f"{path} was written by another version of extrun: run "
                    "`extrun integration install`")
    return None


def _is_current(path: str) -> bool:
    """The .pth file at ``path``, and its module beside it, hold exactly what this version of
    extrun writes."""
    directory = os.path.dirname(path)
    if os.path.basename(path) != PTH_NAME:
        return False
    for name, content in FILES.items():
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                if f.read() != content:
                    return False
        except (OSError, UnicodeDecodeError):
            return False
    return True


def main(args: list[str]) -> int:
    """``extrun integration install [--user] | uninstall | status``."""
    command = args[0] if args else "status"
    if command == "install" and args[1:] in ([], ["--user"]):
        try:
            path, changed = install(user=args[1:] == ["--user"])
        except IntegrationError as exc:
            print(f"extrun: {exc}", file=sys.stderr)
            return 1
        print(f"{'installed' if changed else 'already installed'}: {path}")
        why = inactive_reason()
        if why:
            print(f"note: the integration stays out of the way in this interpreter: {why}")
        return 0
    if command == "uninstall" and len(args) == 1:
        try:
            removed = uninstall()
        except IntegrationError as exc:
            print(f"extrun: {exc}", file=sys.stderr)
            return 1
        for path in removed:
            print(f"removed: {path}")
        if not removed:
            print("not installed")
        return 0
    if command == "status" and len(args) <= 1:
        paths, why = status()
        if not paths:
            print("not installed")
        for path in paths:
            print(f"installed: {path}")
        if why:
            print(f"inactive: {why}")
        elif paths:
            print("active: python -m runs extension modules through extrun")
        return 0
    print("usage: extrun integration install [--user] | uninstall | status", file=sys.stderr)
    return 2
