"""Roles and quotas where the tabs bind their callbacks, so the tabs stay thin.

`build_app` builds the tabs inside `with gated(Gate(policy)):`; `ui.common.bind(callback, registry,
admin="load a model")` then checks the browser session is signed in as admin, and `job=True` runs the
callback within the quotas (admins signed in on a public app are exempt). Tabs built alone, and the
local single-user mode without quotas, get their callbacks back untouched.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
from typing import Callable, Iterator

import gradio as gr

from studio.access import AccessPolicy, AdminSessions
from studio.quotas import Quotas


class Gate:
    """One app's admin sessions and quotas."""

    def __init__(self, policy: AccessPolicy):
        self.policy = policy
        self.admins = AdminSessions(policy)
        self.quotas = Quotas(policy.quotas) if policy.quotas.any else None

    def guard(self, callback: Callable, admin: str = "", job: bool = False,
              on_timeout: Callable[[str], None] | None = None) -> Callable:
        """`callback` behind the admin check (`admin`: the action, as messages name it) and the quotas (`job`);
        they raise `StudioError`s (the caller shows them as `gr.Error`). `on_timeout(session)` is called when a
        request runs past its wall time. `callback` itself when nothing applies."""
        checks_admin = bool(admin) and self.policy.public
        limited = job and self.quotas is not None
        if not (checks_admin or limited):
            return callback

        def admitted(request: gr.Request | None) -> str:
            session = _session(request)
            if checks_admin:
                self.admins.require(session, admin)
            return session

        def exempt(session: str) -> bool:
            return not limited or (self.policy.public and self.admins.is_admin(session))

        def stopper(session: str) -> Callable[[], None] | None:
            return (lambda: on_timeout(session)) if on_timeout else None

        if inspect.isgeneratorfunction(callback):
            @functools.wraps(callback)
            def guarded(request: gr.Request, *args, **kwargs):
                session = admitted(request)
                if exempt(session):
                    yield from callback(*args, **kwargs)
                else:
                    yield from self.quotas.run(session, lambda: callback(*args, **kwargs), stopper(session))
        else:
            @functools.wraps(callback)
            def guarded(request: gr.Request, *args, **kwargs):
                session = admitted(request)
                if exempt(session):
                    return callback(*args, **kwargs)
                results = list(self.quotas.run(session, lambda: iter([callback(*args, **kwargs)]), stopper(session)))
                return results[0] if results else None

        # Gradio injects the request into the first parameter and then the callback's own special parameters
        # (its request, progress) where they stand, so the callback keeps them.
        signature = inspect.signature(callback)
        guarded.__signature__ = signature.replace(parameters=[
            inspect.Parameter("gate_request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request),
            *signature.parameters.values()])
        guarded.__annotations__ = {**getattr(callback, "__annotations__", {}), "gate_request": gr.Request}
        return guarded


def _session(request: gr.Request | None) -> str:
    return (request.session_hash if request is not None else None) or "local"


_LOCAL = Gate(AccessPolicy())
_current: contextvars.ContextVar[Gate] = contextvars.ContextVar("gate", default=_LOCAL)


@contextlib.contextmanager
def gated(gate: Gate) -> Iterator[Gate]:
    """Tabs built inside bind their callbacks through `gate`."""
    token = _current.set(gate)
    try:
        yield gate
    finally:
        _current.reset(token)


def current_gate() -> Gate:
    return _current.get()
