"""Reads for the health check."""

from django.db import connection


def database_answers() -> None:
    """Run `SELECT 1` on the default database; raises whatever the driver
    raises when it does not answer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
