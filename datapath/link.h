/* Network links (rtnetlink RTM_*LINK): a table of every link in the
 * current network namespace, filled by a dump and kept current by the
 * link notifications, and the generic changes vsw makes to links:
 * up/down, master, alias (the ownership tag), name, MTU, delete.
 *
 * The table is plain data, indexed by ifindex, name and alias, parsed from
 * the kernel's own messages (the same parser for dumps and notifications),
 * so the reconciler can be unit-tested against hand-built tables and a
 * pass needs no read of the kernel.  Taps carry what their tun driver
 * reports (flags, owner, group, queues: IFLA_TUN_*), bridges whether the
 * kernel can filter VLANs.  Modifying calls go through datapath/netlink.c
 * (counted, with extack). */
#ifndef DATAPATH_LINK_H
#define DATAPATH_LINK_H 1

#include <stdbool.h>
#include <stdint.h>

#include "datapath/vlan.h"
#include "openvswitch/hmap.h"

struct nlmsghdr;

/* The kernel's 64-bit counters of a link (IFLA_STATS_LINK_64). */
struct dp_link_stats {
    uint64_t rx_packets, tx_packets;
    uint64_t rx_bytes, tx_bytes;
    uint64_t rx_errors, tx_errors;
    uint64_t rx_dropped, tx_dropped;
};

/* Every link's counters, by ifindex: what the statistics collector reads.
 * One RTM_GETSTATS dump of the 64-bit counters alone, about a seventh of
 * the bytes of a link dump and far less of the kernel's work (no address
 * family, link info or bridge port attributes). */
struct dp_link_counters {
    struct hmap_node node;      /* In the table, by hash_int(ifindex, 0). */
    int ifindex;
    struct dp_link_stats stats;
};
/* Replaces the contents of 'table' (of struct dp_link_counters) by a fresh
 * dump.  Returns 0 or a positive errno. */
int dp_link_counters_dump(struct hmap *table);
const struct dp_link_stats *dp_link_counters_find(const struct hmap *,
                                                  int ifindex);
void dp_link_counters_clear(struct hmap *);

struct dp_link {
    struct hmap_node node;      /* In dp_links, by ifindex. */
    struct hmap_node name_node; /* In dp_links, by name. */
    struct hmap_node alias_node;    /* In dp_links, by alias, if any. */
    int ifindex;
    char *name;
    char *kind;                 /* "bridge", "veth", ..., "" if none. */
    char *alias;                /* IFLA_IFALIAS, "" if none. */
    int master;                 /* Master's ifindex, 0 if none. */
    int peer;                   /* IFLA_LINK, e.g. a veth's peer, or 0. */
    unsigned int flags;         /* IFF_*. */
    uint32_t group;             /* IFLA_GROUP, 0 by default. */
    int operstate;              /* IFLA_OPERSTATE (RFC 2863), -1 if none. */
    int ipv6;                   /* The host's IPv6 on it: 1 on, 0 off
                                 * (disable_ipv6), -1 the kernel says
                                 * nothing (no IPv6). */
    int mtu;
    char mac[18];               /* "xx:xx:xx:xx:xx:xx", "" if none. */
    bool peer_elsewhere;        /* 'peer' is in another namespace. */
    int vlan_filtering;         /* Bridges: 0 or 1; -1: not a bridge, or a
                                 * kernel without VLAN filtering. */
    char phys_port_name[32];    /* "p0", "pf0vf1", ... or "". */
    char phys_switch_id[64];    /* Hex, or "" if none. */

    /* Taps and tuns (kind "tun"), as the tun driver reports them. */
    unsigned int tun_flags;     /* IFF_TAP, IFF_NO_PI, IFF_VNET_HDR,
                                 * IFF_MULTI_QUEUE, IFF_PERSIST; 0 if not a
                                 * tun device. */
    long tun_owner, tun_group;  /* -1 if none. */
    int tun_queues;             /* Queues attached (multiqueue), or -1. */

    unsigned int dump_seq;      /* The dump that last saw it (dp_links). */
};

struct dp_links {
    struct hmap by_index;
    struct hmap by_name;
    struct hmap by_alias;
    bool have_vlans;            /* 'vlans' was dumped (dp_links_dump_vlans). */
    unsigned int dump_seq;      /* The dump under way, or the last one. */
    struct dp_vlan_table vlans;
};

void dp_links_init(struct dp_links *);
void dp_links_destroy(struct dp_links *);

/* Makes 'links' what a fresh dump of the kernel's links says (without
 * their counters): links that did not change keep their objects.  Returns 0
 * or a positive errno (then 'links' is empty). */
int dp_links_dump(struct dp_links *);

/* What one link message did to a table (dp_links_update()). */
enum dp_link_change {
    DP_LINK_SAME,       /* Nothing a pass converges, nor the carrier: a
                         * feature change, counters, a repeat. */
    DP_LINK_CARRIER,    /* Only the carrier (IFF_LOWER_UP, operstate). */
    DP_LINK_CHANGED,    /* New, or changed in what a pass converges. */
    DP_LINK_GONE,       /* Deleted. */
    DP_LINK_VLANS,      /* A bridge port's VLANs or port state. */
    DP_LINK_IGNORED,    /* Not a link message, or malformed. */
};

