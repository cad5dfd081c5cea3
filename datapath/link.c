/* Links: dump and generic changes; see link.h. */
#include <config.h>

#include "datapath/link.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/data.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "datapath/ifname.h"
#include "datapath/netlink.h"
#include "hash.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(dp_link);

void
dp_links_init(struct dp_links *links)
{
    hmap_init(&links->by_index);
    links->have_vlans = false;
    dp_vlan_table_init(&links->vlans);
}

static void
dp_links_clear(struct dp_links *links)
{
    struct dp_link *link;

    HMAP_FOR_EACH_POP (link, node, &links->by_index) {
        free(link->name);
        free(link->kind);
        free(link->alias);
        free(link);
    }
}

void
dp_links_destroy(struct dp_links *links)
{
    if (links) {
        dp_links_clear(links);
        hmap_destroy(&links->by_index);
        dp_vlan_table_destroy(&links->vlans);
    }
}

void
dp_links_add(struct dp_links *links, const struct dp_link *tmpl)
{
    struct dp_link *link = xmemdup(tmpl, sizeof *tmpl);

    link->name = xstrdup(tmpl->name ? tmpl->name : "");
    link->kind = xstrdup(tmpl->kind ? tmpl->kind : "");
    link->alias = xstrdup(tmpl->alias ? tmpl->alias : "");
    hmap_insert(&links->by_index, &link->node, hash_int(link->ifindex, 0));
}

static void
add_rtnl_link(struct nl_object *obj, void *links_)
{
    struct rtnl_link *rl = (struct rtnl_link *) obj;
    struct dp_link link = {
        .ifindex = rtnl_link_get_ifindex(rl),
        .name = (char *) rtnl_link_get_name(rl),
        .kind = (char *) rtnl_link_get_type(rl),
        .alias = (char *) rtnl_link_get_ifalias(rl),
        .master = rtnl_link_get_master(rl),
        .peer = rtnl_link_get_link(rl),
        .flags = rtnl_link_get_flags(rl),
        .mtu = rtnl_link_get_mtu(rl),
    };
    struct nl_addr *addr = rtnl_link_get_addr(rl);
    if (addr && nl_addr_get_len(addr) == 6) {
        const uint8_t *b = nl_addr_get_binary_addr(addr);
        snprintf(link.mac, sizeof link.mac,
                 "%02x:%02x:%02x:%02x:%02x:%02x",
                 b[0], b[1], b[2], b[3], b[4], b[5]);
    }
    int32_t nsid;
    link.peer_elsewhere = !rtnl_link_get_link_netnsid(rl, &nsid);
    const char *ppn = rtnl_link_get_phys_port_name(rl);
    if (ppn) {
        ovs_strlcpy(link.phys_port_name, ppn, sizeof link.phys_port_name);
    }
    struct nl_data *swid = rtnl_link_get_phys_switch_id(rl);
    if (swid) {
        const uint8_t *d = nl_data_get(swid);
        size_t len = MIN(nl_data_get_size(swid), 31);
        for (size_t i = 0; i < len; i++) {
            snprintf(link.phys_switch_id + 2 * i, 3, "%02x", d[i]);
        }
    }
    link.vlan_filtering = -1;
    if (link.kind && !strcmp(link.kind, "bridge")) {
        char path[128], c = 0;
        snprintf(path, sizeof path,
                 "/sys/class/net/%s/bridge/vlan_filtering", link.name);
        FILE *f = fopen(path, "r");
        if (f) {
            link.vlan_filtering = fread(&c, 1, 1, f) == 1 && c == '1';
            fclose(f);
        }
    }
    dp_links_add(links_, &link);
    dp_nl_link_seen(link.ifindex,
                    dp_nl_link_sig(link.name, link.master,
                                   link.flags & IFF_UP, link.mtu, link.mac,
                                   link.alias, link.peer,
                                   link.peer_elsewhere));
}

int
dp_links_dump(struct dp_links *links)
{
    struct nl_cache *cache;

    dp_links_clear(links);
    dp_nl_count_dump();
    int rc = rtnl_link_alloc_cache(dp_nl_sock(), AF_UNSPEC, &cache);
    if (rc < 0) {
        dp_nl_set_error(EPROTO, "link dump: %s", nl_geterror(rc));
        return EPROTO;
    }
    dp_nl_links_forget();
    nl_cache_foreach(cache, add_rtnl_link, links);
    nl_cache_free(cache);
    return 0;
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
    const struct dp_link *link;

    HMAP_FOR_EACH_WITH_HASH (link, node, hash_int(ifindex, 0),
                             &links->by_index) {
        if (link->ifindex == ifindex) {
            return link;
        }
    }
    return NULL;
}

const struct dp_link *
dp_links_by_name(const struct dp_links *links, const char *name)
{
    const struct dp_link *link;

    HMAP_FOR_EACH (link, node, &links->by_index) {
        if (!strcmp(link->name, name)) {
            return link;
        }
    }
    return NULL;
}

const struct dp_link *
dp_links_by_alias(const struct dp_links *links, const char *alias)
{
    const struct dp_link *link;

    HMAP_FOR_EACH (link, node, &links->by_index) {
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

int
dp_link_set_mac(int ifindex, const char *mac)
{
    uint8_t b[6];

    if (sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx",
               &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) {
        dp_nl_set_error(EINVAL, "\"%s\" is not a MAC address", mac);
        return EINVAL;
    }
    struct nl_msg *msg = dp_link_request(RTM_SETLINK, 0, ifindex, 0, 0);
    nla_put(msg, IFLA_ADDRESS, sizeof b, b);
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
dp_link_delete(int ifindex)
{
    return dp_nl_modify(dp_link_request(RTM_DELLINK, 0, ifindex, 0, 0));
}
