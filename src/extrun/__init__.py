"""extrun: load extension modules phase by phase (PEP 489) and run them as ``__main__``."""
