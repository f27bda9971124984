"""Build the examples and run them as __main__ with extrun.

    python examples/demo.py

1. builds examples/hello.c (a multi-phase C extension: module state, a heap type that finds its
   module with PyType_GetModuleByDef, a main() that greets the names in sys.argv) and runs it
   with `python -m extrun run`: it executes in the real __main__ module, so its
   `if __name__ == "__main__"` branch runs;
2. compiles examples/wordcount.py with Cython (when Cython is installed) and runs that too: a
   module with Cython's own create function, created and then made __main__;
3. shows what CPython itself says about `python -m hello`;
4. installs extrun's `python -m` integration into this environment for a moment (unless it is there
   already) and runs plain `python -m hello` again.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build", sys.implementation.cache_tag)
SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")


def compile_c(source: str, name: str) -> str:
    out = os.path.join(BUILD, name + SUFFIX)
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(source):
        os.makedirs(BUILD, exist_ok=True)
        cc = shlex.split(sysconfig.get_config_var("CC") or "cc")
        subprocess.run([*cc, "-shared", "-fPIC", "-O2", "-I", sysconfig.get_paths()["include"],
                        source, "-o", out], check=True)
    return out


def cythonize(source: str, name: str) -> str | None:
    try:
        import Cython  # noqa: F401
    except ImportError:
        return None
    c_file = os.path.join(BUILD, name + ".c")
    os.makedirs(BUILD, exist_ok=True)
    subprocess.run([sys.executable, "-m", "cython", "-3", source, "-o", c_file],
                   check=True)
    return compile_c(c_file, name)


def show(comment: str, *args: str) -> None:
    """Run ``python ARGS`` in the build directory, echoing it first."""
    shown = " ".join(os.path.relpath(a) if os.sep in a else a for a in args)
    print(f"\n# {comment}\n$ python {shown}", flush=True)
    subprocess.run([sys.executable, *args], cwd=BUILD, stderr=subprocess.STDOUT)


def main() -> None:
    compile_c(os.path.join(HERE, "hello.c"), "hello")
    show("a C extension as __main__", "-m", "extrun", "run", "-m", "hello", "Ada", "Grace")
    if cythonize(os.path.join(HERE, "wordcount.py"), "wordcount"):
        show("a Cython-compiled script as __main__", "-m", "extrun", "run", "-m", "wordcount",
             os.path.join(HERE, "wordcount.py"))
    else:
        print("\n# (the Cython example is skipped: pip install cython to build it)")
    show("CPython alone", "-m", "hello")
    from extrun import integration

    installed_here = not integration.status()[0]
    if installed_here:
        integration.install()
    try:
        show("CPython with `extrun integration install`", "-m", "hello", "Ada")
    finally:
        if installed_here:
            integration.uninstall()


if __name__ == "__main__":
    main()
