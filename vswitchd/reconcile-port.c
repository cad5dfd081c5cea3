/* Convergence of a switch's ports: taps, vhost-net taps, internal ports
 * (host vNICs) and veths into other namespaces; see reconcile.h.
 *
 * Each port's bridge-side device carries the tag
 * "vsw:<switch uuid>:port:<port uuid>" (an internal port's host end
 * "...:port-host:<port uuid>"), so ports are found again after a restart
 * by tag, never by name.  A port device deleted behind vsw's back is
 * recreated; what cannot be recreated (a namespace that is gone) is
 * reported in the port's status. */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "datapath/link.h"
#include "datapath/tap.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "uuid.h"
#include "vswitchd/reconcile-private.h"
#include "vswitchd/reconcile.h"

VLOG_DEFINE_THIS_MODULE(reconcile_port);

#define ROLE_PORT "port:"
#define ROLE_PORT_HOST "port-host:"

#define port_error(P, ...) rc_err(&(P)->ok, &(P)->error, __VA_ARGS__)

void
rc_tap_mac(const char *guest_mac, char buf[18])
{
    snprintf(buf, 18, "fe%s", strlen(guest_mac) == 17 ? guest_mac + 2
                                                      : ":00:00:00:00:00");
}

static char *
port_tag(const struct rc_switch *sw, const struct rc_port *port,
         const char *role)
{
    return xasprintf(RC_TAG_PREFIX UUID_FMT ":%s" UUID_FMT,
                     UUID_ARGS(&sw->uuid), role, UUID_ARGS(&port->uuid));
}

static const struct rc_port *
find_port(const struct rc_switch *sw, const char *uuid_s)
{
    struct uuid uuid;

    if (!uuid_from_string(&uuid, uuid_s)) {
        return NULL;
    }
    for (size_t i = 0; i < sw->n_ports; i++) {
        if (uuid_equals(&sw->ports[i].uuid, &uuid)) {
            return &sw->ports[i];
        }
    }
    return NULL;
}

bool
rc_port_wants_role(const struct rc_switch *sw, const char *role)
{
    const struct rc_port *port;

    if (!strncmp(role, ROLE_PORT, strlen(ROLE_PORT))) {
        return find_port(sw, role + strlen(ROLE_PORT)) != NULL;
    } else if (!strncmp(role, ROLE_PORT_HOST, strlen(ROLE_PORT_HOST))) {
        port = find_port(sw, role + strlen(ROLE_PORT_HOST));
        return port && port->kind == RC_PORT_INTERNAL;
    }
    return false;               /* A role this version does not know. */
}

static bool
is_tap_kind(enum rc_port_kind kind)
{
    return kind == RC_PORT_TAP || kind == RC_PORT_VHOST_NET
           || kind == RC_PORT_VF;
}

/* Whether existing tap 'link' was made the way 'port' wants it; a tap's
 * flags and owner can only be set when it is created. */
static bool
tap_matches(const struct rc_port *port, const struct dp_link *link,
            const struct rc_ops *ops)
{
    struct dp_tap_info info;

    if (strcmp(link->kind, "tun") || !ops->tap_info(link->name, &info)) {
        return false;
    }
    bool mq = (info.flags & 0x0100) != 0;               /* IFF_MULTI_QUEUE */
    return (info.flags & 0x0002)                        /* IFF_TAP */
           && (info.flags & 0x4000)                     /* IFF_VNET_HDR */
           && mq == (port->queues > 1 || port->kind == RC_PORT_VHOST_NET)
           && info.owner == port->owner && info.group == port->group;
}

/* Creates the port's device(s), untagged links first tagged.  Returns the
 * bridge-side ifindex, or 0 on failure. */
