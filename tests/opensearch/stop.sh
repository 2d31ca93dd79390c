#!/usr/bin/env bash
# Stop the OpenSearch nodes start.sh started on --port (or only --node N), by their pid
# files, after checking each pid is an OpenSearch of that node's folder; TERM, then KILL.
#   tests/opensearch/stop.sh [--port 9200] [--node N] [--kill]
set -uo pipefail
PORT=9200; ONLY=""; SIG=TERM
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=$2; shift 2 ;;
    --node) ONLY=$2; shift 2 ;;
    --kill) SIG=KILL; shift ;;
    *) echo "stop.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
BASE=${OPENSEARCH_TEST_BASE:-/tmp/newssearch-opensearch-$PORT}
for dir in "$BASE"/node-*; do
  [ -d "$dir" ] || continue
  [ -z "$ONLY" ] || [ "$dir" = "$BASE/node-$ONLY" ] || continue
  pidf=$dir/node.pid
  [ -f "$pidf" ] || continue
  pid=$(cat "$pidf")
  cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)
  case "$cmd" in
    *org.opensearch.bootstrap.OpenSearch*"$dir"*) ;;
    *) echo "[opensearch] pid $pid of $pidf is not that node: left alone" >&2; rm -f "$pidf"; continue ;;
  esac
  kill -"$SIG" "$pid" 2>/dev/null
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  rm -f "$pidf"
  echo "[opensearch] stopped $(basename "$dir") (pid $pid)" >&2
done
exit 0
