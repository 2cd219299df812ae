#!/usr/bin/env bash
# The seed's capacity table, measured: `plaza serve` on the embedded default
# (one process, SQLite) under `plaza loadtest` at 50, 200, 500, 2,000 and
# 10,000 simulated users with the default mix; then the same steps with two
# instances on MariaDB and Redis. Writes the tables to
# BENCHMARKS.md between the capacity markers (and prints them).
#
#   scripts/capacity.sh [DURATION] [STEPS]      e.g. scripts/capacity.sh 60s "50 200 500 2000 10000"
#   CLUSTER=0 or SINGLE=0 to skip a half; MYSQL=..., REDIS=... to point elsewhere;
#   PORTS=25000-25999 keeps the servers' ports in that range (a shared box);
#   RUNS=3 runs each step three times (fresh data each time) and reports the
#   run with the median steady-state p95, listing every run's.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-60s}
steps=${2:-50 200 500 2000 10000}
runs=${RUNS:-1}
# /metrics answers on the API port only to this token; the servers and
# `plaza loadtest` (which reads their CPU and RSS there) share it.
export PLAZA_METRICS_TOKEN=${PLAZA_METRICS_TOKEN:-capacity-$RANDOM$RANDOM$RANDOM$RANDOM}
mysql=${MYSQL:-mysql://root@127.0.0.1:3306}
redis=${REDIS:-redis://127.0.0.1:6379/0}
work=$(mktemp -d)
pids=()
trap 'kill ${pids[@]} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
ulimit -n 20000
go build -o "$work/plaza" ./cmd/plaza

ports=${PORTS:-20000-39999}
port() { local lo=${ports%-*} hi=${ports#*-}; echo $((lo + RANDOM % (hi - lo + 1))); }
wait_up() { for _ in $(seq 1 100); do curl -sf "$1/api/health" >/dev/null && return; sleep 0.1; done; echo "server $1 did not start" >&2; exit 1; }

# row MODE USERS JSON...: one table row from a step's reports: the run with
# the median steady-state HTTP p95, and every run's steady p95.
row() {
	python3 - "$@" <<'PY'
import json, sys
mode, users, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
reports = sorted((json.load(open(p)) for p in paths), key=lambda r: r["steady"]["p95ms"])
r = reports[(len(reports) - 1) // 2]
a, st = r["all"], r["steady"]
cpu = " + ".join(f'{t["cpuCores"]:.2f}' for t in r["targets"])
rss = " + ".join(f'{t["rssMB"]:.0f}' for t in r["targets"])
ok = "yes" if not r["breaches"] else "no: " + "; ".join(r["breaches"])
runs = " / ".join(f'{x["steady"]["p95ms"]:.1f}' for x in reports)
print(f'| {int(users):,} | {mode} | {a["perSec"]:.0f} | {a["p50ms"]:.1f} | {a["p95ms"]:.1f} | {a["p99ms"]:.1f} | {r["errorRate"]*100:.2f} % | '
      f'{r["wsConnectP99ms"]:.0f} | {r["deliveryP50ms"]:.1f} | {r["deliveryP99ms"]:.1f} | {r["missedEvents"]} | '
      f'**{st["p95ms"]:.1f}** | **{st["deliveryP99ms"]:.1f}** | {runs} | {cpu} | {rss} | {ok} |')
PY
}

header='| users | setup | req/s | HTTP p50 ms | p95 ms | p99 ms | errors | WS connect p99 ms | delivery p50 ms | p99 ms | missed | steady HTTP p95 ms | steady delivery p99 ms | steady p95 of each run | server CPU (cores) | RSS MB | seed thresholds met |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|'
# write NAME TITLE ROWS...: a table between the capacity-NAME markers.
write() {
	local name=$1 title=$2; shift 2
	local table="$header"
	for r in "$@"; do table+=$'\n'"$r"; done
	echo; echo "$table"
	python3 - "$name" "$title" "$table" "$duration" <<'PY'
import os, re, sys, datetime
name, title, table, duration = sys.argv[1:5]
path = "BENCHMARKS.md"
text = open(path).read()
begin, end = f"<!-- capacity-{name}:begin -->", f"<!-- capacity-{name}:end -->"
runs = os.environ.get("RUNS", "1")
block = (f"{begin}\n{title}: run of {datetime.date.today()}, {duration} of steady state per step (after the ramp and 5 s settle), default mix, "
         f"{runs} run(s) per step, `RUNS={runs} scripts/capacity.sh {duration}`:\n\n{table}\n{end}")
if begin in text:
    text = re.sub(re.escape(begin) + ".*" + re.escape(end), lambda m: block, text, flags=re.S)
else:
    text += "\n" + block + "\n"
open(path, "w").write(text)
PY
}

# single N RUN: one run of N users against one instance on fresh SQLite.
single() {
	local n=$1 i=$2 data="$work/single-$1-$2" p server
	PLAZA_DATA_DIR="$data" "$work/plaza" loadtest prepare --users "$n" --out "$work/prep-$n-$i.json" >/dev/null
	p=$(port)
	PLAZA_DATA_DIR="$data" PLAZA_ADDR="127.0.0.1:$p" PLAZA_LOG_LEVEL=error PLAZA_WS_MAX_CONNECTIONS=$((n + 100)) "$work/plaza" serve &
	server=$!; pids+=($server)
	wait_up "http://127.0.0.1:$p"
	echo "== $n users, one instance (SQLite), run $i of $runs"
	"$work/plaza" loadtest --target "http://127.0.0.1:$p" --prepared "$work/prep-$n-$i.json" --users "$n" --duration "$duration" \
		--ramp $((n < 1000 ? 200 : 1000)) --json "$work/single-$n-$i.report.json" | tail -n 21 || true
	kill $server; wait $server 2>/dev/null || true
	rm -rf "$data"
}

# cluster N RUN: one run of N users against two instances on a fresh
# MariaDB database and Redis prefix.
cluster() {
	local n=$1 i=$2 db="plaza_capacity_$RANDOM$RANDOM" prefix="plaza-capacity-$RANDOM:" pa pb a b p
	mariadb -uroot -h127.0.0.1 -e "CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
	DATABASE_URL="$mysql/$db" "$work/plaza" loadtest prepare --users "$n" --out "$work/cprep-$n-$i.json" >/dev/null
	pa=$(port); pb=$(port)
	for p in $pa $pb; do
		PLAZA_DATA_DIR="$work/c-$p" PLAZA_ADDR="127.0.0.1:$p" PLAZA_LOG_LEVEL=error DATABASE_URL="$mysql/$db" REDIS_URL="$redis" \
		PLAZA_REDIS_PREFIX="$prefix" PLAZA_WS_MAX_CONNECTIONS=$((n + 100)) "$work/plaza" serve &
		pids+=($!)
	done
	a=${pids[-2]}; b=${pids[-1]}
	wait_up "http://127.0.0.1:$pa"; wait_up "http://127.0.0.1:$pb"
	echo "== $n users, two instances (MariaDB + Redis), run $i of $runs"
	"$work/plaza" loadtest --target "http://127.0.0.1:$pa" --target "http://127.0.0.1:$pb" --prepared "$work/cprep-$n-$i.json" \
		--users "$n" --duration "$duration" --ramp $((n < 1000 ? 200 : 1000)) --json "$work/cluster-$n-$i.report.json" | tail -n 21 || true
	kill $a $b; wait $a $b 2>/dev/null || true
	mariadb -uroot -h127.0.0.1 -e "DROP DATABASE $db"
	redis-cli --scan --pattern "$prefix*" | xargs -r redis-cli del >/dev/null
}

for mode in single cluster; do
	case $mode in
	single) [ "${SINGLE:-1}" = 1 ] || continue; setup="1 instance, SQLite"; title="One instance, embedded default" ;;
	cluster) [ "${CLUSTER:-1}" = 1 ] || continue; setup="2 instances, MariaDB + Redis"; title="Two instances, MariaDB + Redis" ;;
	esac
	rows=()
	for n in $steps; do
		reports=()
		for i in $(seq 1 "$runs"); do
			$mode "$n" "$i"
			reports+=("$work/$mode-$n-$i.report.json")
		done
		rows+=("$(row "$setup" "$n" "${reports[@]}")")
	done
	write "$mode" "$title" "${rows[@]}"
done