struct dp_link_event {
    enum dp_link_change change;
    int ifindex;
    bool carrier;               /* IFF_LOWER_UP now. */
    char old_name[16];          /* Before the message ("" if new). */
    char old_alias[256];
};

/* Applies link message 'h' (RTM_NEWLINK or RTM_DELLINK, from a dump or a
 * notification; RTM_NEWVLAN and AF_BRIDGE messages are reported, not
 * stored) to 'links' and says what it changed in 'ev' (may be NULL).
 * Reads nothing past h->nlmsg_len, which the caller has checked against
 * the buffer. */
void dp_links_update(struct dp_links *, const struct nlmsghdr *,
                     struct dp_link_event *ev);

/* Removes link 'ifindex' from 'links', if present. */
void dp_links_remove(struct dp_links *, int ifindex);

/* Adds every bridge port's VLANs to 'links' (a second dump).  Returns 0 or a
 * positive errno. */
int dp_links_dump_vlans(struct dp_links *);

/* Adds a copy of 'link' to 'links', replacing one of its ifindex (used by
 * the parser and by unit tests). */
void dp_links_add(struct dp_links *, const struct dp_link *);

const struct dp_link *dp_links_by_index(const struct dp_links *, int);
/* The name of link 'ifindex', or "?" if 'links' has none: for messages. */
const char *dp_links_name_of(const struct dp_links *, int ifindex);
const struct dp_link *dp_links_by_name(const struct dp_links *,
                                       const char *);
const struct dp_link *dp_links_by_alias(const struct dp_links *,
                                        const char *);

static inline bool
dp_link_is_up(const struct dp_link *link)
{
    return link->flags & 1;     /* IFF_UP */
}

/* Each returns 0 or a positive errno (dp_nl_error() says why). */
int dp_link_set_up(int ifindex, bool up);
int dp_link_set_master(int ifindex, int master_ifindex);
int dp_link_set_alias(int ifindex, const char *alias);
int dp_link_set_name(int ifindex, const char *name);
int dp_link_set_mtu(int ifindex, int mtu);
int dp_link_set_mac(int ifindex, const char *mac);
/* Moves link 'ifindex' into the network namespace named 'netns'
 * (/run/netns/NAME) under the name 'name'. */
int dp_link_set_netns(int ifindex, const char *netns, const char *name);
int dp_link_delete(int ifindex);
/* The queues attached to tun device 'ifindex' as the kernel says now
 * (IFLA_TUN_NUM_QUEUES), or -1 if it cannot say. */
int dp_link_tun_queues(int ifindex);

/* Turns the host's IPv6 on link 'name' off (net.ipv6.conf.NAME.
 * disable_ipv6): a switch port is not an interface of the host, and the
 * host's router and neighbour solicitations have no business going out of
 * it into a VM.  ENOENT (a kernel without IPv6) counts as done.  Counted
 * as a modifying request. */
int dp_link_disable_ipv6(const char *name);

/* Several settings of link 'ifindex' in one request, in the order the
 * kernel applies them: MAC, MTU, name, alias, up, master.  Fields left NULL
 * or 0 are not changed.  A new device is made ready with one request (a
 * tap in 'ip -batch' costs the same), and a crash of vsw cannot come
 * between its name and its tag. */
struct dp_link_setup {
    const char *mac;
    int mtu;
    const char *name;
    const char *alias;
    bool up;
    int master;
    /* Operationally dormant first (one more request): a new tap's state
     * says "up" until the kernel's link watch has seen its carrier,
     * so a bridge it joins would start forwarding to it, walking all of
     * its ports to do so, and walk them again when the link watch stops
     * it; dormant, it joins as not forwarding, and its state follows its
     * carrier from then on. */
    bool dormant;
};
int dp_link_setup(int ifindex, const struct dp_link_setup *);

/* Deletes links 'ifindexes' in one request, so that the kernel unregisters
 * them as one batch (one network-wide synchronisation instead of one per
 * device: 300 taps in 65 ms instead of 4.8 s).  The kernel deletes by
 * device group, which is shared by every program of the host, so: a
 * random group that no device has is chosen, given to these devices, a
 * fresh dump must show exactly these devices in it, and only then the
 * group is deleted; otherwise nothing is deleted and a positive errno is
 * returned (the caller deletes one by one).  The devices keep the group
 * if the batch fails; it means nothing to anyone else. */
int dp_link_delete_many(const int *ifindexes, size_t n);

/* Starts a request of 'type' (RTM_NEWLINK, RTM_SETLINK, RTM_DELLINK) with
 * extra nlmsg 'flags' and an ifinfomsg for 'ifindex'; for datapath/ files
 * that create links of a kind.  The caller passes it to dp_nl_modify(). */
struct nl_msg;
struct nl_msg *dp_link_request(int type, int flags, int ifindex,
                               unsigned int ifi_flags,
                               unsigned int ifi_change);

#endif /* datapath/link.h */
