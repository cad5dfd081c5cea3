/* veth pairs; see veth.h. */
#include <config.h>

#include "datapath/veth.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "datapath/link.h"
#include "datapath/netlink.h"

int
dp_veth_create(const char *name, const char *peer,
               int *ifindex, int *peer_ifindex)
{
    struct nl_msg *msg = dp_link_request(RTM_NEWLINK,
                                         NLM_F_CREATE | NLM_F_EXCL, 0, 0, 0);
    nla_put_string(msg, IFLA_IFNAME, name);
    struct nlattr *info = nla_nest_start(msg, IFLA_LINKINFO);
    nla_put_string(msg, IFLA_INFO_KIND, "veth");
    struct nlattr *data = nla_nest_start(msg, IFLA_INFO_DATA);
    struct nlattr *peer_info = nla_nest_start(msg, VETH_INFO_PEER);
    struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
    nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO);
    nla_put_string(msg, IFLA_IFNAME, peer);
    nla_nest_end(msg, peer_info);
    nla_nest_end(msg, data);
    nla_nest_end(msg, info);

    int error = dp_nl_modify(msg);
    if (!error) {
        *ifindex = if_nametoindex(name);
        *peer_ifindex = if_nametoindex(peer);
        if (!*ifindex || !*peer_ifindex) {
            error = ENODEV;
            dp_nl_set_error(error, "veth %s vanished after creation", name);
        }
    }
    return error;
}
