#!/usr/bin/env bash
# Play-counter figures for BENCHMARKS.md: plays offered at RATE per second
# by anonymous listeners (distinct client IPs through a trusted proxy) to
# the real `plaza serve` (embedded SQLite unless DATABASE_URL is set; Redis
# if REDIS_URL is set), against the database writes the counter made.
# Each run publishes its own mixes on the same server.
#
#   scripts/playsbench.sh [RATE] [DURATION] [RUNS] [PORT]
#   e.g. scripts/playsbench.sh 10000 20s 3 18750
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-10000}
duration=${2:-20s}
runs=${3:-3}
port=${4:-18750}
work=$(mktemp -d)
server=; trap '[ -n "$server" ] && kill $server 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"' EXIT

if [ -n "${PLAZA_BIN:-}" ]; then cp "$PLAZA_BIN" "$work/plaza"; else go build -o "$work/plaza" ./cmd/plaza; fi
go build -o "$work/playsbench" ./bench/playsbench
export PLAZA_DATA_DIR="$work/data" PLAZA_LOG_LEVEL=warn
echo 'load test passphrase' | "$work/plaza" admin create --email bench@example.com --username bench --password - >/dev/null

PLAZA_ADDR="127.0.0.1:$port" PLAZA_TRUSTED_PROXIES=127.0.0.1 PLAZA_JOB_WORKERS=1 PLAZA_DEBUG_ADDR=${PLAZA_DEBUG_ADDR:-} "$work/plaza" serve &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done

for i in $(seq 1 "$runs"); do
	echo "== run $i"
	"$work/playsbench" --target "http://127.0.0.1:$port" --login 'bench:load test passphrase' --rate "$rate" --duration "$duration"
done
