"""Enrolment: request parsing, the enrol rules, one-time tokens and input validation.

One set of rules for every way in (CLI, dashboard); nothing is stored on bad input.
"""
