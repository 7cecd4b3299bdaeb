#!/usr/bin/env bash
# A real Apache Kafka broker for integration tests: single node, KRaft (combined
# broker+controller), jars from Maven Central, run with Java 17.
#   bash scripts/infra/kafka.sh start|stop|restart|status
#   bash scripts/infra/kafka.sh scram-user USER PASSWORD_FILE   (SCRAM-SHA-512 credential upsert)
#   bash scripts/infra/kafka.sh tool CLASS ARGS...   (Kafka's own CLI, org.apache.kafka.tools.CLASS)
# PLAINTEXT://127.0.0.1:19092 (clients, principal ANONYMOUS = super user: the tests and admin),
# SASL_SSL://127.0.0.1:19094 (SCRAM-SHA-512 over TLS: one principal per service, ACLs from
# helm/custody/files/flows.yaml via scripts/infra/kafka-principals.mjs),
# CONTROLLER://127.0.0.1:19093 — loopback only. Authorizer: KRaft StandardAuthorizer.
# Jars: $CUSTODY_CACHE/kafka-<version>/libs (+ tools/: kafka-tools, for ConfigCommand);
# data, config, TLS material, logs, pid: .local/kafka/.
# A running broker started before the SASL_SSL listener existed is restarted once by `start`
# (the upgrade; scripts/infra/README.md).
# Version choice: docs/decisions/kafka-broker-version.md (override with KAFKA_VERSION=...).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
KAFKA_HOST=127.0.0.1
KAFKA_PORT="${INFRA_KAFKA_PORT:-19092}"                       # overrides: only to run a second,
KAFKA_CONTROLLER_PORT="${INFRA_KAFKA_CONTROLLER_PORT:-19093}"  # isolated copy (README)
KAFKA_SASL_PORT="${INFRA_KAFKA_SASL_PORT:-19094}"
KAFKA_HEAP="${KAFKA_HEAP:--Xms256m -Xmx512m}"
START_TIMEOUT=90   # seconds until the broker must answer metadata requests
STOP_TIMEOUT=20    # seconds after SIGTERM before SIGKILL

KAFKA_LIBS="$CUSTODY_CACHE/kafka-$KAFKA_VERSION/libs"
KAFKA_TOOLS="$CUSTODY_CACHE/kafka-$KAFKA_VERSION/tools"   # kafka-tools jar only (runs on KAFKA_LIBS)
KAFKA_BASE="$LOCAL_DIR/kafka"
KAFKA_DATA="$KAFKA_BASE/data"
KAFKA_LOGS="$KAFKA_BASE/logs"
KAFKA_CONF="$KAFKA_BASE/server.properties"
KAFKA_PID="$KAFKA_BASE/kafka.pid"
KAFKA_VERSION_FILE="$KAFKA_BASE/version"
KAFKA_TLS="$KAFKA_BASE/tls"   # ca.crt (clients trust it), ca.key, server.pem (broker key + cert)

mkdir -p "$KAFKA_BASE"
# Serialise concurrent start/stop/restart calls from parallel test runs.
lock() {
  exec 9>"$KAFKA_BASE/.lock"
  flock -w 180 9 || die "another kafka.sh is still running (lock $KAFKA_BASE/.lock)"
}

ensure_toolchain() {
  need java "install a Java 17+ runtime (Debian: apt-get install -y openjdk-17-jre-headless, or run scripts/infra/apt.sh)"
  need node "install Node.js 20.19+ (used for the readiness check)"
}

ensure_libs() {
  [ -f "$KAFKA_LIBS/.complete" ] && return 0
  need mvn "install Maven 3.8+ (Debian: apt-get install -y maven, or run scripts/infra/apt.sh)"
  echo "kafka: fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
  rm -rf "$KAFKA_LIBS"
  mkdir -p "$(dirname "$KAFKA_LIBS")"
  local mvn_log; mvn_log="$(dirname "$KAFKA_LIBS")/mvn.log"
  mvn -B -Dstyle.color=never -f "$INFRA_DIR/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >"$mvn_log" 2>&1 ||
    { grep -E 'ERROR|BUILD' "$mvn_log" | head -n 20 >&2 || true; die "could not fetch Kafka $KAFKA_VERSION jars with Maven (log: $mvn_log)"; }
  [ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ] || die "Maven did not produce kafka_2.13-$KAFKA_VERSION.jar in $KAFKA_LIBS"
  touch "$KAFKA_LIBS/.complete"
}

