/* Convergence of the kernel towards the desired switches.
 *
 * Pure logic over a link dump: given what every switch should be and what
 * the kernel has, it calls the kernel-changing operations in 'struct
 * rc_ops' (deletions first, then changes, then additions) and fills each
 * switch's observed status.  Only objects carrying vsw's tag (IFLA_IFALIAS
 * "vsw:<switch-uuid>[:role]") are ever changed or deleted; the uplink, which
 * is not ours, is only enslaved and released.  vswitchd/bridge.c feeds it
 * from the database; unit tests feed it hand-built dumps and record the
 * calls. */
#ifndef VSWITCHD_RECONCILE_H
#define VSWITCHD_RECONCILE_H 1

#include <stdbool.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/uuid.h"

struct dp_links;

enum rc_switch_type { RC_EXTERNAL, RC_INTERNAL, RC_PRIVATE };

struct rc_switch {
    /* Desired state (inputs). */
    struct uuid uuid;
    const char *name;
    enum rc_switch_type type;
    const char *uplink;         /* NULL if none. */
    bool host_port;             /* Wants a host vNIC. */
    const char *host_port_name; /* Its name, when 'host_port'. */
    int prev_uplink;            /* Uplink ifindex last reported, or 0. */

    /* Observed state (outputs). */
    bool ok;                    /* Everything as desired. */
    int ifindex;                /* Bridge, 0 if none. */
    int uplink_ifindex;         /* Enslaved uplink, 0 if none. */
    int host_ifindex;           /* Host vNIC, 0 if none. */
    struct ds error;            /* What is wrong, for a person. */
};

/* Kernel-changing operations; each returns 0 or a positive errno and
 * leaves its explanation to 'error'. */
struct rc_ops {
    int (*bridge_create)(const char *name, int *ifindex);
    int (*veth_create)(const char *name, const char *peer,
                       int *ifindex, int *peer_ifindex);
    int (*set_up)(int ifindex, bool up);
    int (*set_master)(int ifindex, int master);
    int (*set_alias)(int ifindex, const char *alias);
    int (*set_name)(int ifindex, const char *name);
    int (*delete)(int ifindex);
    const char *(*error)(void);
};

/* The operations that act on the kernel (datapath/). */
extern const struct rc_ops rc_kernel_ops;

void rc_switch_init(struct rc_switch *);
void rc_switch_destroy(struct rc_switch *);

/* Converges the kernel described by 'links' towards 'switches'.  Returns
 * true if it changed anything (the caller re-dumps and runs again to
 * confirm). */
bool rc_reconcile(struct rc_switch *switches, size_t n,
                  const struct dp_links *links, const struct rc_ops *);

/* The ownership tags. */
#define RC_TAG_PREFIX "vsw:"
char *rc_tag(const struct uuid *, const char *role);  /* Caller frees. */
bool rc_parse_tag(const char *alias, struct uuid *, const char **role);

/* Name of the bridge end of a switch's host vNIC ("vsp" + 8 hex digits of
 * the switch's uuid).  Writes at most 16 bytes into 'buf'. */
void rc_host_peer_name(const struct uuid *, char buf[16]);

#endif /* vswitchd/reconcile.h */
