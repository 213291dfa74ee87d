#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker+controller in one JVM) on loopback, for development,
# tests and CI. Needs Java 17; Maven to resolve the jars (or curl + ops/kafka/jars.lock without Maven).
#
#   ops/kafka/kafka.sh fetch                                  # jars into $EXITWATCH_CACHE/kafka-jars, once
#   ops/kafka/kafka.sh start --port 9092 --data var/kafka [--controller-port 9093]
#        [--tls-dir DIR --ssl-port P] [--sasl-port Q --scram-user NAME:PASSWORD]...
#        (TLS: DIR/server.pem holds the broker's PKCS#8 key and certificate chain, DIR/ca.pem the CA; the
#        SSL listener on P, a SASL_SSL listener with SCRAM-SHA-256/512 and PLAIN on Q, each --scram-user
#        a user of all three; the PLAINTEXT one stays)
#   ops/kafka/kafka.sh status --data var/kafka [--port 9092]  # exit 0 running, 3 not running
#   ops/kafka/kafka.sh stop --data var/kafka
#   ops/kafka/kafka.sh lock                                   # rewrite jars.lock after changing pom.xml
#
# Environment:
#   EXITWATCH_CACHE      cache root (default: <repo>/.cache); jars go to $EXITWATCH_CACHE/kafka-jars
#   KAFKA_JARS_DIR       overrides the jar folder itself
#   KAFKA_FETCH          auto (default: mvn if present, else curl) | mvn | curl
#   MAVEN_REPO_URL       Maven repository for the curl path (default: https://repo.maven.apache.org/maven2)
#   KAFKA_HEAP_OPTS      JVM heap (default: -Xms256m -Xmx512m)
#   KAFKA_START_TIMEOUT  seconds to wait for the broker to answer (default: 90)
#   EXITWATCH_PYTHON     python with confluent-kafka used for the readiness probe (default: <repo>/.venv/bin/python)
#
# Measured here (2 cores, Java 17.0.15, Kafka 3.9.1): `fetch` with an empty ~/.m2 7.6 s (72 MB from Maven
# Central), with a warm ~/.m2 2.5 s, with curl from jars.lock 2.7 s, a no-op once the cache is complete;
# `start` on a fresh data dir (storage format + JVM start + readiness probe) 2.5-2.6 s, on an existing data
# dir 1.6 s; `stop` (SIGTERM, controlled shutdown) 2.4-2.6 s.
# The readiness probe is a confluent-kafka metadata request that must list broker 1.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
JARS="${KAFKA_JARS_DIR:-${EXITWATCH_CACHE:-$REPO/.cache}/kafka-jars}"
LOCK="$HERE/jars.lock"
POM="$HERE/pom.xml"
MAVEN_REPO_URL="${MAVEN_REPO_URL:-https://repo.maven.apache.org/maven2}"
PY="${EXITWATCH_PYTHON:-$REPO/.venv/bin/python}"

FETCH_TMP=""
trap '[[ -z "$FETCH_TMP" ]] || rm -rf "$FETCH_TMP"' EXIT

