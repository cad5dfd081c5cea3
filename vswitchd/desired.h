/* The desired state of this host's switches and ports, from the database,
 * validated (desired.c says how); the reconciler's input. */
#ifndef VSWITCHD_DESIRED_H
#define VSWITCHD_DESIRED_H 1

#include <stdbool.h>
#include <stddef.h>

#include "vswitchd/validate.h"

struct dp_links;
struct rc_switch;
struct sset;
struct uuidset;
struct vswrec_port;
struct vswrec_switch;

/* A switch row of this host and the rows of its ports (Port.switch), in
 * uuid order: all 'n_in_db' of them, or for a pass that does not need
 * them all (desired_needs_all_ports()) those in the pass's scope. */
struct switch_rows {
    const struct vswrec_switch *row;
    const struct vswrec_port **ports;
    size_t n_ports;
    size_t n_in_db;             /* Ports naming the switch in the database. */
};

/* Which objects a pass converges: every one ('full'), or the rows marked
 * in 'objects' (switches and ports), every port of the switches in
 * 'all_ports', whoever wants one of 'names', every switch with an uplink
 * ('uplinks') or an SR-IOV switch ('iov'). */
struct desired_scope {
    bool full;
    const struct uuidset *objects;
    const struct uuidset *all_ports;
    const struct sset *names;
    bool uplinks;
    bool iov;
    bool vhost_available;       /* /dev/vhost-net exists. */
};

/* The switches of one pass: switches[i] is rows[i]'s, with its ports in
 * the same order.  A port outside the scope has only its identity and
 * VLANs filled, and 'dirty' false. */
struct port_strings;
struct desired {
    size_t n;
    struct rc_switch *switches;
    struct switch_rows *rows;
    size_t n_converged;         /* Objects in the scope. */

    /* Private. */
    char **host_port_names;
    struct port_strings *strs;
    size_t n_strs;
};

/* Whether switch 'sw' itself is converged by a pass over 'scope'. */
bool desired_switch_in_scope(const struct vswrec_switch *sw,
                             const struct desired_scope *scope);

/* Whether a pass over 'scope' needs every port of 'sw', not only those in
 * the scope: a full pass, a switch whose own settings changed, an SR-IOV
 * switch (its ports share the VFs), a switch with more ports than its
 * bridge takes (who keeps a place depends on all), a switch with VLAN
 * or mirroring ports ('n_switch_wide': an uplink trunks all the VLANs, a
 * destination gets every source's copies), and an external switch when
 * its uplink's offloads are converged (its VMQ queues are shared;
 * 'vmq_port' says that a port in scope may hold one). */
bool desired_needs_all_ports(const struct vswrec_switch *sw,
                             const struct desired_scope *scope,
                             size_t n_ports, size_t n_switch_wide,
                             bool vmq_port);

void desired_init(void);        /* Reads STATE/names. */
void desired_exit(void);
void desired_build(struct desired *, const struct switch_rows *, size_t n,
                   const char *host, const struct dp_links *kernel,
                   const struct desired_scope *);
void desired_destroy(struct desired *);

/* Port.kind as vswitchd uses it (the schema's enum). */
enum vsw_port_kind desired_port_kind(const char *kind);

/* Resolves a user or group name (or number) to its id; -1 if 'name' is
 * NULL, -2 if it is not valid here, and then '*why' says why (it is NULL
 * otherwise). */
long desired_resolve_id(const char *name, bool user, const char **why);

#endif /* vswitchd/desired.h */
