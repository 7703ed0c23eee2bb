"""The running installation: the container (App, open_app), serve, the ticker, logging.

Only ``bot.cli`` and ``bot.runtime`` import it: everything else is handed what it uses.
"""
