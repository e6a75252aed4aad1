#!/bin/bash
# The long fuzz run recorded in tests/fuzz/README.md: every target for
# RUNS executions (default 10 million) from the seed corpora, two targets at
# a time (the slowest alone on one core), then a table of the figures.
#
#   tests/fuzz/long_run.sh [RUNS]        (after `make fuzz`, which builds the targets)
#
# Logs: build/fuzz/long-<target>.txt. Exit status 1 if any target crashed,
# leaked or broke an oracle.
# SPDX-License-Identifier: GPL-2.0-or-later
set -u
cd "$(dirname "$0")/../.."
RUNS=${1:-10000000}
OUT=build/fuzz
# jcc parses whole certificates (a few thousand executions per second): alone
SLOW="jcc"
REST="token idhdr binding ident pem x5u bar hook enterprise cache ms"

run() {
	local t=$1 log=$OUT/long-$1.txt
	"$OUT/fuzz_$t" -runs="$RUNS" -print_final_stats=1 "$OUT/corpus-$t" >"$log" 2>&1
	echo "rc=$?" >>"$log"
}

for t in $SLOW $REST; do
	[ -x "$OUT/fuzz_$t" ] || { echo "no $OUT/fuzz_$t: run make fuzz first" >&2; exit 2; }
done
start=$(date -u +%FT%TZ)
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- modules tests/fuzz || echo "+changes")
(for t in $SLOW; do run "$t"; done) &
(for t in $REST; do run "$t"; done) &
wait

bad=0
echo "long run: $RUNS executions per target, started $start, sources of commit $commit"
echo
echo "| target | executions | seconds | exec/s | coverage (edges) | features | corpus | crashes |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for t in $SLOW $REST; do
	log=$OUT/long-$t.txt
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
	last=$(grep -E '(DONE|cov:)' "$log" | tail -1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\)\/.*/\1/p')
	crashes=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|deadly signal' "$log")
	rc=$(sed -n 's/^rc=//p' "$log")
	[ "$rc" = 0 ] && [ "$crashes" = 0 ] || bad=1
	eps=$([ -n "$secs" ] && [ "$secs" -gt 0 ] && echo $((n / secs)) || echo -)
	echo "| fuzz_$t | $n | $secs | $eps | $cov | $ft | $corp | $crashes (rc $rc) |"
done
exit $bad
