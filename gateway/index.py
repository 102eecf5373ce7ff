"""Queries over the gateway's read model (see gateway/db.py): what the query API answers."""

from __future__ import annotations

from sqlalchemy.engine import Engine


class Index:
    """Read-only queries over the read model; safe to share between request threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
