"""`python -m bench.faults.cluster_throughput`: broker throughput on a three-node RabbitMQ
cluster next to one node, in one run, on this machine (docs/SCALING.md keeps the figures).

It starts a single node and a three-node cluster of its own (bench/faults/node.py: nodes
propmgmt_bench_single@localhost on AMQP 5689 and propmgmt_bench_1..3@localhost on
5686-5688, data under var/faults/bench; nothing else is touched) and measures, ROUNDS
times in turn, each case: BENCH_MESSAGES (10,000) persistent messages of an outbox event's
size published with publisher confirms, CONFIRM_WINDOW outstanding (as the relay
publishes), then consumed with a prefetch of PREFETCH and acknowledged one by one (as the
late-acking workers do), on a queue declared with the arguments celeryconfig.py gives
a work queue in that mode. The cases:

  one node, classic       the default single-node installation
  one node, quorum        BROKER_QUEUE_TYPE=quorum on one node (one replica)
  cluster, quorum, leader  three replicas, the client connected to the queue's leader
  cluster, quorum, other   three replicas, the client connected to a follower's node
  cluster, classic        a classic queue on the cluster (one node holds it)

It prints the median of the rounds in messages per second and each case's ratio to one
node's classic queue, then stops and removes every node it started.
"""

import os
import shutil
import statistics
from datetime import UTC, datetime
from pathlib import Path

import amqp

from bench.amqp_rates import (
    ARGUMENTS,
    BODY,
    CONFIRM_WINDOW,
    PREFETCH,
    consume_all,
    publish_all,
)
from bench.faults.node import RabbitCluster, RabbitNode

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "var" / "faults" / "bench"
MESSAGES = int(os.environ.get("BENCH_MESSAGES", 10000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))


def log(message):
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def connect(port):
    broker = amqp.Connection(host=f"127.0.0.1:{port}", userid="guest", password="guest")
    broker.connect()
    return broker


def measure(declare_port, client_port, queue_type, queue):
    """Declare `queue` through the node on `declare_port` (a quorum queue's leader and a
    classic queue's home are the declaring node), publish and consume through the node
    on `client_port`; then delete it."""
    with connect(declare_port) as broker:
        channel = broker.channel()
        channel.queue_declare("bench.dlq", durable=True, auto_delete=False)
        channel.queue_declare(
            queue, durable=True, auto_delete=False, arguments=ARGUMENTS[queue_type]
        )
    with connect(client_port) as broker:
        published = publish_all(broker.channel(), queue, MESSAGES)
        consumed = consume_all(broker.channel(), queue, MESSAGES)
        broker.channel().queue_delete(queue)
    return published, consumed


def main():
    single = RabbitNode(
        BASE / "single",
        amqp_port=5689,
        management_port=15689,
        dist_port=25689,
        log=log,
        node_name="propmgmt_bench_single@localhost",
    )
    cluster = RabbitCluster(
        BASE / "cluster",
        amqp_base=5685,
        management_base=15685,
        dist_base=25685,
        log=log,
        name_prefix="propmgmt_bench_",
    )
    try:
        single.prepare()
        cluster.prepare()
        log(f"single node up after {single.start():.1f}s")
        log(f"cluster up after {cluster.start():.1f}s")
        first, second = (node.amqp_port for node in cluster.nodes[:2])
        cases = {
            "one node, classic": (single.amqp_port, single.amqp_port, "classic"),
            "one node, quorum": (single.amqp_port, single.amqp_port, "quorum"),
            "cluster, quorum, leader": (first, first, "quorum"),
            "cluster, quorum, other": (first, second, "quorum"),
            "cluster, classic": (first, first, "classic"),
        }
        results = {case: [] for case in cases}
        for round_ in range(1, ROUNDS + 1):
            for index, (case, (declare, client, queue_type)) in enumerate(cases.items()):
                # A queue name of its own each time: a quorum queue redeclared right after
                # its deletion on the cluster can find its old members not yet gone.
                queue = f"bench.{round_}.{index}.{queue_type}"
                results[case].append(measure(declare, client, queue_type, queue))
                published, consumed = results[case][-1]
                log(f"round {round_} {case:<24} publish {published:6.0f}  consume {consumed:6.0f}")
    finally:
        single.stop()
        cluster.stop()
        shutil.rmtree(BASE, ignore_errors=True)
    print(
        f"\n{MESSAGES} persistent messages of {len(BODY)} bytes, confirms window "
        f"{CONFIRM_WINDOW}, prefetch {PREFETCH}; median of {ROUNDS} rounds, msg/s "
        f"({os.cpu_count()} cpus)"
    )
    base_publish = statistics.median(p for p, _ in results["one node, classic"])
    base_consume = statistics.median(c for _, c in results["one node, classic"])
    for case, figures in results.items():
        published = statistics.median(p for p, _ in figures)
        consumed = statistics.median(c for _, c in figures)
        print(
            f"  {case:<24} publish {published:6.0f} ({published / base_publish:.2f}x)   "
            f"consume {consumed:6.0f} ({consumed / base_consume:.2f}x)"
        )


if __name__ == "__main__":
    main()
