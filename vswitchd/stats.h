/* The statistics collector: counters on a timer of their own, never in a
 * reconcile pass.
 *
 * Every stats-update-interval (Root other_config, ms, default 5000, at
 * least 1000, as Open vSwitch's run_stats_update(); 0 turns collection
 * off), one RTM_GETSTATS dump of the
 * links' 64-bit counters alone (dp_link_counters_dump()): each port's
 * `statistics` gets its bridge port's counters, each switch's the bridge
 * device's, and only rows whose counters moved are written (a device
 * that has counted nothing yet leaves the column empty).  Readers (the
 * stats endpoint) serve those columns, so no reader ever makes vswitchd
 * read the kernel.  A dump is a read: it never counts as a modifying
 * request. */
#ifndef VSWITCHD_STATS_H
#define VSWITCHD_STATS_H 1

#include <stdbool.h>

struct dp_links;
struct ovsdb_idl;

void stats_init(void);
void stats_exit(void);

/* Whether a collection is due now ('interval_ms' as
 * stats_interval_config() reads it from the Root row). */
bool stats_due(long long int interval_ms);

/* other_config:stats-update-interval: ms, 0 for off, -1 if not set or not
 * a number. */
struct smap;
long long int stats_interval_config(const struct smap *other_config);

/* Collects: dumps the links and writes, into the transaction the caller
 * has open on 'idl', the statistics of this host's switches and ports
 * ('host') that moved, and the ACLs' counters (the sum of their rules'
 * in vsw's nftables table, one read) into ACL.statistics.  Returns true if
 * it wrote anything.  The next
 * collection is due one interval later, whatever happened. */
bool stats_collect(struct ovsdb_idl *, const char *host);

void stats_wait(void);

#endif /* vswitchd/stats.h */
