"""Recall flows: use cases that open their own transactions because they talk to the outside world
(or time themselves) between them — ``notify`` (SMTP sending: claim -> deliver -> record) and
``drill`` (the mock recall, one transaction per timed step). Services never do this; flows call the
services for every rule.
"""
