#!/bin/sh
# Builds the parts of Open vSwitch that vsw links against or runs:
# libopenvswitch, libovsdb, ovsdb-idlc, ovsdb-server, ovsdb-tool,
# ovsdb-client and ovs-appctl.  Called by the ExternalProject in
# cmake/OpenvSwitch.cmake from inside the unpacked tarball.
#
# OVS's generated headers (BUILT_SOURCES) are made first: building single
# targets does not trigger them, and the library includes several.
set -eu
jobs=${1:-2}

printf 'vsw-print-built-sources:\n\t@echo $(BUILT_SOURCES)\n' > vsw-print.mk
built=$(make -s -f Makefile -f vsw-print.mk vsw-print-built-sources)
rm -f vsw-print.mk

make -j"$jobs" $built
make -j"$jobs" lib/libopenvswitch.la ovsdb/libovsdb.la \
    ovsdb/ovsdb-idlc ovsdb/ovsdb-server ovsdb/ovsdb-tool ovsdb/ovsdb-client \
    utilities/ovs-appctl python/ovs/version.py python/ovs/dirs.py
