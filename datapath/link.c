/* Links: dump and generic changes; see link.h. */
#include <config.h>

#include "datapath/link.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/ipv6.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datapath/ifname.h"
#include "datapath/netlink.h"
#include "hash.h"
#include "random.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(dp_link);

void
dp_links_init(struct dp_links *links)
{
    hmap_init(&links->by_index);
    hmap_init(&links->by_name);
    hmap_init(&links->by_alias);
    links->have_vlans = false;
    links->dump_seq = 0;
    dp_vlan_table_init(&links->vlans);
}

static void
link_free(struct dp_link *link)
{
    free(link->name);
    free(link->kind);
    free(link->alias);
    free(link);
}

static void
dp_links_clear(struct dp_links *links)
{
    struct dp_link *link;

    hmap_clear(&links->by_name);
    hmap_clear(&links->by_alias);
    HMAP_FOR_EACH_POP (link, node, &links->by_index) {
        link_free(link);
    }
}

void
dp_links_destroy(struct dp_links *links)
{
    if (links) {
        dp_links_clear(links);
        hmap_destroy(&links->by_index);
        hmap_destroy(&links->by_name);
        hmap_destroy(&links->by_alias);
        dp_vlan_table_destroy(&links->vlans);
    }
}

static struct dp_link *
find_by_index(const struct dp_links *links, int ifindex)
{
    struct dp_link *link;

    HMAP_FOR_EACH_WITH_HASH (link, node, hash_int(ifindex, 0),
                             &links->by_index) {
        if (link->ifindex == ifindex) {
            return link;
        }
    }
    return NULL;
}

/* Number of links of 'links' in device group 'group'. */
static size_t
links_in_group(const struct dp_links *links, uint32_t group)
{
    const struct dp_link *link;
    size_t n = 0;

    HMAP_FOR_EACH (link, node, &links->by_index) {
        n += link->group == group;
    }
    return n;
}

void
dp_links_remove(struct dp_links *links, int ifindex)
{
    struct dp_link *link = find_by_index(links, ifindex);
    if (link) {
        hmap_remove(&links->by_index, &link->node);
        hmap_remove(&links->by_name, &link->name_node);
        if (link->alias[0]) {
            hmap_remove(&links->by_alias, &link->alias_node);
        }
        link_free(link);
    }
}

void
dp_links_add(struct dp_links *links, const struct dp_link *tmpl)
{
    struct dp_link *link = xmemdup(tmpl, sizeof *tmpl);

    dp_links_remove(links, tmpl->ifindex);
    link->name = xstrdup(tmpl->name ? tmpl->name : "");
    link->kind = xstrdup(tmpl->kind ? tmpl->kind : "");
    link->alias = xstrdup(tmpl->alias ? tmpl->alias : "");
    hmap_insert(&links->by_index, &link->node, hash_int(link->ifindex, 0));
    hmap_insert(&links->by_name, &link->name_node,
                hash_string(link->name, 0));
    if (link->alias[0]) {
        hmap_insert(&links->by_alias, &link->alias_node,
                    hash_string(link->alias, 0));
    }
}

/* A NUL-terminated string attribute, or NULL. */
static const char *
attr_string(const struct rtattr *rta)
{
    const char *s = RTA_DATA(rta);
    size_t size = RTA_PAYLOAD(rta);
    return size && memchr(s, '\0', size) ? s : NULL;
}

static bool
attr_u32(const struct rtattr *rta, uint32_t *v)
{
    if (RTA_PAYLOAD(rta) < 4) {
        return false;
    }
    memcpy(v, RTA_DATA(rta), 4);
    return true;
}

static int
attr_u8(const struct rtattr *rta)
{
    return RTA_PAYLOAD(rta) >= 1 ? *(const uint8_t *) RTA_DATA(rta) : 0;
}

