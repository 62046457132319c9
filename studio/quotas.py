"""Quotas for a shared app: one running request per browser session, a capped queue, a request rate per
session and a wall-time limit per request. Each refusal is a `QuotaExceeded` naming the limit and its
environment variable.

`Quotas.run(session, work)` runs one request (`work`: a function returning an iterator of results; a
plain callback yields once) in a thread of its own, so the caller can stop waiting at the wall-time limit.
Nothing can safely interrupt a model mid-call, so a request past its limit is told so at once and its work
stops at its next result (a generator) or finishes in the background; its session's running slot and its
place among the running requests stay taken until then, so timed-out work cannot pile up.

>>> quotas = Quotas(QuotaSettings(requests_per_minute=1))
>>> list(quotas.run("session", lambda: iter(["done"])))
['done']
>>> list(quotas.run("session", lambda: iter(["again"])))
Traceback (most recent call last):
...
studio.quotas.QuotaExceeded: too many requests: at most 1 a minute per browser session (STUDIO_REQUESTS_PER_MINUTE); try again in 60 s
"""

from __future__ import annotations

import contextvars
import math
import queue
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, fields, replace
from typing import Callable, Iterator, Mapping, TypeVar

from studio.errors import ConfigError, StudioError

T = TypeVar("T")
MAX_TRACKED_SESSIONS = 1000  # past this many sessions with a rate window, quiet ones are forgotten

# The environment variable behind each quota; messages name it so a deployer knows what to change.
QUOTA_ENV = {
    "jobs_per_session": "STUDIO_JOBS_PER_SESSION",
    "running_jobs": "STUDIO_RUNNING_JOBS",
    "queue_size": "STUDIO_QUEUE_SIZE",
    "requests_per_minute": "STUDIO_REQUESTS_PER_MINUTE",
    "request_seconds": "STUDIO_REQUEST_SECONDS",
}


class QuotaExceeded(StudioError):
    """A request refused or stopped by a quota; the message names the limit and how to set it."""


@dataclass(frozen=True)
class QuotaSettings:
    """The limits; None means no limit. Local mode has none unless set; a public app starts from `PUBLIC`."""

    jobs_per_session: int | None = None  # STUDIO_JOBS_PER_SESSION: requests one browser session may have running
    running_jobs: int | None = None  # STUDIO_RUNNING_JOBS: requests that run at once; later ones wait in the queue
    queue_size: int | None = None  # STUDIO_QUEUE_SIZE: requests waiting behind the running ones (needs running_jobs)
    requests_per_minute: int | None = None  # STUDIO_REQUESTS_PER_MINUTE: requests one session may start a minute
    request_seconds: float | None = None  # STUDIO_REQUEST_SECONDS: wall time of one request once it runs

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is not None and value <= 0:
                raise ConfigError(f"{QUOTA_ENV[field.name]} must be positive (or 0 for no limit); got {value}")
        if self.queue_size is not None and self.running_jobs is None:
            raise ConfigError("STUDIO_QUEUE_SIZE caps the requests waiting for one of STUDIO_RUNNING_JOBS; "
                              "set STUDIO_RUNNING_JOBS too")

    @property
    def any(self) -> bool:
        return any(getattr(self, field.name) is not None for field in fields(self))

    def describe(self) -> str:
        """The limits in one line for visitors, e.g. '1 running request per session · 20 requests a minute'."""
        parts = [f"{self.jobs_per_session} running request(s) per session" if self.jobs_per_session else "",
                 f"{self.requests_per_minute} requests a minute" if self.requests_per_minute else "",
                 f"{self.request_seconds:g} s per request" if self.request_seconds else "",
                 f"{self.running_jobs} requests run at once" if self.running_jobs else "",
                 f"{self.queue_size} wait" if self.queue_size else ""]
        return " · ".join(p for p in parts if p) or "no quotas"

    @classmethod
    def from_env(cls, environ: Mapping[str, str], public: bool) -> "QuotaSettings":
        """`PUBLIC` (public) or no limits (local), with each variable that is set laid over; 0 turns a limit off."""
        values = {}
        for field in fields(cls):
            name = QUOTA_ENV[field.name]
            raw = environ.get(name)
            if raw is None or not raw.strip():
                continue
            try:
                number = int(raw) if field.name != "request_seconds" else float(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a {'' if field.name == 'request_seconds' else 'whole '}number; "
                                  f"got {raw!r}") from None
            values[field.name] = number or None
        return replace(PUBLIC if public else cls(), **values)


