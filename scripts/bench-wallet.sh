#!/usr/bin/env bash
# Wallet figures for BENCHMARKS.md: tips/s (one hot wallet, many cold,
# ledger check after) and webhook p50/p99, on SQLite and, with
# PLAZA_TEST_MYSQL_DSN, MariaDB. Medians of -count runs.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench 'BenchmarkTips' -benchtime=3s -count="${COUNT:-3}" ./internal/sqlstore
go test -run '^$' -bench 'BenchmarkWebhook' -benchtime=500x -count="${COUNT:-3}" ./internal/httpapi
