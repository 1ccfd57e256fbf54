#!/usr/bin/env bash
# Make sure PostgreSQL, RabbitMQ (with its management API, used by `broker status`
# and Flower) and Redis are reachable, starting locally installed servers that are stopped.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {
  local host=$1 port=$2 name=$3
  for _ in $(seq 1 60); do
    if port_open "$host" "$port"; then return 0; fi
    sleep 1
  done
  echo "error: $name did not come up on $host:$port" >&2
  exit 1
}

missing() {
  echo "error: $1 is not running on 127.0.0.1:$2 and is not installed here." >&2
  echo "       Install it (apt-get install $3) or start the stack with: docker compose up -d postgres rabbitmq redis" >&2
  exit 1
}

if ! port_open 127.0.0.1 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
    wait_port 127.0.0.1 5432 PostgreSQL
  else
    missing PostgreSQL 5432 postgresql
  fi
fi

if ! port_open 127.0.0.1 5672; then
  if command -v rabbitmq-server >/dev/null 2>&1; then
    echo "starting RabbitMQ"
    rabbitmq-server -detached
    wait_port 127.0.0.1 5672 RabbitMQ
  else
    missing RabbitMQ 5672 rabbitmq-server
  fi
fi

if ! port_open 127.0.0.1 6379; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 >/dev/null
    wait_port 127.0.0.1 6379 Redis
  else
    missing Redis 6379 redis-server
  fi
fi

if ! port_open 127.0.0.1 15672; then
  if command -v rabbitmq-plugins >/dev/null 2>&1; then
    echo "enabling the RabbitMQ management plugin"
    rabbitmq-plugins enable rabbitmq_management >/dev/null
    wait_port 127.0.0.1 15672 "RabbitMQ management API"
  else
    echo "error: the RabbitMQ management API is not reachable on 127.0.0.1:15672;" \
      "enable it with: rabbitmq-plugins enable rabbitmq_management" >&2
    exit 1
  fi
fi
