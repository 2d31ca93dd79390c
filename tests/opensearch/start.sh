#!/usr/bin/env bash
# Start a real OpenSearch on 127.0.0.1 for the tests and benchmarks; print its url.
#
#   tests/opensearch/start.sh [--port 9200] [--nodes 1|2] [--heap 512m] [--node N]
#
# Fetches the integ-test-zip distribution with Maven from Maven Central
# (org.opensearch.distribution.integ-test-zip:opensearch:2.19.6:zip), unpacks it under
# $OPENSEARCH_TEST_BASE (default /tmp/newssearch-opensearch-PORT), and starts each node
# as the unprivileged user "newssearch-os" when run as root (OpenSearch refuses root).
# Node i: http PORT+i-1, transport PORT+50+i-1, files in BASE/node-i. Two nodes: node-1
# is cluster manager and data node, node-2 a data node (so killing node-2 leaves a
# cluster that still has its manager). --node N (re)starts only node N of a cluster
# started before (the rejoin test). Waits for green health; exit 3 when the distribution
# cannot be fetched, 4 without Java 11-21, 5 when a node does not come up (the nodes it
# started are stopped again). stop.sh with the same --port stops exactly these pids.
set -euo pipefail

VERSION=2.19.6
PORT=9200
NODES=1
HEAP=512m
ONLY=""
TIMEOUT=${OPENSEARCH_TEST_TIMEOUT:-300}
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=$2; shift 2 ;;
    --nodes) NODES=$2; shift 2 ;;
    --heap) HEAP=$2; shift 2 ;;
    --node) ONLY=$2; shift 2 ;;
    *) echo "start.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
BASE=${OPENSEARCH_TEST_BASE:-/tmp/newssearch-opensearch-$PORT}
HERE=$(cd "$(dirname "$0")" && pwd)
RUN_AS=newssearch-os
say() { echo "[opensearch] $*" >&2; }

# ---- java 11..21 (2.x installs the security manager, which Java 24 removed)
java_ok() { local v; v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1); [ -n "$v" ] && [ "$v" -ge 11 ] && [ "$v" -le 21 ]; }
JAVA=""
for cand in "${OPENSEARCH_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/*; do
  if [ -n "$cand" ] && [ -x "$cand/bin/java" ] && java_ok "$cand"; then JAVA=$cand; break; fi
done
[ -n "$JAVA" ] || { say "no Java 11-21 found (set OPENSEARCH_JAVA_HOME)"; exit 4; }

