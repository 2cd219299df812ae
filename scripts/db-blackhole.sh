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

# BEFORE_BIN / AFTER_BIN=path measure binaries built already.
if [ -n "${BEFORE_BIN:-}" ]; then cp "$BEFORE_BIN" "$work/plaza-before"; else
	mkdir "$work/src"
	git archive "$ref" | tar -x -C "$work/src"
	(cd "$work/src" && go build -o "$work/plaza-before" ./cmd/plaza)
fi
if [ -n "${AFTER_BIN:-}" ]; then cp "$AFTER_BIN" "$work/plaza-after"; else go build -o "$work/plaza-after" ./cmd/plaza; fi
go run ./bench/dbhang --bin "before=$work/plaza-before" --bin "after=$work/plaza-after" --rounds "$rounds" \
	--json "${DBHANG_JSON:-/dev/null}"
