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
    "StorageError",
    "DatabaseError",
    "storage_error",
    "os_reason",
]


class ZlgisError(Exception):
    """Base class. ``str(err)`` is the user-facing (Chinese) message."""

    exit_code: int = 2

    def __init__(self, message: str, *, path: str | None = None, layer: str | None = None,
                 row: int | None = None, field: str | None = None) -> None:
        self.path, self.layer, self.row, self.field = path, layer, row, field
        where = []
        if path:  # a database source (postgresql://...) is not a file
            where.append(f"{'数据源' if '://' in path else '文件'} {path}")
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


class StorageError(ZlgisError):
    """An output or ledger path cannot be written: disk full, read-only, no permission (exit 2).

    Nothing was changed: outputs are written atomically and the ledger in one transaction.
    """


class DatabaseError(ZlgisError):
    """A database server refused the login, cannot be reached, lost the connection or refused an
    operation (exit 2). ``where`` names the server and database (never a password); the ledger
    was left unchanged (one transaction).
    """

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.where = where
        if where:
            self.args = (f"{where}：{message}",)

    def __str__(self) -> str:
        return str(self.args[0])


#: Chinese reasons for the errno values a bureau meets on output and ledger paths.
_ERRNO_REASONS = {
    "ENOSPC": "磁盘空间不足", "EDQUOT": "磁盘配额已用完", "EROFS": "文件系统为只读",
    "EACCES": "没有写入权限", "EPERM": "没有写入权限", "EIO": "磁盘读写错误",
    "ENOENT": "路径不存在", "ENOTDIR": "路径中有一段不是文件夹", "EISDIR": "目标是文件夹",
    "ENAMETOOLONG": "路径过长", "EMFILE": "打开的文件过多",
}


def os_reason(exc: OSError) -> str:
    """The Chinese reason of an ``OSError`` (disk full, read-only, no permission ...).

    >>> import errno
    >>> os_reason(OSError(errno.EROFS, "Read-only file system"))
    '文件系统为只读'
    """
    import errno as _errno

    return _ERRNO_REASONS.get(_errno.errorcode.get(exc.errno or 0, ""), exc.strerror or str(exc))


def storage_error(exc: OSError, path: str | None = None) -> StorageError:
    """A :class:`StorageError` saying what failed and where, from an ``OSError``.

    >>> import errno
    >>> str(storage_error(OSError(errno.ENOSPC, "No space left on device", "/srv/out/a.html")))
    '文件 /srv/out/a.html：写入失败：磁盘空间不足（已有输出和台账未改变）'
    """
    where = path or (str(exc.filename) if exc.filename else None)
    return StorageError(f"写入失败：{os_reason(exc)}（已有输出和台账未改变）", path=where)


class LockedError(ZlgisError):
    """Another run holds the lock."""

    exit_code = 3