# The kafka-tools jar alone (ConfigCommand for SCRAM credentials; kafkajs has no
# AlterUserScramCredentials): its dependencies are the broker's jars, so no transitive fetch.
# A directory of its own, so fetching it never touches the jars a running broker loads.
ensure_tools() {
  [ -f "$KAFKA_TOOLS/.complete" ] && return 0
  need mvn "install Maven 3.8+ (Debian: apt-get install -y maven, or run scripts/infra/apt.sh)"
  rm -rf "$KAFKA_TOOLS"
  mkdir -p "$(dirname "$KAFKA_TOOLS")"
  local mvn_log; mvn_log="$(dirname "$KAFKA_TOOLS")/mvn-tools.log"
  mvn -B -Dstyle.color=never -f "$INFRA_DIR/kafka/tools-pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_TOOLS" >"$mvn_log" 2>&1 ||
    { grep -E 'ERROR|BUILD' "$mvn_log" | head -n 20 >&2 || true; die "could not fetch kafka-tools $KAFKA_VERSION with Maven (log: $mvn_log)"; }
  [ -f "$KAFKA_TOOLS/kafka-tools-$KAFKA_VERSION.jar" ] || die "Maven did not produce kafka-tools-$KAFKA_VERSION.jar in $KAFKA_TOOLS"
  touch "$KAFKA_TOOLS/.complete"
}

# A private CA and the broker's certificate (SAN IP:127.0.0.1) for the SASL_SSL listener, made
# once and kept: clients verify the broker with ca.crt (CUSTODY_KAFKA_CA_FILE). The broker reads
# server.pem (unencrypted PKCS#8 key + certificate) as a PEM key store.
ensure_tls() {
  [ -f "$KAFKA_TLS/server.pem" ] && [ -f "$KAFKA_TLS/ca.crt" ] && return 0
  need openssl "install openssl (Debian: apt-get install -y openssl)"
  rm -rf "$KAFKA_TLS"; mkdir -p "$KAFKA_TLS"; chmod 0700 "$KAFKA_TLS"
  local d="$KAFKA_TLS" log="$KAFKA_TLS/openssl.log"
  {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=custody local Kafka CA" \
      -keyout "$d/ca.key" -out "$d/ca.crt" &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$KAFKA_HOST" -keyout "$d/server.key" -out "$d/server.csr" &&
    printf 'subjectAltName=IP:%s,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$KAFKA_HOST" > "$d/server.ext" &&
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 3650 -extfile "$d/server.ext" -out "$d/server.crt" &&
    openssl pkcs8 -topk8 -nocrypt -in "$d/server.key" -out "$d/server.pk8"
  } >"$log" 2>&1 || { cat "$log" >&2; die "could not create the Kafka TLS material in $KAFKA_TLS"; }
  cat "$d/server.pk8" "$d/server.crt" > "$d/server.pem.tmp"
  chmod 0600 "$d/ca.key" "$d/server.key" "$d/server.pk8" "$d/server.pem.tmp"
  mv "$d/server.pem.tmp" "$d/server.pem"
  rm -f "$d/server.csr" "$d/server.ext" "$d/ca.srl"
}

# config_text — the broker configuration (written on every start).
config_text() {
  cat <<CONF
# Generated by scripts/infra/kafka.sh — edits are overwritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT,SASL_SSL://$KAFKA_HOST:$KAFKA_SASL_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,SASL_SSL://$KAFKA_HOST:$KAFKA_SASL_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA

# Authorization (KRaft StandardAuthorizer). PLAINTEXT and CONTROLLER connections are
# unauthenticated (principal User:ANONYMOUS): a super user, so the loopback test listener and
# the controller work exactly as without an authorizer. SASL_SSL principals (User:<scram
# user>) get only what their ACLs allow: no allow.everyone.if.no.acl.found (default false).
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS

# SASL_SSL: SCRAM-SHA-512 (credentials in the metadata log: kafka.sh scram-user) over TLS
# (server.pem from ensure_tls; no client certificates).
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$KAFKA_TLS/server.pem
listener.name.sasl_ssl.ssl.client.auth=none

# topics are created explicitly by the services / tests
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
min.insync.replicas=1

# single node: internal topics with replication factor 1. One partition each, so the
# readiness probe (scripts/infra/kafka/ready.cjs) can prove that the group and transaction
# coordinators have finished loading after a restart.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864
CONF
}

write_config() {
  mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
  config_text > "$KAFKA_CONF.tmp"
  mv "$KAFKA_CONF.tmp" "$KAFKA_CONF"
}

# has_sasl_listener — true if the config the running broker was started with has the SASL_SSL
# listener (a broker started by an older kafka.sh has neither it nor the authorizer). Only this
# upgrade restarts a running broker: other config changes need `kafka.sh restart`, so a start
# with other ports in the environment never stops a running broker.
has_sasl_listener() { grep -q '^listeners=.*SASL_SSL://' "$KAFKA_CONF" 2>/dev/null; }

