/* Network links (rtnetlink RTM_*LINK): a dump of every link in the current
 * network namespace, and the generic changes vsw makes to links: up/down,
 * master, alias (the ownership tag), name, MTU, delete.
 *
 * The dump is plain data, independent of libnl, so the reconciler can be
 * unit-tested against hand-built dumps.  Modifying calls go through
 * datapath/netlink.c (counted, with extack). */
#ifndef DATAPATH_LINK_H
#define DATAPATH_LINK_H 1

#include <stdbool.h>

#include "datapath/vlan.h"
#include "openvswitch/hmap.h"

struct dp_link {
    struct hmap_node node;      /* In dp_links, by ifindex. */
    int ifindex;
    char *name;
    char *kind;                 /* "bridge", "veth", ..., "" if none. */
    char *alias;                /* IFLA_IFALIAS, "" if none. */
    int master;                 /* Master's ifindex, 0 if none. */
    int peer;                   /* IFLA_LINK, e.g. a veth's peer, or 0. */
    unsigned int flags;         /* IFF_*. */
    int mtu;
    char mac[18];               /* "xx:xx:xx:xx:xx:xx", "" if none. */
    bool peer_elsewhere;        /* 'peer' is in another namespace. */
    int vlan_filtering;         /* Bridges: 0 or 1; -1: not a bridge, or a
                                 * kernel without VLAN filtering. */
    char phys_port_name[32];    /* "p0", "pf0vf1", ... or "". */
    char phys_switch_id[64];    /* Hex, or "" if none. */
};

struct dp_links {
    struct hmap by_index;
    bool have_vlans;            /* 'vlans' was dumped (dp_links_dump_vlans). */
    struct dp_vlan_table vlans;
};

void dp_links_init(struct dp_links *);
void dp_links_destroy(struct dp_links *);

/* Replaces the contents of 'links' by a fresh dump of the kernel's links.
 * Returns 0 or a positive errno. */
int dp_links_dump(struct dp_links *);

/* Adds every bridge port's VLANs to 'links' (a second dump).  Returns 0 or a
 * positive errno. */
int dp_links_dump_vlans(struct dp_links *);

/* Adds a copy of 'link' to 'links' (used by the dump and by unit tests). */
void dp_links_add(struct dp_links *, const struct dp_link *);

const struct dp_link *dp_links_by_index(const struct dp_links *, int);
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

/* Starts a request of 'type' (RTM_NEWLINK, RTM_SETLINK, RTM_DELLINK) with
 * extra nlmsg 'flags' and an ifinfomsg for 'ifindex'; for datapath/ files
 * that create links of a kind.  The caller passes it to dp_nl_modify(). */
struct nl_msg;
struct nl_msg *dp_link_request(int type, int flags, int ifindex,
                               unsigned int ifi_flags,
                               unsigned int ifi_change);

#endif /* datapath/link.h */
