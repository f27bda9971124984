"""What an extension module declares, and what CPython will therefore do with it.

A record (schema :data:`SCHEMA`, documented in the README) describes one module: its library,
export hook, init kind, ``m_size``, doc, methods, every slot, and three verdicts with reasons:

- ``runnable_as_main``: extrun can run it as ``__main__`` (multi-phase or 3.15 slots);
- ``subinterpreters``: it loads in an isolated subinterpreter (own GIL), which CPython 3.12+
  allows only for multi-phase modules declaring ``Py_mod_multiple_interpreters`` =
  ``Py_MOD_PER_INTERPRETER_GIL_SUPPORTED``;
- ``free_threading``: it declares that it does not need the GIL (``Py_mod_gil`` =
  ``Py_MOD_GIL_NOT_USED``, or a single-phase module calling ``PyUnstable_Module_SetGIL``),
  without which a free-threaded build enables the GIL when importing it.

Reading a definition calls the module's export hook, and for a single-phase module that *is* its
initialisation: inspection therefore runs in worker processes by default (:func:`inspect_all`),
so that a module's side effects, crash or hang never reach the caller.
"""

from __future__ import annotations

import json
import os
import sys
import time

from .names import SINGLE_PHASE, is_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import NotRequired, TypedDict

    from .definition import Definition

    class Method(TypedDict):
        name: str
        flags: int
        doc: str | None

    class SlotRecord(TypedDict):
        id: int
        name: str | None  # None: an id this CPython does not know
        value: int

    class Record(TypedDict):
        """One module, as the JSON schema (README, "JSON schema") documents it: the record is its
        own JSON form."""

        module: str | None
        path: str | None
        status: str  # ok, error, crashed, timeout
        kind: str | None  # names.MULTI_PHASE, SINGLE_PHASE, SLOTS
        hook: str | None
        m_size: int | None
        doc: str | None
        methods: list[Method]
        slots: list[SlotRecord]
        create: bool | None
        exec_slots: int | None
        multiple_interpreters: int | None
        gil: int | None
        traverse: bool | None
        clear: bool | None
        free: bool | None
        subinterpreters: bool | None
        free_threading: bool | None
        runnable_as_main: bool | None
        reason: str
        inferred: bool
        format: NotRequired[str]  # --static: "ELF x86-64", "PE aarch64", ...
        location: NotRequired[str]  # audit only
        distribution: NotRequired[str]
        version: NotRequired[str]

SCHEMA = 1

PER_INTERPRETER_GIL_SUPPORTED = 2
GIL_NOT_USED = 1


def record(module: str | None, path: str | None, status: str = "ok", reason: str = "",
           inferred: bool = False) -> Record:
    """A record that knows nothing yet (or, with ``status``, why it never will)."""
    return {
        "module": module, "path": path, "status": status, "kind": None, "hook": None,
        "m_size": None, "doc": None, "methods": [], "slots": [], "create": None,
        "exec_slots": None, "multiple_interpreters": None, "gil": None, "traverse": None,
        "clear": None, "free": None, "subinterpreters": None, "free_threading": None,
        "runnable_as_main": None, "reason": reason, "inferred": inferred,
    }


def verdicts(kind: str | None, multiple_interpreters: int | None, gil: int | None,
             sets_gil: bool = False) -> tuple[bool | None, bool | None, bool | None, list[str]]:
    """(runnable_as_main, subinterpreters, free_threading, reasons) for what a module declares."""
    if kind is None:
        return None, None, None, []
    if kind == SINGLE_PHASE:
        reasons = ["single-phase init: cannot run as __main__, and CPython refuses it in "
                   "isolated subinterpreters"]
        if not sets_gil:
            reasons.append("does not call PyUnstable_Module_SetGIL: a free-threaded build "
                           "enables the GIL for it")
        return False, False, sets_gil, reasons
    reasons = []
    if multiple_interpreters == PER_INTERPRETER_GIL_SUPPORTED:
        subinterpreters = True
    else:
        subinterpreters = False
        reasons.append({
            None: "no Py_mod_multiple_interpreters slot: CPython allows it only in "
                  "interpreters sharing the main GIL",
            0: "Py_mod_multiple_interpreters = Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED",
            1: "Py_mod_multiple_interpreters = Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED: only "
               "interpreters sharing the main GIL",
        }.get(multiple_interpreters, f"Py_mod_multiple_interpreters = {multiple_interpreters}"))
    free_threading = gil == GIL_NOT_USED
    if not free_threading:
        reasons.append("no Py_mod_gil = Py_MOD_GIL_NOT_USED: a free-threaded build enables the "
                       "GIL when importing it")
    return True, subinterpreters, free_threading, reasons


