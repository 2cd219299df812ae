#!/usr/bin/env bash
# Server CPU at 10,000 users, builds side by side: each round runs the
# 10,000-user step once per build, in turn (the order rotates every
# round), each on fresh data: `plaza loadtest prepare --users 10000`, then
# `plaza serve` (one process, SQLite) under `plaza loadtest --users 10000
# --ramp 1000 --settle 5s --duration 20s`. Prints every run's steady-state
# server CPU (from the server's process_cpu_seconds_total), CPU-seconds
# per 1,000 requests, HTTP p95 and delivery p99, then each build's median.
#
#   scripts/cpu10k.sh ROUNDS MIX BIN...     e.g. scripts/cpu10k.sh 3 core ./plaza-old ./plaza-new
#   MIX: default (the loadtest's own mix), core (the mix without the
#   content routes: courses, mixes, plays, events, now playing,
#   leaderboard) or any --mix value.
#   The generator is the last BIN unless GEN=... names another. OUT=dir
#   keeps the reports (default: a temporary directory, removed).
#   PORT=18790 is the servers' port; the machine should be otherwise
#   quiet: the figure is CPU, but a busy box still moves it by 10-20 %.
#
#   FLOOR=1 also measures, after each run, the I/O floor of that run's
#   traffic with no Plaza code (~45 s more a run): `wsbench floor --conns
#   10000 --rooms 100 --batch 2 --size 250 --duration 20s` at the run's
#   channel posts a second (the steady request rate times the posts'
#   share of the run's requests, from its routes), and `wsbench httpfloor
#   --clients 50 --size 1200 --duration 20s` at the run's steady request
#   rate (steadyCost.requests / steadyCost.seconds) and POST share. It
#   prints the floor's cores (the WebSocket writer's plus the bare HTTP
#   server's) and, in the summary, each build's median of server cores
#   minus floor cores: Plaza's own work above the floor. WSBENCH=path
#   names the wsbench binary (default: built from this checkout).
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,29p "$0"; exit 2; }
rounds=$1 mix=$2
shift 2
bins=("$@")
gen=${GEN:-${bins[-1]}}
port=${PORT:-18790}
case $mix in
default) mixarg=() ;;
core) mixarg=(--mix courses=off,course=off,mixes=off,play=off,events=off,nowplaying=off,leaderboard=off) ;;
*) mixarg=(--mix "$mix") ;;
esac
export PLAZA_METRICS_TOKEN=${PLAZA_METRICS_TOKEN:-cpu10k-$RANDOM$RANDOM$RANDOM$RANDOM}
keep=${OUT:-}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; wait 2>/dev/null; [ -z "$keep" ] && rm -rf "$out"' EXIT
ulimit -n 20000
floor=${FLOOR:-0}
wsbench=${WSBENCH:-}
if [ "$floor" = 1 ] && [ -z "$wsbench" ]; then
	wsbench=$(realpath "$out")/wsbench
	(cd "$(dirname "$0")/.." && go build -o "$wsbench" ./bench/wsbench)
fi

run() { # run BIN TAG
	local bin=$1 tag=$2 data
	data=$(mktemp -d)
	PLAZA_DATA_DIR=$data "$bin" loadtest prepare --users 10000 --out "$data/lt.json" >/dev/null 2>"$out/$tag.prepare.log"
	PLAZA_DATA_DIR=$data PLAZA_ADDR=127.0.0.1:$port "$bin" serve >"$out/$tag.server.log" 2>&1 &
	server=$!
	for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
	"$gen" loadtest --target "http://127.0.0.1:$port" --prepared "$data/lt.json" --users 10000 --ramp 1000 \
		--settle 5s --duration 20s --json "$out/$tag.json" "${mixarg[@]}" >"$out/$tag.out" 2>&1 || true
	kill $server
	wait $server 2>/dev/null || true
	server=
	rm -rf "$data"
}

