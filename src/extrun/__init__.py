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


# --- the cycle collector while extrun sets up a target (`extrun run`, a hooked `python -m`) ---
#
# extrun's set-up (its modules, ctypes types, the layout probe) allocates a few thousand
# objects. Left to the collector, they trigger collections of the younger generations, and on
# 3.11 one of those falls while they still hold most of what the interpreter's own start-up
# made: ~0.4 ms that `python -m` does not pay so early. So the collector is paused from the
# start of the set-up, and when the target's code is about to run, everything made so far is
# moved into the oldest generation (gc.freeze() then gc.unfreeze(): two list splices) and the
# collector resumes. The target starts with empty younger generations, as after a full
# collection; the objects set aside are examined by full collections, where the next
# collections of the younger ones would have moved them anyway. Nothing is paused if the
# collector is already disabled or objects are frozen (unfreezing would release those too).
# From 3.13 the youngest generation holds 2000 objects, not 700 (and 3.14's collector is
# incremental): the set-up fits in it, and importing gc would cost more (~50 us) than pausing
# saves, so nothing is done there.

_collector_paused = False


def _pause_collector() -> None:
    global _collector_paused
    if sys.version_info >= (3, 13):
        return
    import gc

    if gc.isenabled() and not gc.get_freeze_count():
        gc.disable()
        _collector_paused = True


def _resume_collector() -> None:
    """The target's code runs next (a no-op unless :func:`_pause_collector` paused it)."""
    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        import gc

        gc.freeze()
        gc.unfreeze()
        gc.enable()


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'extrun' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"extrun.{module}"), name)
    globals()[name] = value
    return value
