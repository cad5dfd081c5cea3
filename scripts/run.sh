#!/bin/sh
# Installs, builds and runs vsw's daemon on the embedded default: vswitchd
# creates /var/lib/vsw/conf.db if needed and runs its own ovsdb-server on
# /run/vsw/db.sock.  Runs in the foreground (Ctrl-C stops it; the kernel's
# switches stay); extra arguments go to vswitchd, e.g. --detach.
# Configure it from another shell with build/bin/vswctl.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${VSW_BUILD_DIR:-$top/build}
"$top/scripts/build.sh"
echo "run.sh: starting vswitchd; try: $build/bin/vswctl add-switch lab0 --type internal"
exec "$build/bin/vswitchd" --pidfile --log-file "$@"
