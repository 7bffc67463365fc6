"""Fast set-based writes for the append-heavy paths (payments, ledger
postings, audit events, boarding).

`insert_all(objs)` is `bulk_create` for unsaved instances of one model. It
takes the ids from the table's sequence in one query and streams the rows
with COPY, skipping the ORM's per-value SQL compilation, which cost more
than the database's own work (a 3,000-row chunk of a lockbox file spent
~2.5 s compiling INSERTs and ~0.8 s executing them); below `SMALL` rows it
is one `bulk_create` (INSERT ... RETURNING). The instances come back saved,
with their primary keys set, and foreign keys given as unsaved-then-saved
instances are resolved first.

`update_rows(model, fields, rows)` is the matching bulk UPDATE: one
`UPDATE ... FROM unnest(arrays)` whatever the row count (Django's
bulk_update builds a CASE expression per field and row, ~10x slower to
compile than to run).

Both bypass `save()`, signals and model validation, like bulk_create;
callers pass values their own services have already checked.

`gc_paused()` (a context manager and decorator) switches off Python's cyclic
garbage collector for one chunk of batch work. A 500-loan chunk allocates
hundreds of thousands of short-lived objects (replays, instalment rows,
model instances), which trips collections that each rescan the process's
long-lived heap: a 10,000-row lockbox file spent ~2.4 s of ~10.5 s in them.
The chunk's own garbage is acyclic and freed by reference counting; the
collector resumes (and catches up) when the chunk ends.

`refresh_statistics(*models)` runs ANALYZE on those of the models' tables
that changed by more than a tenth since PostgreSQL last sampled them. Batch
work reads 500 loans' rows at a time (`loan_id IN (...)`); on a table the
planner has no statistics for, it guesses each id matches 0.5% of the rows
and scans the whole table instead of the index: at 100,000 loans a chunk's
instalment read took 190 ms instead of 10. Autovacuum normally keeps
statistics fresh, but not during a bulk load that grows a table within its
one-minute nap, nor where it is switched off. Batch entry points (imports,
bulk boarding, end of day) call this first: one catalogue query when
nothing is stale.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import operator

from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# Below this many rows one INSERT ... RETURNING (one round trip) beats
# fetching ids and then streaming a COPY (three).
SMALL = 20


@contextlib.contextmanager
def gc_paused():
    """No cyclic garbage collection inside the block (see the module docstring)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def refresh_statistics(*models_, fraction: float = 0.1, minimum: int = 1000) -> list[str]:
    """ANALYZE the tables of `models_` with at least `minimum` rows inserted,
    updated or deleted since their last analyze and more than `fraction` of
    their rows (autovacuum's own rule, checked now). Returns the tables
    analyzed. A refusal (a role that may not ANALYZE) is logged and leaves
    the caller's transaction intact."""
    if not models_:
        return []
    tables = [model._meta.db_table for model in models_]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
            " WHERE s.relid = ANY(%s::regclass[])"
            " AND s.n_mod_since_analyze >= GREATEST(%s, %s * GREATEST(c.reltuples, 0))",
            [tables, minimum, fraction],
        )
        stale = sorted(row[0] for row in cursor.fetchall())
        quote = connection.ops.quote_name
        for table in stale:
            try:
                with transaction.atomic():
                    cursor.execute(f"ANALYZE {quote(table)}")
            except DatabaseError as exc:
                logger.warning("ANALYZE %s refused: %s", table, exc)
                return []
    return stale


def insert_all(objs: list[models.Model]) -> list[models.Model]:
    """Insert unsaved instances of one model; returns them with pks set."""
    if not objs:
        return objs
    model = type(objs[0])
    if len(objs) < SMALL:
        return model.objects.bulk_create(objs)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    _prepare(objs, fields)
    get = operator.attrgetter(*(f.attname for f in fields))
    rows = (get(obj) for obj in objs) if len(fields) > 1 else ((get(obj),) for obj in objs)
    ids = insert_rows(model, [f.attname for f in fields], rows, count=len(objs))
    for pk, obj in zip(ids, objs, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def insert_rows(model, fields: list[str], rows, *, count: int) -> list[int]:
    """Insert `count` rows of plain values for the model's `fields`
    (attnames, e.g. "loan_id") without building instances; returns the new
    primary keys in row order. Fields left out take their database default,
    so pass every NOT NULL field without one."""
    if not count:
        return []
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    if count < SMALL:
        objs = model.objects.bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in rows]
        )
        return [obj.pk for obj in objs]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = ", ".join(quote(f.column) for f in [meta.pk, *columns])
    converters = [_converter(f) for f in columns]
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, meta.pk.column, count],
        )
        ids = [row[0] for row in cursor.fetchall()]
        # Identifiers come from model metadata; the rows travel as COPY data.
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            if any(converters):
                for pk, row in zip(ids, rows, strict=True):
                    values = zip(converters, row, strict=True)
                    copy.write_row((pk, *(c(v) if c and v is not None else v for c, v in values)))
            else:
                for pk, row in zip(ids, rows, strict=True):
                    copy.write_row((pk, *row))
    return ids


def _prepare(objs, fields) -> None:
    """What bulk_create does before writing: auto_now(_add) timestamps and
    foreign keys to instances saved after this one was built."""
    now = timezone.now()
    stamped = [
        f.attname
        for f in fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    relations = [f for f in fields if f.is_relation and f.many_to_one]
    for obj in objs:
        for name in stamped:  # as pre_save does on insert
            setattr(obj, name, now)
        for field in relations:
            if getattr(obj, field.attname) is None and field.is_cached(obj):
                related = field.get_cached_value(obj)
                if related is not None:
                    if related.pk is None:
                        raise ValueError(f"{field.name} of {obj!r} is unsaved")
                    setattr(obj, field.attname, related.pk)


def _converter(field):
    """How a Python value becomes COPY data for `field` (None: as it is)."""
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: json.dumps(value, cls=encoder)
    return None


def update_rows(model, fields, rows: list[tuple]) -> None:
    """Set `fields` of many rows, given as (pk, *values) tuples of plain
    values (Decimal, date, str, int, None)."""
    if not rows:
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    arrays = ", ".join(f"%s::{f.cast_db_type(connection)}[]" for f in columns)
    names = ", ".join(quote(f.column) for f in columns)
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns[1:])
    # One statement whatever the row count: the values travel as one array
    # per column, so the SQL text is constant (parsed once, cached).
    sql = (
        f"UPDATE {table} SET {assignments} "  # noqa: S608 - identifiers from model metadata
        f"FROM unnest({arrays}) AS v({names}) WHERE {table}.{pk} = v.{pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
