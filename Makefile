.PHONY: run test test-slow test-quorum smoke upgrade-rehearsal demo bench faults lint cluster cluster-stop cluster-test
export DEBUG ?= true

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

# The long fault tests the default run leaves out (pytest marker `slow`: kills, crashes,
# restores, the broker restarted; ~6 min), one at a time: some restart the shared broker.
test-slow:
	.venv/bin/pytest -m slow -p no:cacheprovider

# Every test module whose outcome depends on the queue type, on quorum queues (`make test`
# runs the suite on classic queues, the default; CI runs both; docs/MESSAGING.md
# "Queue types"), the long fault tests included but those that restart the shared broker,
# in two xdist processes like `make test`.
QUORUM_TESTS = tests/messaging tests/announcements/test_workers.py tests/notifications \
	tests/repairs tests/ops/test_health.py tests/ops/test_metrics_and_flower.py \
	tests/test_processes.py
test-quorum:
	BROKER_QUEUE_TYPE=quorum .venv/bin/pytest $(QUORUM_TESTS) -q -p no:cacheprovider \
		-n 2 --dist loadfile -m "not upgrade_rehearsal and not broker_restart"

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

# SIZE=small (CI, ~3-4 min) or SIZE=full (docs/RELIABILITY.md); knobs in bench/faults/run.py.
# CLUSTER=1: on a three-node RabbitMQ cluster of its own with quorum queues, killing,
# stopping and rolling-restarting its nodes under the load (docs/RELIABILITY.md)
faults:
	SIZE=$(or $(SIZE),small) CLUSTER=$(CLUSTER) bash scripts/faults.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

# A three-node RabbitMQ cluster on this machine (ports 5681-5683, 15681-15683); prints its
# failover CELERY_BROKER_URL. `make cluster-stop` stops it and removes var/cluster.
cluster:
	bash scripts/cluster.sh start

cluster-stop:
	bash scripts/cluster.sh stop

# The cluster's own tests (tests/messaging/test_cluster_failover.py) on `make cluster`;
# CLUSTER=1 makes a missing cluster fail them instead of skipping. Then the priority tests
# (urgent work overtakes a backlog) on the cluster with quorum queues.
PRIORITY_TESTS = tests/messaging/test_delivery.py tests/messaging/test_retry_delay.py \
	tests/messaging/test_notification_priority.py tests/notifications/test_bulk.py \
	tests/announcements/test_workers.py
cluster-test: cluster
	CLUSTER=1 .venv/bin/pytest tests/messaging/test_cluster_failover.py -q -p no:cacheprovider
	BROKER_QUEUE_TYPE=quorum TEST_BROKER_VHOST=propmgmt_test_cluster \
		TEST_BROKER_HOSTS='127.0.0.1:5681;127.0.0.1:5682;127.0.0.1:5683' \
		RABBITMQ_MANAGEMENT_URL=http://guest:guest@127.0.0.1:15681 \
		.venv/bin/pytest $(PRIORITY_TESTS) -q -p no:cacheprovider \
		-k "(urgent or urgency or emergency or overtake) and not migrate"
