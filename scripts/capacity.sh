#!/usr/bin/env bash
# The seed's capacity table, measured: `plaza serve` on the embedded default
# (one process, SQLite) under `plaza loadtest` at 50, 200, 500, 2,000 and
# 10,000 simulated users with the default mix; then the same steps with two
# instances on MariaDB and Redis. Writes the tables to
# BENCHMARKS.md between the capacity markers (and prints them).
#
#   scripts/capacity.sh [DURATION] [STEPS]      e.g. scripts/capacity.sh 60s "50 200 500 2000 10000"
#   CLUSTER=0 or SINGLE=0 to skip a half; MYSQL=..., REDIS=... to point elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-60s}
steps=${2:-50 200 500 2000 10000}
mysql=${MYSQL:-mysql://root@127.0.0.1:3306}
redis=${REDIS:-redis://127.0.0.1:6379/0}
work=$(mktemp -d)
pids=()
trap 'kill ${pids[@]} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
ulimit -n 20000
go build -o "$work/plaza" ./cmd/plaza

port() { echo $((20000 + RANDOM % 20000)); }
wait_up() { for _ in $(seq 1 100); do curl -sf "$1/api/health" >/dev/null && return; sleep 0.1; done; echo "server $1 did not start" >&2; exit 1; }

# row MODE USERS JSON: one table row from a loadtest report.
row() {
	python3 - "$@" <<'PY'
import json, sys
mode, users, path = sys.argv[1], sys.argv[2], sys.argv[3]
r = json.load(open(path))
a = r["all"]
cpu = " + ".join(f'{t["cpuCores"]:.2f}' for t in r["targets"])
rss = " + ".join(f'{t["rssMB"]:.0f}' for t in r["targets"])
ok = "yes" if not r["breaches"] else "no: " + "; ".join(r["breaches"])
print(f'| {int(users):,} | {mode} | {a["perSec"]:.0f} | {a["p50ms"]:.1f} | {a["p95ms"]:.1f} | {a["p99ms"]:.1f} | {r["errorRate"]*100:.2f} % | '
      f'{r["wsConnectP99ms"]:.0f} | {r["deliveryP50ms"]:.1f} | {r["deliveryP99ms"]:.1f} | {r["missedEvents"]} | {cpu} | {rss} | {ok} |')
PY
}

header='| users | setup | req/s | HTTP p50 ms | p95 ms | p99 ms | errors | WS connect p99 ms | delivery p50 ms | p99 ms | missed | server CPU (cores) | RSS MB | seed thresholds met |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|'
# write NAME TITLE ROWS...: a table between the capacity-NAME markers.
write() {
	local name=$1 title=$2; shift 2
	local table="$header"
	for r in "$@"; do table+=$'\n'"$r"; done
	echo; echo "$table"
	python3 - "$name" "$title" "$table" "$duration" <<'PY'
import re, sys, datetime
name, title, table, duration = sys.argv[1:5]
path = "BENCHMARKS.md"
text = open(path).read()
begin, end = f"<!-- capacity-{name}:begin -->", f"<!-- capacity-{name}:end -->"
block = (f"{begin}\n{title}: run of {datetime.date.today()}, {duration} per step after the ramp, default mix, "
         f"`scripts/capacity.sh {duration}`:\n\n{table}\n{end}")
if begin in text:
    text = re.sub(re.escape(begin) + ".*" + re.escape(end), lambda m: block, text, flags=re.S)
else:
    text += "\n" + block + "\n"
open(path, "w").write(text)
PY
}

rows=()
for n in $steps; do
	[ "${SINGLE:-1}" = 1 ] || break
	data="$work/single-$n"
	PLAZA_DATA_DIR="$data" "$work/plaza" loadtest prepare --users "$n" --out "$work/prep-$n.json" >/dev/null
	p=$(port)
	PLAZA_DATA_DIR="$data" PLAZA_ADDR="127.0.0.1:$p" PLAZA_LOG_LEVEL=error PLAZA_WS_MAX_CONNECTIONS=$((n + 100)) "$work/plaza" serve &
	server=$!; pids+=($server)
	wait_up "http://127.0.0.1:$p"
	echo "== $n users, one instance (SQLite)"
	"$work/plaza" loadtest --target "http://127.0.0.1:$p" --prepared "$work/prep-$n.json" --users "$n" --duration "$duration" \
		--ramp $((n < 1000 ? 200 : 1000)) --json "$work/single-$n.report.json" | tail -n 20 || true
	kill $server; wait $server 2>/dev/null || true
	rows+=("$(row "1 instance, SQLite" "$n" "$work/single-$n.report.json")")
done
[ ${#rows[@]} -eq 0 ] || write single "One instance, embedded default" "${rows[@]}"

if [ "${CLUSTER:-1}" = 1 ]; then
	rows=()
	for n in $steps; do
		db="plaza_capacity_$RANDOM$RANDOM"
		prefix="plaza-capacity-$RANDOM:"
		mariadb -uroot -h127.0.0.1 -e "CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
		DATABASE_URL="$mysql/$db" "$work/plaza" loadtest prepare --users "$n" --out "$work/cprep-$n.json" >/dev/null
		pa=$(port); pb=$(port)
		for p in $pa $pb; do
			PLAZA_DATA_DIR="$work/c-$p" PLAZA_ADDR="127.0.0.1:$p" PLAZA_LOG_LEVEL=error DATABASE_URL="$mysql/$db" REDIS_URL="$redis" \
			PLAZA_REDIS_PREFIX="$prefix" PLAZA_WS_MAX_CONNECTIONS=$((n + 100)) "$work/plaza" serve &
			pids+=($!)
		done
		a=${pids[-2]}; b=${pids[-1]}
		wait_up "http://127.0.0.1:$pa"; wait_up "http://127.0.0.1:$pb"
		echo "== $n users, two instances (MariaDB + Redis)"
		"$work/plaza" loadtest --target "http://127.0.0.1:$pa" --target "http://127.0.0.1:$pb" --prepared "$work/cprep-$n.json" \
			--users "$n" --duration "$duration" --ramp $((n < 1000 ? 200 : 1000)) --json "$work/cluster-$n.report.json" | tail -n 20 || true
		kill $a $b; wait $a $b 2>/dev/null || true
		mariadb -uroot -h127.0.0.1 -e "DROP DATABASE $db"
		redis-cli --scan --pattern "$prefix*" | xargs -r redis-cli del >/dev/null
		rows+=("$(row "2 instances, MariaDB + Redis" "$n" "$work/cluster-$n.report.json")")
	done
	write cluster "Two instances, MariaDB + Redis" "${rows[@]}"
fi
