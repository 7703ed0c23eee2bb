"""The route of an inbound message that is not (yet) hers to answer: the enrolment link.

A bad or used token gets one neutral line and links nothing.
"""
