"""One build at a time per index directory: an exclusive ``flock`` on a file in the index directory.

Two builds at once would pick the same generation number, and each one's sweep would delete the other's
half-written generation. A second build fails fast with BuildLockedError instead of waiting: a build can
take minutes, a silent wait looks like a hang, and once the running build has finished a rerun is cheap
(unchanged clauses reuse their cached vectors). The operating system releases the lock when its process
dies, so a killed build never leaves a stale lock behind.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import BuildLockedError

LOCK_FILE = "build.lock"


@contextmanager
def build_lock(index_root: Path) -> Iterator[None]:
    """Hold the build lock of an index directory while the block runs; BuildLockedError if another build
    (another process, or another thread of this one) holds it."""
    with open(Path(index_root) / LOCK_FILE, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "holder unknown"
            raise BuildLockedError(
                f"another build is running on {index_root} ({holder}); try again when it has finished"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {dt.datetime.now().isoformat(timespec='seconds')}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
