"""extrun: load extension modules phase by phase (PEP 489) and run them as ``__main__``.

The public names are imported lazily, so that ``import extrun`` costs nothing on paths that need
only part of it.
"""


import sys

if sys.implementation.name != "cpython" or sys.version_info < (3, 11):
    raise ImportError(
        "extrun needs CPython >= 3.11 (it drives CPython's C API); this is "
        f"{sys.implementation.name} {sys.version.split()[0]}"
    )

__version__ = "0.1.0"
__all__ = [
    "Definition", "ExtensionLoader", "RunError", "definition_for", "load", "load_all",
    "run_module", "run_path", "spec_for",
]

_LAZY = {
    "ExtensionLoader": "loader",
    "load": "loader",
    "load_all": "loader",
    "definition_for": "loader",
    "spec_for": "loader",
    "Definition": "definition",
    "RunError": "runner",
    "run_module": "runner",
    "run_path": "runner",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'extrun' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"extrun.{module}"), name)
    globals()[name] = value
    return value
