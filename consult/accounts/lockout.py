"""Lock-out per account: after too many failed sign-ins for one address, that address
cannot sign in for a while, whichever network the guesses come from.

The failures are counted in the rate limits' storage (shared by every process: see
consult.ratelimit), under a hash of the address, so the storage holds no addresses.
Addresses without an account are counted and locked the same way, so the lock-out
never tells a stranger which addresses have accounts; only a real account's owner is
told by e-mail.
"""

from __future__ import annotations

import math
import time

from limits import parse

from consult.extensions import limiter
from consult.hashing import sha256

#: Ten failed sign-ins within a quarter of an hour lock the address until the quarter
#: ends (a fixed window, counted from the first failure).
FAILURES = 10
WINDOW_MINUTES = 15
_ITEM = parse(f"{FAILURES} per {WINDOW_MINUTES} minutes")


def _key(email: str) -> str:
    # Under the limiter's key prefix (RATELIMIT_KEY_PREFIX), like every other limit, so
    # two sites sharing one Redis keep their own counts.
    return f"{limiter._key_prefix}sign-in-failures:" + sha256((email or "").strip().lower())


def _strategy():
    if not limiter.enabled or limiter._limiter is None:
        return None  # rate limiting is switched off (as in most tests)
    return limiter.limiter


def locked_for(email: str) -> int | None:
    """Seconds until the address may try again, or None when it is not locked."""
    strategy = _strategy()
    if strategy is None or strategy.test(_ITEM, _key(email)):
        return None
    reset, _ = strategy.get_window_stats(_ITEM, _key(email))
    return max(1, math.ceil(reset - time.time()))


def record_failure(email: str) -> bool:
    """Count one failed sign-in; True when this failure locked the address."""
    if _strategy() is None:
        return False
    count = limiter.storage.incr(_ITEM.key_for(_key(email)), _ITEM.get_expiry())
    return count == FAILURES


def clear(email: str) -> None:
    """Forget the failures (a successful sign-in, a password reset)."""
    strategy = _strategy()
    if strategy is not None:
        strategy.clear(_ITEM, _key(email))


def message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    when = "a minute" if minutes == 1 else f"{minutes} minutes"
    return (
        "Too many failed sign-ins for this address: it cannot sign in for the next "
        f"{when}. Try again then, or choose a new password with “Forgot your password?”."
    )
