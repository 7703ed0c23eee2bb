"""The pure core: survey definitions and the conversation engine.

Nothing here does I/O, reads a clock or touches asyncio: the engine is given
``now`` and returns effects that the shell (``bot/``) applies.
"""
