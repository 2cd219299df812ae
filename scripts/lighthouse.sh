#!/usr/bin/env bash
# Lighthouse 12.2.3 (web/'s devDependency) on Debian's Chromium, headless:
# performance, accessibility and best-practices of the sign-in, channel and
# leaderboard pages of a fresh `plaza serve` (SQLite, a few dozen messages),
# with Lighthouse's default mobile emulation and throttling; also the
# desktop preset with LH_PRESET=desktop. Prints one line per page and leaves
# the JSON reports in $OUT (default /tmp/plaza-lighthouse).
#
#   (cd web && npm ci) && scripts/lighthouse.sh          # port 19380 by default
#   PORT=19381 RUNS=3 scripts/lighthouse.sh              # median of 3 runs
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-19380}
RUNS=${RUNS:-1}
OUT=${OUT:-/tmp/plaza-lighthouse}
CHROME=${CHROME_PATH:-/usr/bin/chromium}
LH=web/node_modules/.bin/lighthouse
[ -x "$LH" ] || { echo "lighthouse is missing: run npm ci in web/" >&2; exit 1; }
[ -x "$CHROME" ] || { echo "$CHROME is missing: apt-get install -y chromium" >&2; exit 1; }

work=$(mktemp -d)
mkdir -p "$OUT"
go build -o "$work/plaza" ./cmd/plaza
export PLAZA_DATA_DIR=$work/data PLAZA_ADDR=127.0.0.1:$PORT PLAZA_LOG_LEVEL=warn
"$work/plaza" serve >"$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
base=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -fs "$base/api/health" >/dev/null && break; sleep 0.1; done

echo 'correct horse battery' | "$work/plaza" admin create --email lh@example.com --username lighthouse --password - >/dev/null
token=$(curl -fs "$base/api/auth/login" -H 'content-type: application/json' \
	-d '{"login":"lighthouse","password":"correct horse battery"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
auth=(-H "authorization: Bearer $token" -H 'content-type: application/json')
ch=$(curl -fs "$base/api/community/channels" "${auth[@]}" -d '{"name":"general","slug":"general","description":"Talk"}' | sed -E 's/.*"id":([0-9]+).*/\1/')
for i in $(seq 30); do
	curl -fs "$base/api/community/channels/$ch/messages" "${auth[@]}" \
		-d "{\"body\":\"message $i: a line of chat of an ordinary length, like people write\"}" >/dev/null
done

# Lighthouse's mobile profile emulates a Moto G Power (2022), whose CPU
# benchmark is about 264 (DevTools' CPU calibration); its default 4x CPU
# slowdown assumes a desktop of about 1000+. On a slower or busy host the
# 4x comes on top of a CPU already slower than that phone, so before each
# run the host is benchmarked and the slowdown scaled to reach the phone
# (benchmarkIndex / 264, from 1 to 4); CPU_SLOWDOWN=4 forces a value.
preset=()
[ "${LH_PRESET:-}" = desktop ] && preset=(--preset=desktop)
calibrate() { # sets slow: the CPU slowdown for the next run
	if [ -n "${CPU_SLOWDOWN:-}" ]; then slow=$CPU_SLOWDOWN; return; fi
	"$LH" "$base/robots.txt" --quiet --chrome-path="$CHROME" --chrome-flags="--headless=new --no-sandbox" \
		--only-audits=viewport --output=json --output-path="$work/bench.json" >/dev/null 2>&1 || true
	bi=$(node -e 'try { console.log(Math.round(JSON.parse(require("fs").readFileSync(process.argv[1])).environment.benchmarkIndex)) } catch { console.log(0) }' "$work/bench.json")
	# 4x on a host of ~1000 gives the phone's ~264: scale to this host.
	slow=$(node -e 'const b = +process.argv[1]; console.log(b > 0 ? Math.min(4, Math.max(1, b / 264)).toFixed(1) : 4)' "$bi")
	echo "  (host benchmarkIndex $bi: CPU slowdown $slow)"
}
run() { # name path signed-in(0/1) run#
	local headers=()
	[ "$3" = 1 ] && headers=(--extra-headers "{\"Cookie\":\"plaza_session=$token; plaza_signed_in=1\"}")
	"$LH" "$base$2" --quiet --chrome-path="$CHROME" \
		--chrome-flags="--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage" \
		--only-categories=performance,accessibility,best-practices "${preset[@]}" --throttling.cpuSlowdownMultiplier="$slow" "${headers[@]}" \
		--output=json --output-path="$OUT/$1-$4.json" >/dev/null 2>&1
}
for page in "sign-in /sign-in 0" "channel /channels/$ch 1" "leaderboard /leaderboard 0"; do
	set -- $page
	for r in $(seq "$RUNS"); do calibrate; run "$1" "$2" "$3" "$r"; done
	node -e '
		const fs = require("fs");
		const [name, runs, out] = process.argv.slice(1);
		const rs = [...Array(+runs).keys()].map(i => JSON.parse(fs.readFileSync(`${out}/${name}-${i + 1}.json`)));
		const med = a => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
		const cat = k => med(rs.map(r => Math.round(r.categories[k].score * 100)));
		const kb = med(rs.map(r => r.audits["total-byte-weight"].numericValue)) / 1024;
		const fcp = med(rs.map(r => r.audits["first-contentful-paint"].numericValue));
		const lcp = med(rs.map(r => r.audits["largest-contentful-paint"].numericValue));
		console.log(`${name.padEnd(12)} performance ${cat("performance")}  accessibility ${cat("accessibility")}  best-practices ${cat("best-practices")}  bytes ${kb.toFixed(1)} KB  FCP ${fcp.toFixed(0)} ms  LCP ${lcp.toFixed(0)} ms`);
		for (const r of rs.slice(0, 1)) for (const [k, c] of Object.entries(r.categories))
			for (const ref of c.auditRefs) { const a = r.audits[ref.id]; if (ref.weight > 0 && a.score !== null && a.score < 0.9) console.log(`   ${k}: ${a.id} (${a.score}) ${a.title}`); }
	' "$1" "$RUNS" "$OUT"
done
