#!/bin/sh
# Runs every fuzz target of the module (each func FuzzXxx in a _test.go
# file) for the given time each: scripts/fuzz.sh 3s (make test),
# scripts/fuzz.sh 2m (make fuzz). The seed corpus (f.Add and
# testdata/fuzz/) always runs first; a failing input is written to the
# package's testdata/fuzz/ and fails the run.
set -eu
fuzztime=${1:-5s}
cd "$(dirname "$0")/.."
n=0
for dir in $(go list -f '{{.Dir}}' ./...); do
	targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u)
	for f in $targets; do
		echo "fuzz: $f in ${dir#$PWD/} for $fuzztime" >&2
		go test -run='^$' -fuzz="^$f\$" -fuzztime="$fuzztime" "$dir"
		n=$((n + 1))
	done
done
echo "fuzz: $n targets, $fuzztime each" >&2
