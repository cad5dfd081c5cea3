/* Hardware flow rules: TC flower filters on the ingress of a device,
 * encoded and decoded by Open vSwitch's lib/tc.c.
 *
 * Every rule vsw installs carries vsw's 16-byte cookie on each of its
 * actions: "vsw" and a format byte, then 12 bytes of the SHA-1 of what the
 * rule was derived from (ofl_flow_cookie()), so that a rule is recognised
 * as vsw's, and as still wanted, by a dump alone.  A rule without that
 * cookie is never changed or deleted.
 *
 * Layout on a device's ingress (chain 0), after the priorities people and
 * other programs usually take (tc's automatic priorities count down from
 * 49152), so that their rules see the traffic first:
 *
 *   prio 0xf000 + 0..2   frames for a local MAC that is not a VF (a tap, the
 *                        host port, the bridge): "goto chain
 *                        OFL_FLOWER_BRIDGE_CHAIN", an empty chain, which ends
 *                        classification and leaves the frame to the bridge;
 *   prio 0xf010 + 0..2   forwarding: destination MAC to a representor (with
 *                        a VLAN pop for an access port), or a VF's own frames
 *                        to the uplink (with a VLAN push);
 *   prio 0xf020 + 0..2   the same for 802.1Q-tagged frames.
 *
 * The last number is the frame's (inner) type: IPv4, IPv6, ARP.  lib/tc.c
 * always matches the Ethernet type, and one priority holds one protocol,
 * so a frame of any other type finds no rule and takes the bridge.
 *
 * Requests go through lib/tc.c's netlink calls, which vsw routes through
 * its own counted socket (datapath/netlink.c), so they count as modifying
 * requests and a refusal keeps the kernel's words (dp_nl_error()). */
#ifndef OFFLOAD_FLOWER_H
#define OFFLOAD_FLOWER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFL_FLOW_COOKIE_LEN 16
#define OFL_FLOWER_PRIO_LOCAL 0xf000
#define OFL_FLOWER_PRIO_FORWARD 0xf010
#define OFL_FLOWER_PRIO_VLAN 0xf020
#define OFL_FLOWER_BRIDGE_CHAIN 0x0ffffe00

enum ofl_flow_action {
    OFL_FLOW_TO_BRIDGE,         /* Leave the frame to the bridge. */
    OFL_FLOW_REDIRECT,          /* To 'out_ifindex'. */
    OFL_FLOW_POP_REDIRECT,      /* Pop the VLAN tag, then to 'out_ifindex'. */
    OFL_FLOW_PUSH_REDIRECT,     /* Push 'push_vlan', then to 'out_ifindex'. */
};

/* One rule as vsw wants it. */
struct ofl_flow_rule {
    int ifindex;                /* On this device's ingress. */
    uint16_t eth_type;          /* The frame's (inner) type, host order:
                                 * ETH_P_IP, ETH_P_IPV6 or ETH_P_ARP. */
    int vlan;                   /* Match this 802.1Q VLAN, or 0: untagged. */
    uint8_t dst[6], dst_mask[6];    /* Destination MAC (mask 0: any). */
    uint8_t src[6], src_mask[6];    /* Source MAC (mask 0: any). */
    enum ofl_flow_action action;
    int out_ifindex;
    int push_vlan;
    int placement;              /* The placement asked for (the caller's
                                 * value; part of the rule's identity). */
    bool skip_sw;               /* Installed in hardware only (skip_sw), or
                                 * in software only (skip_hw): not part of
                                 * its identity, so that a rule that fell
                                 * back to software is adopted as it is. */
    uint8_t cookie[OFL_FLOW_COOKIE_LEN];   /* ofl_flow_cookie(). */
};

/* The frame types vsw's rules match, in priority order. */
extern const uint16_t ofl_flow_eth_types[3];

/* Sets 'rule->cookie' from the rule's other fields. */
void ofl_flow_cookie(struct ofl_flow_rule *);

/* Whether 'cookie' ('len' bytes) is vsw's. */
bool ofl_flow_cookie_is_ours(const uint8_t *cookie, size_t len);

/* The priority 'rule' goes in (see the layout above). */
uint16_t ofl_flow_prio(const struct ofl_flow_rule *);

/* "dst 52:54:00:00:00:01 ipv4 -> pop vlan, redirect 7", for people. */
void ofl_flow_describe(const struct ofl_flow_rule *, char *buf, size_t size);

/* A rule as the kernel has it. */
struct ofl_flow_installed {
    int ifindex;
    uint32_t chain;
    uint16_t prio;
    uint16_t protocol;          /* Host order. */
    uint32_t handle;
    bool ours;                  /* It has vsw's cookie. */
    uint8_t cookie[OFL_FLOW_COOKIE_LEN];
    bool in_hw;                 /* The kernel says in_hw... */
    bool not_in_hw;             /* ...or not_in_hw. */
    int in_hw_count;            /* Devices holding it, -1 if not said. */
    bool skip_sw, skip_hw;
    uint64_t packets, bytes;    /* All, software and hardware (bytes
                                 * without the Ethernet header, as tc
                                 * counts them). */
    uint64_t hw_packets, hw_bytes;
    uint64_t lastused_ms;       /* Since the last hit, as the kernel says. */
    int out_ifindex;            /* Where it redirects, or 0. */
    char desc[160];             /* Match and actions (ofl_flow_describe()),
                                 * "" for a rule lib/tc.c cannot read. */
};

/* Whether this kernel has cls_flower, looked up once (loaded or built in:
 * /proc/kallsyms; loadable: modules.dep).  When it has not, '*why' says
 * so. */
bool ofl_flower_available(const char **why);

/* Remembers that the kernel refused flower itself (no such filter kind):
 * ofl_flower_available() says no from now on. */
void ofl_flower_set_unavailable(const char *why);

/* The filters on 'ifindex''s ingress, chain 0 (all of them, vsw's or
 * not).  A device without an ingress qdisc has none.  Returns 0 or a
 * positive errno.  Caller frees '*rules'. */
int ofl_flower_dump(int ifindex, struct ofl_flow_installed **rules,
                    size_t *n);

/* Gives 'ifindex' an ingress qdisc if it has none (an existing ingress or
 * clsact qdisc, anyone's, is used as it is; vsw never deletes one). */
int ofl_flower_ensure_ingress(int ifindex);

/* Installs the 'n' 'rules' in one batch (several requests in flight
 * before their answers are read; datapath/netlink.h), each read back from
 * the kernel's echo and compared with the request: for each, 'errors[i]'
 * is 0 and 'out[i]' the rule as installed, or a positive errno and
 * 'why[i]' the kernel's words (the caller frees each 'why[i]'). */
void ofl_flower_install_many(const struct ofl_flow_rule *rules, size_t n,
                             struct ofl_flow_installed *out, int *errors,
                             char **why);

/* Deletes filter 'r'. */
int ofl_flower_delete(const struct ofl_flow_installed *r);

/* Deletes vsw's rules (by cookie) on uplink 'ifname' and on the VF
 * representors of its NIC (same phys_switch_id), leaving every other
 * rule: for an uplink leaving its switch.  Returns the number deleted. */
int ofl_flower_sweep_uplink(const char *ifname);

/* Reply parsing, for unit tests: fills '*out' from one RTM_NEWTFILTER
 * message ('msg', 'len' bytes with its netlink header).  Returns 0, or a
 * positive errno if it is not a flower filter lib/tc.c can read. */
int ofl_flower_parse(const void *msg, size_t len,
                     struct ofl_flow_installed *out);

#endif /* offload/flower.h */
