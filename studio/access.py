"""Who may do what. Read once from the environment where the app is built, then passed in.

Without STUDIO_ADMIN_TOKEN the app is in local single-user mode: every action is open and no quota
applies unless one is set. With it (a public Space), admin actions (loading and unloading models,
shipped configs and Ray runs, administering listening tests) need a browser session signed in with the
token, and anonymous requests run within `QuotaSettings.PUBLIC` unless the environment says otherwise.

>>> policy = AccessPolicy(admin_token="correct-horse-battery")
>>> sessions = AdminSessions(policy)
>>> sessions.is_admin("a"), sessions.sign_in("a", "correct-horse-battery"), sessions.is_admin("a")
(False, True, True)
"""

from __future__ import annotations

import hmac
import os
import threading
from dataclasses import dataclass, field
from typing import Mapping

from studio.errors import ConfigError, StudioError
from studio.quotas import QuotaSettings

MIN_TOKEN_CHARS = 8


class AdminRequired(StudioError):
    """An admin action asked for by a session that has not signed in with the admin token."""


@dataclass(frozen=True)
class AccessPolicy:
    admin_token: str | None = None  # STUDIO_ADMIN_TOKEN: None = local single-user mode, every action open
    quotas: QuotaSettings = field(default_factory=QuotaSettings)  # what anonymous requests may use
    max_loaded_mb: float | None = None  # STUDIO_MAX_LOADED_MB: memory the loaded models may hold (None: no cap)

    def __post_init__(self) -> None:
        if self.admin_token is not None and len(self.admin_token) < MIN_TOKEN_CHARS:
            raise ConfigError(f"STUDIO_ADMIN_TOKEN is shorter than {MIN_TOKEN_CHARS} characters; "
                              "use a long random value")
        if self.max_loaded_mb is not None and self.max_loaded_mb <= 0:
            raise ConfigError(f"STUDIO_MAX_LOADED_MB must be positive; got {self.max_loaded_mb:g}")

    @property
    def public(self) -> bool:
        return self.admin_token is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "AccessPolicy":
        token = environ.get("STUDIO_ADMIN_TOKEN") or None
        budget = environ.get("STUDIO_MAX_LOADED_MB", "").strip()
        try:
            max_loaded_mb = float(budget) if budget else None
        except ValueError:
            raise ConfigError(f"STUDIO_MAX_LOADED_MB must be a number of MB; got {budget!r}") from None
        return cls(token, QuotaSettings.from_env(environ, public=token is not None), max_loaded_mb)

    def token_matches(self, token: str | None) -> bool:
        """Whether `token` is the admin token, compared in constant time; always True in local mode."""
        if self.admin_token is None:
            return True
        return hmac.compare_digest((token or "").encode(), self.admin_token.encode())


class AdminSessions:
    """The browser sessions (Gradio's `session_hash`) signed in with the admin token, kept in memory:
    a restarted app forgets them, and each replica of a deployment signs in on its own."""

    def __init__(self, policy: AccessPolicy):
        self.policy = policy
        self._lock = threading.Lock()
        self._signed_in: set[str] = set()

    def sign_in(self, session: str, token: str | None) -> bool:
        """Mark `session` as admin when `token` is right; raises `AdminRequired` when it is not."""
        if not self.policy.token_matches(token):
            raise AdminRequired("that is not the admin token (STUDIO_ADMIN_TOKEN); this session stays anonymous")
        with self._lock:
            self._signed_in.add(session)
        return True

    def sign_out(self, session: str) -> None:
        with self._lock:
            self._signed_in.discard(session)

    def is_admin(self, session: str) -> bool:
        return not self.policy.public or session in self._signed_in

    def require(self, session: str, action: str) -> None:
        if not self.is_admin(session):
            raise AdminRequired(f"{action} needs the admin token: sign in with STUDIO_ADMIN_TOKEN under "
                                "“Admin sign-in” in the Models tab (API: /admin_sign_in)")
