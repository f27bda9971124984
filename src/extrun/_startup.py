"""What the ``python -m`` integration runs when its target is an extension module.

The hook's .pth line (:data:`extrun.integration.PTH_LINE`), for ``python -m ...`` and
``python DIR`` only, replaces ``ExtensionFileLoader.get_code`` -- which answers None, hence
runpy's "No code object available" -- with a function that imports this module when it is
called, which happens only when something asks an extension loader for code. Nothing of extrun
is imported for any other target.

:func:`get_code` answers with code that runs the extension through extrun's runner only when
the asker is ``runpy._run_module_as_main`` looking up the target of this process (as CPython
calls it for ``-m`` and directories); by then runpy has imported the parent packages, set
``sys.argv[0]`` and ``__main__``'s attributes exactly as for Python code. Every other caller
gets the original answer. Kept small: it is imported at the start of every such run.
"""


import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import CodeType, FrameType


def _run_in_main() -> None:
    """The code runpy is given: ``_run_code`` executes it with ``__main__``'s namespace as its
    globals, where it has just set ``__spec__`` to the target's. A function's code object rather
    than ``compile()``: the first ``compile()`` in a process builds the ``ast`` module's types
    (~0.7 ms)."""
    __import__("extrun.runner", fromlist=["_"]).run_hooked(__spec__)


def get_code(loader: object, fullname: str,
             original: "Callable[[object, str], CodeType | None]") -> "CodeType | None":
    """``ExtensionFileLoader.get_code`` while the hook is in place (``original`` is the real one).

    Once it has answered runpy's lookup of the process's target, the original method is put
    back: the loader class is left as CPython made it.
    """
    runpy = sys.modules.get("runpy")  # not imported: the asker cannot be runpy
    if (runpy is None or runpy_is_compatible(runpy) is not None
            or not _asked_by_run_module_as_main(runpy, sys._getframe(2))):
        return original(loader, fullname)
    loader_class = sys.modules["_frozen_importlib_external"].ExtensionFileLoader
    if getattr(loader_class.__dict__.get("get_code"), "__name__", None) == "extrun_get_code":
        loader_class.get_code = original  # unless someone replaced it after the hook did
    from . import _pause_collector

    _pause_collector()  # until the target starts (see extrun/__init__.py)
    return _run_in_main.__code__


def _code(module: object, name: str) -> "CodeType | None":
    return getattr(getattr(module, name, None), "__code__", None)


def _asked_by_run_module_as_main(runpy: object, frame: "FrameType | None") -> bool:
    """``frame`` is runpy's ``_get_module_details`` working for ``_run_module_as_main``
    (``python -m NAME``: directly, or for NAME's ``__main__``; ``python DIR``: through
    ``_get_main_module_details``), not for ``runpy.run_module`` or anyone else."""
    lookup = _code(runpy, "_get_module_details")
    if frame is None or frame.f_code is not lookup:
        return False
    while frame is not None and frame.f_code is lookup:  # a package's NAME.__main__
        frame = frame.f_back
    if frame is not None and frame.f_code is _code(runpy, "_get_main_module_details"):
        frame = frame.f_back
    return frame is not None and frame.f_code is _code(runpy, "_run_module_as_main")


def runpy_is_compatible(runpy: object = None) -> str | None:
    """None if runpy works as the hook expects, else what differs (the hook then stays out of
    the way, and ``extrun hook status`` says so)."""
    if runpy is None:
        import runpy
    main = _code(runpy, "_run_module_as_main")
    if main is None or main.co_varnames[:2] != ("mod_name", "alter_argv"):
        return "runpy._run_module_as_main(mod_name, alter_argv) is not there"
    for name in ("_get_module_details", "_get_main_module_details", "_run_code"):
        if _code(runpy, name) is None:
            return f"runpy.{name} is not there"
    if "get_code" not in _code(runpy, "_get_module_details").co_names:  # type: ignore[union-attr]
        return "runpy._get_module_details does not ask the loader for code"
    machinery = sys.modules.get("_frozen_importlib_external")
    if not callable(getattr(getattr(machinery, "ExtensionFileLoader", None), "get_code", None)):
        return "importlib's ExtensionFileLoader.get_code is not there"
    return None
