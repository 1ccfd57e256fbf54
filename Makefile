.PHONY: run test bench lint

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/setup.sh
	.venv/bin/python manage.py db_create
	.venv/bin/python manage.py migrate --no-input --verbosity 0
	.venv/bin/python -m bench.run
	.venv/bin/python -m bench.reports

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
