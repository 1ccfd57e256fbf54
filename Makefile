.PHONY: run test bench lint

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/setup.sh && .venv/bin/python -m bench.run

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
