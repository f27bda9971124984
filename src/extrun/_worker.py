"""A worker process of :func:`extrun.inspection.inspect_all`.

Reads a JSON list of items from stdin, writes one JSON record per line, in order, to a private
copy of stdout: file descriptor 1 itself is pointed at stderr, so that whatever an inspected
module prints cannot corrupt the results; stdin is then /dev/null.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    items = json.load(sys.stdin)
    results = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    from extrun.inspection import inspect_one

    for item in items:
        record = inspect_one(item.get("target"), item.get("module"), item.get("path"))
        results.write(json.dumps(record) + "\n")
        results.flush()


if __name__ == "__main__":
    main()
