"""A small script meant to be compiled with Cython and run as __main__ by extrun.

    cythonize -i examples/wordcount.py && extrun run -m wordcount FILE...

Compiled, it is a multi-phase extension module with a Py_mod_create slot (Cython's own create
function); extrun creates it, makes it __main__, and executes it, so this guard works.
"""

import sys
from collections import Counter


def count(paths):
    words = Counter()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            words.update(f.read().split())
    return words


if __name__ == "__main__":
    for word, n in count(sys.argv[1:]).most_common(3):
        print(f"{n:4} {word}")
