/* Bridge VLAN filtering: a bridge's vlan_filtering switch, and each bridge
 * port's VLAN membership (RTM_*LINK with AF_BRIDGE and IFLA_BRIDGE_VLAN_INFO,
 * what "bridge vlan" does).  Access ports are a PVID that egresses
 * untagged, trunks a set of tagged VLANs, the native VLAN of a trunk its
 * untagged PVID. */
#ifndef DATAPATH_VLAN_H
#define DATAPATH_VLAN_H 1

#include <stdbool.h>
#include <stdint.h>

#include "openvswitch/hmap.h"

#define DP_VLAN_MEMBER   0x1
#define DP_VLAN_PVID     0x2
#define DP_VLAN_UNTAGGED 0x4

/* One bridge port's VLANs: flags[vid] is a DP_VLAN_* mask (0: not a
 * member). */
struct dp_vlan_port {
    struct hmap_node node;      /* In a dp_vlan_table, by ifindex. */
    int ifindex;
    uint8_t flags[4096];
};

struct dp_vlan_table {
    struct hmap ports;
};

void dp_vlan_table_init(struct dp_vlan_table *);
void dp_vlan_table_destroy(struct dp_vlan_table *);
/* Returns port 'ifindex''s VLANs, or NULL if the dump had none. */
const struct dp_vlan_port *dp_vlan_table_find(const struct dp_vlan_table *,
                                              int ifindex);
/* Adds (or returns) the entry of 'ifindex'; for the dump and unit tests. */
struct dp_vlan_port *dp_vlan_table_add(struct dp_vlan_table *, int ifindex);

/* Dumps every bridge port's VLANs into 'table' (emptied first).  Returns 0
 * or a positive errno. */
int dp_vlan_dump(struct dp_vlan_table *);

/* Makes VLANs 'lo'..'hi' of port 'ifindex' members with 'flags'
 * (DP_VLAN_PVID and/or DP_VLAN_UNTAGGED), or removes them.  Each returns
 * 0 or a positive errno (dp_nl_error() says why). */
int dp_vlan_add(int ifindex, int lo, int hi, unsigned int flags);
int dp_vlan_del(int ifindex, int lo, int hi);

/* Turns bridge 'ifindex''s VLAN filtering on or off. */
int dp_vlan_set_filtering(int bridge_ifindex, bool on);

#endif /* datapath/vlan.h */
