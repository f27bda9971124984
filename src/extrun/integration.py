"""Opt-in integration: plain ``python -m extension_module`` runs through extrun.

``extrun hook install`` writes one ``.pth`` file into site-packages. Its single line runs at every
start-up of that environment's interpreter but costs only a comparison: by then ``sys.argv[0]`` is
``"-m"`` for ``python -m X`` and the path for ``python PATH``; only then, and only when the path is
not a ``.py`` file, is this module imported. :func:`activate` finds the target as CPython is about
to (without importing anything) and, only if it is an extension module, wraps
``runpy._run_module_as_main``, which CPython calls next. Python targets, and every error, never
meet extrun: runpy is left as it is.

If runpy's internals are not as this module expects, it stays out of the way (``status`` says
so).
"""

from __future__ import annotations

import os
import sys

from ._startup import runpy_is_compatible

PTH_NAME = "extrun-hook.pth"
# One line, one comparison at every start-up. If extrun was uninstalled and this file left
# behind, the import fails quietly: the interpreter is never disturbed.
PTH_LINE = (
    "import sys; (sys.argv[:1] == ['-m'] or sys.argv[:1] not in ([], ['']) and"
    " sys.argv[0][-3:] != '.py' and sys.argv[0][:1] != '-') and exec("
    "'try:\\n from extrun._startup import activate\\nexcept ImportError:\\n pass\\n"
    "else:\\n activate()')"
)
PTH_CONTENT = (
    "# extrun: `python -m` runs extension modules too (`extrun hook uninstall` removes this)\n"
    + PTH_LINE + "\n"
)


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


def install(user: bool = False) -> tuple[str, bool]:
    """Write the .pth file; returns (its path, whether anything changed)."""
    directory = _site_dir(user)
    path = os.path.join(directory, PTH_NAME)
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == PTH_CONTENT:
                return path, False
    except OSError:
        pass
    try:
        os.makedirs(directory, exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(PTH_CONTENT)
        os.replace(tmp, path)
    except OSError as exc:
        raise HookError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path, True


def uninstall() -> list[str]:
    """Remove every copy of the .pth file; returns the paths removed."""
    removed = []
    for path in _installed():
        try:
            os.remove(path)
        except OSError as exc:
            raise HookError(f"cannot remove {path}: {exc.strerror or exc}") from None
        removed.append(path)
    return removed


def status() -> tuple[list[str], str | None]:
    """(paths where the hook is installed, why it would stay out of the way or None)."""
    return _installed(), runpy_is_compatible()


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
        problem = runpy_is_compatible()
        if problem:
            print(f"note: the hook stays out of the way in this interpreter: {problem}")
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
        paths, problem = status()
        if not paths:
            print("not installed")
        for path in paths:
            print(f"installed: {path}")
        if problem:
            print(f"inactive: {problem}")
        elif paths:
            print("active: python -m runs extension modules through extrun")
        return 0
    print("usage: extrun hook install [--user] | uninstall | status", file=sys.stderr)
    return 2
