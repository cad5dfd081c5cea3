/* The reconciler's database side: reads the desired switches from OVSDB,
 * converges the kernel through reconcile.c and writes observed state back
 * (Switch.status, Host.cur_cfg).  Called by vswitchd's main loop. */
#ifndef VSWITCHD_BRIDGE_H
#define VSWITCHD_BRIDGE_H 1

#include <stdbool.h>

/* Connects to the database at 'remote' (e.g. "unix:/run/vsw/db.sock").
 * 'shared': a database given with --db, perhaps shared by many hosts
 * (writes nothing of the Root row, which is everyone's; this host's
 * observations go into its Host row) rather than the embedded one. */
void bridge_init(const char *remote, bool shared);
void bridge_run(void);
void bridge_wait(void);
void bridge_exit(void);

/* Makes the next run reconcile, whatever changed. */
void bridge_force_pass(void);

/* What the stats endpoint reports of the reconciler: its view of the
 * database (read-only), and how its passes went. */
struct ovsdb_idl;
const struct ovsdb_idl *bridge_idl(void);
struct bridge_pass_stats {
    unsigned long long int passes, full_passes, objects_converged;
    long long int last_pass_usec;
};
void bridge_get_pass_stats(struct bridge_pass_stats *);

/* Whether another live vswitchd has this host id, so that this one stands
 * by (host-row.h). */
bool bridge_is_standing_by(void);

/* For the vhost-net fd server (vhost.h): what it needs of port 'name'. */
struct vhost_port_info;
bool bridge_vhost_lookup(const char *name, struct vhost_port_info *);

#endif /* vswitchd/bridge.h */