static int
create_port(struct rc_switch *sw, struct rc_port *port,
            const struct dp_links *links, const struct rc_ops *ops,
            const char *tag)
{
    int ifindex = 0, peer = 0;
    char peer_name[16];
    const struct dp_link *clash = dp_links_by_name(links, port->name);
    if (clash && !strcmp(clash->alias, tag)) {
        clash = NULL;           /* Our own, deleted just before. */
    }

    if (clash && port->kind != RC_PORT_VETH) {
        port_error(port, "a network device named %s already exists and "
                   "vsw did not create it; rename or remove it, or name "
                   "the port differently", port->name);
        return 0;
    }
    rc_port_peer_name(&port->uuid, peer_name);

    switch (port->kind) {
    case RC_PORT_TAP:
    case RC_PORT_VHOST_NET:
    case RC_PORT_VF: {
        struct dp_tap_spec spec = {
            .name = port->name,
            .multi_queue = port->queues > 1
                           || port->kind == RC_PORT_VHOST_NET,
            .owner = port->owner,
            .group = port->group,
        };
        if (ops->tap_create(&spec, &ifindex)) {
            port_error(port, "cannot create tap %s: %s", port->name,
                       ops->error());
            return 0;
        }
        break;
    }
    case RC_PORT_INTERNAL:
        /* Host end named after the port; bridge end "vpb...". */
        if (ops->veth_create(port->name, peer_name, &peer, &ifindex)) {
            port_error(port, "cannot create host port %s: %s", port->name,
                       ops->error());
            return 0;
        }
        break;
    case RC_PORT_VETH:
        /* Bridge end named after the port; the other end moves. */
        if (clash) {
            port_error(port, "a network device named %s already exists and "
                       "vsw did not create it; rename or remove it, or "
                       "name the port differently", port->name);
            return 0;
        }
        if (ops->veth_create(port->name, peer_name, &ifindex, &peer)) {
            port_error(port, "cannot create veth %s: %s", port->name,
                       ops->error());
            return 0;
        }
        break;
    }

    char *host_tag = port_tag(sw, port, ROLE_PORT_HOST);
    if (ops->set_alias(ifindex, tag)
        || (port->kind == RC_PORT_INTERNAL
            && ops->set_alias(peer, host_tag))) {
        port_error(port, "cannot tag %s as vsw's: %s", port->name,
                   ops->error());
        ops->delete(ifindex);
        ifindex = 0;
    } else if (port->kind == RC_PORT_INTERNAL) {
        if (port->mac && ops->set_mac(peer, port->mac)) {
            port_error(port, "cannot set MAC %s on %s: %s", port->mac,
                       port->name, ops->error());
        }
        if (port->mtu && ops->set_mtu(peer, port->mtu)) {
            port_error(port, "cannot set MTU %d on %s: %s", port->mtu,
                       port->name, ops->error());
        }
        rc_ensure_up(&port->ok, &port->error, NULL, peer, port->name, ops);
        port->host_ifindex = peer;
    } else if (port->kind == RC_PORT_VETH) {
        if (port->mac && ops->set_mac(peer, port->mac)) {
            port_error(port, "cannot set MAC %s on the peer of %s: %s",
                       port->mac, port->name, ops->error());
        }
        if (port->mtu && ops->set_mtu(peer, port->mtu)) {
            port_error(port, "cannot set MTU %d on the peer of %s: %s",
                       port->mtu, port->name, ops->error());
        }
        if (ops->set_netns(peer, port->netns, port->peer_name)) {
            port_error(port, "cannot move the peer of %s into network "
                       "namespace %s as %s: %s (create it with ip netns "
                       "add %s)", port->name, port->netns, port->peer_name,
                       ops->error(), port->netns);
            ops->delete(ifindex);
            ifindex = 0;
        }
    }
    free(host_tag);
    if (ifindex) {
        VLOG_INFO("switch %s: created port %s", sw->name, port->name);
    }
    return ifindex;
}

