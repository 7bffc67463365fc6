"""Writing audit events. Every service that changes state, moves money,
changes configuration or reads something sensitive calls `record()` inside
its transaction, so the event commits or rolls back with the change."""

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal

from core import context
from core.bulk import insert_all
from core.models import AuditCategory, AuditEvent


def actor_of(user):
    """The user to record as actor, or None for no user, an anonymous one or an
    unsaved one (`record()` then names the request's or job's user)."""
    return user if getattr(user, "pk", None) else None


def _plain(value):
    """JSON-safe rendering of a field value for before/after diffs."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, time) and not (value.second or value.microsecond):
        return value.isoformat(timespec="minutes")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def snapshot(obj, fields: Iterable[str]) -> dict:
    """Field values of `obj` for a later `diff()`."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields whose value changed."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def object_label(obj) -> tuple[str, str]:
    return obj._meta.label_lower, str(obj.pk)


def record(**kwargs) -> AuditEvent:
    """Append one audit event (the arguments of `build`)."""
    event = build(**kwargs)
    event.save(force_insert=True)
    return event


def record_many(events: list[AuditEvent]) -> None:
    """Append many events built with `build`, in one insert."""
    insert_all(events)


def build(
    *,
    action: str,
    category: str,
    obj=None,
    object_type: str | None = None,
    object_id: str | None = None,
    changes: dict | None = None,
    metadata: dict | None = None,
    actor=None,
) -> AuditEvent:
    """One audit event, not yet saved (see `record`, `record_many`).

    `obj` (a model instance) or `object_type`/`object_id` name what it is
    about. `actor` defaults to the user in the current request or job
    context (core.context); a job context labels the actor "system:<job>".
    """
    if category not in AuditCategory.values:
        raise ValueError(f"unknown audit category {category!r}")
    ctx = context.current()
    if obj is not None:
        object_type, object_id = object_label(obj)
    if actor is not None:
        actor_id, label = actor.pk, actor.get_username()
    else:
        actor_id, label = ctx.user_id, ctx.label
    return AuditEvent(
        actor_id=actor_id,
        actor_label=label[:150],
        action=action,
        category=category,
        object_type=object_type or "",
        object_id=str(object_id or ""),
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=_plain(changes or {}),
        metadata=_plain(metadata or {}),
        request_id=ctx.request_id,
        ip_address=ctx.ip_address,
    )