/* IFLA_INFO_DATA of a tun device. */
static void
parse_tun(const struct rtattr *data, struct dp_link *link)
{
    const struct rtattr *rta = RTA_DATA(data);
    int len = RTA_PAYLOAD(data);
    uint32_t v;

    link->tun_flags = IFF_NO_PI;
    for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
        switch (rta->rta_type) {
        case IFLA_TUN_OWNER:
            if (attr_u32(rta, &v)) {
                link->tun_owner = v;
            }
            break;
        case IFLA_TUN_GROUP:
            if (attr_u32(rta, &v)) {
                link->tun_group = v;
            }
            break;
        case IFLA_TUN_TYPE:
            link->tun_flags |= attr_u8(rta) & (IFF_TUN | IFF_TAP);
            break;
        case IFLA_TUN_PI:
            if (attr_u8(rta)) {
                link->tun_flags &= ~IFF_NO_PI;
            }
            break;
        case IFLA_TUN_VNET_HDR:
            link->tun_flags |= attr_u8(rta) ? IFF_VNET_HDR : 0;
            break;
        case IFLA_TUN_PERSIST:
            link->tun_flags |= attr_u8(rta) ? IFF_PERSIST : 0;
            break;
        case IFLA_TUN_MULTI_QUEUE:
            link->tun_flags |= attr_u8(rta) ? IFF_MULTI_QUEUE : 0;
            break;
        case IFLA_TUN_NUM_QUEUES:
            if (attr_u32(rta, &v)) {
                link->tun_queues = MIN(v, INT_MAX);
            }
            break;
        }
    }
}

/* IFLA_INFO_DATA of a bridge: VLAN filtering, and whether the kernel has
 * it at all (only then does it report the default PVID). */
static void
parse_bridge(const struct rtattr *data, struct dp_link *link)
{
    const struct rtattr *rta = RTA_DATA(data);
    int len = RTA_PAYLOAD(data);
    bool supported = false;
    int on = 0;

    for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
        if (rta->rta_type == IFLA_BR_VLAN_DEFAULT_PVID) {
            supported = true;
        } else if (rta->rta_type == IFLA_BR_VLAN_FILTERING) {
            on = attr_u8(rta) != 0;
        }
    }
    link->vlan_filtering = supported ? on : -1;
}

/* IFLA_LINKINFO: the kind, and what vsw reads of a kind's data.  Returns
 * the kind, or NULL. */
static const char *
parse_linkinfo(const struct rtattr *info, struct dp_link *link)
{
    const struct rtattr *rta = RTA_DATA(info);
    const struct rtattr *data = NULL;
    const char *kind = NULL;
    int len = RTA_PAYLOAD(info);

    for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
        if (rta->rta_type == IFLA_INFO_KIND) {
            kind = attr_string(rta);
        } else if (rta->rta_type == IFLA_INFO_DATA) {
            data = rta;
        }
    }
    if (kind && data && !strcmp(kind, "tun")) {
        parse_tun(data, link);
    } else if (kind && data && !strcmp(kind, "bridge")) {
        parse_bridge(data, link);
    }
    return kind;
}

/* IFLA_AF_SPEC: whether IPv6 is on (AF_INET6's IFLA_INET6_CONF, the
 * device's sysctls as an array of s32 indexed by DEVCONF_*). */
static void
parse_af_spec(const struct rtattr *spec, struct dp_link *link)
{
    const struct rtattr *af = RTA_DATA(spec);
    int len = RTA_PAYLOAD(spec);

    for (; RTA_OK(af, len); af = RTA_NEXT(af, len)) {
        if (af->rta_type != AF_INET6) {
            continue;
        }
        const struct rtattr *rta = RTA_DATA(af);
        int alen = RTA_PAYLOAD(af);
        for (; RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen)) {
            if (rta->rta_type == IFLA_INET6_CONF
                && RTA_PAYLOAD(rta) >= (DEVCONF_DISABLE_IPV6 + 1) * 4) {
                int32_t v;
                memcpy(&v, (const char *) RTA_DATA(rta)
                           + DEVCONF_DISABLE_IPV6 * 4, 4);
                link->ipv6 = !v;
            }
        }
    }
}

