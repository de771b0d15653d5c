"""What the tracing part does when the domain sends its events: measure uptake when a
version is published, keep the override when a version is made final anyway."""

from __future__ import annotations


def connect() -> None:
    from consult.tracing import counters, guard, stored

    counters.connect()
    stored.connect()
    guard.connect()
