"""``extrun inspect`` and ``extrun audit``: what extension modules declare, one or all of them.

``audit`` finds every extension module of the running environment (every one importable from
``sys.path``: the standard library, site-packages, ``PYTHONPATH``, directories ``.pth`` files
add; each labelled), or of given directories, installed distributions or wheel files, inspects
them in parallel worker processes (crash-isolated, with a per-module timeout) and reports them
grouped by distribution, with a summary. ``--static`` never executes anything of the
libraries: it reads what they declare from their bytes (:mod:`extrun.static`: ELF, PE and
Mach-O), so it also works on wheels that are not installed and on other platforms' and Python
versions' libraries.
"""

from __future__ import annotations

import os
import sys

from .inspection import document, inspect_all
from .names import SINGLE_PHASE, extension_suffixes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from .inspection import Record

FAIL_CONDITIONS: dict[str, Callable[[Record], bool]] = {
    "error": lambda r: r["status"] != "ok",
    SINGLE_PHASE: lambda r: r["kind"] == SINGLE_PHASE,
    "no-subinterpreters": lambda r: r["subinterpreters"] is False,
    "gil": lambda r: r["free_threading"] is False,
    "not-runnable": lambda r: r["runnable_as_main"] is False,
}


# --- finding extension modules --------------------------------------------------------------


