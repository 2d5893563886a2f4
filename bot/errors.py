"""One hierarchy for failures a user sees. Each carries a catalog key and its arguments;
the router renders it in the chat's language. Everything else is logged, not shown."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """A failure explained to the user with the catalog text ``key``."""

    def __init__(self, key: str, **kwargs: Any) -> None:
        super().__init__(key)
        self.key = key
        self.kwargs = kwargs


class UsageError(UserError):
    """Wrong arguments: the router adds the command's usage line and a pointer to /hilfe."""

    def __init__(self, key: str = "core.error.usage", **kwargs: Any) -> None:
        super().__init__(key, **kwargs)


class PermissionDenied(UserError):
    def __init__(self, key: str = "core.error.permission", **kwargs: Any) -> None:
        super().__init__(key, **kwargs)


class NotFound(UserError):
    pass


class InvalidInput(UserError):
    pass


class ConfigError(Exception):
    """The configuration cannot be used. The CLI prints it and exits with code 2."""
