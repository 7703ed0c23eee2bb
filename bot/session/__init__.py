"""Her session: the service's entry points, the step, its effects and the wave batch.

One write path: every change of one step commits in one transaction.
"""
