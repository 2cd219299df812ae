#!/usr/bin/env bash
# Message post on Plaza vs record create on PocketBase, side by side in one
# run (bench/postpeer): both servers on this machine, SQLite each, on
# loopback, the same closed-loop clients and bodies, rounds alternating,
# server CPU per post from /proc. PocketBase is a benchmark-only peer built
# from source outside the repo (v0.39.11's examples/base).
#
#   flock /work/wt/heavy.lock scripts/postpeer.sh [CLIENTS] [DURATION] [ROUNDS] [-- postpeer flags]
#   e.g. scripts/postpeer.sh 16,64 10s 3
#        scripts/postpeer.sh 16,64 10s 3 -- --pb-auth users
#
# Environment: PLAZA_BIN / PB_BIN measure those binaries instead of
# building; POSTPEER_PORT (default 19401) is Plaza's port and the next one
# PocketBase's; POSTPEER_PROFILE=FILE also takes a 10 s CPU profile of
# Plaza alone under 64 clients (POSTPEER_PROFILE_CLIENTS) after the comparison (its debug listener on
# POSTPEER_DEBUG_ADDR, default 127.0.0.1:19460); POSTPEER_JSON=FILE keeps
# the rounds; POSTPEER_KEEP=1 keeps the work directory; POSTPEER_USERS=N
# prepares N Plaza users instead of one per client (with --plaza-rotate
# every post is by the next of them, e.g. so every post earns XP).
#
# Plaza's per-user api tier (100/min by default) would answer most of these
# posts 429, so the run raises it with its documented setting,
# PLAZA_RATE_API=1000000/1m: the limiter still runs on every post, it just
# never refuses one. Any 429 still counts as an error in the report.
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-16,64}
duration=${2:-10s}
rounds=${3:-3}
shift $(($# < 3 ? $# : 3))
[ "${1:-}" = "--" ] && shift
extra=("$@")
maxc=$(tr ',' '\n' <<<"$clients" | sort -n | tail -1)
plaza_port=${POSTPEER_PORT:-19401}
pb_port=$((plaza_port + 1))
debug_addr=${POSTPEER_DEBUG_ADDR:-127.0.0.1:19460}
work=$(mktemp -d /tmp/postpeer.XXXXXX)
plaza_pid=; pb_pid=
cleanup() {
	for p in $plaza_pid $pb_pid; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ -z "${POSTPEER_KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

if [ -n "${PLAZA_BIN:-}" ]; then cp "$PLAZA_BIN" "$work/plaza"; else go build -o "$work/plaza" ./cmd/plaza; fi
go build -o "$work/postpeer" ./bench/postpeer
if [ -n "${PB_BIN:-}" ]; then
	cp "$PB_BIN" "$work/pocketbase"
else # outside the repo's module: the peer is never a dependency of Plaza
	(cd "$work" && GOBIN="$work/pbbin" GOFLAGS= go install github.com/pocketbase/pocketbase/examples/base@v0.39.11)
	mv "$work/pbbin/base" "$work/pocketbase"
fi

# Plaza: users with sessions and one channel, made in its database before it starts.
PLAZA_DATA_DIR="$work/plaza-data" "$work/plaza" loadtest prepare --users "${POSTPEER_USERS:-$maxc}" --channels 1 --out "$work/lt.json" \
	>"$work/prepare.log" 2>&1 || { cat "$work/prepare.log" >&2; exit 1; }
PLAZA_DATA_DIR="$work/plaza-data" PLAZA_ADDR="127.0.0.1:$plaza_port" PLAZA_RATE_API=1000000/1m \
PLAZA_DEBUG_ADDR="$debug_addr" "$work/plaza" serve >"$work/plaza.log" 2>&1 &
plaza_pid=$!

# PocketBase: a superuser, then the server; postpeer makes the collection.
# --dev=false: a binary started from the temp dir looks like `go run` to
# PocketBase, which then turns dev mode on (every SQL statement printed).
pb_email=bench@postpeer.test pb_pass=postpeer-superuser-1
"$work/pocketbase" superuser upsert "$pb_email" "$pb_pass" --dir "$work/pb-data" --dev=false >/dev/null
"$work/pocketbase" serve --http "127.0.0.1:$pb_port" --dir "$work/pb-data" --dev=false >"$work/pb.log" 2>&1 &
pb_pid=$!

for url in "http://127.0.0.1:$plaza_port/api/health" "http://127.0.0.1:$pb_port/api/health"; do
	for i in $(seq 1 100); do curl -sf "$url" >/dev/null && break; sleep 0.2; [ "$i" = 100 ] && { echo "no answer from $url" >&2; exit 1; }; done
done
pb_version=$(go version -m "$work/pocketbase" | awk '$1 == "mod" && $2 == "github.com/pocketbase/pocketbase" {print $3}')
echo "$("$work/plaza" version | head -1) pid $plaza_pid; pocketbase ${pb_version:-?} pid $pb_pid; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

args=(--plaza "http://127.0.0.1:$plaza_port" --plaza-pid "$plaza_pid" --plaza-prepared "$work/lt.json"
	--pb "http://127.0.0.1:$pb_port" --pb-pid "$pb_pid" --pb-email "$pb_email" --pb-password "$pb_pass")
"$work/postpeer" "${args[@]}" --clients "$clients" --duration "$duration" --rounds "$rounds" \
	--json "${POSTPEER_JSON:-/dev/null}" ${extra[@]+"${extra[@]}"}

if [ -n "${POSTPEER_PROFILE:-}" ]; then
	pc=${POSTPEER_PROFILE_CLIENTS:-64}
	echo; echo "profile: Plaza alone, $pc clients, 10 s of a 14 s run -> $POSTPEER_PROFILE"
	"$work/postpeer" "${args[@]}" --only plaza --clients "$pc" --duration 14s --rounds 1 --warmup 1s ${extra[@]+"${extra[@]}"} &
	driver=$!
	sleep 4
	curl -sf -o "$POSTPEER_PROFILE" "http://$debug_addr/debug/pprof/profile?seconds=10"
	wait $driver
fi
