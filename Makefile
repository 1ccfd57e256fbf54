.PHONY: run test test-quorum smoke upgrade-rehearsal demo bench faults lint cluster cluster-stop cluster-test
export DEBUG ?= true

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

# The messaging tests on quorum queues (the suite runs on classic queues, the default;
# docs/MESSAGING.md "Queue types"; ~5-7 min). Not in CI yet: one of its tests is flaky on
# quorum queues (docs/MESSAGING.md)
test-quorum:
	BROKER_QUEUE_TYPE=quorum .venv/bin/pytest tests/messaging -q -p no:cacheprovider

# `make run` from here as a newcomer runs it, checked over HTTP, then stopped (CI runs it)
smoke:
	python3 scripts/smoke.py

# the upgrade from the previous release with requests in flight (~1-2 min; CI runs it after
# `make test`; docs/OPERATIONS.md "Upgrading")
upgrade-rehearsal:
	bash scripts/setup.sh
	.venv/bin/pytest tests/ops/test_upgrade.py -m upgrade_rehearsal

# the demo scenario against a running `make run`
demo:
	.venv/bin/python manage.py demo --scenario

bench:
	bash scripts/setup.sh
	.venv/bin/python manage.py db_create
	.venv/bin/python manage.py migrate --no-input --verbosity 0
	.venv/bin/python -m bench.run
	.venv/bin/python -m bench.reports
	.venv/bin/python -m bench.throughput
	.venv/bin/python -m bench.announcements
	.venv/bin/python -m bench.pruning
	.venv/bin/python -m bench.amenities

# SIZE=small (CI, ~3-4 min) or SIZE=full (docs/RELIABILITY.md); knobs in bench/faults/run.py
faults:
	SIZE=$(or $(SIZE),small) bash scripts/faults.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

# A three-node RabbitMQ cluster on this machine (ports 5681-5683, 15681-15683); prints its
# failover CELERY_BROKER_URL. `make cluster-stop` stops it and removes var/cluster.
cluster:
	bash scripts/cluster.sh start

cluster-stop:
	bash scripts/cluster.sh stop

# The cluster's own tests (tests/messaging/test_cluster_failover.py) on `make cluster`;
# CLUSTER=1 makes a missing cluster fail them instead of skipping.
cluster-test: cluster
	CLUSTER=1 .venv/bin/pytest tests/messaging/test_cluster_failover.py -q -p no:cacheprovider
