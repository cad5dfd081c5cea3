/* Linux bridges; see bridge.h. */
#include <config.h>

#include "datapath/bridge.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "datapath/link.h"
#include "datapath/netlink.h"

int
dp_bridge_create(const char *name, int *ifindex)
{
    struct nl_msg *msg = dp_link_request(RTM_NEWLINK,
                                         NLM_F_CREATE | NLM_F_EXCL, 0, 0, 0);
    nla_put_string(msg, IFLA_IFNAME, name);
    struct nlattr *info = nla_nest_start(msg, IFLA_LINKINFO);
    nla_put_string(msg, IFLA_INFO_KIND, "bridge");
    nla_nest_end(msg, info);

    int error = dp_nl_modify(msg);
    if (!error) {
        *ifindex = if_nametoindex(name);
        if (!*ifindex) {
            error = ENODEV;
            dp_nl_set_error(error, "bridge %s vanished after creation",
                            name);
        }
    }
    return error;
}