/* Parses RTM_NEWLINK 'h' into 'link' (its strings point into 'h').
 * Returns false if it is not a well-formed message for an AF_UNSPEC
 * link. */
static bool
parse_link(const struct nlmsghdr *h, struct dp_link *link)
{
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
        return false;
    }
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    if (ifi->ifi_index <= 0) {
        return false;
    }
    *link = (struct dp_link) {
        .ifindex = ifi->ifi_index,
        .flags = ifi->ifi_flags,
        .vlan_filtering = -1,
        .tun_owner = -1,
        .tun_group = -1,
        .tun_queues = -1,
        .operstate = -1,
        .ipv6 = -1,
    };

    const struct rtattr *rta = IFLA_RTA(ifi);
    int len = IFLA_PAYLOAD(h);
    uint32_t v;
    for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
        const uint8_t *b = RTA_DATA(rta);
        size_t size = RTA_PAYLOAD(rta);
        switch (rta->rta_type) {
        case IFLA_IFNAME:
            link->name = CONST_CAST(char *, attr_string(rta));
            break;
        case IFLA_IFALIAS:
            link->alias = CONST_CAST(char *, attr_string(rta));
            break;
        case IFLA_MASTER:
            link->master = attr_u32(rta, &v) ? v : 0;
            break;
        case IFLA_MTU:
            link->mtu = attr_u32(rta, &v) ? v : 0;
            break;
        case IFLA_LINK:
            link->peer = attr_u32(rta, &v) ? v : 0;
            break;
        case IFLA_LINK_NETNSID:
            link->peer_elsewhere = true;
            break;
        case IFLA_GROUP:
            link->group = attr_u32(rta, &v) ? v : 0;
            break;
        case IFLA_OPERSTATE:
            link->operstate = size >= 1 ? b[0] : -1;
            break;
        case IFLA_ADDRESS:
            if (size == 6) {
                /* By hand: a dump formats one per link, and printf is
                 * most of what parsing a link costs. */
                static const char hex[] = "0123456789abcdef";
                for (int i = 0; i < 6; i++) {
                    link->mac[3 * i] = hex[b[i] >> 4];
                    link->mac[3 * i + 1] = hex[b[i] & 15];
                    link->mac[3 * i + 2] = i < 5 ? ':' : '\0';
                }
            }
            break;
        case IFLA_PHYS_PORT_NAME:
            if (attr_string(rta)) {
                ovs_strlcpy(link->phys_port_name, attr_string(rta),
                            sizeof link->phys_port_name);
            }
            break;
        case IFLA_PHYS_SWITCH_ID:
            for (size_t i = 0; i < MIN(size, 31); i++) {
                snprintf(link->phys_switch_id + 2 * i, 3, "%02x", b[i]);
            }
            break;
        case IFLA_LINKINFO:
            link->kind = CONST_CAST(char *, parse_linkinfo(rta, link));
            break;
        case IFLA_AF_SPEC:
            parse_af_spec(rta, link);
            break;
        }
    }
    return link->name != NULL;
}

