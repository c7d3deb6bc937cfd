#!/usr/bin/env bash
# Local backing services for streamwise: Redis (Debian package) and a single-node KRaft Kafka
# broker run from Maven Central jars (no Docker, no Apache download site). Prometheus (Debian
# package) is only installed here, never run: each test that needs one starts its own on a free
# loopback port with a throwaway config and data dir (tests/integration/prometheus.py).
#
#   scripts/services.sh up       start what is not running yet (idempotent), wait until ready;
#                                install prometheus if missing
#   scripts/services.sh down     stop what this script started; drop Kafka's data dir
#   scripts/services.sh status   one line per service; exit 0 only if Redis and Kafka (those
#                                selected) are up; the prometheus line is information only
#   scripts/services.sh wait     wait until the (already started) services answer
#
# Environment:
#   STREAMWISE_SERVICES                redis | kafka | prometheus, any of them
#                                      (default "redis kafka prometheus"; commas ok; "all")
#   STREAMWISE_SERVICES_DIR            runtime state (default <repo>/.services)
#   STREAMWISE_CACHE_DIR               jar cache (default <repo>/.cache)
#   STREAMWISE_KAFKA_VERSION           default 4.1.2
#   STREAMWISE_KAFKA_PORT              default 9092
#   STREAMWISE_KAFKA_CONTROLLER_PORT   default 9093
#   STREAMWISE_REDIS_PORT              default 6379
#   STREAMWISE_KEEP_DATA=1             `down` keeps Kafka's data dir
#   STREAMWISE_KAFKA_HEAP_OPTS         default "-Xms256m -Xmx512m"
#   STREAMWISE_KAFKA_START_TIMEOUT     seconds, default 60
#   STREAMWISE_REDIS_START_TIMEOUT     seconds, default 20
#   PYTHON                             interpreter for the kafka-python readiness probe
#                                      (default python3; without kafka-python: port + log line)
#   JAVA_HOME                          java to use (default: java on PATH)
#   CI                                 1/true/yes: a prometheus that cannot be installed fails
#                                      'up' (elsewhere it is a warning; its test then skips)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"