java_cmd() {
  # shellcheck disable=SC2086 # KAFKA_HEAP is a list of JVM flags
  java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_LOGS" -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.xml" \
    -cp "$KAFKA_LIBS/*" "$@"
}

format_storage() {
  [ -f "$KAFKA_DATA/meta.properties" ] && return 0
  local cluster_id
  if [ -f "$KAFKA_BASE/cluster.id" ]; then
    cluster_id="$(cat "$KAFKA_BASE/cluster.id")"
  else
    # a random 16-byte UUID in Kafka's URL-safe base64 form (22 characters)
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    echo "$cluster_id" > "$KAFKA_BASE/cluster.id"
  fi
  java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_CONF" --ignore-formatted \
    >"$KAFKA_LOGS/format.log" 2>&1 ||
    { cat "$KAFKA_LOGS/format.log" >&2; die "kafka storage format failed (log: $KAFKA_LOGS/format.log)"; }
}

# pid of OUR broker if it is running (checks the command line, so a recycled pid is ignored)
broker_pid() {
  [ -f "$KAFKA_PID" ] || return 1
  local pid; pid="$(cat "$KAFKA_PID")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  grep -q "kafka.Kafka $KAFKA_CONF" <<<"$(tr '\0' ' ' < "/proc/$pid/cmdline")" || return 1
  echo "$pid"
}

ready() { (cd "$ROOT_DIR" && node "$INFRA_DIR/kafka/ready.cjs" "$KAFKA_HOST:$KAFKA_PORT") >/dev/null 2>&1; }

start() {
  ensure_toolchain
  if [ -f "$KAFKA_VERSION_FILE" ] && [ "$(cat "$KAFKA_VERSION_FILE")" != "$KAFKA_VERSION" ] && [ -f "$KAFKA_DATA/meta.properties" ]; then
    echo "kafka: note: data in $KAFKA_DATA was last used by Kafka $(cat "$KAFKA_VERSION_FILE"), starting $KAFKA_VERSION" >&2
  fi
  if pid="$(broker_pid)" && ! has_sasl_listener; then
    # the upgrade of a broker started before the SASL_SSL listener and the authorizer: once
    echo "kafka: the running broker (pid $pid) has no SASL_SSL listener (started by an older kafka.sh): restarting it once with SASL_SSL on $KAFKA_HOST:$KAFKA_SASL_PORT and the StandardAuthorizer" >&2
    stop
  fi
  if pid="$(broker_pid)"; then
    wait_for "$START_TIMEOUT" ready || die "Kafka (pid $pid) is running but not ready on $KAFKA_HOST:$KAFKA_PORT (log: $KAFKA_LOGS/server.log)"
    ensure_tools
    echo "kafka: already running on $KAFKA_HOST:$KAFKA_PORT, SASL_SSL $KAFKA_HOST:$KAFKA_SASL_PORT (pid $pid)"
    return 0
  fi
  rm -f "$KAFKA_PID"
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT"; do
    if tcp_open "$KAFKA_HOST" "$port"; then die "port $KAFKA_HOST:$port is taken by another process"; fi
  done
  ensure_libs
  ensure_tools
  ensure_tls
  write_config
  format_storage
  echo "$KAFKA_VERSION" > "$KAFKA_VERSION_FILE"
  # setsid: the broker outlives this script and the caller's process group (CI steps, jest).
  setsid nohup bash -c 'exec "$@"' _ java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_LOGS" -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.xml" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_CONF" >"$KAFKA_LOGS/stdout.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$KAFKA_PID"
  local deadline=$(( $(date +%s) + START_TIMEOUT ))
  until ready; do
    if ! broker_pid >/dev/null; then
      tail -n 30 "$KAFKA_LOGS/stdout.log" "$KAFKA_LOGS/server.log" >&2 2>/dev/null || true
      die "Kafka exited during startup (logs: $KAFKA_LOGS)"
    fi
    [ "$(date +%s)" -lt "$deadline" ] || die "Kafka did not become ready within ${START_TIMEOUT}s (logs: $KAFKA_LOGS)"
    sleep 0.3
  done
  wait_for 10 tcp_open "$KAFKA_HOST" "$KAFKA_SASL_PORT" || die "Kafka does not listen on SASL_SSL $KAFKA_HOST:$KAFKA_SASL_PORT (logs: $KAFKA_LOGS)"
  echo "kafka: $KAFKA_VERSION started on $KAFKA_HOST:$KAFKA_PORT, SASL_SSL $KAFKA_HOST:$KAFKA_SASL_PORT (pid $(cat "$KAFKA_PID"))"
}

