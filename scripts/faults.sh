#!/usr/bin/env bash
# `make faults [SIZE=small|full]`: the fault suite (bench/faults/). It runs its own
# RabbitMQ node (port 5673) and database (propmgmt_faults), never the shared ones, and
# stops everything it started on exit, Ctrl-C or failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m bench.faults --size "${SIZE:-small}" "$@"
