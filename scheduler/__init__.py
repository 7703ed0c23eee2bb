"""Pure date logic for contacting her: safe windows, timepoint dates, contact timing.

No I/O and no clock here: every function takes "now" as an argument, so the rules
that keep her safe can be tested exhaustively, including across DST changes.
"""
