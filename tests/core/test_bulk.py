"""core.bulk against real PostgreSQL: the statistics refresh and the GC pause."""

import gc

import pytest
from django.db import connection

from core.bulk import gc_paused, refresh_statistics
from core.models import IdempotencyRecord

pytestmark = pytest.mark.django_db(transaction=True)


def _flush_table_statistics() -> None:
    """This session's row counts reach pg_stat_user_tables when it next idles."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT 1")


def _last_analyze() -> object:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_analyze FROM pg_stat_user_tables WHERE relid = %s::regclass",
            [IdempotencyRecord._meta.db_table],
        )
        return cursor.fetchone()[0]


def test_refresh_statistics_analyzes_only_tables_changed_past_the_threshold():
    table = IdempotencyRecord._meta.db_table
    IdempotencyRecord.objects.bulk_create(
        IdempotencyRecord(principal="p", key=f"k{i}", scope="s", fingerprint="f") for i in range(30)
    )
    _flush_table_statistics()
    # 30 changed rows: below a minimum of 50, nothing is analyzed
    assert refresh_statistics(IdempotencyRecord, minimum=50) == []
    assert _last_analyze() is None

    assert refresh_statistics(IdempotencyRecord, minimum=20) == [table]
    analyzed_at = _last_analyze()
    assert analyzed_at is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        assert cursor.fetchone()[0] == 30  # the planner now knows the table's size

    # fresh statistics: a second call does nothing until a tenth has changed
    _flush_table_statistics()
    assert refresh_statistics(IdempotencyRecord, minimum=1) == []
    IdempotencyRecord.objects.bulk_create(
        IdempotencyRecord(principal="p", key=f"n{i}", scope="s", fingerprint="f") for i in range(4)
    )
    _flush_table_statistics()
    assert refresh_statistics(IdempotencyRecord, minimum=1) == [table]
    assert _last_analyze() > analyzed_at


def test_gc_paused_restores_the_collector_also_on_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()

    @gc_paused()
    def work():
        return gc.isenabled()

    assert work() is False
    assert gc.isenabled()