static bool
str_differs(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

/* Whether 'a' and 'b' differ in what a pass converges. */
static bool
link_differs(const struct dp_link *a, const struct dp_link *b)
{
    return (str_differs(a->name, b->name) || str_differs(a->alias, b->alias)
            || str_differs(a->kind, b->kind) || a->master != b->master
            || (a->flags & IFF_UP) != (b->flags & IFF_UP)
            || a->mtu != b->mtu || strcmp(a->mac, b->mac)
            || a->peer != b->peer || a->peer_elsewhere != b->peer_elsewhere
            || a->vlan_filtering != b->vlan_filtering
            || a->tun_flags != b->tun_flags || a->tun_owner != b->tun_owner
            || a->tun_group != b->tun_group
            || strcmp(a->phys_port_name, b->phys_port_name)
            || strcmp(a->phys_switch_id, b->phys_switch_id));
}

void
dp_links_update(struct dp_links *links, const struct nlmsghdr *h,
                struct dp_link_event *ev)
{
    struct dp_link_event dummy;
    if (!ev) {
        ev = &dummy;
    }
    memset(ev, 0, sizeof *ev);
    ev->change = DP_LINK_IGNORED;

    if (h->nlmsg_type == RTM_NEWVLAN || h->nlmsg_type == RTM_DELVLAN) {
        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct br_vlan_msg))) {
            const struct br_vlan_msg *bvm = NLMSG_DATA(h);
            ev->change = DP_LINK_VLANS;
            ev->ifindex = bvm->ifindex;
        }
        return;
    }
    if ((h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
        || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
        return;
    }
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    ev->ifindex = ifi->ifi_index;
    ev->carrier = (ifi->ifi_flags & IFF_LOWER_UP) != 0;
    if (ifi->ifi_family == AF_BRIDGE) {
        ev->change = DP_LINK_VLANS;
        return;
    }

    const struct dp_link *old = find_by_index(links, ifi->ifi_index);
    if (old && ev != &dummy) {
        ovs_strlcpy(ev->old_name, old->name, sizeof ev->old_name);
        ovs_strlcpy(ev->old_alias, old->alias, sizeof ev->old_alias);
    }
    if (h->nlmsg_type == RTM_DELLINK) {
        dp_links_remove(links, ifi->ifi_index);
        ev->change = DP_LINK_GONE;
        return;
    }

    struct dp_link link;
    if (!parse_link(h, &link)) {
        return;
    }
    if (ev != &dummy) {         /* (A dump's caller wants no events.) */
        ev->change = (!old || link_differs(old, &link) ? DP_LINK_CHANGED
                      : ((old->flags & (IFF_LOWER_UP | IFF_DORMANT))
                         != (link.flags & (IFF_LOWER_UP | IFF_DORMANT))
                         || old->operstate != link.operstate)
                      ? DP_LINK_CARRIER : DP_LINK_SAME);
    }
    link.dump_seq = links->dump_seq;
    if (old && !str_differs(old->name, link.name)
        && !str_differs(old->alias, link.alias)
        && !str_differs(old->kind, link.kind)) {
        /* Its names are the same (a resync's dump finds most links so):
         * the rest is copied in place, with no allocation and no move in
         * the tables. */
        struct dp_link *o = CONST_CAST(struct dp_link *, old);
        link.node = o->node;
        link.name_node = o->name_node;
        link.alias_node = o->alias_node;
        link.name = o->name;
        link.alias = o->alias;
        link.kind = o->kind;
        *o = link;
    } else {
        dp_links_add(links, &link);
    }
}

static int
dump_cb(struct nl_msg *msg, void *links)
{
    dp_links_update(links, nlmsg_hdr(msg), NULL);
    return NL_OK;
}

/* Replaces what 'links' says by a dump: the links the dump shows are
 * updated in place (dp_links_update()), and those it does not show are
 * removed once it is complete. */
int
dp_links_dump(struct dp_links *links)
{
    unsigned int seq = ++links->dump_seq;
    dp_nl_count_dump();

    struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK,
                                            NLM_F_REQUEST | NLM_F_DUMP);
    /* No IFLA_EXT_MASK, though the counters are not read: with one, the
     * kernel first computes the size of every link's message to size its
     * buffers (rtnl_calcit()), which costs more at 1000 links than the
     * counters it would leave out. */
    struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
    if (!msg || nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0) {
        out_of_memory();
    }
    int error = dp_nl_transact(dp_nl_sock(), msg, false, dump_cb, links);
    if (error) {
        dp_links_clear(links);
        return error;
    }
    struct dp_link *link;
    HMAP_FOR_EACH_SAFE (link, node, &links->by_index) {
        if (link->dump_seq != seq) {
            dp_links_remove(links, link->ifindex);
        }
    }
    return 0;
}

