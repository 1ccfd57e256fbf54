#!/usr/bin/env bash
# `make run`: everything from a fresh clone to all processes running.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export PATH="$PWD/.venv/bin:$PATH"
python manage.py db_create
python manage.py migrate --no-input
python manage.py collectstatic --no-input --verbosity 0
python manage.py broker declare
python manage.py seed_demo  # a no-op unless DEMO_DATA (default: DEBUG, which make run sets)
# Development's Flower login; the Procfile requires FLOWER_BASIC_AUTH everywhere else.
export FLOWER_BASIC_AUTH="${FLOWER_BASIC_AUTH:-admin:demo-pass-2026}"

exec honcho start
