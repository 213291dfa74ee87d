#!/usr/bin/env bash
# Kafka (KRaft, one node) and Redis on loopback for development, data under <repo>/var/ (gitignored).
#
#   ops/services.sh up       # start both (fine if already running), then print the export lines
#   ops/services.sh down     # stop both
#   ops/services.sh status
#   eval "$(ops/services.sh up)"   # start and set KAFKA_BOOTSTRAP / REDIS_URL in this shell
#
# Ports: KAFKA_PORT (default 9092; controller KAFKA_PORT+1) and REDIS_PORT (default 6379).
# Logs: var/kafka/logs/server.log, var/redis/redis.log. Progress goes to stderr, the exports to stdout.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
VAR="$REPO/var"
KAFKA_PORT="${KAFKA_PORT:-9092}"
REDIS_PORT="${REDIS_PORT:-6379}"

kafka_cmd() { "$HERE/kafka/kafka.sh" "$1" --port "$KAFKA_PORT" --data "$VAR/kafka"; }
redis_cmd() { "$HERE/redis.sh" "$1" --port "$REDIS_PORT" --dir "$VAR/redis"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Start one service unless ours runs already; a port taken by a process we did not start is used as is
# (with a warning), e.g. a system redis-server on 6379.
ensure() {
    local name="$1" port="$2"; shift 2
    if ! "$@" status >/dev/null 2>&1 && port_open "$port"; then
        echo "services.sh: 127.0.0.1:$port is already taken by a process not started from $VAR; using it as $name" >&2
        return 0
    fi
    "$@" start
}

exports() {
    echo "export KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT"
    echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

case "${1:-}" in
    up)
        ensure kafka "$KAFKA_PORT" kafka_cmd
        ensure redis "$REDIS_PORT" redis_cmd
        exports
        ;;
    down)
        rc=0
        "$HERE/kafka/kafka.sh" stop --data "$VAR/kafka" || rc=1
        "$HERE/redis.sh" stop --port "$REDIS_PORT" --dir "$VAR/redis" || rc=1
        exit $rc
        ;;
    status)
        rc=0
        "$HERE/kafka/kafka.sh" status --data "$VAR/kafka" || rc=3
        "$HERE/redis.sh" status --port "$REDIS_PORT" --dir "$VAR/redis" || rc=3
        exit $rc
        ;;
    *) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