static void
converge_port(struct rc_switch *sw, struct rc_port *port, int br_ifindex,
              const struct dp_links *links, const struct rc_ops *ops,
              bool *changed)
{
    char *tag = port_tag(sw, port, ROLE_PORT);
    const struct dp_link *link = dp_links_by_alias(links, tag);

    port->ok = true;
    port->kind_in_use = NULL;
    ds_clear(&port->reason);
    ds_clear(&port->error);

    if (port->config_error) {
        /* Refused, not half-applied: a device from an earlier, valid
         * configuration stays as it is. */
        port_error(port, "%s", port->config_error);
        port->ifindex = link ? link->ifindex : 0;
        free(tag);
        return;
    }
    if (port->kind == RC_PORT_VF) {
        /* Without a VF the port keeps working through the software
         * switch, as a tap. */
        port->kind_in_use = "tap";
        ds_put_format(&port->reason, sw->iov
                      ? "no VF assigned: VF allocation is not available in "
                        "this version; using the software path (tap)"
                      : "switch %s is not an SR-IOV switch (created "
                        "without --iov); using the software path (tap)",
                      sw->name);
    } else if (port->kind == RC_PORT_VHOST_NET && !port->vhost_available) {
        port->kind_in_use = "tap";
        ds_put_cstr(&port->reason, "/dev/vhost-net is missing (kernel "
                    "without vhost_net?); the tap works without vhost: "
                    "-netdev tap,ifname=NAME,vhost=off,script=no");
    } else {
        static const char *const names[] = {
            [RC_PORT_TAP] = "tap", [RC_PORT_VHOST_NET] = "vhost-net",
            [RC_PORT_INTERNAL] = "internal", [RC_PORT_VETH] = "veth",
        };
        port->kind_in_use = names[port->kind];
    }

    /* A tap made with other flags or owner is made again. */
    if (link && is_tap_kind(port->kind) && !tap_matches(port, link, ops)) {
        VLOG_INFO("switch %s: recreating tap %s (queues or owner changed)",
                  sw->name, link->name);
        *changed = true;
        ops->delete(link->ifindex);
        link = NULL;
    }
    if (link && port->kind == RC_PORT_INTERNAL) {
        char *host_tag = port_tag(sw, port, ROLE_PORT_HOST);
        const struct dp_link *host = dp_links_by_alias(links, host_tag);
        free(host_tag);
        if (!host || host->peer != link->ifindex) {
            *changed = true;
            ops->delete(link->ifindex);     /* Half a pair: start over. */
            link = NULL;
        } else {
            port->host_ifindex = host->ifindex;
            *changed |= rc_ensure_name(&port->ok, &port->error, links, host,
                                       port->name, ops);
            if (port->mac && strcasecmp(host->mac, port->mac)) {
                *changed = true;
                if (ops->set_mac(host->ifindex, port->mac)) {
                    port_error(port, "cannot set MAC %s on %s: %s",
                               port->mac, port->name, ops->error());
                }
            }
            if (port->mtu && host->mtu != port->mtu) {
                *changed = true;
                if (ops->set_mtu(host->ifindex, port->mtu)) {
                    port_error(port, "cannot set MTU %d on %s: %s",
                               port->mtu, port->name, ops->error());
                }
            }
            *changed |= rc_ensure_up(&port->ok, &port->error, host,
                                     host->ifindex, port->name, ops);
        }
    }
    if (link && port->kind == RC_PORT_VETH && !link->peer_elsewhere) {
        /* The namespace went away with the peer, or never got it. */
        *changed = true;
        ops->delete(link->ifindex);
        link = NULL;
    }

    int ifindex;
    if (link) {
        ifindex = link->ifindex;
        if (port->kind != RC_PORT_INTERNAL) {
            *changed |= rc_ensure_name(&port->ok, &port->error, links, link,
                                       port->name, ops);
        }
    } else {
        *changed = true;
        ifindex = create_port(sw, port, links, ops, tag);
        if (!ifindex) {
            free(tag);
            return;
        }
    }

    /* MAC and MTU are set before the port joins the bridge. */
    if (is_tap_kind(port->kind) && port->mac) {
        char mac[18];
        rc_tap_mac(port->mac, mac);
        if (!link || strcasecmp(link->mac, mac)) {
            *changed = true;
            if (ops->set_mac(ifindex, mac)) {
                port_error(port, "cannot set MAC %s on %s: %s", mac,
                           port->name, ops->error());
            }
        }
    }
    if (port->mtu && (!link || link->mtu != port->mtu)) {
        *changed = true;
        if (ops->set_mtu(ifindex, port->mtu)) {
            port_error(port, "cannot set MTU %d on %s: %s", port->mtu,
                       port->name, ops->error());
        }
    }
    if (!link || link->master != br_ifindex) {
        *changed = true;
        if (ops->set_master(ifindex, br_ifindex)) {
            port_error(port, "cannot add %s to bridge %s: %s", port->name,
                       sw->name, ops->error());
        }
    }
    *changed |= rc_ensure_up(&port->ok, &port->error, link, ifindex,
                             port->name, ops);
    port->ifindex = ifindex;
    port->carrier = link && (link->flags & 0x10000);    /* IFF_LOWER_UP */
    free(tag);
}

void
rc_converge_ports(struct rc_switch *sw, int br_ifindex,
                  const struct dp_links *links, const struct rc_ops *ops,
                  bool *changed)
{
    for (size_t i = 0; i < sw->n_ports; i++) {
        struct rc_port *port = &sw->ports[i];
        port->ifindex = port->host_ifindex = 0;
        converge_port(sw, port, br_ifindex, links, ops, changed);
    }
}