# A public app (STUDIO_ADMIN_TOKEN set) on a small Space: two requests run at once (the app's CPU threads
# are shared by them), eight wait, each session has one running, starts at most 20 a minute, runs 5 minutes.
PUBLIC = QuotaSettings(jobs_per_session=1, running_jobs=2, queue_size=8, requests_per_minute=20,
                       request_seconds=300.0)


class Quotas:
    """Admits, queues and times requests by browser session (thread-safe; one per app)."""

    def __init__(self, settings: QuotaSettings, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.clock = clock  # for the rate window (tests pass a fake one); wall time is always real
        self._lock = threading.Lock()
        self._running: dict[str, int] = defaultdict(int)  # session -> its admitted requests not finished
        self._admitted = 0  # requests admitted and not finished: running or waiting for a slot
        self._started: dict[str, deque[float]] = defaultdict(deque)  # session -> when its recent requests came
        self._slots = threading.Semaphore(settings.running_jobs) if settings.running_jobs else None

    def run(self, session: str, work: Callable[[], Iterator[T]],
            on_timeout: Callable[[], None] | None = None) -> Iterator[T]:
        """The results of `work()`, once admitted and once a running slot is free; raises `QuotaExceeded`.
        `on_timeout` is called when the wall time runs out: a way to ask the work to stop (an evaluation's cancel)."""
        self._admit(session)
        handoff: queue.Queue = queue.Queue()
        stop = threading.Event()  # the caller stopped waiting: end the work at its next result

        def produce() -> None:
            try:
                if self._slots:
                    self._slots.acquire()  # waits its turn in the queue; the wall time starts after
                try:
                    handoff.put(_STARTED)
                    for item in work():
                        handoff.put(item)
                        if stop.is_set():
                            break
                finally:
                    if self._slots:
                        self._slots.release()
            except BaseException as error:  # noqa: BLE001 - handed to the caller's thread, raised there
                handoff.put(_Failed(error))
            finally:
                self._finish(session)
                handoff.put(_DONE)

        # A copy of the caller's context: Gradio finds a request's progress bar through context variables.
        threading.Thread(target=contextvars.copy_context().run, args=(produce,), daemon=True,
                         name=f"request-{session[:8]}").start()
        limit = self.settings.request_seconds
        deadline = None
        try:
            while True:
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    item = handoff.get(timeout=wait)
                except queue.Empty:
                    if on_timeout is not None:
                        on_timeout()
                    raise QuotaExceeded(
                        f"stopped: this request ran past {limit:g} s, the limit per request (STUDIO_REQUEST_SECONDS); "
                        "ask for less at once (fewer systems, shorter audio or text)") from None
                if item is _STARTED:
                    deadline = time.monotonic() + limit if limit else None
                elif item is _DONE:
                    return
                elif isinstance(item, _Failed):
                    raise item.error
                else:
                    yield item
        finally:
            stop.set()

    @property
    def admitted(self) -> int:
        """Requests admitted and not finished: running, or waiting in the queue."""
        return self._admitted

    def _admit(self, session: str) -> None:
        settings, now = self.settings, self.clock()
        with self._lock:
            if len(self._started) > MAX_TRACKED_SESSIONS:  # forget sessions quiet for a minute
                for quiet in [s for s, times in self._started.items() if not times or times[-1] <= now - 60]:
                    del self._started[quiet]
            started = self._started[session]
            while started and started[0] <= now - 60:
                started.popleft()
            if settings.requests_per_minute and len(started) >= settings.requests_per_minute:
                retry = math.ceil(started[0] + 60 - now)
                raise QuotaExceeded(f"too many requests: at most {settings.requests_per_minute} a minute per browser "
                                    f"session (STUDIO_REQUESTS_PER_MINUTE); try again in {retry} s")
            if settings.jobs_per_session and self._running[session] >= settings.jobs_per_session:
                raise QuotaExceeded(f"your previous request is still running: one browser session may have "
                                    f"{settings.jobs_per_session} running at a time (STUDIO_JOBS_PER_SESSION); "
                                    "wait for it to finish")
            if settings.queue_size and self._admitted >= settings.running_jobs + settings.queue_size:
                raise QuotaExceeded(f"busy: {self._admitted} requests ahead of yours and the queue is full "
                                    f"({settings.running_jobs} run at once, {settings.queue_size} wait: "
                                    "STUDIO_RUNNING_JOBS, STUDIO_QUEUE_SIZE); try again in a minute")
            started.append(now)
            self._running[session] += 1
            self._admitted += 1

    def _finish(self, session: str) -> None:
        with self._lock:
            self._running[session] -= 1
            if not self._running[session]:
                del self._running[session]
            self._admitted -= 1


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


_STARTED, _DONE = object(), object()  # markers on the hand-off queue: a slot was granted; the work ended