void
dp_link_counters_clear(struct hmap *table)
{
    struct dp_link_counters *c;
    HMAP_FOR_EACH_POP (c, node, table) {
        free(c);
    }
}

const struct dp_link_stats *
dp_link_counters_find(const struct hmap *table, int ifindex)
{
    const struct dp_link_counters *c;
    HMAP_FOR_EACH_WITH_HASH (c, node, hash_int(ifindex, 0), table) {
        if (c->ifindex == ifindex) {
            return &c->stats;
        }
    }
    return NULL;
}

static int
counters_cb(struct nl_msg *msg, void *table_)
{
    struct hmap *table = table_;
    const struct nlmsghdr *h = nlmsg_hdr(msg);
    if (h->nlmsg_type != RTM_NEWSTATS
        || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct if_stats_msg))) {
        return NL_OK;
    }
    const struct if_stats_msg *ifsm = NLMSG_DATA(h);
    const struct nlattr *a = nlmsg_find_attr(CONST_CAST(struct nlmsghdr *, h),
                                             sizeof *ifsm,
                                             IFLA_STATS_LINK_64);
    if (!a || nla_len(a) < (int) sizeof(struct rtnl_link_stats64)
        || dp_link_counters_find(table, ifsm->ifindex)) {
        return NL_OK;
    }
    struct rtnl_link_stats64 st;
    memcpy(&st, nla_data(a), sizeof st);
    struct dp_link_counters *c = xmalloc(sizeof *c);
    c->ifindex = ifsm->ifindex;
    c->stats = (struct dp_link_stats) {
        .rx_packets = st.rx_packets,
        .tx_packets = st.tx_packets,
        .rx_bytes = st.rx_bytes,
        .tx_bytes = st.tx_bytes,
        .rx_errors = st.rx_errors,
        .tx_errors = st.tx_errors,
        .rx_dropped = st.rx_dropped,
        .tx_dropped = st.tx_dropped,
    };
    hmap_insert(table, &c->node, hash_int(c->ifindex, 0));
    return NL_OK;
}

int
dp_link_counters_dump(struct hmap *table)
{
    dp_link_counters_clear(table);
    dp_nl_count_dump();

    struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETSTATS,
                                            NLM_F_REQUEST | NLM_F_DUMP);
    struct if_stats_msg ifsm = {
        .family = AF_UNSPEC,
        .filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64),
    };
    if (!msg || nlmsg_append(msg, &ifsm, sizeof ifsm, NLMSG_ALIGNTO) < 0) {
        out_of_memory();
    }
    int error = dp_nl_transact(dp_nl_sock(), msg, false, counters_cb, table);
    if (error) {
        dp_link_counters_clear(table);
    }
    return error;
}

int
dp_links_dump_vlans(struct dp_links *links)
{
    int error = dp_vlan_dump(&links->vlans);
    links->have_vlans = !error;
    return error;
}

const struct dp_link *
dp_links_by_index(const struct dp_links *links, int ifindex)
{
    return find_by_index(links, ifindex);
}

const struct dp_link *
dp_links_by_name(const struct dp_links *links, const char *name)
{
    const struct dp_link *link;

    HMAP_FOR_EACH_WITH_HASH (link, name_node, hash_string(name, 0),
                             &links->by_name) {
        if (!strcmp(link->name, name)) {
            return link;
        }
    }
    return NULL;
}

const char *
dp_links_name_of(const struct dp_links *links, int ifindex)
{
    const struct dp_link *link = dp_links_by_index(links, ifindex);
    return link ? link->name : "?";
}

const struct dp_link *
dp_links_by_alias(const struct dp_links *links, const char *alias)
{
    const struct dp_link *link;

    if (!alias[0]) {
        return NULL;
    }
    HMAP_FOR_EACH_WITH_HASH (link, alias_node, hash_string(alias, 0),
                             &links->by_alias) {
        if (!strcmp(link->alias, alias)) {
            return link;
        }
    }
    return NULL;
}

