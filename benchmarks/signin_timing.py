"""Sign-in time for a real account's wrong password and for an address without an
account: they must be alike, or the time tells a stranger which addresses have accounts.

Run: .venv/bin/python benchmarks/signin_timing.py [--runs 30]

A fresh app in a temporary folder (SQLite, the production password hash: werkzeug's
scrypt) with one account; each kind of attempt is posted to /sign-in --runs times,
alternating, after a warm-up. Prints the median and the 10th/90th percentiles in ms,
and the same for the services call alone ("old" is what an unknown address cost
before a dummy hash was checked: the lookup alone).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _stats(samples: list[float]) -> str:
    qs = statistics.quantiles(samples, n=10)
    return f"median {statistics.median(samples):7.1f} ms   p10 {qs[0]:7.1f}   p90 {qs[-1]:7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="consult-signin-"))
    os.environ["CONSULT_INSTANCE_PATH"] = str(folder / "instance")
    os.environ["CONSULT_RATELIMIT_STORAGE"] = "memory://"
    from consult import create_app
    from consult.accounts import services
    from consult.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "INDEX_DIR": str(folder / "index"),
        }
    )
    with app.app_context():
        db.create_all()
        services.create_user("real@example.org", "the right password", role="secretariat")
        db.session.commit()
        method = app.config["PASSWORD_HASH_METHOD"]

    client = app.test_client()
    attempts = {
        "real account, wrong password": {"email": "real@example.org", "password": "wrong guess 1"},
        "unknown address": {"email": "nobody@example.org", "password": "wrong guess 1"},
    }
    page: dict[str, list[float]] = {k: [] for k in attempts}
    for i in range(args.runs + 3):
        for name, data in attempts.items():
            t = time.perf_counter()
            status = client.post("/sign-in", data=data).status_code
            elapsed = (time.perf_counter() - t) * 1000
            assert status == 400, status
            if i >= 3:  # warm-up
                page[name].append(elapsed)

    service: dict[str, list[float]] = {k: [] for k in attempts}
    service["unknown address, lookup only (old)"] = []
    with app.test_request_context():
        for i in range(args.runs + 3):
            for name, data in attempts.items():
                t = time.perf_counter()
                assert services.authenticate(data["email"], data["password"]) is None
                if i >= 3:
                    service[name].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            services.get_user_by_email("nobody@example.org")
            if i >= 3:
                service["unknown address, lookup only (old)"].append(
                    (time.perf_counter() - t) * 1000
                )

    print(f"password hash: {method}; {args.runs} runs each")
    print("POST /sign-in")
    for name, samples in page.items():
        print(f"  {name:36} {_stats(samples)}")
    print("services.authenticate")
    for name, samples in service.items():
        print(f"  {name:36} {_stats(samples)}")


if __name__ == "__main__":
    main()
