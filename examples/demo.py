"""Build the example extension and show extrun's loader on it.

    python examples/demo.py [NAME ...]

1. builds examples/hello.c with the compiler this interpreter was built with;
2. loads it with extrun, phase by phase, as ``import`` would;
3. executes its definition in an existing module object named ``__main__`` (PEP 547's
   ``exec_in_module``): module state is allocated and the module's heap type finds it, so its
   ``if __name__ == "__main__"`` branch greets the names given on the command line.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
import types

HERE = os.path.dirname(os.path.abspath(__file__))


def build() -> str:
    out_dir = os.path.join(HERE, "build", sys.implementation.cache_tag)
    out = os.path.join(out_dir, "hello" + sysconfig.get_config_var("EXT_SUFFIX"))
    source = os.path.join(HERE, "hello.c")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(source):
        os.makedirs(out_dir, exist_ok=True)
        cc = shlex.split(sysconfig.get_config_var("CC") or "cc")
        subprocess.run([*cc, "-shared", "-fPIC", "-O2", "-I", sysconfig.get_paths()["include"],
                        source, "-o", out], check=True)
    return out


def main() -> None:
    import extrun

    path = build()
    print(f"built {os.path.relpath(path)}")

    hello = extrun.load(path, "hello")
    print(f"loaded: {hello.__name__}: {hello.__doc__}")
    print(hello.Greeter().greet("importer"))

    definition = extrun.definition_for("hello", path)
    print(f"definition: {definition.kind}, m_size={definition.size}, "
          f"{definition.exec_count} exec slot(s), methods={[m[0] for m in definition.methods]}")

    main_module = types.ModuleType("__main__")
    sys.argv = [path, *(sys.argv[1:] or ["Ada", "Grace"])]
    loader = extrun.ExtensionLoader("hello", path)
    spec = extrun.spec_for(loader)
    print("executing the definition in a module named __main__:")
    loader.exec_in_module(spec, main_module)


if __name__ == "__main__":
    main()
