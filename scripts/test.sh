#!/usr/bin/env bash
# `make test`: the same install, then lint and the suite against the real services (the
# tests create and use their own database and RabbitMQ vhost), in two pytest-xdist
# processes, one per core, each with its own database, vhost and Redis database
# (tests/settings.py); a module's tests stay in one process (--dist loadfile).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
# Known vulnerabilities in the pinned runtime dependencies (PyPI's advisory data).
pip-audit --requirement requirements.txt --disable-pip --no-deps --progress-spinner off
exec pytest -n 2 --dist loadfile "$@"