def _walk(root: str, suffixes: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(dotted module name, path) of every extension module importable from ``root``."""
    for directory, dirs, files in os.walk(root):
        rel = os.path.relpath(directory, root)
        package = [] if rel == "." else rel.split(os.sep)
        if not all(part.isidentifier() for part in package):
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if d.isidentifier())
        for name in sorted(files):
            for suffix in suffixes:
                if name.endswith(suffix) and name[: -len(suffix)].isidentifier():
                    yield ".".join([*package, name[: -len(suffix)]]), os.path.join(directory,
                                                                                   name)
                    break


def environment_roots() -> list[tuple[str, str]]:
    """(directory, label) of every ``sys.path`` directory an import can find modules in, in
    import order: ``stdlib`` (the standard library, its lib-dynload), ``site-packages`` (every
    site directory, the user's included), ``PYTHONPATH``, or ``.pth`` (a directory a ``.pth``
    file added, as editable installs do). ``sys.path[0]`` is left out: it is the directory of
    the script that runs the audit (or the current one), not part of the environment."""
    import site
    import sysconfig

    def real(path: str) -> str:
        return os.path.realpath(path or os.curdir)

    sites = set(map(real, site.getsitepackages()))
    if site.ENABLE_USER_SITE:
        sites.add(real(site.getusersitepackages()))
    paths = sysconfig.get_paths()
    stdlib = {real(paths["stdlib"]), real(paths["platstdlib"])}
    from_env = {real(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    seen: set[str] = set()
    out = []
    for path in sys.path[1:]:
        where = real(path)
        if where in seen or not os.path.isdir(where):
            continue
        seen.add(where)
        if where in sites:
            label = "site-packages"
        elif where in stdlib or os.path.dirname(where) in stdlib:  # lib-dynload is inside
            label = "stdlib"
        elif where in from_env:
            label = "PYTHONPATH"
        else:
            label = ".pth"
        out.append((path, label))
    return out


def _distributions(suffixes: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """Real path of every installed extension library -> (distribution name, version)."""
    from importlib.metadata import distributions

    index: dict[str, tuple[str, str]] = {}
    for dist in distributions():
        name = dist.metadata["Name"] or "?"
        for file in dist.files or ():
            if str(file).endswith(suffixes):
                index[os.path.realpath(str(file.locate()))] = (name, dist.version)
    return index


def collect(targets: list[str]) -> tuple[list[dict[str, str]], list[Record]]:
    """(modules to inspect, records already made) for the audit's arguments.

    Each module item carries its name, path, location and distribution. Wheels are read
    statically (they are not installed), so they come back as records.
    """
    suffixes = extension_suffixes()
    items: list[dict[str, str]] = []
    wheel_records: list[Record] = []
    if not targets:
        index = _distributions(suffixes)
        found: set[str] = set()
        for root, label in environment_roots():
            for module, path in _walk(root, suffixes):
                if module in found:  # shadowed by an earlier sys.path entry: not importable
                    continue
                found.add(module)
                dist = index.get(os.path.realpath(path))
                items.append({"module": module, "path": path, "location": label,
                              "distribution": dist[0] if dist else "",
                              "version": dist[1] if dist else ""})
        return items, wheel_records
    for target in targets:
        if target.endswith(".whl") and os.path.isfile(target):
            from .static import wheel

            wheel_records += wheel(target)
        elif os.path.isdir(target):
            items += [{"module": m, "path": p, "location": target, "distribution": "",
                       "version": ""} for m, p in _walk(target, suffixes)]
        else:
            items += _distribution_modules(target, suffixes)
    return items, wheel_records


def _distribution_modules(name: str, suffixes: tuple[str, ...]) -> list[dict[str, str]]:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(name)
    except PackageNotFoundError:
        raise SystemExit(f"extrun: {name}: no such directory, wheel or installed "
                         "distribution") from None
    items = []
    for file in dist.files or ():
        text = str(file)
        suffix = next((s for s in suffixes if text.endswith(s)), None)
        module = text[: -len(suffix)].replace("/", ".") if suffix else ""
        if suffix and all(p.isidentifier() for p in module.split(".")):
            items.append({"module": module, "path": str(file.locate()),
                          "location": "site-packages",
                          "distribution": dist.metadata["Name"] or name,
                          "version": dist.version})
    return items


# --- reports ------------------------------------------------------------------------------


def _mark(value: bool | None) -> str:
    return "?" if value is None else "yes" if value else "no"


def table(records: list[Record]) -> str:
    """Records grouped by distribution (or location), one line each, then a summary."""
    groups: dict[str, list[Record]] = {}
    for r in records:
        dist = r.get("distribution")
        key = f"{dist} {r.get('version', '')}".strip() if dist else f"[{r.get('location')}]"
        groups.setdefault(key, []).append(r)
    width = max([len(str(r["module"])) for r in records] + [6])
    lines = []
    header = (f"  {'module':{width}}  {'kind':12}  {'subinterp':9}  {'free-thr':8}  "
              f"{'main':4}  note")
    for key in sorted(groups, key=lambda k: (k.startswith("["), k.lower())):
        lines += ["", key, header]
        for r in groups[key]:
            kind = r["kind"] or r["status"]
            if r["inferred"] and r["kind"]:
                kind = f"{kind}*"
            note = "" if r["status"] == "ok" else str(r["reason"])[:60]
            lines.append(f"  {r['module']!s:{width}}  {kind!s:12}  "
                         f"{_mark(r['subinterpreters']):9}  {_mark(r['free_threading']):8}  "
                         f"{_mark(r['runnable_as_main']):4}  {note}")
    lines += ["", summary(records)]
    if any(r["inferred"] for r in records):
        lines.append("(* read from the library's bytes, without loading it: --static)")
    return "\n".join(lines).lstrip("\n")


def summary(records: list[Record]) -> str:
    kinds: dict[str, int] = {}
    for r in records:
        key = str(r["kind"] if r["status"] == "ok" and r["kind"] else r["status"])
        kinds[key] = kinds.get(key, 0) + 1
    parts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))

    def counts(field: str) -> str:
        """yes / no / unknown: an unknown is never counted as a no"""
        values = [r[field] for r in records]  # type: ignore[literal-required]
        return (f"{values.count(True)} yes, {values.count(False)} no, "
                f"{values.count(None)} unknown")

    return (f"{len(records)} extension modules: {parts}. Ready for isolated subinterpreters: "
            f"{counts('subinterpreters')}; declare free threading: {counts('free_threading')}; "
            f"runnable as __main__: {counts('runnable_as_main')}.")


# --- command lines ------------------------------------------------------------------------


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rinspecting extension modules: {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def audit_main(args: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="extrun audit", description=(
        "Inspect every extension module of this environment (or of the given directories, "
        "installed distributions or wheel files), crash-isolated and in parallel."))
    parser.add_argument("targets", nargs="*", metavar="PATH|DIST|WHEEL")
    parser.add_argument("--json", action="store_true", help="print the versioned JSON schema")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                        help="per module (default 30)")
    parser.add_argument("--static", action="store_true",
                        help="run nothing of the libraries: read their bytes")
    parser.add_argument("--fail-on", nargs="+", default=[], choices=sorted(FAIL_CONDITIONS),
                        metavar="CONDITION", help=f"exit 1 if any module is: "
                        f"{', '.join(sorted(FAIL_CONDITIONS))}")
    opts = parser.parse_args(args)
    items, records = collect(opts.targets)
    if opts.static:
        from .static import static_record

        records += [_labelled(static_record(i["module"], i["path"]), i) for i in items]
    else:
        progress = _progress if sys.stderr.isatty() else None
        found = inspect_all([{"module": i["module"], "path": i["path"]} for i in items],
                            jobs=opts.jobs, timeout=opts.timeout, progress=progress)
        records += [_labelled(r, i) for r, i in zip(found, items, strict=True)]
    print(document(records) if opts.json else table(records))
    failed = [c for c in opts.fail_on if any(FAIL_CONDITIONS[c](r) for r in records)]
    for condition in failed:
        names = [str(r["module"]) for r in records if FAIL_CONDITIONS[condition](r)]
        # every name: "which dependency re-enables the GIL?" is answered by the whole list
        print(f"extrun audit: {len(names)} module(s) {condition}: {', '.join(names)}",
              file=sys.stderr)
    return 1 if failed else 0


def _labelled(r: Record, item: dict[str, str]) -> Record:
    """The record with the audit's labels: where it was found, its distribution."""
    r.update({"location": item["location"], "distribution": item["distribution"],
              "version": item["version"]})
    return r