measure_floor() { # measure_floor TAG: the I/O floor of TAG's traffic (FLOOR=1)
	local tag=$1 shape rate posts share
	shape=$(python3 - "$out/$tag.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["targets"][0]["steadyCost"]
rate = s["requests"] / s["seconds"]
routes = {x["route"]: x["requests"] for x in r["routes"]}
total = sum(routes.values())
posts = rate * routes.get("POST /api/community/channels/{id}/messages", 0) / total
share = sum(n for k, n in routes.items() if k.startswith("POST ")) / total
print(f"{rate:.1f} {max(round(posts), 1)} {share:.3f}")
PY
)
	read -r rate posts share <<<"$shape"
	"$wsbench" floor --conns 10000 --rooms 100 --rates "$posts" --batch 2 --size 250 --duration 20s >"$out/$tag.wsfloor.out" 2>&1
	"$wsbench" httpfloor --rate "$rate" --clients 50 --post-share "$share" --size 1200 --duration 20s \
		--json "$out/$tag.httpfloor.json" >"$out/$tag.httpfloor.out" 2>&1
	python3 - "$out" "$tag" "$posts" <<'PY'
import json, re, sys
out, tag, posts = sys.argv[1:]
ws = re.search(r"writer ([0-9.]+) cores", open(f"{out}/{tag}.wsfloor.out").read())
if not ws:
    sys.exit(f"{tag}: no writer cores in {out}/{tag}.wsfloor.out")
ws = float(ws.group(1))
h = json.load(open(f"{out}/{tag}.httpfloor.json"))
server = json.load(open(f"{out}/{tag}.json"))["targets"][0]["steadyCost"]["cpuCores"]
floor = ws + h["serverCores"]
json.dump({"ws": ws, "http": h["serverCores"], "floor": floor, "above": server - floor}, open(f"{out}/{tag}.floor.json", "w"))
print(f'  floor: {floor:.2f} cores (ws {ws:.2f} at {posts} msg/s, http {h["serverCores"]:.3f} at {h["requestsPerSec"]:.0f} req/s, '
      f'{h["postShare"] * 100:.0f} % POSTs); server minus floor {server - floor:.2f} cores', flush=True)
PY
}

for r in $(seq 1 "$rounds"); do
	n=${#bins[@]}
	for i in $(seq 0 $((n - 1))); do
		b=$(((i + r - 1) % n))
		run "${bins[$b]}" "build$b-round$r"
		python3 - "$out/build$b-round$r.json" "${bins[$b]}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["targets"][0]["steadyCost"]
print(f'{sys.argv[2]}: CPU {s["cpuCores"]:.2f} cores, {s["cpuSecondsPer1000Requests"]:.3f} CPU-s per 1,000 requests, '
      f'p95 {r["steady"]["p95ms"]:.1f} ms, delivery p99 {r["steady"]["deliveryP99ms"]:.1f} ms, '
      f'error rate {r["errorRate"]}, missed {r["missedEvents"]}', flush=True)
PY
		if [ "$floor" = 1 ]; then measure_floor "build$b-round$r"; fi
	done
done
python3 - "$out" "${bins[@]}" <<'PY'
import glob, json, os, statistics, sys
out, bins = sys.argv[1], sys.argv[2:]
for i, b in enumerate(bins):
    runs = sorted(glob.glob(f"{out}/build{i}-round*[0-9].json"))  # not the floor's files
    rs = [json.load(open(p)) for p in runs]
    cores = [r["targets"][0]["steadyCost"]["cpuCores"] for r in rs]
    per = [r["targets"][0]["steadyCost"]["cpuSecondsPer1000Requests"] for r in rs]
    print(f"median {b}: CPU {statistics.median(cores):.2f} cores ({', '.join(f'{c:.2f}' for c in cores)}), "
          f"{statistics.median(per):.3f} CPU-s per 1,000 requests")
    floors = [p[:-len(".json")] + ".floor.json" for p in runs]
    if floors and all(os.path.exists(f) for f in floors):
        above = [json.load(open(f))["above"] for f in floors]
        print(f"  above the floor: median {statistics.median(above):.2f} cores ({', '.join(f'{a:.2f}' for a in above)})")
PY
