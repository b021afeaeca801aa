"""The embedded store's directory and files are its owner's alone: the directory 0700, each file 0600.

The log holds every write token's work and the development token sits beside it; with the usual umask (022)
SQLite made them readable by every account on the machine. SQLite gives a database's -wal and -shm files the
permissions of the database file, so creating that file 0600 before SQLite opens it covers all three.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Creates the directory (and missing parents) 0700; one that exists keeps the mode its owner gave it."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
        path.chmod(DIRECTORY_MODE)  # mkdir's mode passes through the umask
    return path


def private_file(path: Path) -> Path:
    """Creates an empty file 0600 if there is none (an empty file is an empty SQLite database)."""
    if not path.exists():
        private_dir(path.parent)
        with contextlib.suppress(FileExistsError):  # another process made it at the same moment
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    return path


def write_private(path: Path, text: str) -> bool:
    """Writes a new file 0600 from the start (never readable by others, not even for a moment); False if it
    was already there, in which case it is left as it is."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return True
