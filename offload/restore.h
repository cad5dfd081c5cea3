/* The uplink as vsw found it.
 *
 * Before vsw first changes an uplink's features it writes their original
 * values to STATE/offload/<ifname>.orig (so the record survives restarts
 * and crashes); when the uplink leaves its switch (switch deleted, uplink
 * changed) they are set back and the record removed.  Called by
 * vswitchd/bridge.c (record) and the reconciler (restore). */
#ifndef OFFLOAD_RESTORE_H
#define OFFLOAD_RESTORE_H 1

#include <stdbool.h>
#include <stddef.h>

#include "offload/ethtool.h"

/* Records, for the kernel features 'names' about to change, their values
 * in 'caps' ('wanted'), unless a record of that feature exists already.
 * Returns 0 or a positive errno. */
int ofl_restore_record(const char *ifname, const struct ofl_features *caps,
                       const char *const names[], size_t n);

/* Puts back what was recorded for 'ifname', if anything, and forgets it. */
void ofl_restore_apply(const char *ifname);

#endif /* offload/restore.h */