die() { echo "kafka.sh: $*" >&2; exit 1; }
log() { echo "kafka.sh: $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# ---------------------------------------------------------------------------------------------- fetch
# jars.lock lines: "<sha256>  <groupId>:<artifactId>:<version>[:<classifier>]", sorted, one jar a line.

coord_to_path() {  # g:a:v[:c] -> g/as/dirs/a/v/a-v[-c].jar
    local g a v c
    IFS=: read -r g a v c <<<"$1"
    echo "${g//.//}/$a/$v/$a-$v${c:+-$c}.jar"
}

# Write the lock lines for a Maven repository-layout folder to stdout.
lock_lines_of_repo() {
    local root="$1"
    (cd "$root" && find . -name '*.jar' -type f | sed 's|^\./||' | sort) | while read -r p; do
        local IFS=/ parts
        read -r -a parts <<<"$p"
        local n=${#parts[@]}
        local file=${parts[n-1]} v=${parts[n-2]} a=${parts[n-3]}
        local g; g=$(IFS=.; echo "${parts[*]:0:n-3}")
        local c=${file#"$a-$v"}; c=${c%.jar}; c=${c#-}
        local sum; sum=$(sha256sum "$root/$p" | cut -d' ' -f1)
        echo "$sum  $g:$a:$v${c:+:$c}"
    done | sort -k2
}

lock_digest() { sha256sum "$LOCK" | cut -d' ' -f1; }

jars_complete() { [[ -f "$LOCK" && -f "$JARS/.complete" && "$(cat "$JARS/.complete")" == "$(lock_digest)" ]]; }

# Resolve with Maven into $1 (repository layout).
mvn_resolve() {
    command -v mvn >/dev/null || die "mvn not found (set KAFKA_FETCH=curl to use jars.lock without Maven)"
    # (sed: Maven 3.8 prints colour resets even in batch mode)
    mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
        -Dmdep.useRepositoryLayout=true -DoutputDirectory="$1" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2 \
        || die "mvn dependency:copy-dependencies failed"
}

# Download every jar of jars.lock into $1 (repository layout), checking each sha256.
curl_resolve() {
    command -v curl >/dev/null || die "neither mvn nor curl found"
    [[ -f "$LOCK" ]] || die "no $LOCK: the curl path needs the pinned list (make it with 'kafka.sh lock' where Maven is)"
    local sum coord path n=0
    while read -r sum coord; do
        [[ -z "$sum" || "$sum" == \#* ]] && continue
        path=$(coord_to_path "$coord")
        mkdir -p "$1/$(dirname "$path")"
        curl -fsSL --retry 3 --retry-delay 2 -o "$1/$path" "$MAVEN_REPO_URL/$path" \
            || die "download failed: $MAVEN_REPO_URL/$path"
        echo "$sum  $1/$path" | sha256sum -c --quiet - >/dev/null 2>&1 \
            || die "sha256 mismatch for $coord ($MAVEN_REPO_URL/$path)"
        n=$((n + 1))
    done <"$LOCK"
    log "downloaded and verified $n jars with curl"
}

cmd_fetch() {
    local write_lock="${1:-}"
    if [[ -z "$write_lock" ]] && jars_complete; then
        log "jars already in $JARS"
        return 0
    fi
    local t0; t0=$(now)
    local method="${KAFKA_FETCH:-auto}"
    if [[ "$method" == auto ]]; then
        if command -v mvn >/dev/null; then method=mvn; else method=curl; fi
    fi
    [[ -n "$write_lock" ]] && method=mvn
    mkdir -p "$(dirname "$JARS")"
    local tmp; tmp=$(mktemp -d "$(dirname "$JARS")/.kafka-jars.XXXXXX")
    FETCH_TMP="$tmp"
    case "$method" in
        mvn) mvn_resolve "$tmp/repo" ;;
        curl) curl_resolve "$tmp/repo" ;;
        *) die "KAFKA_FETCH must be auto, mvn or curl" ;;
    esac
    lock_lines_of_repo "$tmp/repo" >"$tmp/lock"
    [[ -s "$tmp/lock" ]] || die "no jars resolved"
    if [[ -n "$write_lock" || ! -f "$LOCK" ]]; then
        { echo "# Jars of ops/kafka/pom.xml (Kafka broker, KRaft) with sha256; made by 'ops/kafka/kafka.sh lock'."
          echo "# Used to verify every fetch, and to fetch with curl from Maven Central where there is no Maven."
          cat "$tmp/lock"; } >"$LOCK"
        log "wrote $LOCK ($(wc -l <"$tmp/lock") jars)"
    elif ! diff <(grep -v '^#' "$LOCK") "$tmp/lock" >"$tmp/diff"; then
        cat "$tmp/diff" >&2
        die "resolved jars differ from $LOCK (changed pom.xml? run 'ops/kafka/kafka.sh lock')"
    fi
    mkdir -p "$tmp/flat"
    find "$tmp/repo" -name '*.jar' -type f -exec mv -t "$tmp/flat" {} +
    lock_digest >"$tmp/flat/.complete"
    rm -rf "$JARS"
    mv "$tmp/flat" "$JARS"
    rm -rf "$tmp"
    log "fetched $(ls "$JARS"/*.jar | wc -l) jars into $JARS with $method in $(elapsed "$t0") s"
}

# ---------------------------------------------------------------------------------------------- start/stop
PORT=9092
CPORT=""
DATA=""
TLS_DIR=""
SSL_PORT=""
SASL_PORT=""
SCRAM_USERS=()

parse_args() {
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --port) PORT="$2"; shift 2 ;;
            --controller-port) CPORT="$2"; shift 2 ;;
            --data) DATA="$2"; shift 2 ;;
            --tls-dir) TLS_DIR="$(cd "$2" && pwd)"; shift 2 ;;
            --ssl-port) SSL_PORT="$2"; shift 2 ;;
            --sasl-port) SASL_PORT="$2"; shift 2 ;;
            --scram-user) SCRAM_USERS+=("$2"); shift 2 ;;
            -h|--help) usage ;;
            *) die "unknown argument: $1" ;;
        esac
    done
    [[ -n "$DATA" ]] || die "--data DIR is required"
    mkdir -p "$DATA"
    DATA="$(cd "$DATA" && pwd)"
    CPORT="${CPORT:-$((PORT + 1))}"
    if [[ -n "$SSL_PORT$SASL_PORT" ]]; then
        [[ -n "$TLS_DIR" && -f "$TLS_DIR/server.pem" && -f "$TLS_DIR/ca.pem" ]] \
            || die "--ssl-port/--sasl-port need --tls-dir DIR with server.pem (key + chain) and ca.pem"
    fi
    [[ -z "$SASL_PORT" || ${#SCRAM_USERS[@]} -gt 0 ]] || die "--sasl-port needs at least one --scram-user NAME:PASSWORD"
}

# Extra listeners (TLS, SASL_SSL with SCRAM) for server.properties: "<listeners>|<advertised listeners>".
tls_listeners() {
    local l="" a=""
    if [[ -n "$SSL_PORT" ]]; then l+=",SSL://127.0.0.1:$SSL_PORT"; a+=",SSL://127.0.0.1:$SSL_PORT"; fi
    if [[ -n "$SASL_PORT" ]]; then l+=",SASL_SSL://127.0.0.1:$SASL_PORT"; a+=",SASL_SSL://127.0.0.1:$SASL_PORT"; fi
    echo "$l|$a"
}

pid_alive() { [[ -f "$DATA/kafka.pid" ]] && kill -0 "$(cat "$DATA/kafka.pid")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The port of a running broker, from its own config (so status/stop need no --port).
data_port() { sed -n 's|^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),.*|\1|p' "$DATA/config/server.properties" 2>/dev/null; }

write_config() {
    mkdir -p "$DATA/config" "$DATA/logs" "$DATA/kraft"
    local extra; extra=$(tls_listeners)
    cat >"$DATA/config/server.properties" <<EOF
# Written by ops/kafka/kafka.sh start; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT${extra%%|*}
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT${extra#*|}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA/kraft

# One node: every replication factor is 1; consumer groups join without the 3 s initial delay.
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
# Fewer internal partitions than the defaults (50): created on first use, so tests start sooner.
offsets.topic.num.partitions=8
transaction.state.log.num.partitions=8

auto.create.topics.enable=true
num.partitions=4
delete.topic.enable=true

# Sized for a 2-core machine.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=268435456
EOF
    if [[ -n "$TLS_DIR" ]]; then
        local plain_users="" u
        for u in "${SCRAM_USERS[@]}"; do plain_users+=" user_${u%%:*}=\"${u#*:}\""; done
        cat >>"$DATA/config/server.properties" <<EOF

# TLS (PEM files, key without password) and SCRAM on the SASL_SSL listener; users are made at storage format.
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_DIR/server.pem
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
ssl.client.auth=none
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$plain_users;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
    fi
    cat >"$DATA/config/log4j.properties" <<EOF
# Written by ops/kafka/kafka.sh start. The broker logs to $DATA/logs/server.log.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$DATA/logs/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
EOF
}

java_cmd() {
    # shellcheck disable=SC2086
    echo java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -Djava.awt.headless=true -Dlog4j.configuration="file:$DATA/config/log4j.properties" \
        -Dkafka.logs.dir="$DATA/logs" -cp "'$JARS/*'"
}

format_storage() {
    [[ -f "$DATA/kraft/meta.properties" ]] && return 0
    local cid
    cid=$(java -cp "$JARS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    [[ -n "$cid" ]] || die "StorageTool random-uuid failed"
    local scram=() u
    for u in "${SCRAM_USERS[@]}"; do
        scram+=(--add-scram "SCRAM-SHA-256=[name=${u%%:*},password=${u#*:}]"
                --add-scram "SCRAM-SHA-512=[name=${u%%:*},password=${u#*:}]")
    done
    java -Xmx256m -Dlog4j.configuration="file:$DATA/config/log4j.properties" -cp "$JARS/*" \
        kafka.tools.StorageTool format --ignore-formatted -t "$cid" \
        -c "$DATA/config/server.properties" "${scram[@]}" >"$DATA/logs/format.out" 2>&1 \
        || { cat "$DATA/logs/format.out" >&2; die "StorageTool format failed"; }
    log "formatted $DATA/kraft (cluster id $cid)"
}

# Wait until a metadata request lists broker 1 (confluent-kafka), else until the log says it started and
# the port accepts connections. Fails early when the JVM exits.
wait_ready() {
    local timeout="${KAFKA_START_TIMEOUT:-90}" t0 deadline
    t0=$(date +%s); deadline=$((t0 + timeout))
    local use_py=0
    if [[ -x "$PY" ]] && "$PY" -c 'import confluent_kafka' 2>/dev/null; then use_py=1; fi
    while :; do
        if ! pid_alive; then
            log "broker process exited; last lines of $DATA/logs/server.log and kafka.out:"
            tail -n 40 "$DATA/logs/server.log" >&2 2>/dev/null || true
            tail -n 20 "$DATA/kafka.out" >&2 2>/dev/null || true
            return 1
        fi
        if [[ $use_py == 1 ]]; then
            if "$PY" - "127.0.0.1:$PORT" <<'EOF' 2>/dev/null; then return 0; fi
import sys
from confluent_kafka.admin import AdminClient
md = AdminClient({"bootstrap.servers": sys.argv[1], "log_level": 0}).list_topics(timeout=3)
sys.exit(0 if 1 in md.brokers else 1)
EOF
        elif grep -q 'Kafka Server started' "$DATA/logs/server.log" 2>/dev/null && port_open "$PORT"; then
            return 0
        fi
        if (( $(date +%s) >= deadline )); then
            log "broker did not answer on 127.0.0.1:$PORT within ${timeout} s; last lines of $DATA/logs/server.log:"
            tail -n 40 "$DATA/logs/server.log" >&2 2>/dev/null || true
            tail -n 20 "$DATA/kafka.out" >&2 2>/dev/null || true
            return 1
        fi
        sleep 0.5
    done
}

cmd_start() {
    parse_args "$@"
    if pid_alive; then
        local running; running=$(data_port)
        [[ -z "$running" || "$running" == "$PORT" ]] || die "a broker from $DATA already runs on port $running"
        wait_ready || die "broker (pid $(cat "$DATA/kafka.pid")) runs but does not answer"
        log "already running on 127.0.0.1:$PORT (pid $(cat "$DATA/kafka.pid"))"
        return 0
    fi
    port_open "$PORT" && die "port $PORT is in use by another process"
    port_open "$CPORT" && die "controller port $CPORT is in use by another process"
    command -v java >/dev/null || die "java not found (Java 17 needed)"
    cmd_fetch
    local t0; t0=$(now)
    write_config
    format_storage
    rm -f "$DATA/kafka.pid"
    # setsid: the broker leaves the caller's process group, so it outlives the shell that started it.
    # The inner shell writes its own pid, then becomes the JVM (exec), so the pid file names the JVM.
    setsid bash -c "echo \$\$ >'$DATA/kafka.pid'; exec $(java_cmd) kafka.Kafka '$DATA/config/server.properties'" \
        </dev/null >"$DATA/kafka.out" 2>&1 &
    for _ in $(seq 50); do [[ -s "$DATA/kafka.pid" ]] && break; sleep 0.1; done
    if ! wait_ready; then
        cmd_stop_quiet
        die "broker did not start (data: $DATA)"
    fi
    log "started on 127.0.0.1:$PORT (controller $CPORT, pid $(cat "$DATA/kafka.pid"), data $DATA) in $(elapsed "$t0") s"
}

cmd_stop_quiet() {
    pid_alive || { rm -f "$DATA/kafka.pid"; return 0; }
    local pid; pid=$(cat "$DATA/kafka.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid still running after 30 s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$DATA/kafka.pid"
}

cmd_stop() {
    parse_args "$@"
    if ! pid_alive; then log "not running (data $DATA)"; rm -f "$DATA/kafka.pid"; return 0; fi
    local t0; t0=$(now)
    cmd_stop_quiet
    log "stopped (data $DATA) in $(elapsed "$t0") s"
}

cmd_status() {
    parse_args "$@"
    local p; p=$(data_port); p="${p:-$PORT}"
    if pid_alive; then
        echo "kafka: running, pid $(cat "$DATA/kafka.pid"), 127.0.0.1:$p, data $DATA"
        return 0
    fi
    echo "kafka: not running (data $DATA)"
    return 3
}

case "${1:-}" in
    fetch) shift; [[ $# -eq 0 ]] || die "fetch takes no arguments"; cmd_fetch ;;
    lock) shift; cmd_fetch write-lock ;;
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    status) shift; cmd_status "$@" ;;
    *) usage ;;
esac