def from_definition(d: Definition) -> Record:
    """The record of a definition read in this process."""
    r = record(d.name, d.path)
    r.update({
        "kind": d.kind, "hook": d.hook.symbol, "m_size": d.size, "doc": d.doc,
        "methods": [{"name": n, "flags": f, "doc": doc} for n, f, doc in d.methods],
        "slots": [{"id": s.id, "name": s.name, "value": s.value} for s in d.slots],
        "create": d.has_create, "exec_slots": d.exec_count,
        "multiple_interpreters": d.multiple_interpreters, "gil": d.gil,
        "traverse": d.traverse, "clear": d.clear, "free": d.free,
    })
    sets_gil = False
    if d.kind == SINGLE_PHASE:
        from . import _capi

        declared = _capi.module_gil(d.module)
        if declared is not None:  # free-threaded: what the module's init really declared
            sets_gil = declared == 1
        else:  # elsewhere, whether its binary can: a single-phase module declares it at run
            from .static import imports  # time, with this function

            sets_gil = imports(d.path, "PyUnstable_Module_SetGIL")
    main, sub, ft, reasons = verdicts(d.kind, d.multiple_interpreters, d.gil, sets_gil)
    if d.kind == SINGLE_PHASE:
        reasons.insert(0, "reading it ran its initialisation (a single-phase hook is the init)")
    if d.has_create:
        reasons.append("has Py_mod_create: extrun creates it, then makes it __main__")
    if d.unknown_slots:
        reasons.append(f"slot ids unknown to this CPython: {d.unknown_slots}")
    r.update({"runnable_as_main": main, "subinterpreters": sub, "free_threading": ft,
             "reason": "; ".join(reasons)})
    return r


def resolve(target: str) -> tuple[str, str]:
    """(module name, library path) for a module name or a library path; ImportError else."""
    from .names import module_name_from_path

    if is_path(target):
        if not os.path.isfile(target):
            raise ImportError(f"{target}: no such file")
        return module_name_from_path(target), os.path.abspath(target)
    import importlib.util
    from importlib.machinery import ExtensionFileLoader

    spec = importlib.util.find_spec(target)
    if spec is None:
        raise ImportError(f"No module named {target}")
    if spec.submodule_search_locations is not None:
        spec = importlib.util.find_spec(target + ".__main__") or spec
    if not isinstance(spec.loader, ExtensionFileLoader) or not spec.origin:
        what = "a built-in module" if spec.origin == "built-in" else "not an extension module"
        raise ImportError(f"{target} is {what}")
    return spec.name, spec.origin


def inspect_one(target: str | None = None, module: str | None = None,
                path: str | None = None) -> Record:
    """Inspect in this process: a target to resolve, or a module name and its library."""
    from .loader import definition_for

    try:
        if module is None or path is None:
            assert target is not None
            module, path = resolve(target)
        return from_definition(definition_for(module, path))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the module's own errors, SystemExit included
        return record(module or target, path, "error", f"{type(exc).__name__}: {exc}".strip())


# --- worker processes -------------------------------------------------------------------------


class _Worker:
    """One worker process of :func:`inspect_all`: its batch (item indexes) still unanswered."""

    def __init__(self, items: list[dict[str, str]], batch: list[int], timeout: float) -> None:
        import subprocess

        self.batch = batch
        self.buffer = b""
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "extrun._worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_worker_env())
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdout = self.proc.stdout
        self.proc.stdin.write(json.dumps([items[i] for i in batch]).encode())
        self.proc.stdin.close()
        os.set_blocking(self.stdout.fileno(), False)

    def read(self) -> list[tuple[int, Record]] | None:
        """The records that arrived, with their item indexes; None at end of output."""
        try:
            chunk = os.read(self.stdout.fileno(), 1 << 16)
        except BlockingIOError:  # woken up with nothing to read yet
            return []
        if not chunk:
            return None
        *lines, self.buffer = (self.buffer + chunk).split(b"\n")
        if lines:
            self.deadline = time.monotonic() + self.timeout
        return [(self.batch.pop(0), json.loads(line)) for line in lines]

    def failure(self) -> str:
        code = self.proc.wait()
        if code < 0:
            return f"the inspecting process was killed by signal {-code}"
        return f"the inspecting process exited with status {code}"


