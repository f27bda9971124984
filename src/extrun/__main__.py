"""``python -m extrun``.

``extrun run`` runs its target in this module's namespace (the real ``__main__``'s, or a tool's
when one runs extrun, as ``python -m cProfile -m extrun run ...``), replacing these names; so
nothing here may look up a global after the call: ``__import__``, a builtin, and a lambda's
argument. A zero status returns, as a Python target's end does (a tool then reports as usual).
``run`` goes straight to :mod:`extrun.commandline`: the run path imports no more than it needs.
"""

(lambda status: status and __import__("sys").exit(status))(
    __import__("extrun.commandline", fromlist=["main"]).main(__import__("sys").argv[2:], globals())
    if __import__("sys").argv[1:2] == ["run"]
    else __import__("extrun.cli", fromlist=["main"]).main(None, globals()))