struct nl_msg *
dp_link_request(int type, int flags, int ifindex, unsigned int ifi_flags,
             unsigned int ifi_change)
{
    struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK
                                                  | flags);
    struct ifinfomsg ifi = {
        .ifi_family = AF_UNSPEC,
        .ifi_index = ifindex,
        .ifi_flags = ifi_flags,
        .ifi_change = ifi_change,
    };
    if (!msg || nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0) {
        out_of_memory();
    }
    return msg;
}

int
dp_link_set_up(int ifindex, bool up)
{
    return dp_nl_modify(dp_link_request(RTM_SETLINK, 0, ifindex,
                                     up ? IFF_UP : 0, IFF_UP));
}

int
dp_link_set_master(int ifindex, int master)
{
    struct nl_msg *msg = dp_link_request(RTM_SETLINK, 0, ifindex, 0, 0);
    nla_put_u32(msg, IFLA_MASTER, master);
    return dp_nl_modify(msg);
}

int
dp_link_set_alias(int ifindex, const char *alias)
{
    struct nl_msg *msg = dp_link_request(RTM_SETLINK, 0, ifindex, 0, 0);
    nla_put_string(msg, IFLA_IFALIAS, alias);
    return dp_nl_modify(msg);
}

int
dp_link_set_name(int ifindex, const char *name)
{
    struct nl_msg *msg = dp_link_request(RTM_SETLINK, 0, ifindex, 0, 0);
    nla_put_string(msg, IFLA_IFNAME, name);
    return dp_nl_modify(msg);
}

int
dp_link_set_mtu(int ifindex, int mtu)
{
    struct nl_msg *msg = dp_link_request(RTM_SETLINK, 0, ifindex, 0, 0);
    nla_put_u32(msg, IFLA_MTU, mtu);
    return dp_nl_modify(msg);
}

static bool
parse_mac(const char *mac, uint8_t b[6])
{
    if (sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx",
               &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) {
        dp_nl_set_error(EINVAL, "\"%s\" is not a MAC address", mac);
        return false;
    }
    return true;
}

int
dp_link_set_mac(int ifindex, const char *mac)
{
    uint8_t b[6];

    if (!parse_mac(mac, b)) {
        return EINVAL;
    }
    struct nl_msg *msg = dp_link_request(RTM_SETLINK, 0, ifindex, 0, 0);
    nla_put(msg, IFLA_ADDRESS, sizeof b, b);
    return dp_nl_modify(msg);
}

int
dp_link_setup(int ifindex, const struct dp_link_setup *s)
{
    uint8_t b[6];

    if (s->mac && !parse_mac(s->mac, b)) {
        return EINVAL;
    }
    if (s->dormant) {
        /* A request of its own: the kernel applies the flags and the
         * master before the operational state. */
        struct nl_msg *m = dp_link_request(RTM_SETLINK, 0, ifindex, 0, 0);
        nla_put_u8(m, IFLA_OPERSTATE, IF_OPER_DORMANT);
        int error = dp_nl_modify(m);
        if (error) {
            return error;
        }
    }
    struct nl_msg *msg = dp_link_request(RTM_SETLINK, 0, ifindex,
                                         s->up ? IFF_UP : 0,
                                         s->up ? IFF_UP : 0);
    if (s->mac) {
        nla_put(msg, IFLA_ADDRESS, sizeof b, b);
    }
    if (s->mtu) {
        nla_put_u32(msg, IFLA_MTU, s->mtu);
    }
    if (s->name) {
        nla_put_string(msg, IFLA_IFNAME, s->name);
    }
    if (s->alias) {
        nla_put_string(msg, IFLA_IFALIAS, s->alias);
    }
    if (s->master) {
        nla_put_u32(msg, IFLA_MASTER, s->master);
    }
    return dp_nl_modify(msg);
}

