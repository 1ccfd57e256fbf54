#!/usr/bin/env bash
# `make faults [SIZE=small|full]`: the fault suite (bench/faults/). It runs its own
# RabbitMQ node (port 5673) and PostgreSQL server (port 5434, data in var/faults/postgresql;
# it restarts both under load), never the shared ones, and stops everything it started on
# exit, Ctrl-C or failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
status=0
.venv/bin/python -m bench.faults --size "${SIZE:-small}" "$@" || status=$?
# Then an emergency broadcast with its workers killed midway (bench/faults/emergency.py;
# the machine's PostgreSQL and RabbitMQ, a database and vhost of its own, nothing restarted).
.venv/bin/python -m bench.faults.emergency --size "${SIZE:-small}" || status=$?
exit "$status"
