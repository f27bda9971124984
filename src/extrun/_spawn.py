"""multiprocessing's spawn and forkserver children re-create an extension ``__main__``.

A child re-creates the parent's main module as ``__mp_main__`` with ``runpy.run_module``, which
cannot run an extension. The parent adds to the preparation data it pickles for the child an
object whose unpickling -- in the child, before ``prepare()`` -- installs extrun's
``_fixup_main_from_name``. Imported only once the program imports ``multiprocessing.spawn``
(see ``commandline._support_multiprocessing``), so that running an extension costs nothing here.
"""


import importlib.machinery as machinery  # see runner.py
import sys
import types

from .runner import _is_extension, _run_extension

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def patched_spec(name: str, path: object) -> machinery.ModuleSpec | None:
    """``multiprocessing.spawn``'s spec as the normal finder gives it, its loader patching the
    module once it has executed."""
    spec = machinery.PathFinder.find_spec(name, path)  # type: ignore[arg-type]
    if spec is not None and spec.loader is not None:
        spec.loader = _PatchAfterExec(spec.loader)  # type: ignore[assignment]
    return spec


class _PatchAfterExec:
    def __init__(self, loader: object) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> object:  # get_source etc., for tracebacks
        return getattr(self._loader, name)

    def create_module(self, spec: machinery.ModuleSpec) -> types.ModuleType | None:
        return self._loader.create_module(spec)  # type: ignore[attr-defined, no-any-return]

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)  # type: ignore[attr-defined]
        patch_parent(module)


def patch_parent(spawn: "Any") -> None:
    """Add the child's set-up to the preparation data ``multiprocessing.spawn`` pickles."""
    original = spawn.get_preparation_data
    if getattr(original, "_extrun", False):
        return

    def get_preparation_data(name: str) -> dict[str, object]:
        data: dict[str, object] = original(name)
        data["extrun"] = _ChildSetup()
        return data

    get_preparation_data._extrun = True  # type: ignore[attr-defined]
    spawn.get_preparation_data = get_preparation_data


class _ChildSetup:
    def __reduce__(self) -> "tuple[Callable[[], None], tuple[()]]":
        return _setup_child, ()


def _setup_child() -> None:
    import multiprocessing.spawn as spawn

    original = spawn._fixup_main_from_name  # type: ignore[attr-defined]

    def _fixup_main_from_name(mod_name: str) -> None:
        """multiprocessing.spawn's, but an extension __main__ is re-created by extrun."""
        import importlib.util

        current_main = sys.modules["__main__"]
        if (mod_name == "__main__" or mod_name.endswith(".__main__")
                or getattr(current_main.__spec__, "name", None) == mod_name):
            return
        spec = importlib.util.find_spec(mod_name)
        if spec is None or not _is_extension(spec):
            original(mod_name)
            return
        spawn.old_main_modules.append(current_main)

        def install(module: types.ModuleType) -> None:
            sys.modules["__mp_main__"] = module

        executed = _run_extension(spec, types.ModuleType("__mp_main__"), "__mp_main__", install)
        sys.modules["__main__"] = sys.modules["__mp_main__"] = executed

    spawn._fixup_main_from_name = _fixup_main_from_name  # type: ignore[attr-defined]
