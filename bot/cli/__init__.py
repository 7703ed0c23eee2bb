"""The ``followup`` command (Typer + Rich)."""
