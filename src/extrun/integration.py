"""Opt-in integration: plain ``python -m extension_module`` runs through extrun.

``extrun hook install`` writes one ``.pth`` file into site-packages, and the small module
``_extrun_hook`` its single line imports. That runs at every start-up of that environment's
interpreter; by then ``sys.argv[0]`` is ``"-m"`` for ``python -m X`` and the path for
``python PATH``. Only for ``-m`` and directories does it do anything: it replaces
``ExtensionFileLoader.get_code`` (which answers None, hence runpy's "No code object available")
with a small function. runpy asks that method for code only when the target is an extension
module; then, and only then, is extrun imported (:mod:`extrun._startup`) to run it. Python
targets, and every error, never meet extrun: runpy finds, imports and reports as it always does.

If runpy's internals are not as :mod:`extrun._startup` expects, the hook stays out of the way
(``status`` says so). Python 3.18 ignores import lines in ``.pth`` files (PEP 829): there,
``install`` refuses (a ``.start`` entry point calling into ``_extrun_hook`` would do the same
work, but no 3.18 exists to test it on).
"""

from __future__ import annotations

import os
import sys

from ._startup import runpy_is_compatible

PTH_NAME = "extrun-hook.pth"
MODULE_NAME = "_extrun_hook"  # beside it in site-packages: what the .pth line imports
# The .pth file's one line is read and compiled at every start-up, twice in venvs before 3.15
# (site processes their site-packages twice): so it is short, and imports the module below
# (whose code is compiled once, into its .pyc, and runs once per process), except for `-c`,
# where nothing is to be done. A line holding the whole patch cost more, at every start, than
# this does (benchmarks/bench_hook.py; figures in benchmarks/README.md).
PTH_LINE = f"import sys;'-c'!=sys.argv[0]and __import__({MODULE_NAME!r})"  # -c: nothing more
PTH_CONTENT = (
    "# extrun: `python -m` runs extension modules too (`extrun hook uninstall` removes this)\n"
    + PTH_LINE + "\n"
)
# For `python -m ...` and `python DIR` only, the module replaces ExtensionFileLoader.get_code
# with a function that imports extrun._startup when called, which only happens when something
# asks an extension loader for code (see _startup). If extrun was uninstalled and these files
# left behind, that import fails and the original method answers.
MODULE_CONTENT = '''\
"""extrun's `python -m` integration: written by `extrun hook install`, removed by `extrun hook
uninstall` (with extrun-hook.pth, which imports it at start-up)."""
import sys

if sys.argv[0] == "-m" or __import__("os").path.isdir(sys.argv[0]):
    _loader = sys.modules["_frozen_importlib_external"].ExtensionFileLoader
    if _loader.get_code.__name__ != "extrun_get_code":
        def extrun_get_code(self, fullname, original=_loader.get_code):
            try:
                from extrun._startup import get_code
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


def _installed() -> list[str]:
    found = []
    for user in (False, True):
        path = os.path.join(_site_dir(user), PTH_NAME)
        if os.path.exists(path):
            found.append(path)
    return found


class HookError(Exception):
    """A one-line reason why the hook could not be installed or removed."""


def pth_support(version: tuple[int, ...] = sys.version_info[:2]) -> str | None:
    """None if this interpreter runs import lines of .pth files, else why not."""
    if version >= (3, 18):
        return (f"Python {version[0]}.{version[1]} ignores import lines in .pth files (PEP 829), "
                "and extrun does not write .start entry points yet")
    return None


def problem() -> str | None:
    """Why the hook would stay out of the way in this interpreter, or None."""
    return pth_support() or runpy_is_compatible()


def install(user: bool = False) -> tuple[str, bool]:
    """Write the .pth file and its module; returns (the .pth file's path, whether anything
    changed)."""
    unsupported = pth_support()
    if unsupported:
        raise HookError(f"cannot install the hook: {unsupported}")
    directory = _site_dir(user)
    path = os.path.join(directory, PTH_NAME)
    if _is_current(path):
        return path, False
    try:
        os.makedirs(directory, exist_ok=True)
        for name, content in sorted(FILES.items(), key=lambda f: f[0] == PTH_NAME):
            target = os.path.join(directory, name)  # the module first: the .pth imports it
            tmp = target + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(content)
            os.replace(tmp, target)
    except OSError as exc:
        raise HookError(f"cannot write {path}: {exc.strerror or exc}") from None
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
            raise HookError(f"cannot remove {path}: {exc.strerror or exc}") from None
        removed.append(path)
    return removed


def _listdir(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:
        return []


def status() -> tuple[list[str], str | None]:
    """(paths where the hook is installed, why it would stay out of the way or None)."""
    paths = _installed()
    return paths, problem() or _outdated(paths)


def _outdated(paths: list[str]) -> str | None:
    """Why a file another version of extrun wrote would not work, or None."""
    for path in paths:
        if not _is_current(path):
            return f"{path} was written by another version of extrun: run `extrun hook install`"
    return None


def _is_current(path: str) -> bool:
    """The .pth file at ``path``, and its module beside it, hold exactly what this version of
    extrun writes."""
    directory = os.path.dirname(path)
    for name, content in FILES.items():
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                if f.read() != content:
                    return False
        except (OSError, UnicodeDecodeError):
            return False
    return True


def main(args: list[str]) -> int:
    """``extrun hook install [--user] | uninstall | status``."""
    command = args[0] if args else "status"
    if command == "install" and args[1:] in ([], ["--user"]):
        try:
            path, changed = install(user=args[1:] == ["--user"])
        except HookError as exc:
            print(f"extrun: {exc}", file=sys.stderr)
            return 1
        print(f"{'installed' if changed else 'already installed'}: {path}")
        why = problem()
        if why:
            print(f"note: the hook stays out of the way in this interpreter: {why}")
        return 0
    if command == "uninstall" and len(args) == 1:
        try:
            removed = uninstall()
        except HookError as exc:
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
    print("usage: extrun hook install [--user] | uninstall | status", file=sys.stderr)
    return 2
