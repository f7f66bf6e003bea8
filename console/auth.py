"""Console users, roles and sessions.

Passwords are stored as argon2id hashes. A session is a random token in an HttpOnly,
SameSite=Strict cookie; the database keeps only its sha256, with a CSRF token that every
form posts back. Sessions end after IDLE of inactivity or ABSOLUTE after sign-in, and when
the user's credential version moves on: a new password, disabling or enabling the user, a
new role. A session opened before that never works again.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import ConsoleSession, ConsoleUser

ROLES = ("supervisor", "qa", "admin", "agent")
STAFF = frozenset({"supervisor", "qa", "admin"})  # the back office: every role but agents
IDLE = timedelta(minutes=30)
# Being seen is written at most this often: open pages' event streams ask every half
# second, and each write would take the database's one writer from the call records.
TOUCH_EVERY = timedelta(seconds=60)
ABSOLUTE = timedelta(hours=8)
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # longer is not a password anyone types; never hashed
MAX_USERNAME = 64

# What each role may do. Supervisors handle calls and complaints and listen live; QA scores
# recordings; admins may also lift legal holds. Agents have their desk only: their own calls
# and the customers they are serving, never recordings. Nobody can edit the audit log.
PERMISSIONS: dict[str, frozenset[str]] = {
    "search": STAFF,
    "play": STAFF,
    "download": frozenset({"supervisor", "admin"}),
    "score": STAFF,
    "hold": frozenset({"supervisor", "admin"}),
    "release": frozenset({"admin"}),
    "complaints": frozenset({"supervisor", "admin"}),
    "followups": frozenset({"supervisor", "admin"}),
    "kpis": STAFF,
    "live": frozenset({"supervisor"}),
    "audit": frozenset({"supervisor", "admin"}),
    "desk": frozenset({"agent"}),
    "presence": frozenset({"supervisor", "admin"}),  # every agent's, on the live page
    "wallboard": frozenset({"supervisor", "admin"}),  # queues and agents now, live
}

_hasher = PasswordHasher()
# Verified against when the user does not exist, so that timing does not tell names apart.
_DUMMY_HASH = _hasher.hash("not-a-password-" + secrets.token_hex(8))


class AuthError(ValueError):
    pass


@dataclass(frozen=True)
class Viewer:
    username: str
    role: str
    csrf_token: str
    agent_id: str | None = None  # the agent id an agent's user is bound to
    language: str | None = None  # the console's language the user chose; None: default

    def may(self, action: str) -> bool:
        return self.role in PERMISSIONS[action]


def add_user(session: Session, username: str, password: str, role: str,
             now: datetime, agent_id: str | None = None,
             known_agents: frozenset[str] = frozenset()) -> ConsoleUser:
    """`agent_id`: for the agent role, the agent of routing/agents.yaml (one of
    `known_agents`) the user answers calls as."""
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "agent" and agent_id not in known_agents:
        raise AuthError(f"an agent's user needs the agent id they answer as (--agent), one "
                        f"of routing/agents.yaml: {', '.join(sorted(known_agents)) or 'none'}")
    if role != "agent" and agent_id is not None:
        raise AuthError("only the agent role is bound to an agent id")
    holder = session.scalar(select(ConsoleUser).where(ConsoleUser.agent_id == agent_id,
                                                      ConsoleUser.username != username)
                            ) if agent_id else None
    if holder is not None:
        raise AuthError(f"agent {agent_id} is already {holder.username}'s")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"a password needs at least {MIN_PASSWORD} characters")
    if not username or len(username) > 64 or not username.replace("-", "").replace(
            "_", "").replace(".", "").isalnum():
        raise AuthError("a username is up to 64 letters, digits, '-', '_' or '.'")
    if len(password) > MAX_PASSWORD:
        raise AuthError(f"a password has at most {MAX_PASSWORD} characters")
    user = session.get(ConsoleUser, username)
    if user is None:
        user = ConsoleUser(username=username, created_at=now, password_hash="", role=role,
                           credential_version=0)
        session.add(user)
    user.password_hash = _hasher.hash(password)
    user.role = role
    user.agent_id = agent_id
    user.disabled = False
    _new_credential(session, user)
    return user


def disable_user(session: Session, username: str) -> bool:
    """Disable a user; their sessions end at once and never come back. False: no user."""
    user = session.get(ConsoleUser, username)
    if user is None:
        return False
    user.disabled = True
    _new_credential(session, user)
    return True


def _new_credential(session: Session, user: ConsoleUser) -> None:
    user.credential_version = (user.credential_version or 0) + 1
    session.execute(delete(ConsoleSession).where(ConsoleSession.username == user.username))
    session.flush()


def authenticate(session: Session, username: str, password: str) -> ConsoleUser | None:
    user = session.get(ConsoleUser, username)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: ConsoleUser, now: datetime) -> str:
    """A new session for `user`; returns the cookie's token (never stored as such)."""
    token = secrets.token_urlsafe(32)
    session.add(ConsoleSession(token_hash=_token_hash(token), username=user.username,
                               csrf_token=secrets.token_urlsafe(32), created_at=now,
                               last_seen=now, expires_at=now + ABSOLUTE,
                               credential_version=user.credential_version))
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
    return token


def viewer(session: Session, token: str | None, now: datetime) -> Viewer | None:
    """Who holds this session token, if it is still valid (and keep it alive)."""
    if not token:
        return None
    found = session.get(ConsoleSession, _token_hash(token))
    if found is None:
        return None
    if now >= found.expires_at or now - found.last_seen >= IDLE:
        session.delete(found)
        return None
    user = session.get(ConsoleUser, found.username)
    if user is None or user.disabled or found.credential_version != user.credential_version:
        session.delete(found)
        return None
    if now - found.last_seen >= TOUCH_EVERY:
        found.last_seen = now
    return Viewer(user.username, user.role, found.csrf_token, user.agent_id, user.language)


def set_language(session: Session, username: str, language: str) -> None:
    user = session.get(ConsoleUser, username)
    if user is not None:
        user.language = language


def close_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(ConsoleSession).where(
            ConsoleSession.token_hash == _token_hash(token)))


def users(session: Session) -> list[ConsoleUser]:
    return list(session.scalars(select(ConsoleUser).order_by(ConsoleUser.username)))
