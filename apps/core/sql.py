"""Bulk statements on Django's connection with Django's database errors."""

from django.db import connection
from psycopg2.extras import execute_values


def values_execute(sql, rows, *, template=None, page_size=1000):
    """Run `sql`, whose `VALUES %s` is filled from `rows` a page at a time.

    execute_values needs psycopg2's own cursor, whose errors Django does not translate: a
    connection lost in the statement would leave as psycopg2's OperationalError, which
    the consumers' base task takes for a bug (dead-lettered, not retried) and after which
    Django does not know the connection is broken. Behind wrap_database_errors it is
    django.db's OperationalError, as from any other query.
    """
    with connection.cursor() as cursor, connection.wrap_database_errors:
        execute_values(cursor.cursor, sql, rows, template=template, page_size=page_size)
