#!/usr/bin/env bash
# The "Database black-hole" figures of BENCHMARKS.md: how long a request
# that needs the database, and /api/health, take to answer while MariaDB
# stops answering, for the server built from REF (default main) and from
# the working tree, side by side in alternating rounds.
#
#   scripts/db-blackhole.sh [REF] [ROUNDS]
#
# Needs a MariaDB/MySQL server (PLAZA_TEST_MYSQL_DSN, default
# mysql://root@127.0.0.1:3306/test); the servers listen on 127.0.0.1:18300.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:-main}
rounds=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir "$work/src"
git archive "$ref" | tar -x -C "$work/src"
(cd "$work/src" && go build -o "$work/plaza-before" ./cmd/plaza)
go build -o "$work/plaza-after" ./cmd/plaza
go run ./bench/dbhang --bin "before=$work/plaza-before" --bin "after=$work/plaza-after" --rounds "$rounds" \
	--json "${DBHANG_JSON:-/dev/null}"
