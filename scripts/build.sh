#!/bin/sh
# Installs vsw's Debian dependencies (unless VSW_SKIP_INSTALL=1) and builds
# it in ./build (or $VSW_BUILD_DIR).  Used by run.sh and test.sh.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${VSW_BUILD_DIR:-$top/build}

if [ "${VSW_SKIP_INSTALL:-0}" != 1 ]; then
    "$top/scripts/install-deps.sh"
fi
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)"
echo "build.sh: built into $build (binaries in $build/bin)"