# ---- the distribution
DIST=$BASE/dist/opensearch-$VERSION
if [ ! -x "$DIST/bin/opensearch" ]; then
  REPO=${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}
  ZIP=$REPO/org/opensearch/distribution/integ-test-zip/opensearch/$VERSION/opensearch-$VERSION.zip
  if [ ! -f "$ZIP" ]; then
    command -v mvn >/dev/null || { say "mvn not found: cannot fetch OpenSearch"; exit 3; }
    say "fetching OpenSearch $VERSION with Maven"
    mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.6.1:get \
      -Dartifact=org.opensearch.distribution.integ-test-zip:opensearch:$VERSION:zip -Dtransitive=false \
      -Dmaven.repo.local="$REPO" >&2 || { say "Maven could not fetch the distribution"; exit 3; }
  fi
  mkdir -p "$BASE/dist"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$ZIP" "$BASE/dist"
  chmod -R a+rX "$BASE/dist"; chmod a+x "$DIST"/bin/*
fi
chmod 755 "$BASE"

if [ "$(id -u)" = 0 ]; then
  id "$RUN_AS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_AS"
  as_user() { runuser -u "$RUN_AS" -- "$@"; }
else
  as_user() { "$@"; }
fi

start_node() {  # start_node I COUNT
  local i=$1 n=$2 dir=$BASE/node-$1
  local http=$((PORT + i - 1)) transport=$((PORT + 50 + i - 1))
  rm -f "$dir/node.pid.tmp"
  if [ -f "$dir/node.pid" ] && kill -0 "$(cat "$dir/node.pid")" 2>/dev/null; then return 0; fi
  # a whole start begins from empty data: a run killed before its cleanup can leave test
  # indexes (with replicas a single node never assigns) that would keep it from green;
  # --node N rejoins a running cluster and keeps its node's data
  [ -n "$ONLY" ] || rm -rf "$dir/data"
  mkdir -p "$dir/data" "$dir/logs" "$dir/tmp"
  rm -rf "$dir/config"; cp -r "$DIST/config" "$dir/config"
  # the stock jvm.options write logs and dumps relative to the (read-only) distribution
  sed -i -e "s#logs/gc.log#$dir/logs/gc.log#g" -e "s#HeapDumpPath=data#HeapDumpPath=$dir/data#" \
         -e "s#ErrorFile=logs/#ErrorFile=$dir/logs/#" -e '/^-Xm[sx]/d' "$dir/config/jvm.options"
  [ "$(id -u)" = 0 ] && chown -R "$RUN_AS" "$dir"
  local roles=() disco=()
  if [ "$n" = 1 ]; then disco=(-Ediscovery.type=single-node)
  else
    disco=(-Ediscovery.seed_hosts=127.0.0.1:$((PORT + 50)) -Ecluster.initial_cluster_manager_nodes=node-1)
    [ "$i" = 1 ] || roles=(-Enode.roles=data,ingest)
  fi
  say "starting node-$i: http 127.0.0.1:$http, transport $transport, heap $HEAP"
  as_user env -i PATH=/usr/bin:/bin JAVA_HOME="$JAVA" OPENSEARCH_JAVA_HOME="$JAVA" OPENSEARCH_PATH_CONF="$dir/config" \
    OPENSEARCH_TMPDIR="$dir/tmp" OPENSEARCH_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP" \
    "$DIST/bin/opensearch" -d -p "$dir/node.pid" \
    -Enode.name=node-$i -Ecluster.name=newssearch-test-$PORT -Enetwork.host=127.0.0.1 \
    -Ehttp.port=$http -Etransport.port=$transport -Epath.data="$dir/data" -Epath.logs="$dir/logs" \
    -Ecluster.routing.allocation.disk.threshold_enabled=false "${disco[@]}" "${roles[@]}" >"$dir/launch.log" 2>&1 \
    || { say "node-$i did not start: see $dir/logs"; return 1; }
  # -d returns once the node runs and has written its pid file
  for _ in $(seq 1 60); do [ -s "$dir/node.pid" ] && return 0; sleep 0.5; done
  say "node-$i wrote no pid file: see $dir/logs"; return 1
}

if [ -n "$ONLY" ]; then
  NODES=$(cat "$BASE/nodes" 2>/dev/null || echo 1)
  start_node "$ONLY" "$NODES" || exit 5
else
  if [ -f "$BASE/nodes" ] && [ "$(cat "$BASE/nodes")" != "$NODES" ]; then "$HERE/stop.sh" --port "$PORT"; fi
  echo "$NODES" > "$BASE/nodes"
  for i in $(seq 1 "$NODES"); do
    start_node "$i" "$NODES" || { "$HERE/stop.sh" --port "$PORT"; exit 5; }
  done
fi

URL=http://127.0.0.1:$PORT
t0=$(date +%s)
until curl -fsS "$URL/_cluster/health?wait_for_status=green&wait_for_nodes=$NODES&timeout=5s" >/dev/null 2>&1; do
  if [ $(( $(date +%s) - t0 )) -gt "$TIMEOUT" ]; then
    say "not green after $TIMEOUT s (logs in $BASE/node-*/logs)"; [ -n "$ONLY" ] || "$HERE/stop.sh" --port "$PORT"; exit 5
  fi
  for i in $(seq 1 "$NODES"); do
    pidf=$BASE/node-$i/node.pid
    if [ -f "$pidf" ] && ! kill -0 "$(cat "$pidf")" 2>/dev/null; then
      say "node-$i died (logs in $BASE/node-$i/logs)"; [ -n "$ONLY" ] || "$HERE/stop.sh" --port "$PORT"; exit 5
    fi
  done
  sleep 1
done
say "green after $(( $(date +%s) - t0 )) s: $NODES node(s)"
echo "$URL"
