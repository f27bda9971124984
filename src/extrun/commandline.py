"""The ``python`` command line, for any target: ``python -m TARGET`` and ``python PATH`` as
CPython's ``Modules/main.c`` and ``runpy._run_module_as_main`` do them, on top of
:mod:`extrun.runner` (which runs extension modules): the real ``__main__`` (or, behind a tool,
the tool's namespace), ``sys.argv`` and ``sys.path[0]``, ``PyImport_GetImporter``'s script or
directory rule, scripts and ``.pyc`` files, tracebacks printed as python prints them, exit
codes, multiprocessing children; and what the ``python -m`` integration runs
(:func:`run_integrated`).
"""

# `import ... as`, not `from importlib.machinery import`: on 3.15 the latter probes
# importlib.machinery.__path__, whose module __getattr__ imports warnings
import importlib.machinery as machinery
import os
import sys
import types

from .runner import (
    _SETS_CACHED,
    RunError,
    _get_main_module_details,
    _get_module_details,
    _is_library,
    _library_spec,
    _namespace,
    _run_extension,
    pause_collector,
    resume_collector,
    run_in_namespace,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import CodeType, TracebackType
    from typing import Any

__all__ = ["main", "run_as_main", "run_integrated"]


# --- the command line: python -m TARGET / python PATH ---------------------------------------


def _fresh_main() -> types.ModuleType:
    """The real ``__main__``, emptied of the launcher's names, as a fresh interpreter has it."""
    main = sys.modules["__main__"]
    _fresh(main.__dict__)
    return main


def _fresh(namespace: dict[str, object]) -> None:
    """``namespace`` emptied of the launcher's names, as a fresh ``__main__`` has it."""
    keep = {k: namespace[k] for k in ("__builtins__",) if k in namespace}
    had_annotations = "__annotations__" in namespace
    namespace.clear()
    namespace.update(keep)
    namespace.update(__name__="__main__", __doc__=None, __package__=None, __loader__=None,
                     __spec__=None)
    if had_annotations:
        namespace["__annotations__"] = {}


def _install_main(module: types.ModuleType) -> None:
    sys.modules["__main__"] = module


# --- tracebacks: the target's, as python prints them ------------------------------------------
#
# An exception the target leaves uncaught reaches the interpreter through extrun's own frames
# (launcher, runner, loader, C-API layer). When python prints it, those are left out, so that
# the traceback is python's: for `extrun run -m NAME` run as `python -m extrun`, the very same
# lines as `python -m NAME`. Only what is printed (and kept for post-mortem debugging) changes,
# and only while sys.excepthook is python's own; an exception of extrun's own keeps every frame.

_HERE = os.path.dirname(os.path.abspath(__file__))
_INTO_MODULE = ("module_exec_def", "module_exec", "call_hook", "module_from_def_and_spec",
                "module_from_slots_and_spec")  # _capi's calls into the module's own C code


def _is_extrun(code: "CodeType") -> bool:
    return os.path.dirname(code.co_filename) == _HERE


def _without_extrun_frames(tb: "TracebackType | None", keep_runpy: bool
                           ) -> "TracebackType | None":
    """``tb`` without the first run of extrun's frames (and what launched extrun, except runpy's
    frames when ``keep_runpy``), if the exception came from the target: a frame of its below
    them, or the innermost frame a call into its C code. Relinks ``tb`` in place."""
    entries = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    first = next((i for i, e in enumerate(entries) if _is_extrun(e.tb_frame.f_code)), None)
    if first is None:
        return entries[0] if entries else None
    end = first
    while end < len(entries) and _is_extrun(entries[end].tb_frame.f_code):
        end += 1
    if end == len(entries) and entries[-1].tb_frame.f_code.co_name not in _INTO_MODULE:
        return entries[0]  # extrun's own exception
    launcher = [e for e in entries[:first] if keep_runpy
                and e.tb_frame.f_code.co_filename in ("<frozen runpy>", _runpy_file())]
    # one frame at least: python prints the "Traceback (most recent call last):" header only
    # with one
    kept = [*launcher, *entries[end:]] or entries[:1]
    for i, entry in enumerate(kept):
        entry.tb_next = kept[i + 1] if i + 1 < len(kept) else None
    return kept[0]


def _runpy_file() -> str | None:
    return getattr(sys.modules.get("runpy"), "__file__", None)


def _print_as_python(keep_runpy: bool) -> None:
    """Have the uncaught exception now propagating printed without extrun's frames."""
    original = sys.excepthook
    if original is not sys.__excepthook__:  # the program's own hook sees everything
        return

    def excepthook(exc_type: "type[BaseException]", exc: BaseException,
                   tb: "TracebackType | None") -> None:
        sys.excepthook = original
        tb = _without_extrun_frames(tb, keep_runpy)
        if exc is not None:
            exc.__traceback__ = tb
        if getattr(sys, "last_traceback", None) is not None:
            sys.last_traceback = tb
        original(exc_type, exc, tb)

    sys.excepthook = excepthook


def _run_target(run: "Callable[..., object]", *args: object, keep_runpy: bool = True) -> None:
    """``run(*args)``: the target's execution, whose uncaught exceptions print as python's."""
    try:
        run(*args)
    except (SystemExit, RunError):
        raise
    except BaseException as exc:
        # extrun's frames between this one and the target's go from the exception itself, so
        # that a program's own sys.excepthook does not see them; the launcher's above are left
        # (it propagates through them), and only python's own excepthook leaves them out
        exc.__traceback__ = _without_extrun_frames(exc.__traceback__, keep_runpy=False)
        _print_as_python(keep_runpy)
        raise


def run_as_main(target: str, args: list[str], as_module: bool, strict: bool = False,
                namespace: dict[str, object] | None = None) -> None:
    """What ``python -m TARGET ARGS`` or ``python TARGET ARGS`` does, in ``namespace``: the one
    extrun's launcher runs in (``python -m extrun``: ``extrun/__main__.py``'s globals, which are
    the real ``__main__``'s or, behind a tool such as cProfile, the tool's namespace for its
    target). Without one (pip's console script, ``cli.main()`` called) it is the real
    ``__main__``, whose caller's names are gone by then: the process ends (``SystemExit``)."""
    _answer_runpy()
    if namespace is None or namespace is sys.modules["__main__"].__dict__:
        target_namespace = None
    else:
        target_namespace = namespace
    try:
        if as_module:
            _set_path0(os.getcwd())  # python -m: the current directory first, then the lookup
            _, spec, code = _get_module_details(target, RunError)
            sys.argv[:] = [spec.origin or target, *args]
            _run_main(spec, code, strict, target_namespace)
        else:
            _run_path_as_main(target, args, strict, target_namespace)
    except RunError as exc:
        sys.stderr.write(f"extrun: {exc}\n")
        if namespace is None or not sys.flags.inspect:
            raise SystemExit(1) from None
        return  # extrun run -i: the one line, then python's prompt (no SystemExit traceback)
    finally:
        resume_collector()  # if the target never started
    if namespace is None:
        raise SystemExit(0)


def _answer_runpy() -> None:
    """While extrun runs a program, runpy answers extension modules in it, as the ``python -m``
    integration makes it do: the same patch of ``ExtensionFileLoader.get_code``, whose answer
    (:func:`extrun._integration.get_code`) is imported only when something asks."""
    loader_class = machinery.ExtensionFileLoader  # _frozen_importlib_external's own class
    current = loader_class.get_code
    if getattr(current, "__name__", None) == "extrun_get_code":
        return

    def extrun_get_code(self: object, fullname: str, original: "Any" = current
                        ) -> "CodeType | None":
        from ._integration import get_code

        return get_code(self, fullname, original)

    loader_class.get_code = extrun_get_code  # type: ignore[assignment,method-assign]


def _run_main(spec: machinery.ModuleSpec, code: "CodeType | None", strict: bool,
              namespace: dict[str, object] | None = None) -> None:
    """Run the target as ``__main__``: in the real one, or (``namespace``) in a tool's."""
    if namespace is None:
        main = _fresh_main()
        namespace = main.__dict__
    else:
        _fresh(namespace)
    if code is not None:
        _namespace(namespace, "__main__", spec)
        resume_collector()
        _run_target(exec, code, namespace)
    elif namespace is sys.modules["__main__"].__dict__:
        _support_multiprocessing()
        _run_target(_run_extension, spec, sys.modules["__main__"], "__main__", _install_main,
                    strict)
    else:
        _run_target(run_in_namespace, spec, namespace, strict)


# --- multiprocessing: spawn and forkserver children re-create an extension __main__ ----------


def _support_multiprocessing() -> None:
    """Have multiprocessing's spawn/forkserver children re-create an extension ``__main__``
    (:mod:`extrun._spawn`), patching ``multiprocessing.spawn`` now or, until the program imports
    it, watching for it at no cost."""
    spawn = sys.modules.get("multiprocessing.spawn")
    if spawn is not None:
        from ._spawn import patch_parent

        patch_parent(spawn)
    else:
        sys.meta_path.insert(0, _SPAWN_WATCHER)


def _find_spawn(name: str, path: object = None, target: object = None
                ) -> machinery.ModuleSpec | None:
    """A meta path finder's find_spec: multiprocessing.spawn, patched once it has executed."""
    if name != "multiprocessing.spawn":
        return None
    sys.meta_path.remove(_SPAWN_WATCHER)
    from ._spawn import patched_spec

    return patched_spec(name, path)


_SPAWN_WATCHER = types.SimpleNamespace(find_spec=_find_spawn)  # a finder with no class to make


def run_integrated(spec: machinery.ModuleSpec, namespace: dict[str, object], as_main: bool) -> None:
    """What the code :func:`extrun._integration.get_code` gives runpy runs, in the
    ``namespace`` it is executed in. ``as_main``: for ``python -m``/``python DIR`` (runpy's
    ``_run_module_as_main``), as the process's ``__main__``; runpy has imported the parent
    packages, set ``sys.argv[0]`` and ``__main__``'s attributes, and errors are reported as
    runpy reports its own. Otherwise (``runpy.run_module``, a profiler, pdb, trace) the lookup's
    errors are exceptions for the asker to report.
    """
    try:
        if as_main:
            _support_multiprocessing()
            _run_target(_run_extension, spec, sys.modules["__main__"], "__main__", _install_main)
        else:
            _run_target(run_in_namespace, spec, namespace)
    except RunError as exc:
        if not as_main:
            raise
        sys.exit(f"{sys.executable}: {exc}")
    finally:
        resume_collector()  # if the target never started


def _set_path0(entry: str) -> None:
    """Replace the launcher's sys.path[0] with the target's (unless -P/safe_path)."""
    if getattr(sys.flags, "safe_path", False):
        return
    if sys.path:
        sys.path[0] = entry
    else:
        sys.path.insert(0, entry)


def _run_path_as_main(path: str, args: list[str], strict: bool,
                      namespace: dict[str, object] | None) -> None:
    if _is_library(path):
        sys.argv[:] = [path, *args]
        _set_path0(os.path.dirname(os.path.realpath(path)))
        _run_main(_library_spec(path), None, strict, namespace)
        return
    absolute = os.path.abspath(path)
    if _importer(absolute) is not None:  # a directory or zip file
        sys.argv[:] = [path, *args]
        _set_path0(absolute)
        _, spec, code = _get_main_module_details(RunError)
        _run_main(spec, code, strict, namespace)
        return
    _run_script(path, args, namespace)


def _importer(path: str) -> object:
    """CPython's ``PyImport_GetImporter``, which ``python PATH`` asks whether PATH is something
    to import ``__main__`` from (a directory, a zip file) or a script: the first of
    ``sys.path_hooks`` that accepts it, cached in ``sys.path_importer_cache`` (None too).
    Not ``zipfile.is_zipfile``: importing zipfile costs more than the rest of a run."""
    cache = sys.path_importer_cache
    if path in cache:
        return cache[path]
    cache[path] = None  # as CPython does, against recursion
    for hook in sys.path_hooks:
        try:
            importer = hook(path)
        except ImportError:
            continue
        cache[path] = importer
        return importer
    return None


def _run_script(path: str, args: list[str], namespace: dict[str, object] | None) -> None:
    """``python PATH`` for a source (or compiled) file, in the real ``__main__`` or
    ``namespace``."""
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as exc:
        sys.stderr.write(f"extrun: can't open file {os.path.abspath(path)!r}: "
                         f"[Errno {exc.errno}] {exc.strerror}\n")
        raise SystemExit(2) from None
    sys.argv[:] = [path, *args]
    _set_path0(os.path.dirname(os.path.realpath(path)))  # as CPython's sys.path[0]
    if namespace is None:
        namespace = _fresh_main().__dict__
    else:
        _fresh(namespace)
    path = os.path.abspath(path)  # CPython makes the script's path absolute
    compiled = source[:4] == _pyc_magic()  # CPython's maybe_pyc_file, then its loader class
    loader = (machinery.SourcelessFileLoader if compiled else machinery.SourceFileLoader)
    namespace.update(__file__=path, __loader__=loader("__main__", path))
    if _SETS_CACHED:
        namespace["__cached__"] = None
    if compiled:
        import marshal

        code = marshal.loads(source[16:])
    else:
        code = compile(source, path, "exec", dont_inherit=True)
    resume_collector()
    _run_target(exec, code, namespace, keep_runpy=False)  # python runs a script directly


def _pyc_magic() -> bytes:
    from importlib.util import MAGIC_NUMBER

    return MAGIC_NUMBER


# --- extrun run's own options -------------------------------------------------------------


def main(args: list[str], namespace: dict[str, object] | None = None) -> int:
    """``extrun run [-i] [-m] [--strict] TARGET [ARGS...]``; ``namespace``: the one the launcher
    runs in (``extrun/__main__.py``'s, see :func:`run_as_main`). ``python -m extrun run``
    comes here without importing :mod:`extrun.cli`."""
    interactive = strict = as_module = False
    while args and args[0].startswith("-"):
        option = args.pop(0)
        if option == "-m":
            as_module = True
            break
        if option == "-i":
            interactive = True
        elif option == "--strict":
            strict = True
        elif option in ("-h", "--help"):
            from .cli import USAGE

            sys.stdout.write(USAGE)
            return 0
        elif option == "--":
            break
        else:
            from .cli import usage_error

            return usage_error(f"unknown option {option!r} for run")
    if not args:
        from .cli import usage_error

        return usage_error("run needs a TARGET")
    target, rest = args[0], args[1:]
    if interactive and not sys.flags.inspect:
        _reexec_interactive(target, rest, as_module, strict)
    if not as_module:
        as_module = _looks_like_module(target)
    pause_collector()  # until the target starts (see extrun/runner.py)
    run_as_main(target, rest, as_module, strict, namespace)  # without one, never returns
    return 0


def _looks_like_module(target: str) -> bool:
    """A dotted name that is not an existing path, nor named like a file, is a module name."""
    from .names import is_path

    return not is_path(target)


def _reexec_interactive(target: str, rest: list[str], as_module: bool, strict: bool) -> None:
    """``-i``: let the interpreter's own -i handle the prompt (and SystemExit) after the run."""
    import subprocess

    flags = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]
    argv = [sys.executable, *flags, "-i", "-m", "extrun", "run"]
    argv += ["--strict"] * strict + (["-m"] if as_module else ["--"]) + [target, *rest]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
