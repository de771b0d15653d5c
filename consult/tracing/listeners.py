"""What the tracing part does when the domain sends its events: measure uptake when a
version is published (and, once that is committed, keep its provenance by a job), keep the
override when a version is made final anyway."""

from __future__ import annotations


def connect() -> None:
    from consult.tracing import counters, guard, stored, views

    counters.connect()
    stored.connect()
    guard.connect()
    views.connect()
