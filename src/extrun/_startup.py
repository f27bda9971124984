"""What the ``python -m`` integration runs at start-up (see :mod:`extrun.integration`).

Imported from the hook's .pth line only for ``python -m ...`` and ``python DIR``; kept small,
since every such start pays for it. It finds the target as CPython is about to, without importing
anything, and wraps ``runpy._run_module_as_main`` only when that target is an extension module.
"""


import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from importlib.machinery import ModuleSpec


def runpy_is_compatible() -> str | None:
    """None if runpy has what the wrapper relies on, else what is missing."""
    import runpy

    fn = getattr(runpy, "_run_module_as_main", None)
    code = getattr(fn, "__code__", None)
    if code is None or code.co_varnames[:2] != ("mod_name", "alter_argv"):
        return "runpy._run_module_as_main(mod_name, alter_argv) is not there"
    if not isinstance(getattr(runpy, "_Error", None), type):
        return "runpy._Error is not there"
    return None


def activate() -> None:
    """Called from the .pth line: if this run's target is an extension module, wrap
    ``runpy._run_module_as_main`` for it. Never raises; touches nothing otherwise."""
    try:
        target = _this_runs_target()
        if target is None or runpy_is_compatible() is not None:
            return
        import runpy

        original = runpy._run_module_as_main  # type: ignore[attr-defined]
        runpy._run_module_as_main = _wrap(original, *target)  # type: ignore[attr-defined]
    except Exception:  # a broken hook must never break the interpreter's start-up
        return


def _this_runs_target() -> "tuple[str, ModuleSpec] | None":
    """(the name runpy will be given, the extension's spec) for the ``python -m NAME`` or
    ``python DIR`` about to run, or None when its target is not an extension module.

    Called while site runs, before CPython puts the target's directory at sys.path[0], so that
    entry is computed here as CPython will (the current directory for -m, DIR for a directory).
    """
    import importlib.machinery as machinery  # see runner.py

    safe = getattr(sys.flags, "safe_path", False)
    if sys.argv[:1] == ["-m"]:
        name = _m_target(sys.orig_argv)
        if name is None:
            return None
        spec = _find_without_importing(name, [] if safe else [os.getcwd()])
    elif os.path.isdir(sys.argv[0]):
        name, spec = "__main__", machinery.PathFinder.find_spec("__main__", [sys.argv[0]])
    else:  # a zip file cannot hold a loadable extension module
        return None
    if spec is None or not isinstance(spec.loader, machinery.ExtensionFileLoader):
        return None
    return name, spec


def _m_target(argv: list[str]) -> str | None:
    """The module name after -m in the interpreter's command line (``sys.orig_argv``)."""
    i = 1
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-") or arg in ("-", "--"):
            return None
        if arg.startswith("--"):
            i += 2 if arg == "--check-hash-based-pycs" else 1
            continue
        for j in range(1, len(arg)):
            if arg[j] in "cmWX":  # options with a value: attached, or the next argument
                value = arg[j + 1:] or (argv[i + 1] if i + 1 < len(argv) else None)
                if arg[j] == "m":
                    return value
                if arg[j] == "c":
                    return None
                i += 0 if arg[j + 1:] else 1
                break
        i += 1
    return None


def _wrap(original: "Callable[..., object]", name: str, spec: "ModuleSpec"
          ) -> "Callable[..., object]":
    def _run_module_as_main(mod_name: str, alter_argv: bool = True) -> object:
        if mod_name != name:  # not the run activate() prepared for
            return original(mod_name, alter_argv)
        from .runner import run_hooked

        run_hooked(spec, alter_argv)
        return None

    return _run_module_as_main


def _find_without_importing(mod_name: str, path0: list[str]) -> "ModuleSpec | None":
    """The spec ``python -m mod_name`` will run (a package's ``__main__``), found with the path
    finder alone: no package is imported to look into it."""
    import importlib.machinery as machinery

    if mod_name.startswith(".") or not mod_name:
        return None
    parts = mod_name.split(".")
    spec = machinery.PathFinder.find_spec(parts[0], [*path0, *sys.path])
    for i in range(1, len(parts)):
        if spec is None or spec.submodule_search_locations is None:
            return None
        spec = machinery.PathFinder.find_spec(".".join(parts[: i + 1]),
                                    list(spec.submodule_search_locations))
    if spec is not None and spec.submodule_search_locations is not None:
        spec = machinery.PathFinder.find_spec(mod_name + ".__main__",
                                              list(spec.submodule_search_locations))
    return spec
