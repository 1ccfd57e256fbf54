"""Pruning the idempotency ledger at size, and what it costs the consumers meanwhile.

In a database of its own (BENCH_PRUNE_DATABASE, default propmgmt_bench_pruning, created
and migrated here), generates BENCH_PRUNE_ROWS ledger rows (default 10,000,000) with
generate_series, 80% of them past LEDGER_RETENTION_DAYS, then prunes them as beat does
(`messaging_records_prune`: chunks of PRUNE_CHUNK_ROWS, each its own transaction) while
a thread records ledger rows as consumers do (one short transaction each). Prints the
pruning time and rows/s, and the consumers' insert latency (median, p99, worst) during
pruning against the same loop without pruning, measured first in the same run.
"""

import os
import statistics
import threading
import time

BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/propmgmt")
DATABASE = os.environ.get("BENCH_PRUNE_DATABASE", "propmgmt_bench_pruning")
ROWS = int(os.environ.get("BENCH_PRUNE_ROWS", 10_000_000))
BASELINE_SECONDS = 15
os.environ.update(
    DJANGO_SETTINGS_MODULE="propmgmt.settings",
    DATABASE_URL=BASE_URL.rsplit("/", 1)[0] + "/" + DATABASE,
    DEBUG="false",
    SECRET_KEY="bench-only-secret-key-not-for-production-use-0123456789",
    LOG_LEVEL="WARNING",
)

import django  # noqa: E402

django.setup()

import psycopg2  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from apps.messaging.services import messaging_records_prune  # noqa: E402

TABLE = "messaging_processedmessage"


def generate(rows):
    """`rows` ledger rows: 80% between retention + 1 and retention + 60 days old, the
    rest younger than the retention."""
    retention = settings.LEDGER_RETENTION_DAYS
    old = rows * 8 // 10
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}")
        cursor.execute(
            f"INSERT INTO {TABLE} (message_id, consumer, processed_at) "
            "SELECT md5(g::text), 'bench.consumer', "
            "now() - make_interval(days => %s + 1) - (g %% 5184000) * interval '1 second' "
            "FROM generate_series(1, %s) AS g",
            [retention, old],
        )
        cursor.execute(
            f"INSERT INTO {TABLE} (message_id, consumer, processed_at) "
            "SELECT md5(g::text), 'bench.consumer', "
            "now() - (g %% ((%s - 1) * 86400)) * interval '1 second' "
            "FROM generate_series(%s + 1, %s) AS g",
            [retention, old, rows],
        )
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
    return old


class ConsumerLoop(threading.Thread):
    """Records ledger rows one transaction at a time, as consumers do, timing each."""

    def __init__(self):
        super().__init__(daemon=True)
        self.latencies = []
        self.stopping = threading.Event()
        params = connection.get_connection_params()
        self.db = psycopg2.connect(**params, application_name="bench_consumer")
        self.db.autocommit = True

    def run(self):
        n = 0
        with self.db.cursor() as cursor:
            while not self.stopping.is_set():
                n += 1
                started = time.perf_counter()
                cursor.execute(
                    f"INSERT INTO {TABLE} (message_id, consumer, processed_at) "
                    "VALUES (%s, 'bench.live', now()) ON CONFLICT DO NOTHING",
                    [f"live-{self.name}-{n}"],
                )
                self.latencies.append(time.perf_counter() - started)
                time.sleep(0.002)  # a consumer also does its work between records

    def stop(self):
        self.stopping.set()
        self.join()
        self.db.close()
        return self.latencies


def summary(latencies):
    ordered = sorted(latencies)
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "p99": ordered[int(len(ordered) * 0.99) - 1],
        "max": ordered[-1],
    }


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def main():
    call_command("db_create")
    call_command("migrate", verbosity=0, interactive=False)
    print(
        f"pruning bench: {ROWS:,} ledger rows in {DATABASE}, chunks of "
        f"{settings.PRUNE_CHUNK_ROWS:,}"
    )
    started = time.perf_counter()
    expected = generate(ROWS)
    print(f"  generated in {time.perf_counter() - started:.0f} s ({expected:,} past retention)")

    loop = ConsumerLoop()
    loop.start()
    time.sleep(BASELINE_SECONDS)
    baseline = summary(loop.stop())

    loop = ConsumerLoop()
    loop.start()
    started = time.perf_counter()
    pruned = messaging_records_prune()["ledger"]
    seconds = time.perf_counter() - started
    during = summary(loop.stop())

    assert pruned == expected, (pruned, expected)
    print(f"  pruned {pruned:,} rows in {seconds:.1f} s: {pruned / seconds:,.0f} rows/s")
    for name, f in (("without pruning", baseline), ("during pruning", during)):
        print(
            f"  consumer ledger insert {name}: {f['n']:,} inserts, median "
            f"{ms(f['median'])}, p99 {ms(f['p99'])}, worst {ms(f['max'])}"
        )
    print(
        f"  worst during / without: {during['max'] / baseline['max']:.1f}x; "
        f"p99 during / without: {during['p99'] / baseline['p99']:.1f}x"
    )


if __name__ == "__main__":
    main()
