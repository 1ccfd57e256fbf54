#!/usr/bin/env bash
# `make cluster` / `make cluster-stop`: a three-node RabbitMQ cluster on this machine for
# development and tests (docs/SCALING.md). Each node has its own name (rabbit-N@localhost),
# AMQP, management and distribution ports, and data and logs under var/cluster/rabbit-N;
# the three share an Erlang cookie of their own (var/cluster/home/.erlang.cookie), so the
# machine's usual node (rabbit@localhost, 5672) is neither touched nor reachable from here.
# They run as the `rabbitmq` user, like the packaged service.
#
#   scripts/cluster.sh start    start and join the three nodes (reports if already up)
#   scripts/cluster.sh stop     stop them and remove var/cluster
#   scripts/cluster.sh status   cluster_status as seen from rabbit-1
#   scripts/cluster.sh ctl N ARGS...   rabbitmqctl against rabbit-N (e.g. `ctl 2 stop_app`)
#   scripts/cluster.sh url      the failover broker URL
#
# Ports: CLUSTER_AMQP_BASE (5680), CLUSTER_MANAGEMENT_BASE (15680), CLUSTER_DIST_BASE
# (25680), plus the node's number.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT="$PWD/var/cluster"
NODES=(1 2 3)
AMQP_BASE=${CLUSTER_AMQP_BASE:-5680}
MANAGEMENT_BASE=${CLUSTER_MANAGEMENT_BASE:-15680}
DIST_BASE=${CLUSTER_DIST_BASE:-25680}
BIN=${RABBITMQ_SCRIPTS_DIR:-/usr/lib/rabbitmq/bin}

node_name() { echo "rabbit-$1@localhost"; }

url() {
    local urls=()
    for n in "${NODES[@]}"; do urls+=("amqp://guest:guest@127.0.0.1:$((AMQP_BASE + n))//"); done
    (IFS=';'; echo "${urls[*]}")
}

# Run a command as the rabbitmq user with node N's environment (N empty: CLI only).
as_rabbitmq() {
    local n=$1; shift
    local dir="$ROOT/rabbit-$n"
    runuser -u rabbitmq -- env \
        HOME="$ROOT/home" \
        RABBITMQ_CONF_ENV_FILE="$ROOT/rabbitmq-env.conf" \
        ERL_EPMD_ADDRESS=127.0.0.1 \
        RABBITMQ_NODENAME="$(node_name "$n")" \
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_NODE_PORT=$((AMQP_BASE + n)) \
        RABBITMQ_DIST_PORT=$((DIST_BASE + n)) \
        RABBITMQ_MNESIA_BASE="$dir/mnesia" \
        RABBITMQ_LOG_BASE="$dir/log" \
        RABBITMQ_PID_FILE="$dir/node.pid" \
        RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$ROOT/enabled_plugins" \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
        "$@"
}

ctl() { local n=$1; shift; as_rabbitmq "$n" "$BIN/rabbitmqctl" -n "$(node_name "$n")" "$@"; }

running_nodes() {
    # The running nodes cluster_status reports, as JSON, counted.
    ctl 1 cluster_status --formatter json 2>/dev/null \
        | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["running_nodes"]))' \
        2>/dev/null || echo 0
}

all_running() { [ "$(running_nodes)" = "${#NODES[@]}" ]; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

prepare() {
    if [ -e "$ROOT" ]; then
        echo "var/cluster exists but the cluster is not up: removing it (a leftover)"
        stop_nodes
    fi
    for n in "${NODES[@]}"; do
        for port in $((AMQP_BASE + n)) $((MANAGEMENT_BASE + n)) $((DIST_BASE + n)); do
            if port_in_use "$port"; then
                echo "port $port is in use; set CLUSTER_AMQP_BASE / CLUSTER_MANAGEMENT_BASE /" \
                    "CLUSTER_DIST_BASE to move the cluster" >&2
                exit 1
            fi
        done
    done
    mkdir -p "$ROOT/home"
    # Our own cookie: only this cluster's nodes and CLI calls share it.
    python3 -c 'import secrets; print(secrets.token_hex(20).upper(), end="")' \
        > "$ROOT/home/.erlang.cookie"
    chmod 400 "$ROOT/home/.erlang.cookie"
    echo "[rabbitmq_management]." > "$ROOT/enabled_plugins"
    echo "# the development cluster's nodes: see scripts/cluster.sh" > "$ROOT/rabbitmq-env.conf"
    for n in "${NODES[@]}"; do
        mkdir -p "$ROOT/rabbit-$n/mnesia" "$ROOT/rabbit-$n/log"
        cat > "$ROOT/rabbit-$n/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$((AMQP_BASE + n))
management.tcp.port = $((MANAGEMENT_BASE + n))
management.tcp.ip = 127.0.0.1
EOF
    done
    chown -R rabbitmq:rabbitmq "$ROOT"
}

wait_for() {
    local what=$1 seconds=$2; shift 2
    for _ in $(seq "$seconds"); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    echo "timed out after ${seconds}s waiting for $what (logs in var/cluster/rabbit-*/log)" >&2
    return 1
}

start() {
    if [ -d "$ROOT" ] && all_running; then
        echo "the cluster is already up: ${#NODES[@]} running nodes"
        echo "CELERY_BROKER_URL='$(url)'"
        return 0
    fi
    prepare
    for n in "${NODES[@]}"; do
        as_rabbitmq "$n" setsid "$BIN/rabbitmq-server" \
            >"$ROOT/rabbit-$n/log/server.out" 2>&1 </dev/null &
    done
    for n in "${NODES[@]}"; do
        wait_for "$(node_name "$n")" 180 ctl "$n" await_startup
    done
    for n in "${NODES[@]:1}"; do
        ctl "$n" stop_app
        ctl "$n" join_cluster "$(node_name 1)"
        ctl "$n" start_app
    done
    wait_for "three running nodes" 60 all_running
    echo "the cluster is up: ${#NODES[@]} running nodes"
    echo "management: http://guest:guest@127.0.0.1:$((MANAGEMENT_BASE + 1)) (any node's)"
    echo "CELERY_BROKER_URL='$(url)'"
}

stop_nodes() {
    for n in "${NODES[@]}"; do
        local pid_file="$ROOT/rabbit-$n/node.pid"
        ctl "$n" shutdown >/dev/null 2>&1 || true
        # A node that did not answer (its cookie gone, half started): end it by its pid.
        if [ -f "$pid_file" ]; then
            local pid
            pid=$(cat "$pid_file")
            if grep -qz "RABBITMQ_NODENAME=$(node_name "$n")" "/proc/$pid/environ" 2>/dev/null; then
                kill -9 "$pid" 2>/dev/null || true
            fi
        fi
    done
    rm -rf "$ROOT"
}

preflight() {
    if [ ! -x "$BIN/rabbitmq-server" ]; then
        echo "rabbitmq-server is not installed in $BIN (apt-get install rabbitmq-server," \
            "or set RABBITMQ_SCRIPTS_DIR)" >&2
        exit 1
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "needs root: it runs the nodes as the rabbitmq user (sudo make cluster)" >&2
        exit 1
    fi
}

preflight
case "${1:-}" in
start) start ;;
stop)
    if [ -d "$ROOT" ]; then stop_nodes; echo "the cluster is stopped; var/cluster removed"
    else echo "the cluster is not running"; fi ;;
status) ctl 1 cluster_status ;;
count) running_nodes ;;
ctl) shift; ctl "$@" ;;
url) url ;;
*) echo "usage: $0 start|stop|status|ctl N ARGS...|url" >&2; exit 2 ;;
esac