HOST=127.0.0.1
SERVICES_DIR="${STREAMWISE_SERVICES_DIR:-$REPO_ROOT/.services}"
CACHE_DIR="${STREAMWISE_CACHE_DIR:-$REPO_ROOT/.cache}"
KAFKA_VERSION="${STREAMWISE_KAFKA_VERSION:-4.1.2}"
KAFKA_PORT="${STREAMWISE_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${STREAMWISE_KAFKA_CONTROLLER_PORT:-9093}"
REDIS_PORT="${STREAMWISE_REDIS_PORT:-6379}"
KEEP_DATA="${STREAMWISE_KEEP_DATA:-0}"
KAFKA_HEAP_OPTS="${STREAMWISE_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_START_TIMEOUT="${STREAMWISE_KAFKA_START_TIMEOUT:-60}"
REDIS_START_TIMEOUT="${STREAMWISE_REDIS_START_TIMEOUT:-20}"
PYTHON="${PYTHON:-python3}"
if [[ -n "${JAVA_HOME:-}" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

REDIS_STATE_DIR="$SERVICES_DIR/redis"
REDIS_PID_FILE="$SERVICES_DIR/redis.pid"
REDIS_PORT_FILE="$SERVICES_DIR/redis.port"
REDIS_LOG="$REDIS_STATE_DIR/redis.log"

KAFKA_STATE_DIR="$SERVICES_DIR/kafka"
KAFKA_DATA_DIR="$KAFKA_STATE_DIR/data"
KAFKA_PROPS="$KAFKA_STATE_DIR/server.properties"
KAFKA_PID_FILE="$KAFKA_STATE_DIR/kafka.pid"
KAFKA_PORT_FILE="$KAFKA_STATE_DIR/kafka.ports"
KAFKA_CLUSTER_ID_FILE="$KAFKA_STATE_DIR/cluster.id"
KAFKA_LOG="$KAFKA_STATE_DIR/server.log"   # written by log4j2 (scripts/kafka/log4j2.properties)
KAFKA_OUT="$KAFKA_STATE_DIR/kafka.out"    # the JVM's stdout/stderr
KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
KAFKA_JARS="$KAFKA_HOME/jars"
KAFKA_MARKER="$KAFKA_HOME/.resolved"      # written only after a complete, successful resolve
KAFKA_POM="$SCRIPT_DIR/kafka/pom.xml"
KAFKA_LOG4J="$SCRIPT_DIR/kafka/log4j2.properties"

# --------------------------------------------------------------------------------------------
# helpers

now() {
  if [[ -n "${EPOCHREALTIME:-}" ]]; then echo "${EPOCHREALTIME/,/.}"; else date +%s.%N; fi
}
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1fs", e - s }'; }
expired() { awk -v s="$1" -v e="$(now)" -v t="$2" 'BEGIN { exit !(e - s >= t) }'; }
say() { printf '%s: %s\n' "$1" "$2"; }
die() { printf 'services.sh: %s\n' "$*" >&2; exit 1; }

is_int() { [[ "$1" =~ ^[0-9]+$ ]]; }

# True if pid exists and is not a zombie.
pid_running() {
  local pid="$1" state=""
  is_int "$pid" || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/stat" ]]; then
    state="$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null || true)"
    [[ "$state" != Z && "$state" != X ]] || return 1
  fi
  return 0
}

pid_cmdline() {
  if [[ -r "/proc/$1/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
  else
    ps -o args= -p "$1" 2>/dev/null || true
  fi
}

read_first_line() { [[ -s "$1" ]] && head -n 1 "$1" | tr -d '[:space:]'; }

# Something is listening on (or accepting on) the port, whoever owns it.
port_in_use() {
  if command -v ss >/dev/null 2>&1 && [[ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]]; then
    return 0
  fi
  port_accepts "$1"
}

port_accepts() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

port_owner_hint() {
  local out=""
  if command -v ss >/dev/null 2>&1; then
    out="$(ss -Htlnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\1 (pid \2)/p' | head -n 1)"
  fi
  [[ -n "$out" ]] && printf ' by %s' "$out"
  return 0
}

tail_logs() {
  local f
  for f in "$@"; do
    if [[ -s "$f" ]]; then
      printf -- '----- last 40 lines of %s -----\n' "$f" >&2
      tail -n 40 "$f" >&2
    fi
  done
}

# Our pid for a service, if its pid file names a live process of the expected program.
our_pid() {
  local pid cmd
  case "$1" in
    redis)
      pid="$(read_first_line "$REDIS_PID_FILE" 2>/dev/null)" || return 1
      pid_running "$pid" || return 1
      cmd="$(pid_cmdline "$pid")"
      [[ "$cmd" == *redis-server* ]] || return 1
      ;;
    kafka)
      pid="$(read_first_line "$KAFKA_PID_FILE" 2>/dev/null)" || return 1
      pid_running "$pid" || return 1
      cmd="$(pid_cmdline "$pid")"
      [[ "$cmd" == *kafka.Kafka* && "$cmd" == *"$KAFKA_PROPS"* ]] || return 1
      ;;
  esac
  echo "$pid"
}

# Stop a pid: SIGTERM, wait up to $2 seconds, then SIGKILL. Echoes how it ended.
stop_pid() {
  local pid="$1" grace="$2" t0
  t0="$(now)"
  kill -TERM "$pid" 2>/dev/null || true
  while pid_running "$pid"; do
    if expired "$t0" "$grace"; then
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      echo "killed (SIGKILL after ${grace}s)"
      return 0
    fi
    sleep 0.1
  done
  echo "stopped"
}

with_lock() {
  mkdir -p "$SERVICES_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$SERVICES_DIR/.lock"
    flock -w 180 9 || die "another services.sh is still running (lock $SERVICES_DIR/.lock)"
  fi
}

# --------------------------------------------------------------------------------------------
# Redis

redis_ping() {
  [[ "$(timeout 2 redis-cli -h "$HOST" -p "$1" ping 2>/dev/null || true)" == PONG ]]
}

redis_install() {
  if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 ||
    die "redis: redis-server is not installed and apt-get is not available; install Redis 7"
  local sudo=() t0 log="$SERVICES_DIR/apt-redis.log"
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 ||
      die "redis: redis-server is not installed; run 'apt-get install -y redis-server' as root"
    sudo=(sudo)
  fi
  t0="$(now)"
  say redis "redis-server not found; installing it with apt-get (log: $log)"
  if ! { "${sudo[@]}" apt-get update &&
         "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server; } \
       >"$log" 2>&1; then
    tail_logs "$log"
    die "redis: apt-get install redis-server failed"
  fi
  command -v redis-server >/dev/null 2>&1 || die "redis: redis-server still missing after install"
  say redis "installed $(redis-server --version | awk '{print $3}' | sed 's/^v=//') in $(since "$t0")"
}

redis_wait() {   # port pid-or-empty t0
  local port="$1" t0="$3" pid
  while ! redis_ping "$port"; do
    if expired "$t0" "$REDIS_START_TIMEOUT"; then
      tail_logs "$REDIS_LOG"
      die "redis: not answering PONG on $HOST:$port after ${REDIS_START_TIMEOUT}s (log: $REDIS_LOG)"
    fi
    sleep 0.1
  done
  pid="$(our_pid redis || echo '?')"
  say redis "ready in $(since "$t0") (port $port, pid $pid)"
}

redis_up() {
  local t0 pid port
  t0="$(now)"
  if pid="$(our_pid redis)"; then
    port="$(read_first_line "$REDIS_PORT_FILE" 2>/dev/null || echo "$REDIS_PORT")"
    [[ "$port" == "$REDIS_PORT" ]] ||
      die "redis: already running on port $port (pid $pid), not $REDIS_PORT; run 'down' first"
    if redis_ping "$port"; then
      say redis "already running (port $port, pid $pid)"
      return 0
    fi
    say redis "running (pid $pid) but not answering yet; waiting"
    redis_wait "$port" "$pid" "$t0"
    return 0
  fi
  rm -f "$REDIS_PID_FILE" "$REDIS_PORT_FILE"
  if port_in_use "$REDIS_PORT"; then
    die "redis: port $REDIS_PORT is already in use$(port_owner_hint "$REDIS_PORT"), not by a server this script started; stop it or set STREAMWISE_REDIS_PORT"
  fi
  redis_install
  mkdir -p "$REDIS_STATE_DIR"
  t0="$(now)"
  if ! redis-server --bind "$HOST" --port "$REDIS_PORT" --save '' --appendonly no \
        --daemonize yes --pidfile "$REDIS_PID_FILE" --dir "$REDIS_STATE_DIR" \
        --logfile "$REDIS_LOG" >/dev/null 2>&1 9>&-; then
    tail_logs "$REDIS_LOG"
    die "redis: redis-server failed to start (log: $REDIS_LOG)"
  fi
  echo "$REDIS_PORT" >"$REDIS_PORT_FILE"
  redis_wait "$REDIS_PORT" "" "$t0"
}

redis_down() {
  local pid port t0 how
  t0="$(now)"
  if pid="$(our_pid redis)"; then
    port="$(read_first_line "$REDIS_PORT_FILE" 2>/dev/null || echo "$REDIS_PORT")"
    timeout 5 redis-cli -h "$HOST" -p "$port" shutdown nosave >/dev/null 2>&1 || true
    how="stopped"
    local t1; t1="$(now)"
    while pid_running "$pid"; do
      if expired "$t1" 5; then how="$(stop_pid "$pid" 5) (shutdown nosave did not end it)"; break; fi
      sleep 0.05
    done
    say redis "$how in $(since "$t0") (pid $pid)"
  else
    say redis "not running (nothing started by this script)"
  fi
  rm -f "$REDIS_PID_FILE" "$REDIS_PORT_FILE"
}

redis_status() {
  local pid port
  if pid="$(our_pid redis)"; then
    port="$(read_first_line "$REDIS_PORT_FILE" 2>/dev/null || echo "$REDIS_PORT")"
    if redis_ping "$port"; then
      echo "redis: running  port=$port pid=$pid"
      return 0
    fi
    echo "redis: not answering  port=$port pid=$pid"
    return 1
  fi
  if port_in_use "$REDIS_PORT"; then
    echo "redis: stopped  port=$REDIS_PORT (port in use$(port_owner_hint "$REDIS_PORT"), not started by this script)"
  else
    echo "redis: stopped  port=$REDIS_PORT"
  fi
  return 1
}

redis_wait_cmd() {
  local pid port t0
  t0="$(now)"
  pid="$(our_pid redis)" || die "redis: not started by this script (run 'up')"
  port="$(read_first_line "$REDIS_PORT_FILE" 2>/dev/null || echo "$REDIS_PORT")"
  redis_wait "$port" "$pid" "$t0"
}

# --------------------------------------------------------------------------------------------
# Kafka

kafka_jars() {
  if [[ -f "$KAFKA_MARKER" ]] && compgen -G "$KAFKA_JARS/*.jar" >/dev/null; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "kafka: mvn (Maven) is needed to fetch the Kafka jars"
  local t0 log="$KAFKA_HOME/mvn.log"
  t0="$(now)"
  say kafka "resolving Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_JARS"
  rm -rf "$KAFKA_JARS" "$KAFKA_MARKER"
  mkdir -p "$KAFKA_JARS"
  if ! mvn -q -B -f "$KAFKA_POM" -Dkafka.version="$KAFKA_VERSION" \
        dependency:copy-dependencies -DoutputDirectory="$KAFKA_JARS" >"$log" 2>&1; then
    tail_logs "$log"
    rm -rf "$KAFKA_JARS"
    die "kafka: Maven could not resolve Kafka $KAFKA_VERSION (log: $log)"
  fi
  [[ -f "$KAFKA_JARS/kafka_2.13-$KAFKA_VERSION.jar" ]] ||
    die "kafka: kafka_2.13-$KAFKA_VERSION.jar missing after resolve (log: $log)"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$KAFKA_MARKER"
  say kafka "jars resolved in $(since "$t0") ($(find "$KAFKA_JARS" -name '*.jar' | wc -l) jars, $(du -sh "$KAFKA_JARS" | cut -f1))"
}

kafka_write_props() {
  mkdir -p "$KAFKA_STATE_DIR"
  cat >"$KAFKA_PROPS.tmp" <<EOF
# Generated by scripts/services.sh; edits are overwritten on the next 'up'.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DATA_DIR
num.partitions=2
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  mv -f "$KAFKA_PROPS.tmp" "$KAFKA_PROPS"
}

kafka_format() {
  local cid="" t0 log="$KAFKA_STATE_DIR/format.log"
  if [[ -f "$KAFKA_DATA_DIR/meta.properties" ]]; then
    cid="$(sed -n 's/^cluster\.id=//p' "$KAFKA_DATA_DIR/meta.properties" | head -n 1)"
    [[ -n "$cid" ]] && echo "$cid" >"$KAFKA_CLUSTER_ID_FILE"
    return 0   # already formatted (STREAMWISE_KEEP_DATA=1 on the last 'down')
  fi
  t0="$(now)"
  cid="$(read_first_line "$KAFKA_CLUSTER_ID_FILE" 2>/dev/null || true)"
  if [[ -z "$cid" ]]; then
    cid="$("$JAVA" -cp "$KAFKA_JARS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 | tr -d '[:space:]')"
    [[ "$cid" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka: StorageTool random-uuid gave '$cid'"
    echo "$cid" >"$KAFKA_CLUSTER_ID_FILE"
  fi
  if ! "$JAVA" -cp "$KAFKA_JARS/*" kafka.tools.StorageTool format -t "$cid" -c "$KAFKA_PROPS" \
        --ignore-formatted >"$log" 2>&1; then
    tail_logs "$log"
    die "kafka: formatting $KAFKA_DATA_DIR failed (log: $log)"
  fi
  say kafka "formatted $KAFKA_DATA_DIR (cluster id $cid) in $(since "$t0")"
}

KAFKA_PROBE='
import sys
from kafka import KafkaAdminClient
c = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=5000)
try:
    c.list_topics()
finally:
    c.close()
'

kafka_probe_mode() {
  if "$PYTHON" -c 'import kafka' >/dev/null 2>&1; then
    echo python
  else
    echo log
  fi
}

kafka_ready_once() {   # mode port
  port_accepts "$2" || return 1
  if [[ "$1" == python ]]; then
    timeout 20 "$PYTHON" -c "$KAFKA_PROBE" "$HOST:$2" >/dev/null 2>&1
  else
    grep -q "Kafka Server started" "$KAFKA_LOG" 2>/dev/null
  fi
}

kafka_wait() {   # pid port t0 stop-on-failure(0/1)
  local pid="$1" port="$2" t0="$3" stop="$4" mode
  mode="$(kafka_probe_mode)"
  [[ "$mode" == python ]] ||
    say kafka "kafka-python not importable by $PYTHON; readiness = port open + 'Kafka Server started'"
  until kafka_ready_once "$mode" "$port"; do
    if ! pid_running "$pid"; then
      tail_logs "$KAFKA_LOG" "$KAFKA_OUT"
      rm -f "$KAFKA_PID_FILE" "$KAFKA_PORT_FILE"
      die "kafka: broker process $pid exited during startup (logs: $KAFKA_LOG, $KAFKA_OUT)"
    fi
    if expired "$t0" "$KAFKA_START_TIMEOUT"; then
      tail_logs "$KAFKA_LOG" "$KAFKA_OUT"
      if [[ "$stop" == 1 ]]; then
        say kafka "stopping the broker that did not become ready: $(stop_pid "$pid" 15)"
        rm -f "$KAFKA_PID_FILE" "$KAFKA_PORT_FILE"
      fi
      die "kafka: not ready on $HOST:$port after ${KAFKA_START_TIMEOUT}s (probe: $mode)"
    fi
    sleep 0.25
  done
  say kafka "ready in $(since "$t0") (port $port, controller $KAFKA_CONTROLLER_PORT, pid $pid, Kafka $KAFKA_VERSION, probe: $mode)"
}

kafka_recorded_port() {
  local p
  p="$(awk 'NR == 1 { print $1 }' "$KAFKA_PORT_FILE" 2>/dev/null || true)"
  echo "${p:-$KAFKA_PORT}"
}

kafka_up() {
  local t0 pid port heap=()
  t0="$(now)"
  if pid="$(our_pid kafka)"; then
    port="$(kafka_recorded_port)"
    [[ "$port" == "$KAFKA_PORT" ]] ||
      die "kafka: already running on port $port (pid $pid), not $KAFKA_PORT; run 'down' first"
    if kafka_ready_once "$(kafka_probe_mode)" "$port"; then
      say kafka "already running (port $port, pid $pid)"
      return 0
    fi
    say kafka "running (pid $pid) but not ready yet; waiting"
    kafka_wait "$pid" "$port" "$t0" 0
    return 0
  fi
  rm -f "$KAFKA_PID_FILE" "$KAFKA_PORT_FILE"
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_in_use "$p"; then
      die "kafka: port $p is already in use$(port_owner_hint "$p"), not by a broker this script started; stop it or set STREAMWISE_KAFKA_PORT / STREAMWISE_KAFKA_CONTROLLER_PORT"
    fi
  done
  command -v "$JAVA" >/dev/null 2>&1 || die "kafka: java not found (install a JDK 17+ or set JAVA_HOME)"
  kafka_jars
  kafka_write_props
  mkdir -p "$KAFKA_DATA_DIR"
  kafka_format
  # Keep the previous run's logs, start fresh ones (the log probe must not see old lines).
  [[ -f "$KAFKA_LOG" ]] && mv -f "$KAFKA_LOG" "$KAFKA_LOG.prev"
  [[ -f "$KAFKA_OUT" ]] && mv -f "$KAFKA_OUT" "$KAFKA_OUT.prev"
  read -r -a heap <<<"$KAFKA_HEAP_OPTS"
  t0="$(now)"
  nohup "$JAVA" "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_LOG4J" -Dkafka.logs.dir="$KAFKA_STATE_DIR" \
    -cp "$KAFKA_JARS/*" kafka.Kafka "$KAFKA_PROPS" >"$KAFKA_OUT" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$KAFKA_PID_FILE"
  echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT" >"$KAFKA_PORT_FILE"
  say kafka "started broker (pid $pid, log $KAFKA_LOG)"
  kafka_wait "$pid" "$KAFKA_PORT" "$t0" 1
}

kafka_down() {
  local pid t0
  t0="$(now)"
  if pid="$(our_pid kafka)"; then
    say kafka "$(stop_pid "$pid" 15) in $(since "$t0") (pid $pid)"
  else
    say kafka "not running (nothing started by this script)"
  fi
  rm -f "$KAFKA_PID_FILE" "$KAFKA_PORT_FILE"
  if [[ "$KEEP_DATA" == 1 ]]; then
    [[ -d "$KAFKA_DATA_DIR" ]] && say kafka "kept data dir $KAFKA_DATA_DIR (STREAMWISE_KEEP_DATA=1)"
  elif [[ -d "$KAFKA_DATA_DIR" ]]; then
    rm -rf "$KAFKA_DATA_DIR"
    say kafka "removed data dir $KAFKA_DATA_DIR"
  fi
  return 0
}

kafka_status() {
  local pid port
  if pid="$(our_pid kafka)"; then
    port="$(kafka_recorded_port)"
    if port_accepts "$port"; then
      echo "kafka: running  port=$port pid=$pid"
      return 0
    fi
    echo "kafka: not answering  port=$port pid=$pid"
    return 1
  fi
  if port_in_use "$KAFKA_PORT"; then
    echo "kafka: stopped  port=$KAFKA_PORT (port in use$(port_owner_hint "$KAFKA_PORT"), not started by this script)"
  else
    echo "kafka: stopped  port=$KAFKA_PORT"
  fi
  return 1
}

kafka_wait_cmd() {
  local pid t0
  t0="$(now)"
  pid="$(our_pid kafka)" || die "kafka: not started by this script (run 'up')"
  kafka_wait "$pid" "$(kafka_recorded_port)" "$t0" 0
}

# --------------------------------------------------------------------------------------------
# Prometheus: installed, never started here

PROMETHEUS_APT_LOG="$SERVICES_DIR/apt-prometheus.log"

in_ci() { [[ "${CI:-}" =~ ^([Tt][Rr][Uu][Ee]|[Yy][Ee][Ss]|1)$ ]]; }

prometheus_version() { prometheus --version 2>&1 | awk 'NR == 1 { print $3 }'; }

# Under CI the Prometheus test would fail without the binary, so 'up' fails first. Elsewhere
# Prometheus is optional: warn, and let the test skip with its reason.
prometheus_unavailable() {
  in_ci && die "prometheus: $* (CI=true: tests/integration/test_prometheus.py needs it)"
  say prometheus "WARNING: $*; tests/integration/test_prometheus.py will be skipped"
}

# The Debian package enables prometheus.service (port 9090, scraping itself). streamwise only
# wants the binary, so a service the install just started is stopped and disabled again.
prometheus_no_system_service() {
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    "$@" systemctl disable --now prometheus.service || true
  elif [[ -x /etc/init.d/prometheus ]]; then
    "$@" /etc/init.d/prometheus stop || true
    if command -v update-rc.d >/dev/null 2>&1; then "$@" update-rc.d prometheus disable || true; fi
  fi
}

prometheus_up() {
  if command -v prometheus >/dev/null 2>&1; then
    say prometheus "installed ($(command -v prometheus), $(prometheus_version)); each test runs its own"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    prometheus_unavailable "prometheus is not installed and apt-get is not available"
    return 0
  fi
  local sudo=() t0 log="$PROMETHEUS_APT_LOG"
  if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      prometheus_unavailable "prometheus is not installed; run 'apt-get install -y --no-install-recommends prometheus' as root"
      return 0
    fi
    sudo=(sudo)
  fi
  t0="$(now)"
  say prometheus "not found; installing Debian's prometheus package with apt-get (log: $log)"
  # Without recommends: prometheus-node-exporter would be one more system service.
  local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y
                 --no-install-recommends prometheus)
  if ! { "${install[@]}" || { "${sudo[@]}" apt-get update && "${install[@]}"; }; } \
       >"$log" 2>&1; then
    tail_logs "$log"
    prometheus_unavailable "apt-get install prometheus failed (log: $log)"
    return 0
  fi
  prometheus_no_system_service "${sudo[@]}" >>"$log" 2>&1
  if ! command -v prometheus >/dev/null 2>&1; then
    prometheus_unavailable "prometheus still missing after apt-get install (log: $log)"
    return 0
  fi
  say prometheus "installed $(prometheus_version) in $(since "$t0"); not started (each test runs its own)"
}

prometheus_down() {
  say prometheus "nothing to stop (each test stops the one it started)"
}

prometheus_status() {
  if command -v prometheus >/dev/null 2>&1; then
    echo "prometheus: installed  $(command -v prometheus) $(prometheus_version) (run per test, not here)"
  else
    echo "prometheus: not installed (scripts/services.sh up installs it)"
  fi
  return 0   # a tool, not a service: 'status' answers for Redis and Kafka
}

prometheus_wait_cmd() { return 0; }

# --------------------------------------------------------------------------------------------
# main

selected() {   # prints the selected services in start order
  local raw="${STREAMWISE_SERVICES:-redis kafka prometheus}" s
  local want_redis=0 want_kafka=0 want_prometheus=0
  for s in ${raw//,/ }; do
    case "$s" in
      redis) want_redis=1 ;;
      kafka) want_kafka=1 ;;
      prometheus) want_prometheus=1 ;;
      all) want_redis=1; want_kafka=1; want_prometheus=1 ;;
      *) die "STREAMWISE_SERVICES: unknown service '$s' (use redis, kafka, prometheus)" ;;
    esac
  done
  [[ $want_redis == 1 || $want_kafka == 1 || $want_prometheus == 1 ]] ||
    die "STREAMWISE_SERVICES selects nothing"
  [[ $want_redis == 1 ]] && echo redis
  [[ $want_kafka == 1 ]] && echo kafka
  [[ $want_prometheus == 1 ]] && echo prometheus
  return 0
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

main() {
  local cmd="${1:-}" svcs s rc=0 t0
  case "$cmd" in
    up|down|status|wait) ;;
    -h|--help|help) usage; return 0 ;;
    *) usage >&2; return 2 ;;
  esac
  svcs="$(selected)"
  t0="$(now)"
  case "$cmd" in
    up)
      with_lock
      for s in $svcs; do "${s}_up"; done
      say services "up in $(since "$t0")"
      ;;
    down)
      with_lock
      for s in $(echo "$svcs" | tac); do "${s}_down"; done
      ;;
    status)
      for s in $svcs; do "${s}_status" || rc=1; done
      return "$rc"
      ;;
    wait)
      for s in $svcs; do "${s}_wait_cmd"; done
      ;;
  esac
}

main "$@"
