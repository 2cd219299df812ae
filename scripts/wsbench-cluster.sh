#!/usr/bin/env bash
# Cross-instance delivery latency through Redis: two `plaza serve` on one
# MariaDB database and one Redis; subscribers on B, the publisher posting to
# A. For a side-by-side reference, the same run with publisher and
# subscribers on B alone.
#
#   scripts/wsbench-cluster.sh [CONNS] [RATES] [DURATION]
#   (MYSQL=mysql://root@127.0.0.1:3306 REDIS=redis://127.0.0.1:6379/0 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-1000}
rates=${2:-10,100}
duration=${3:-10s}
mysql=${MYSQL:-mysql://root@127.0.0.1:3306}
redis=${REDIS:-redis://127.0.0.1:6379/0}
db="plaza_wsbench_$RANDOM$RANDOM"
prefix="plaza-wsbench-$RANDOM:"
work=$(mktemp -d)
cleanup() {
	kill $a $b 2>/dev/null || true
	wait 2>/dev/null || true
	mariadb -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS $db" || true
	redis-cli --scan --pattern "$prefix*" | xargs -r redis-cli del >/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ulimit -n 20000
mariadb -uroot -h127.0.0.1 -e "CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"

# PLAZA_BIN=path measures that server binary instead (to compare builds).
if [ -n "${PLAZA_BIN:-}" ]; then cp "$PLAZA_BIN" "$work/plaza"; else go build -o "$work/plaza" ./cmd/plaza; fi
go build -o "$work/wsbench" ./bench/wsbench
"$work/wsbench" seed --database-url "$mysql/$db" --users $((conns + 1)) --tokens "$work/tokens.txt"

start() {
	PLAZA_DATA_DIR="$work/$1" PLAZA_ADDR="127.0.0.1:$2" PLAZA_LOG_LEVEL=error PLAZA_RATE_API=off \
	DATABASE_URL="$mysql/$db" REDIS_URL="$redis" PLAZA_REDIS_PREFIX="$prefix" \
		"$work/plaza" serve &
}
pa=$((20000 + RANDOM % 10000)); pb=$((30000 + RANDOM % 10000))
start a $pa; a=$!
start b $pb; b=$!
for p in $pa $pb; do
	for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$p/api/health" >/dev/null && break; sleep 0.1; done
done

echo "== cross-instance: subscribers on B, publisher on A"
"$work/wsbench" run --target "http://127.0.0.1:$pb" --pub-target "http://127.0.0.1:$pa" --tokens "$work/tokens.txt" \
	--conns "$conns" --room chat --pid "$b" --rates "$rates" --duration "$duration" --json "${WSBENCH_JSON:-/dev/null}"
echo "== same instance: subscribers and publisher on B"
"$work/wsbench" run --target "http://127.0.0.1:$pb" --tokens "$work/tokens.txt" \
	--conns "$conns" --room chat --pid "$b" --rates "$rates" --duration "$duration"
