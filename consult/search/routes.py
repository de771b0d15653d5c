"""Pages of the search part."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("search", __name__)
