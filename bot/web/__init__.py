"""The staff desk under /staff/: logins, the escalation queue, participants, reports.

Every page checks the role on the server; answers are shown to the WSS only, audited.
"""
