"""``python -m bot`` is the same as the ``followup`` command."""

from bot.cli.main import main

main()
