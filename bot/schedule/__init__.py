"""When to contact her: settings, plans, the sweep, waves and deletion deadlines.

The date logic itself is pure (``scheduler/``); this package reads and writes the store.
"""
