/* VMQ on Linux: a dedicated receive queue per vNIC, made with an ntuple
 * (receive classification) rule "destination MAC -> queue" on the uplink
 * (ETHTOOL_SRXCLSRLINS), as ixgbe, i40e, ice, mlx5 and others take.
 *
 * The rules vsw made are remembered in STATE/offload/<uplink>.vmq
 * ("location mac queue" per line), so vsw only ever removes its own and a
 * restart finds them again.  Called by vswitchd/offload.c and
 * offload/restore.c. */
#ifndef OFFLOAD_VMQ_H
#define OFFLOAD_VMQ_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/types.h"

#define OFL_VMQ_MAX 256

struct ofl_vmq_rule {
    uint32_t location;
    struct eth_addr mac;
    uint32_t queue;
};

struct ofl_vmq_rules {
    size_t n;
    struct ofl_vmq_rule r[OFL_VMQ_MAX];
};

/* The rules vsw installed on 'ifname' that the device still has (the
 * record is checked against the device's own table). */
int ofl_vmq_get(const char *ifname, struct ofl_vmq_rules *);

/* Adds a rule steering frames for 'mac' to 'queue'; records it. */
int ofl_vmq_add(const char *ifname, struct eth_addr mac, uint32_t queue);

/* Removes rule 'location' and its record. */
int ofl_vmq_del(const char *ifname, uint32_t location);

/* Removes every rule vsw made on 'ifname' (the uplink leaves vsw). */
void ofl_vmq_del_all(const char *ifname);

#endif /* offload/vmq.h */
