/* The uplink as vsw found it.
 *
 * Before vsw first changes an uplink's features, channels, RSS table, key
 * or hashed fields, or makes it an SR-IOV PF in switchdev mode, it writes
 * their original values to
 * STATE/offload/<ifname>.orig (so the record survives restarts and
 * crashes); when the uplink leaves its switch (switch deleted, uplink
 * changed) its VMQ rules are removed, everything recorded is set back in
 * an order the kernel accepts (for SR-IOV: VFs to 0, the eswitch mode,
 * autoprobe, then the original VFs), and the record is removed.  Called by
 * vswitchd/offload.c (record) and the reconciler (restore). */
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

/* Records, before 'plan' is applied, the channel count, RSS table, key
 * and hashed fields it changes (only the first time each). */
struct ofl_queue_caps;
struct ofl_queue_plan;
int ofl_restore_record_queues(const char *ifname,
                              const struct ofl_queue_caps *,
                              const struct ofl_queue_plan *);

/* Records, before vsw first makes PF 'ifname' an SR-IOV switch uplink,
 * its eswitch mode, VF count and VF driver autoprobe. */
struct ofl_sriov_pf;
void ofl_restore_record_iov(const char *ifname, const struct ofl_sriov_pf *);

/* Whether vsw changed 'ifname''s RSS indirection table (and may therefore
 * set it back to the driver's default). */
bool ofl_restore_indir_touched(const char *ifname);

/* Puts back what was recorded for 'ifname', if anything, and forgets it. */
void ofl_restore_apply(const char *ifname);

#endif /* offload/restore.h */
