"""Typed exceptions, all in one place.

Every error about the user's data carries a Chinese message that names the file, layer, row and
field where known, and an exit code for the CLI: 1 for problems found in readable data, 2 for input
that cannot be read at all.
"""

from __future__ import annotations

__all__ = [
    "ZlgisError",
    "CatalogError",
    "ConfigError",
    "InputError",
    "UnreadableInputError",
    "CRSError",
    "ValidationError",
    "LayerError",
    "LedgerError",
    "LockedError",
]


class ZlgisError(Exception):
    """Base class. ``str(err)`` is the user-facing (Chinese) message."""

    exit_code: int = 2

    def __init__(self, message: str, *, path: str | None = None, layer: str | None = None,
                 row: int | None = None, field: str | None = None) -> None:
        self.path, self.layer, self.row, self.field = path, layer, row, field
        where = []
        if path:
            where.append(f"文件 {path}")
        if layer:
            where.append(f"图层 {layer}")
        if row is not None:
            where.append(f"第 {row} 行")
        if field:
            where.append(f"字段 {field}")
        self.message = message
        super().__init__(("，".join(where) + "：" if where else "") + message)


class CatalogError(ZlgisError):
    """The layer catalog is missing, unreadable or inconsistent."""


class ConfigError(ZlgisError):
    """A rule configuration file is missing or holds an invalid value."""


class InputError(ZlgisError):
    """Input data is readable but wrong (exit code 1)."""

    exit_code = 1


class UnreadableInputError(ZlgisError):
    """Input cannot be read at all: missing, empty, truncated, unknown format (exit code 2)."""


class CRSError(ZlgisError):
    """The coordinate system is missing, ambiguous or contradicts the coordinates."""


class ValidationError(InputError):
    """Validation found problems that stop the run."""


class LayerError(ZlgisError):
    """A layer needed by a step could not be loaded."""


class LedgerError(ZlgisError):
    """The ledger or an edited ledger sheet is invalid; the ledger was left unchanged."""

    exit_code = 1


class LockedError(ZlgisError):
    """Another run holds the lock."""

    exit_code = 3
