/* Bridge VLAN filtering; see vlan.h. */
#include <config.h>

#include "datapath/vlan.h"

#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <string.h>
#include <sys/socket.h>

#include "datapath/link.h"
#include "datapath/netlink.h"
#include "hash.h"
#include "util.h"

void
dp_vlan_table_init(struct dp_vlan_table *t)
{
    hmap_init(&t->ports);
}

static void
dp_vlan_table_clear(struct dp_vlan_table *t)
{
    struct dp_vlan_port *p;

    HMAP_FOR_EACH_POP (p, node, &t->ports) {
        free(p);
    }
}

void
dp_vlan_table_destroy(struct dp_vlan_table *t)
{
    if (t) {
        dp_vlan_table_clear(t);
        hmap_destroy(&t->ports);
    }
}

const struct dp_vlan_port *
dp_vlan_table_find(const struct dp_vlan_table *t, int ifindex)
{
    const struct dp_vlan_port *p;

    HMAP_FOR_EACH_WITH_HASH (p, node, hash_int(ifindex, 0), &t->ports) {
        if (p->ifindex == ifindex) {
            return p;
        }
    }
    return NULL;
}

struct dp_vlan_port *
dp_vlan_table_add(struct dp_vlan_table *t, int ifindex)
{
    struct dp_vlan_port *p
        = CONST_CAST(struct dp_vlan_port *, dp_vlan_table_find(t, ifindex));
    if (!p) {
        p = xzalloc(sizeof *p);
        p->ifindex = ifindex;
        hmap_insert(&t->ports, &p->node, hash_int(ifindex, 0));
    }
    return p;
}

static int
parse_port(struct nl_msg *msg, void *t_)
{
    struct dp_vlan_table *t = t_;
    struct nlmsghdr *hdr = nlmsg_hdr(msg);
    struct ifinfomsg *ifi = nlmsg_data(hdr);
    struct nlattr *tb[IFLA_MAX + 1];

    if (hdr->nlmsg_type != RTM_NEWLINK
        || nlmsg_parse(hdr, sizeof *ifi, tb, IFLA_MAX, NULL) < 0
        || !tb[IFLA_AF_SPEC] || !tb[IFLA_MASTER]) {
        return NL_OK;           /* Not a bridge port, or no VLANs. */
    }
    struct dp_vlan_port *p = dp_vlan_table_add(t, ifi->ifi_index);
    struct nlattr *a;
    int rem, range_lo = -1;
    nla_for_each_nested (a, tb[IFLA_AF_SPEC], rem) {
        if (nla_type(a) != IFLA_BRIDGE_VLAN_INFO
            || nla_len(a) < (int) sizeof(struct bridge_vlan_info)) {
            continue;
        }
        const struct bridge_vlan_info *vi = nla_data(a);
        uint8_t f = DP_VLAN_MEMBER
                    | (vi->flags & BRIDGE_VLAN_INFO_PVID ? DP_VLAN_PVID : 0)
                    | (vi->flags & BRIDGE_VLAN_INFO_UNTAGGED
                       ? DP_VLAN_UNTAGGED : 0);
        if (vi->flags & BRIDGE_VLAN_INFO_RANGE_BEGIN) {
            range_lo = vi->vid;
        } else {
            int lo = (vi->flags & BRIDGE_VLAN_INFO_RANGE_END && range_lo > 0)
                     ? range_lo : vi->vid;
            for (int v = lo; v <= vi->vid && v < 4096; v++) {
                p->flags[v] = f;
            }
            range_lo = -1;
        }
    }
    return NL_OK;
}

int
dp_vlan_dump(struct dp_vlan_table *t)
{
    dp_vlan_table_clear(t);
    dp_nl_count_dump();

    struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK,
                                            NLM_F_REQUEST | NLM_F_DUMP);
    struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE };
    nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO);
    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN);
    return dp_nl_transact(dp_nl_sock(), msg, false, parse_port, t);
}

/* A VLAN request for port 'ifindex': entries 'lo'..'hi' with 'flags'. */
static struct nl_msg *
vlan_request(int type, int ifindex, int lo, int hi, unsigned int flags)
{
    struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK);
    struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = ifindex };
    nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO);

    struct nlattr *spec = nla_nest_start(msg, IFLA_AF_SPEC);
    uint16_t bflags = 0;
    if (flags & DP_VLAN_PVID) {
        bflags |= BRIDGE_VLAN_INFO_PVID;
    }
    if (flags & DP_VLAN_UNTAGGED) {
        bflags |= BRIDGE_VLAN_INFO_UNTAGGED;
    }
    if (lo == hi) {
        struct bridge_vlan_info vi = { .flags = bflags, .vid = lo };
        nla_put(msg, IFLA_BRIDGE_VLAN_INFO, sizeof vi, &vi);
    } else {
        struct bridge_vlan_info b = {
            .flags = bflags | BRIDGE_VLAN_INFO_RANGE_BEGIN, .vid = lo,
        };
        struct bridge_vlan_info e = {
            .flags = bflags | BRIDGE_VLAN_INFO_RANGE_END, .vid = hi,
        };
        nla_put(msg, IFLA_BRIDGE_VLAN_INFO, sizeof b, &b);
        nla_put(msg, IFLA_BRIDGE_VLAN_INFO, sizeof e, &e);
    }
    nla_nest_end(msg, spec);
    return msg;
}

int
dp_vlan_add(int ifindex, int lo, int hi, unsigned int flags)
{
    return dp_nl_modify(vlan_request(RTM_SETLINK, ifindex, lo, hi, flags));
}

int
dp_vlan_del(int ifindex, int lo, int hi)
{
    return dp_nl_modify(vlan_request(RTM_DELLINK, ifindex, lo, hi, 0));
}

int
dp_vlan_set_filtering(int bridge_ifindex, bool on)
{
    struct nl_msg *msg = dp_link_request(RTM_NEWLINK, 0, bridge_ifindex, 0,
                                         0);
    struct nlattr *info = nla_nest_start(msg, IFLA_LINKINFO);
    nla_put_string(msg, IFLA_INFO_KIND, "bridge");
    struct nlattr *data = nla_nest_start(msg, IFLA_INFO_DATA);
    nla_put_u8(msg, IFLA_BR_VLAN_FILTERING, on);
    nla_nest_end(msg, data);
    nla_nest_end(msg, info);
    return dp_nl_modify(msg);
}
