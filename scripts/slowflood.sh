#!/usr/bin/env bash
# Slow-body flood figures for BENCHMARKS.md: an attacker keeps CONNS
# connections open, each sending a 1 MB body one byte every 5 s, against
# `plaza serve` (embedded SQLite) in its own process with an open-file limit
# of NOFILE; a probe asks /api/health every 500 ms on a fresh connection.
# Run twice: from 127.0.0.1 (exempt from the per-address cap: only the body
# timeout and the open-file headroom act) and from 127.0.0.2 (the cap acts).
#
#   scripts/slowflood.sh [CONNS] [DURATION] [NOFILE] [PORT]
#   PLAZA_BIN=/path/to/plaza scripts/slowflood.sh   # measure another build
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-5000}
duration=${2:-45s}
nofile=${3:-4096}
port=${4:-18200}
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
ulimit -n 20000

if [ -n "${PLAZA_BIN:-}" ]; then cp "$PLAZA_BIN" "$work/plaza"; else go build -o "$work/plaza" ./cmd/plaza; fi
go build -o "$work/slowflood" ./bench/slowflood

for from in 127.0.0.1 127.0.0.2; do
	rm -rf "$work/data"
	(ulimit -n "$nofile"; PLAZA_DATA_DIR="$work/data" PLAZA_ADDR="127.0.0.1:$port" PLAZA_LOG_LEVEL=warn \
		exec "$work/plaza" serve 2>"$work/server.log") &
	server=$!
	for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
	echo "== attacker from $from, $conns connections, server open-file limit $nofile"
	"$work/slowflood" --target "127.0.0.1:$port" --conns "$conns" --from "$from" --duration "$duration" \
		--pid "$server" --json "${SLOWFLOOD_JSON:-/dev/null}"
	echo "   server log lines: $(wc -l <"$work/server.log") ($(grep -c 'too many open files' "$work/server.log" || true) 'too many open files')"
	kill $server; wait $server 2>/dev/null || true; server=
done
