#!/bin/sh
# Installs, builds and runs every vsw test (CTest), twice:
#  1. the build in ./build: unit tests, schema checks, and as root the
#     integration tests (network namespaces of their own) and the kernel lab
#     (QEMU);
#     then, as root, bench/run --quick, which proves the benchmark harness
#     works (it asserts no timing);
#  2. a clang build with AddressSanitizer and UndefinedBehaviorSanitizer in
#     ./build-san (reusing the first build's OVS): the unit and integration
#     tests again, and the libFuzzer targets for a bounded time.
# Tests that cannot run here are reported as skipped, never as passed; in CI
# (CI=true) a skip fails the run.  Extra arguments go to both ctest runs,
# e.g. -R unit (and then leave out the quick benchmark run).
# VSW_NO_SANITIZED=1 leaves out the second run.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${VSW_BUILD_DIR:-$top/build}
san=${VSW_SAN_BUILD_DIR:-$top/build-san}

# In CI every test must run: a skip there (lab downloads refused, a
# missing tool, no cmocka) fails the run instead of hiding a gap.
if [ "${CI:-}" = true ]; then
    export VSW_TESTS_MUST_RUN=1
fi
# bench/run's peers (Open vSwitch) too: the quick run below proves the
# harness works.
export VSW_BENCH=1
"$top/scripts/build.sh"
cd "$build"
ctest --output-on-failure "$@"

if [ "$(id -u)" -eq 0 ] && [ $# -eq 0 ]; then
    echo "test.sh: bench/run --quick (the harness works; no timing asserted)"
    VSW_BUILD_DIR="$build" "$top/bench/run" --quick --no-build \
        --out "$build/bench-quick"
fi

if [ "${VSW_NO_SANITIZED:-0}" = 1 ]; then
    exit 0
fi
echo "test.sh: the sanitized build (ASan, UBSan) and the fuzzers"
CC=clang cmake -S "$top" -B "$san" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVSW_SANITIZE=address,undefined -DVSW_FUZZ=ON \
    -DVSW_OVS_BUILD="$build/ovs/src/ovs" >/dev/null
cmake --build "$san" -j "$(nproc)"
cd "$san"
# The integration tests route every report into files they check
# (vswitchd runs detached); leaks are checked when vswitchd and the unit
# tests exit (tests/integration/lib.sh says why not for vswctl).
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:fast_unwind_on_malloc=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Not the package test (it builds the package with Debian's own flags,
# whatever build runs it), nor the real libvirtd and QEMU guests (what
# they test is libvirt's and QEMU's side; the sanitized vswitchd and hook
# paths they use run under test-adopt and test-libvirt-hook): the run
# stays within CI's time.
exec ctest --output-on-failure \
    -E '^lab/|^integration/test-(package|libvirt|qemu-scripts)$' "$@"
