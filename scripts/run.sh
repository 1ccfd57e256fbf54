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
python manage.py seed_demo

exec honcho start