int
dp_link_set_netns(int ifindex, const char *netns, const char *name)
{
    char path[PATH_MAX];
    const char *why = dp_netns_check(netns);

    if (why) {
        dp_nl_set_error(EINVAL, "network namespace \"%s\": %s", netns, why);
        return EINVAL;
    }
    snprintf(path, sizeof path, "/run/netns/%s", netns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int error = errno;
        dp_nl_set_error(error, "network namespace %s (%s)", netns, path);
        return error;
    }
    struct nl_msg *msg = dp_link_request(RTM_SETLINK, 0, ifindex, 0, 0);
    nla_put_u32(msg, IFLA_NET_NS_FD, fd);
    nla_put_string(msg, IFLA_IFNAME, name);
    int error = dp_nl_modify(msg);
    close(fd);
    return error;
}

int
dp_link_disable_ipv6(const char *name)
{
    char path[96];
    int error = 0;

    dp_nl_count_modify();
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
             name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        error = errno == ENOENT ? 0 : errno;    /* ENOENT: no IPv6. */
    } else {
        error = write(fd, "1", 1) == 1 ? 0 : errno;
        close(fd);
    }
    if (error) {
        dp_nl_count_failed();
        dp_nl_set_error(error, "%s", path);
    }
    return error;
}

int
dp_link_tun_queues(int ifindex)
{
    struct dp_links one;
    dp_links_init(&one);
    /* A reply and no ACK (dp_nl_transact() leaves none behind). */
    struct nl_msg *msg = dp_link_request(RTM_GETLINK, 0, ifindex, 0, 0);
    nlmsg_hdr(msg)->nlmsg_flags &= ~NLM_F_ACK;
    int error = dp_nl_transact(dp_nl_sock(), msg, false, dump_cb, &one);
    const struct dp_link *link = error ? NULL
                                       : dp_links_by_index(&one, ifindex);
    int queues = link ? link->tun_queues : -1;
    dp_links_destroy(&one);
    return queues;
}

int
dp_link_delete(int ifindex)
{
    return dp_nl_modify(dp_link_request(RTM_DELLINK, 0, ifindex, 0, 0));
}

int
dp_link_delete_many(const int *ifindexes, size_t n)
{
    struct dp_links now;
    uint32_t group;
    int error;

    dp_links_init(&now);
    error = dp_links_dump(&now);
    /* A group no device has, away from the small numbers people use.  Tests
     * choose it (VSW_TEST_DELETE_GROUP) to put a foreign device in it. */
    const char *test_group = getenv("VSW_TEST_DELETE_GROUP");
    if (test_group) {
        group = strtoul(test_group, NULL, 10);
        if (!error && links_in_group(&now, group)) {
            error = EEXIST;
            dp_nl_set_error(error, "device group %"PRIu32" is in use",
                            group);
        }
    } else {
        do {
            group = random_uint32() | 0x80000000u;
        } while (!error && links_in_group(&now, group));
    }

    for (size_t i = 0; !error && i < n; i++) {
        struct nl_msg *msg = dp_link_request(RTM_SETLINK, 0, ifindexes[i],
                                             0, 0);
        nla_put_u32(msg, IFLA_GROUP, group);
        error = dp_nl_modify(msg);
    }
    if (!error) {
        error = dp_links_dump(&now);
    }
    if (!error) {
        /* Exactly our devices: none missing (a set that failed), none
         * foreign (another program's device in the group). */
        size_t found = links_in_group(&now, group);
        bool all = found == n;
        for (size_t i = 0; all && i < n; i++) {
            const struct dp_link *l = dp_links_by_index(&now, ifindexes[i]);
            all = l && l->group == group;
        }
        if (!all) {
            error = EEXIST;
            dp_nl_set_error(error, "device group %"PRIu32" holds %"PRIuSIZE
                            " devices, not the %"PRIuSIZE" to delete",
                            group, found, n);
        }
    }
    if (!error) {
        struct nl_msg *msg = dp_link_request(RTM_DELLINK, 0, 0, 0, 0);
        nla_put_u32(msg, IFLA_GROUP, group);
        error = dp_nl_modify(msg);
    }
    dp_links_destroy(&now);
    return error;
}
