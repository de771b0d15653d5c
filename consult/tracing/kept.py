"""Derived results of frozen inputs, computed once and kept as JSON files.

Files live under instance/cache/<kind>/, named by a hash of everything the result is
made from, so a change of inputs simply names another file and nothing needs to be
invalidated. A file is written once, atomically (a temporary file renamed), so
processes sharing the folder never read half of one. A file that cannot be read or
written is computed again: the cache only ever saves time.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from flask import current_app


def key_of(*parts: Any) -> str:
    """A hash of JSON-serialisable parts, in order."""
    h = hashlib.sha256()
    for part in parts:
        h.update(json.dumps(part, ensure_ascii=False, default=str).encode())
        h.update(b"\0")
    return h.hexdigest()


def _path(kind: str, key: str) -> Path:
    return Path(current_app.instance_path) / "cache" / kind / f"{key}.json"


def load(kind: str, key: str) -> Any | None:
    """What was kept under `key`, or None."""
    try:
        return json.loads(_path(kind, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def keep(kind: str, key: str, data: Any) -> None:
    path = _path(kind, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{kind}-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        current_app.logger.warning("Could not keep the %s in %s", kind, path, exc_info=True)
