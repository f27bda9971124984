"""``python -m extrun``.

``extrun run`` replaces this module's namespace with the target's and ends the process itself,
so nothing here may look up a global after ``main()`` (hence ``__import__``, a builtin).
"""

__import__("sys").exit(__import__("extrun.cli", fromlist=["main"]).main())
