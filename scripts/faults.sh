#!/usr/bin/env bash
# `make faults [SIZE=small|full]`: the fault suite (bench/faults/). It runs its own
# RabbitMQ node (port 5673) and PostgreSQL server (port 5434, data in var/faults/postgresql;
# it restarts both under load), never the shared ones, and stops everything it started on
# exit, Ctrl-C or failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
status=0
if [ "${CLUSTER:-}" = 1 ]; then
    # `make faults CLUSTER=1`: the same load and checks on a three-node RabbitMQ cluster of
    # the suite's own with quorum queues, node loss and a rolling restart under load
    # (bench/faults/run.py --cluster); the emergency part below is the same either way and
    # runs with the single-node suite only.
    exec .venv/bin/python -m bench.faults --size "${SIZE:-small}" --cluster "$@"
fi
.venv/bin/python -m bench.faults --size "${SIZE:-small}" "$@" || status=$?
# Then an emergency broadcast with its workers killed midway (bench/faults/emergency.py;
# the machine's PostgreSQL and RabbitMQ, a database and vhost of its own, nothing restarted).
.venv/bin/python -m bench.faults.emergency --size "${SIZE:-small}" || status=$?
exit "$status"
