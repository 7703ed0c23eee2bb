"""Getting messages out: the dispatcher and the SMS provider-record deletion.

A row is sent at most once; wake-ups come only after commit.
"""