def inspect_all(items: list[dict[str, str]], jobs: int = 1, timeout: float = 30.0,
                progress: Callable[[int, int], None] | None = None) -> list[Record]:
    """Inspect each item ({"target": ...} or {"module": ..., "path": ...}) in worker processes.

    Workers take batches; a module that crashes its worker, exits it, or hangs longer than
    ``timeout`` seconds is reported so (status ``crashed``/``timeout``) and the rest of its
    batch goes to a new worker. Results keep the order of ``items``.
    """
    import selectors

    results: list[Record | None] = [None] * len(items)
    pending = list(range(len(items)))
    batch_size = max(1, min(32, len(items) // (4 * max(jobs, 1))))
    selector = selectors.DefaultSelector()
    running: set[_Worker] = set()

    def stop(worker: _Worker, status: str, reason: str) -> None:
        selector.unregister(worker.stdout)
        running.discard(worker)
        worker.stdout.close()
        if worker.batch:  # the first unanswered module is the culprit; the rest go on
            culprit = worker.batch.pop(0)
            item = items[culprit]
            results[culprit] = record(item.get("module") or item.get("target"),
                                      item.get("path"), status, reason)
            pending[:0] = worker.batch

    while pending or running:
        while pending and len(running) < max(jobs, 1):
            worker = _Worker(items, pending[:batch_size], timeout)
            del pending[:batch_size]
            running.add(worker)
            selector.register(worker.stdout, selectors.EVENT_READ, worker)
        wait = max(0.0, min(w.deadline for w in running) - time.monotonic())
        for key, _ in selector.select(wait):
            worker = key.data
            answered = worker.read()
            if answered is None:
                stop(worker, "crashed", worker.failure())
            for index, answer in answered or ():
                results[index] = answer
        for worker in [w for w in running if w.deadline <= time.monotonic()]:
            worker.proc.kill()
            worker.proc.wait()
            stop(worker, "timeout", f"no answer within {timeout:g} s")
        if progress is not None:
            progress(sum(r is not None for r in results), len(items))
    return [r for r in results if r is not None]


def _worker_env() -> dict[str, str]:
    """The worker must import this very extrun, wherever it came from."""
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    return env


def document(records: Iterable[Record]) -> str:
    """The versioned JSON document: ``{"schema": 1, "modules": [...]}``."""
    return json.dumps({"schema": SCHEMA, "modules": list(records)}, indent=2)


def describe(r: Record) -> str:
    """A record for people."""
    def yes(value: bool | None) -> str:
        return "unknown" if value is None else "yes" if value else "no"

    lines = [f"{r['module']}  ({r['path']})"]
    if r["status"] != "ok":
        lines.append(f"  {r['status']}: {r['reason']}")
        return "\n".join(lines)
    lines.append(f"  kind: {r['kind']}{' (read without loading it)' if r['inferred'] else ''}"
                 f", export hook {r['hook']}")
    if r["m_size"] is not None:  # known: loaded, or read from the library's data
        lines.append(f"  m_size: {r['m_size']}; traverse/clear/free: "
                     f"{yes(r['traverse'])}/{yes(r['clear'])}/{yes(r['free'])}")
        doc = str(r["doc"]).strip().splitlines()[0] if r["doc"] else None
        lines.append(f"  doc: {doc!r}")
        methods = r["methods"]
        lines.append(f"  methods: {', '.join(m['name'] for m in methods) or '-'}")
        slots = [f"{s['name'] or s['id']}={s['value']:#x}" for s in r["slots"]]
        lines.append(f"  slots: {', '.join(slots) or '-'}")
    lines.append(f"  runnable as __main__: {yes(r['runnable_as_main'])}; isolated "
                 f"subinterpreters: {yes(r['subinterpreters'])}; declares free threading: "
                 f"{yes(r['free_threading'])}")
    if r["reason"]:
        lines.append(f"  why: {r['reason']}")
    return "\n".join(lines)


# --- the command ----------------------------------------------------------------------------


def inspect_main(args: list[str]) -> int:
    """``extrun inspect``."""
    import argparse

    parser = argparse.ArgumentParser(prog="extrun inspect", description=(
        "What extension modules declare. Each is inspected in a child process unless "
        "--in-process."))
    parser.add_argument("targets", nargs="+", metavar="TARGET",
                        help="a module name or an extension library's path")
    parser.add_argument("--json", action="store_true", help="print the versioned JSON schema")
    parser.add_argument("--in-process", action="store_true",
                        help="inspect in this process (a crash takes extrun with it)")
    parser.add_argument("--static", action="store_true",
                        help="run nothing of the library: read its bytes")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS")
    opts = parser.parse_args(args)
    records: list[Record]
    if opts.static:
        from .static import static_record

        records = []
        for target in opts.targets:
            try:
                module, path = resolve(target)
            except ImportError as exc:
                records.append(record(target, None, "error", str(exc)))
                continue
            records.append(static_record(module, path))
    elif opts.in_process:
        records = [inspect_one(t) for t in opts.targets]
    else:  # paths are resolved here (no import needed), module names in the child
        from .names import module_name_from_path

        items = [{"module": module_name_from_path(t), "path": os.path.abspath(t)}
                 if os.path.isfile(t) else {"target": t} for t in opts.targets]
        records = inspect_all(items, timeout=opts.timeout)
    print(document(records) if opts.json else "\n\n".join(describe(r) for r in records))
    return 0 if all(r["status"] == "ok" for r in records) else 1
