# cython: profile=True
"""A script compiled with Cython, profiling on: profilers name its functions; its top level
warns, as a script's may."""

import sys
import warnings


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def work():
    return fib(12)


warnings.warn("an old way", DeprecationWarning, stacklevel=1)  # its own top level

if __name__ == "__main__":
    print("PROF", __name__, sys.argv[1:], work())
