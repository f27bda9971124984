"""The ``extrun`` command. Arguments are parsed by hand: argparse alone costs ~12 ms of start-up."""

from __future__ import annotations

import sys

USAGE = """\
usage: extrun [--version] [--help]

extrun loads CPython extension modules phase by phase (PEP 489).
Python API: extrun.load(path, name), extrun.ExtensionLoader(name, path).exec_in_module(spec, mod)
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0
    if args[0] == "--version":
        from . import __version__

        print(f"extrun {__version__}")
        return 0
    sys.stderr.write(USAGE)
    print(f"extrun: error: unknown command {args[0]!r}", file=sys.stderr)
    return 2
