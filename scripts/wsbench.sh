#!/usr/bin/env bash
# WebSocket figures for BENCHMARKS.md: idle connections held and memory
# per connection, then fan-out latency to every subscriber at several
# publish rates, into one room (chat) or spread over ROOMS public channels.
# The server is the real `plaza serve` (embedded SQLite) in its own
# process; the clients run in a second process.
#
#   scripts/wsbench.sh [CONNS] [RATES] [DURATION] [ROOMS]
#   e.g. scripts/wsbench.sh 10000 10,50,100,200 10s      # one room of 10,000
#        scripts/wsbench.sh 10000 50 10s 10              # 10 rooms of 1,000, 50 msg/s in all
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-10000}
rates=${2:-10,50,100}
duration=${3:-10s}
nrooms=${4:-1}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"' EXIT
ulimit -n 20000

# PLAZA_BIN=path measures that server binary instead (to compare builds).
if [ -n "${PLAZA_BIN:-}" ]; then cp "$PLAZA_BIN" "$work/plaza"; else go build -o "$work/plaza" ./cmd/plaza; fi
go build -o "$work/wsbench" ./bench/wsbench
rooms=chat
if [ "$nrooms" -gt 1 ]; then
	"$work/wsbench" seed --data-dir "$work/data" --users $((conns + 1)) --tokens "$work/tokens.txt" --channels "$nrooms" --rooms "$work/rooms.txt"
	rooms=$(cat "$work/rooms.txt")
else
	"$work/wsbench" seed --data-dir "$work/data" --users $((conns + 1)) --tokens "$work/tokens.txt"
fi

port=${WSBENCH_PORT:-$((20000 + RANDOM % 20000))}
# The server's /metrics (frames per socket write) for wsbench, on the API port.
export PLAZA_METRICS_TOKEN=wsbench-metrics-token-$RANDOM$RANDOM
# WSBENCH_DEBUG_PORT=P: the server's profiler on P, and wsbench splits the
# idle memory (live heap, stacks) and saves the idle heap profile in
# $WSBENCH_HEAP (default wsbench-heap.pb.gz).
debug=()
if [ -n "${WSBENCH_DEBUG_PORT:-}" ]; then
	export PLAZA_DEBUG_ADDR="127.0.0.1:$WSBENCH_DEBUG_PORT"
	debug=(--debug "$PLAZA_DEBUG_ADDR" --heap-profile "${WSBENCH_HEAP:-wsbench-heap.pb.gz}")
fi
PLAZA_DATA_DIR="$work/data" PLAZA_ADDR="127.0.0.1:$port" PLAZA_LOG_LEVEL=warn \
PLAZA_RATE_API=off PLAZA_WS_MAX_CONNECTIONS=$((conns + 100)) \
	"$work/plaza" serve &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done

"$work/wsbench" run --target "http://127.0.0.1:$port" --tokens "$work/tokens.txt" --conns "$conns" \
	--room "$rooms" --pid "$server" --rates "$rates" --duration "$duration" --json "${WSBENCH_JSON:-/dev/null}" "${debug[@]}"
