/* Offload negotiation of a switch's uplink and its vNICs, run by a
 * reconcile pass (vswitchd/bridge.c) that converges the switch, or a port
 * of it that may hold a VMQ queue, after the links are in place.
 *
 * For an external switch: probe the uplink (features, channels, rings,
 * RSS, ntuple, hw-tc-offload, SR-IOV), negotiate features
 * (offload/negotiate.c) and receive queues (offload/queues.c: channels,
 * RSS, VMQ) against the switch's policy, record what was found before the
 * first change (offload/restore.c), apply, and read the device back as the
 * truth.  For tap and vhost-net ports: what the VM negotiated and what it
 * costs against the uplink. */
#ifndef VSWITCHD_OFFLOAD_H
#define VSWITCHD_OFFLOAD_H 1

#include <stdbool.h>
#include <stddef.h>

#include "smap.h"

struct ds;
struct rc_switch;
struct switch_rows;

struct vsw_offload {
    struct smap req, eff, why;  /* Switch.offload_requested/... */
    struct smap probe;          /* Merged into Switch.status. */
    struct smap *port_vmq;      /* Per port (index as in rc->ports): its
                                 * VMQ status keys, for Port.status. */
    size_t n_ports;
};

void vsw_offload_init(struct vsw_offload *);
void vsw_offload_destroy(struct vsw_offload *);

/* Negotiates switch 'sw''s uplink ('rc' is its reconciled state) into
 * 'out'.  Returns true if it changed the uplink. */
bool vsw_offload_uplink(const struct switch_rows *sw,
                        const struct rc_switch *rc, struct vsw_offload *out);

/* The vNIC side of tap 'tap' (ifindex 'ifindex'): what the VM negotiated
 * ("csum,tso4,..." or "none"), appended to 'offloads', and its cost against
 * the uplink's effective offloads 'eff' (NULL without an uplink), appended
 * to 'mismatch' (nothing if none).  The tap's features are read once and
 * kept until vsw_offload_vnic_forget() says that the tap changed.  Returns
 * false if they cannot be read (nothing appended). */
bool vsw_offload_vnic_status(const char *tap, int ifindex,
                             const struct smap *eff, struct ds *offloads,
                             struct ds *mismatch);
void vsw_offload_vnic_forget(int ifindex);
/* Tap 'ifindex' was just made: the tun driver gives a new tap none of the
 * VM's offloads (TUNSETOFFLOAD sets them, with a notification). */
void vsw_offload_vnic_fresh(int ifindex);
void vsw_offload_vnic_forget_all(void);     /* Notifications were lost. */

#endif /* vswitchd/offload.h */
