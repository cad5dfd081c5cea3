#!/bin/sh
# Installs, builds and runs every vsw test (CTest): unit tests, and as root
# the integration tests in network namespaces of their own.  Tests that
# cannot run here are reported as skipped, never as passed.  Extra
# arguments go to ctest, e.g. -R unit.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${VSW_BUILD_DIR:-$top/build}
"$top/scripts/build.sh"
cd "$build"
exec ctest --output-on-failure "$@"
