#!/usr/bin/env bash
# Runs the OWASP CRS regression corpus through Pinpoint's WAF with
# tools/crsftw (go-ftw as a library, albedo as the backend): it builds the
# gateway from this checkout, starts it with the WAF on a catch-all route,
# sends every test and prints the pass rate. See docs/waf-crs-regression.md.
#
#   scripts/crs-regression.sh                       # the whole corpus
#   scripts/crs-regression.sh --ci                  # the CI subset (a few dozen tests)
#   scripts/crs-regression.sh -include '^942'       # any crsftw flag (-h lists them)
#
# Results (failures.txt, results.md, the gateway's config and logs) go to
# tools/crsftw/results/. Exits 0 when the pass rate meets -threshold
# (default 99), 1 below it, 2 when the run could not be made.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../tools/crsftw"

args=()
for a in "$@"; do
	case $a in
	--ci) args+=(-ci) ;;
	*) args+=("$a") ;;
	esac
done

# tools/crsftw is its own module (the gateway never depends on go-ftw); a
# go.work elsewhere must not pull it into another build.
exec env GOWORK=off go run . "${args[@]}"
