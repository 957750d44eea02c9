"""Reading the files a scenario names (the scenario itself, its bases, its data files).

Only regular files are read: a pipe would block the loader until something writes to it,
and a device such as /dev/zero never ends. A file larger than the caller's limit is
refused before it is read: it cannot be a scenario or a column of measurements, and
reading it could take all the memory.
"""

from __future__ import annotations

import errno
import os
import stat


class NotAFile(OSError):
    """The name is a pipe, a device or a socket, or the file is far too large."""


def read_bytes(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; OSError otherwise (so that
    each caller places the problem where the file was named)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # (a pipe: no wait)
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(fd)
        if stat.S_ISDIR(mode.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a directory, not a file", str(path))
        if not stat.S_ISREG(mode.st_mode):
            raise NotAFile(errno.EINVAL, "it is not a regular file (a device, pipe or "
                                         "socket)", str(path))
        if mode.st_size > limit:
            raise NotAFile(errno.EFBIG, f"it is {mode.st_size:,} bytes, more than the "
                                        f"{limit:,} a file here may have", str(path))
        return f.read(limit + 1)


def unreadable(exc: OSError) -> str:
    """A short reason why a file cannot be read."""
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "it is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return getattr(exc, "strerror", None) or str(exc)