# scram_user USER PASSWORD_FILE — create or replace USER's SCRAM-SHA-512 credential with Kafka's
# ConfigCommand (= kafka-configs.sh --alter --entity-type users), over the PLAINTEXT listener as
# the super user. The password never reaches a command line (ps): the whole java invocation is
# a 0600 launcher @argfile, removed afterwards. (ConfigCommand's --add-config-file rejects SCRAM
# properties, hence --add-config inside the @argfile.)
scram_user() {
  local user=${1:-} pwfile=${2:-} args password out
  [[ "$user" =~ ^[A-Za-z0-9._-]+$ ]] || die "scram-user: expected a user name [A-Za-z0-9._-]+"
  [ -r "$pwfile" ] || die "scram-user: cannot read the password file"
  password="$(head -n1 "$pwfile" | tr -d '\r\n')"
  [[ "$password" =~ ^[A-Za-z0-9._~+/=-]{8,}$ ]] || die "scram-user: the password must be 8+ characters of [A-Za-z0-9._~+/=-]"
  ensure_toolchain
  ensure_libs
  ensure_tools
  broker_pid >/dev/null || die "Kafka is not running (bash scripts/infra/kafka.sh start)"
  mkdir -p "$KAFKA_LOGS/tools"
  args="$(mktemp "$KAFKA_BASE/.scram.XXXXXX")"
  out="$(mktemp "$KAFKA_LOGS/tools/scram-out.XXXXXX")"
  chmod 0600 "$args" "$out"
  # shellcheck disable=SC2064
  trap "rm -f '$args' '$out'" EXIT
  printf '%s\n' -cp "\"$KAFKA_LIBS/*:$KAFKA_TOOLS/*\"" org.apache.kafka.tools.ConfigCommand \
    --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" --alter --entity-type users --entity-name "$user" \
    --add-config "SCRAM-SHA-512=[password=$password]" > "$args"
  if ! java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true -Dkafka.logs.dir="$KAFKA_LOGS/tools" \
      -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.xml" "@$args" >"$out" 2>&1 ||
     ! grep -q "Completed updating config for user $user" "$out"; then
    grep -v -i password "$out" | tail -n 5 >&2 || true
    die "could not set the SCRAM credential of $user (ConfigCommand output above, without lines naming the password)"
  fi
}

stop() {
  local pid
  if ! pid="$(broker_pid)"; then
    rm -f "$KAFKA_PID"
    echo "kafka: not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(( $(date +%s) + STOP_TIMEOUT ))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "kafka: no exit ${STOP_TIMEOUT}s after SIGTERM, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      wait_for 10 bash -c "! kill -0 $pid" || die "could not kill Kafka pid $pid"
      break
    fi
    sleep 0.2
  done
  # the ports must be free before a restart binds them again
  wait_for 10 bash -c "! (exec 3<>/dev/tcp/$KAFKA_HOST/$KAFKA_PORT) 2>/dev/null" || true
  rm -f "$KAFKA_PID"
  echo "kafka: stopped"
}

status() {
  local pid
  if pid="$(broker_pid)" && ready; then echo "kafka: ready on $KAFKA_HOST:$KAFKA_PORT (pid $pid, $(cat "$KAFKA_VERSION_FILE" 2>/dev/null))"; return 0; fi
  echo "kafka: not ready on $KAFKA_HOST:$KAFKA_PORT"; return 1
}

# tool CLASS ARGS... — one of Kafka's own command-line tools (org.apache.kafka.tools.CLASS, e.g.
# ConsoleProducer = kafka-console-producer.sh), its log on stderr (kafka/log4j2-tools.xml).
tool() {
  local class=${1:-}; shift || true
  [[ "$class" =~ ^[A-Za-z.]+$ ]] || die "tool: expected a class name of org.apache.kafka.tools"
  ensure_toolchain
  ensure_libs
  ensure_tools
  exec java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2-tools.xml" -cp "$KAFKA_LIBS/*:$KAFKA_TOOLS/*" "org.apache.kafka.tools.$class" "$@"
}

case "${1:-}" in
  start) lock; start ;;
  stop) lock; stop ;;
  restart) lock; stop; start ;;
  status) status ;;
  scram-user) scram_user "${2:-}" "${3:-}" ;;
  tool) shift; tool "$@" ;;
  *) echo "usage: $0 start|stop|restart|status|scram-user USER PASSWORD_FILE|tool CLASS ARGS..." >&2; exit 2 ;;
esac
