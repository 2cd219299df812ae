#!/usr/bin/env bash
# Wallet figures for BENCHMARKS.md: tips/s at the store (BenchmarkTips) and
# through the HTTP routes (BenchmarkTipsHTTP, rate tiers lifted), each
# "single" (a transaction per tip) beside "group" (group commit), one hot
# wallet and many cold, the ledger check after; and webhook p50/p99
# (verify + apply + commit). SQLite and, with PLAZA_TEST_MYSQL_DSN, MariaDB.
# Medians of -count runs.
set -uo pipefail # one failing figure does not hide the others
cd "$(dirname "$0")/.."
uptime
go test -run '^$' -bench 'BenchmarkTips$' -benchtime="${TIPTIME:-2s}" -count="${COUNT:-3}" ./internal/sqlstore
go test -run '^$' -bench 'BenchmarkTipsHTTP' -benchtime="${HTTPTIPS:-2000x}" -count="${COUNT:-3}" ./internal/httpapi
go test -run '^$' -bench 'BenchmarkWebhook' -benchtime=300x -count="${COUNT:-3}" ./internal/httpapi
uptime
