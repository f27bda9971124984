"""``python -m extrun``.

``extrun run`` runs its target in this module's namespace (the real ``__main__``'s, or a tool's
when one runs extrun, as ``python -m cProfile -m extrun run ...``), replacing these names; so
nothing here may look up a global after ``main()``: ``__import__``, a builtin, and a lambda's
argument. A zero status returns, as a Python target's end does (a tool then reports as usual).
"""

(lambda status: status and __import__("sys").exit(status))(
    __import__("extrun.cli", fromlist=["main"]).main(None, globals()))
