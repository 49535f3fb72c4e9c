#!/usr/bin/env bash
# Runs every native Go fuzz target of the repository, one at a time, each
# for FUZZTIME (default 10s), and prints a summary. Exits 1 when a target
# found a failing input; Go leaves the input in the package's
# testdata/fuzz/FuzzXxx/ (commit it: plain `go test` then runs it as a
# regression test). docs/fuzz.md says more.
#
#   scripts/fuzz.sh                      all targets, 10 s each
#   FUZZTIME=10m scripts/fuzz.sh         longer
#   FUZZ_TARGETS='FuzzServer|FuzzSDP' scripts/fuzz.sh   only these (regexp)
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-10s}"
FUZZ_TARGETS="${FUZZ_TARGETS:-Fuzz.*}"
GO="${GO:-go}"
logdir="$(mktemp -d)"
trap 'rm -rf "$logdir"' EXIT

# "dir target" for every func FuzzXxx(f *testing.F) in a *_test.go file.
targets=$(git ls-files '*_test.go' | xargs grep -H '^func Fuzz[A-Za-z0-9_]*(f \*testing.F)' |
	sed -E 's|^(.*)/[^/]*_test.go:func (Fuzz[A-Za-z0-9_]*)\(.*|\1 \2|' | sort -u | grep -E " (${FUZZ_TARGETS})$" || true)
if [ -z "$targets" ]; then
	echo "fuzz: no targets match '$FUZZ_TARGETS'" >&2
	exit 2
fi
n=$(echo "$targets" | wc -l)
echo "fuzz: $n targets, $FUZZTIME each"
failed=()
summary=()
i=0
start=$(date +%s)
while read -r dir target; do
	i=$((i + 1))
	t0=$(date +%s)
	log="$logdir/$target.log"
	printf 'fuzz: [%d/%d] %-24s ./%s ... ' "$i" "$n" "$target" "$dir"
	run() { "$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "./$dir/" >"$log" 2>&1; }
	# Go's fuzzing engine can end a run with "context deadline exceeded" and
	# no failing input when -fuzztime runs out while a worker is busy: not a
	# finding. Such a run is tried once more; a real finding always writes
	# its input ("Failing input written to ...").
	ok=0
	if run; then
		ok=1
	elif grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
		echo -n '(engine deadline, no input: again) '
		run && ok=1
	fi
	if [ $ok = 1 ]; then
		status=ok
	else
		status=FAIL
		failed+=("$dir $target")
	fi
	# The last progress line: "fuzz: elapsed: 10s, execs: 12345 (1234/sec), new interesting: 3 (total: 40)".
	last=$(grep -E '^fuzz: elapsed:' "$log" | tail -n 1)
	execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
	corpus=$(sed -nE 's/.*\(total: ([0-9]+)\).*/\1/p' <<<"$last")
	secs=$(($(date +%s) - t0))
	echo "$status (${secs}s, ${execs:-?} execs, corpus ${corpus:-?})"
	summary+=("$(printf '%-5s %-24s %-10s %10s execs  corpus %5s  %4ss' "$status" "$target" "$dir" "${execs:-?}" "${corpus:-?}" "$secs")")
	if [ "$status" = FAIL ]; then
		grep -vE '^fuzz: elapsed:' "$log" | tail -n 40
	fi
done <<<"$targets"
echo "fuzz: summary ($(($(date +%s) - start))s)"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: ${#failed[@]} target(s) found failing inputs: ${failed[*]}"
	echo "fuzz: the inputs are in <package>/testdata/fuzz/<target>/ (see the output above); re-run one with"
	echo "      go test -run '<target>/<file>' ./<package>/"
	exit 1
fi
echo "fuzz: all $n targets ran clean for $FUZZTIME each"
