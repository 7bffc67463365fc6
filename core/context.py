"""Who is acting, from where, in which request: carried in context variables
so that services can audit without every call passing the request around.

Set by core.middleware for web requests and by `system_actor()` for jobs.
"""

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class ActorContext:
    user_id: int | None = None
    label: str = "anonymous"
    request_id: str = ""
    ip_address: str | None = None


_ANONYMOUS = ActorContext()
# The default is a frozen dataclass, so sharing it across contexts is safe.
_current: ContextVar[ActorContext] = ContextVar("actor_context", default=_ANONYMOUS)


def current() -> ActorContext:
    return _current.get()


def set_context(ctx: ActorContext):
    return _current.set(ctx)


def reset_context(token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def system_actor(job: str, request_id: str | None = None) -> Iterator[ActorContext]:
    """Run a block as a named system job (e.g. "eod.accrual"): audit rows
    written inside carry actor label "system:<job>" and no user."""
    ctx = ActorContext(
        user_id=None, label=f"system:{job}", request_id=request_id or uuid.uuid4().hex
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
