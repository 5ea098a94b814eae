"""Where the couple's data lives, and how it is written: private to the user, atomically.

One rule for the data directory, used by every command: `$FACILITATOR_DATA_DIR` when set,
else `[session] data_dir` from config.toml, else the platform's user data directory
(`~/.local/share/facilitator` on Linux). Session records live in `<data dir>/sessions`,
saved voice profiles in `<data dir>/voices` unless `[speakers] profiles_dir` says otherwise.

Everything written here is intimate (full transcripts, voice features), so files are
created 0600 and folders 0700 whatever the process umask, and files other than the
append-only record are replaced atomically (written beside, then renamed).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ENV_DATA_DIR = "FACILITATOR_DATA_DIR"
FILE_MODE = 0o600
DIR_MODE = 0o700


def data_dir(configured: str | os.PathLike | None = "") -> Path:
    """The data directory: the environment variable, else the config's, else the platform's."""
    if os.environ.get(ENV_DATA_DIR):
        return Path(os.environ[ENV_DATA_DIR]).expanduser()
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("facilitator", appauthor=False))


def sessions_dir(configured: str | os.PathLike | None = "") -> Path:
    return data_dir(configured) / "sessions"


def profiles_dir(configured_profiles: str | os.PathLike | None,
                 configured_data: str | os.PathLike | None = "") -> Path:
    """Saved voice profiles: `[speakers] profiles_dir`, else `<data dir>/voices`."""
    if configured_profiles:
        return Path(configured_profiles).expanduser()
    return data_dir(configured_data) / "voices"


def session_voices_dir(record: str | os.PathLike) -> Path:
    """Where a session keeps its partners' voice profiles until it ends (for `resume`)."""
    return Path(record).with_suffix(".voices")


def private_dir(path: str | os.PathLike) -> Path:
    """Make `path` (and missing parents) a folder only the user can open; returns it.

    Folders that already existed above it are left as they are; the folder itself is made
    0700 even when it existed before."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass
        os.chmod(folder, DIR_MODE)
    if path.is_dir():
        try:
            os.chmod(path, DIR_MODE)
        except PermissionError:
            pass   # a folder of someone else's (e.g. /tmp): its files are still 0600
    return path


def write_private(path: str | os.PathLike, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Replace `path` atomically with `data`, readable by the user only (0600)."""
    path = Path(path)
    private_dir(path.parent)
    payload = data.encode(encoding) if isinstance(data, str) else data
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def create_private(path: str | os.PathLike, append: bool = False):
    """Open a new file for appending, 0600; refuses one that exists unless `append`.

    Raises FileExistsError for an existing file when not appending."""
    path = Path(path)
    private_dir(path.parent)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | (0 if append else os.O_EXCL)
    descriptor = os.open(path, flags, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    return os.fdopen(descriptor, "a", encoding="utf-8")
