"""The ``extrun`` command. Arguments are parsed by hand: importing argparse alone costs more
than ``python -m`` itself (benchmarks/README.md), and ``run`` must cost about what that does."""


import sys

USAGE = """\
usage: extrun run [-i] [-m] [--strict] TARGET [ARGS...]
       extrun inspect TARGET... [--json] [--in-process] [--static]
       extrun audit [PATH|DIST|WHEEL...] [--json] [--jobs N] [--static] [--fail-on C...]
       extrun integration install [--user] | uninstall | status
       extrun --version | --help

extrun run runs TARGET as __main__, as `python -m TARGET` / `python TARGET` would, and also
when TARGET is an extension module (PEP 547):
  TARGET    a dotted module name (with -m, or when it is not an existing path), or a path:
            an extension library (.so/.pyd), a directory or zip file with a __main__, or a
            Python file. Everything after TARGET is passed to it as sys.argv[1:].
  -m        TARGET is a module name, even if a path of that name exists
  -i        enter the interactive prompt with its __main__ afterwards, as `python -i`
  --strict  refuse modules with a Py_mod_create slot (PEP 547 runs only modules that can be
            executed in the existing __main__ module)

extrun integration installs a .pth file into this interpreter's site-packages (or, with --user,
the user site) so that plain `python -m EXTENSION` and `python DIR` run through extrun, as do
profilers, debuggers and tracers that run modules (cProfile, profile, pdb, trace).
uninstall removes it; status says where it is and whether it is active. (`extrun hook ...` is
the same command under extrun 0.1's name.)
"""


def main(argv: list[str] | None = None, namespace: dict[str, object] | None = None) -> int:
    """The command line; ``namespace``: the one the launcher runs in (``extrun/__main__.py``),
    where ``run`` runs its target (see :func:`extrun.commandline.run_as_main`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "run":
        from .commandline import main as run_main

        return run_main(args[1:], namespace)
    if args and args[0] == "inspect":
        from .inspection import inspect_main

        return inspect_main(args[1:])
    if args and args[0] == "audit":
        from .audit import audit_main

        return audit_main(args[1:])
    if args and args[0] in ("integration", "hook"):  # "hook": extrun 0.1's name, kept
        from .integration import main as integration_main

        return integration_main(args[1:])
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0
    if args[0] == "--version":
        from . import __version__

        print(f"extrun {__version__}")
        return 0
    return usage_error(f"unknown command {args[0]!r}")


def usage_error(message: str) -> int:
    sys.stderr.write(USAGE)
    print(f"extrun: error: {message}", file=sys.stderr)
    return 2
