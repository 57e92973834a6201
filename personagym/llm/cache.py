"""An on-disk cache of completions, keyed by a hash of the request.

Why: a rerun of the same batch (same requests, same model) gives the same
completions without calling the model again, which makes runs reproducible and
resumes after a crash cheap.  Only successful completions are stored, so a
failure is always retried on the next run.

Storage is one SQLite file in WAL mode: every `put` is its own transaction, so
a process killed mid-write leaves either the whole entry or none of it.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from pydantic import ValidationError

from personagym.llm.types import Completion

_SCHEMA = "CREATE TABLE IF NOT EXISTS completions (key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"


class ResponseCache:
    """Completions by cache key in one SQLite file (created with its parent folders if missing).

    Meant for one event loop: lookups and writes are short synchronous calls.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise ValueError(f"cache path {str(self.path)!r} is a directory; expected a file path such as 'llm.sqlite'")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.execute(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise ValueError(f"cache path {str(self.path)!r} is not an LLM cache file ({exc})") from exc

    def get(self, key: str) -> Completion | None:
        """The stored completion for `key`, marked `cached=True` with 0 attempts; None if absent or unreadable."""
        row = self._db.execute("SELECT value FROM completions WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            completion = Completion.model_validate_json(row[0])
        except ValidationError:
            return None  # written by an incompatible version: treat as a miss, the next put replaces it
        return completion.model_copy(update={"cached": True, "attempts": 0})

    def put(self, key: str, completion: Completion) -> None:
        """Store a successful completion under `key` (failed ones are refused: they must be retried next time)."""
        if not completion.ok:
            raise ValueError(f"only successful completions are cached; got error {completion.error!r}")
        value = completion.model_copy(update={"cached": False}).model_dump_json()
        self._db.execute(
            "INSERT OR REPLACE INTO completions (key, value, created) VALUES (?, ?, ?)", (key, value, time.time())
        )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM completions").fetchone()[0])

    def __contains__(self, key: object) -> bool:
        return self._db.execute("SELECT 1 FROM completions WHERE key = ?", (key,)).fetchone() is not None

    def close(self) -> None:
        """Close the database (entries written so far stay on disk)."""
        self._db.close()
