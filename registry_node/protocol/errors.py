"""Error types shared by the office node's modules; the API and CLI map them to messages in one place."""

from __future__ import annotations


class RegistryError(Exception):
    """Base of every error the node raises on purpose."""


class ConfigError(RegistryError):
    """A configuration value is missing or invalid; the message names the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
