"""Users, roles, sessions and CSRF tokens for the portal's administrative pages.

Roles: `public` (no account: the open portal), `analyst` (load status, the reconciliation
review queue), `admin` (also the list of users). Passwords are stored as argon2id hashes
(argon2-cffi) in the workspace's `users.json`, written by `segura users`; the portal only reads
it. Sessions live in `portal_sessions.sqlite` beside it (shared by every worker process): a
random token in an HttpOnly, SameSite=Strict cookie, with its own CSRF token that every form
that changes something must send back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from segura.errors import SeguraError

ROLES = ("analyst", "admin")
RANK = {"public": 0, "analyst": 1, "admin": 2}
NAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
MIN_PASSWORD = 10
_hasher = PasswordHasher()
_dummy: list[str] = []


def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so both answers take the same time."""
    if not _dummy:
        _dummy.append(_hasher.hash(secrets.token_hex(16)))
    return _dummy[0]


class UserError(SeguraError):
    exit_code = 2


def users_path(root: Path) -> Path:
    return root / "users.json"


def _read(root: Path) -> dict[str, dict[str, Any]]:
    p = users_path(root)
    if not p.is_file():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(p.read_text(encoding="utf-8"))
    return data


def _write(root: Path, users: dict[str, dict[str, Any]]) -> None:
    p = users_path(root)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(users, indent=1, ensure_ascii=False), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, p)


def add_user(root: Path, name: str, password: str, role: str) -> None:
    if not NAME_RE.match(name):
        raise UserError(f"user name {name!r}: 2-32 characters, lower-case letters, digits, '.', '_' or '-', "
                        "starting with a letter")
    if role not in ROLES:
        raise UserError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password needs at least {MIN_PASSWORD} characters")
    users = _read(root)
    users[name] = {"role": role, "hash": _hasher.hash(password),
                   "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()}
    _write(root, users)


def remove_user(root: Path, name: str) -> bool:
    users = _read(root)
    if name not in users:
        return False
    del users[name]
    _write(root, users)
    return True


def list_users(root: Path) -> list[tuple[str, str, str]]:
    return [(n, u["role"], u.get("created", "")) for n, u in sorted(_read(root).items())]


def authenticate(root: Path, name: str, password: str) -> str | None:
    """The user's role if the password is right, else None (same work either way)."""
    user = _read(root).get(name)
    try:
        _hasher.verify(user["hash"] if user else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return str(user["role"]) if user else None


@dataclass
class Session:
    user: str
    role: str
    csrf: str
    expires: dt.datetime


class Sessions:
    """Server-side sessions in a SQLite file of the workspace, so every worker process of
    `segura serve --workers K` knows them. Only a SHA-256 of each token is stored."""

    def __init__(self, path: Path, hours: float = 8.0) -> None:
        self.path = path
        self.hours = hours
        self._lock = threading.Lock()
        with closing(self._db()) as db:
            db.execute("CREATE TABLE IF NOT EXISTS session (token_sha256 TEXT PRIMARY KEY, user TEXT NOT NULL, "
                       "role TEXT NOT NULL, csrf TEXT NOT NULL, expires TEXT NOT NULL)")

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        os.chmod(self.path, 0o600)
        return db

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def create(self, user: str, role: str) -> str:
        token = secrets.token_urlsafe(32)
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=self.hours)
        with self._lock, closing(self._db()) as db:
            db.execute("DELETE FROM session WHERE expires < ?", [dt.datetime.now(dt.UTC).isoformat()])
            db.execute("INSERT INTO session VALUES (?, ?, ?, ?, ?)",
                       [self._key(token), user, role, secrets.token_urlsafe(32), expires.isoformat()])
        return token

    def get(self, token: str | None) -> Session | None:
        if not token or len(token) > 128:
            return None
        with self._lock, closing(self._db()) as db:
            row = db.execute("SELECT user, role, csrf, expires FROM session WHERE token_sha256 = ?",
                             [self._key(token)]).fetchone()
        if row is None:
            return None
        expires = dt.datetime.fromisoformat(row[3])
        if expires < dt.datetime.now(dt.UTC):
            self.end(token)
            return None
        return Session(row[0], row[1], row[2], expires)

    def end(self, token: str | None) -> None:
        if not token:
            return
        with self._lock, closing(self._db()) as db:
            db.execute("DELETE FROM session WHERE token_sha256 = ?", [self._key(token)])


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens (False when either is missing)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
