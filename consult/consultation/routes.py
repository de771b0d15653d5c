"""Pages of the consultation part."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("consultation", __name__)
