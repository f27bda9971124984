"""What the ``python -m`` integration runs when its target is an extension module.

The integration's .pth line (:data:`extrun.integration.PTH_LINE`), at every start but
``python -c``'s, replaces ``ExtensionFileLoader.get_code`` -- which answers None, hence runpy's
"No code object available" -- with a function that imports this module when it is called,
which happens only when something asks an extension loader for code. Nothing of extrun
is imported for any other target. ``extrun run`` puts the same patch in place
(``commandline._answer_runpy``).

:func:`get_code` answers runpy's lookups (``runpy._get_module_details``) with code that runs
the extension through extrun's runner: for ``runpy._run_module_as_main`` (``-m``, directories)
as the process's ``__main__``, for anyone else who asks runpy (``runpy.run_module``, and so
cProfile and profile; pdb, trace) in the namespace that code is executed in. By then runpy has
imported the parent packages and set the namespace's attributes exactly as for Python code.
Whoever else asks an extension loader for code gets the original answer. Kept small: it is
imported at the start of every such run.
"""


import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import CodeType, FrameType


def _run_as_main() -> None:
    """The code runpy's ``_run_module_as_main`` is given (``python -m EXT``, ``python DIR``):
    ``_run_code`` executes it with ``__main__``'s namespace as its globals, where it has just set
    ``__spec__`` to the target's. A function's code object rather than ``compile()``: the first
    ``compile()`` in a process builds the ``ast`` module's types (benchmarks/README.md)."""
    __import__("extrun.commandline", fromlist=["_"]).run_integrated(__spec__, globals(), True)


def _run_in_namespace() -> None:
    """The code any other runpy lookup is given (``runpy.run_module``, and so cProfile and
    profile; pdb and trace, which call ``runpy._get_module_details`` and execute the code in a
    namespace of their own): the extension runs in the namespace it is executed in."""
    __import__("extrun.commandline", fromlist=["_"]).run_integrated(__spec__, globals(), False)


def _for_library(code: "CodeType", path: str) -> "CodeType":
    """``code`` as the library's own: its file name is the library's path (trace takes it for
    ``sys.argv[0]`` and ``__file__``, pdb for the file to stop in), and it has no line numbers,
    so that tracers see no line of a binary file (trace would fail reading it for its report);
    the extension's own frame (``loader.module_frame``) is where pdb stops."""
    units = len(code.co_code) // 2
    table = bytearray()
    while units:  # location entries "no location" (code 15), 1-8 code units each
        n = min(units, 8)
        table.append(0x80 | 15 << 3 | n - 1)
        units -= n
    return code.replace(co_filename=path, co_linetable=bytes(table))


def get_code(loader: object, fullname: str,
             original: "Callable[[object, str], CodeType | None]") -> "CodeType | None":
    """``ExtensionFileLoader.get_code`` while the patch is in place (``original`` is the real
    one): runpy's lookups of an extension module get code that runs it through extrun; anyone
    else gets the original answer (None). The patch stays for the rest of the process, so that
    every runpy lookup is answered (a profiler's, a debugger's, the program's own)."""
    runpy = sys.modules.get("runpy")  # not imported: the asker cannot be runpy
    frame = sys._getframe(2)
    if (runpy is None or runpy_incompatibility(runpy) is not None
            or frame.f_code is not _code(runpy, "_get_module_details")):
        return original(loader, fullname)
    as_main = _asked_by_run_module_as_main(runpy, frame)
    if as_main:
        from .runner import pause_collector

        pause_collector()  # until the target starts (see extrun/runner.py)
    code = (_run_as_main if as_main else _run_in_namespace).__code__
    return _for_library(code, loader.path)  # type: ignore[attr-defined]


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


def runpy_incompatibility(runpy: object = None) -> str | None:
    """None if runpy works as the hook expects, else what differs (the hook then stays out of
    the way, and ``extrun integration status`` says so)."""
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
