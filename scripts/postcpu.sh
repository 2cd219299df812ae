#!/bin/bash
# Server CPU per message post, old vs new build, alternating: process CPU
# (user+sys) of 1,500 posts through BenchmarkPostMessageXP/default minus a
# 1-post run, 3 rounds. DIR holds httpapi.old.test and httpapi.new.test
# (`go test -c -o DIR/httpapi.new.test ./internal/httpapi` at each build);
# lines "build round posts user-s sys-s wall-s" are appended to DIR/cpu.txt.
#   flock /work/wt/heavy.lock scripts/postcpu.sh DIR
set -euo pipefail
cd "${1:?usage: postcpu.sh DIR}"
uptime >> cpu.txt
for r in 1 2 3; do
	for b in old new; do
		for n in 1 1500; do
			/usr/bin/time -f "$b $r $n %U %S %e" -a -o cpu.txt ./httpapi.$b.test -test.run '^$' \
				-test.bench 'PostMessageXP/default' -test.benchtime ${n}x >/dev/null 2>&1
		done
	done
done
uptime >> cpu.txt
