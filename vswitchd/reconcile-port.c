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
#include <linux/if_tun.h>
#include <string.h>

#include "datapath/link.h"
#include "hash.h"
#include "openvswitch/hmap.h"
#include "datapath/tap.h"
#include "datapath/vlan.h"
#include "offload/sriov.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "uuid.h"
#include "vswitchd/validate.h"
#include "vswitchd/reconcile-private.h"
#include "vswitchd/reconcile.h"

VLOG_DEFINE_THIS_MODULE(reconcile_port);

#define port_error(P, ...) rc_err(&(P)->ok, &(P)->error, __VA_ARGS__)

void
rc_tap_mac(const char *guest_mac, char buf[18])
{
    snprintf(buf, 18, "fe%s", strlen(guest_mac) == 17 ? guest_mac + 2
                                                      : ":00:00:00:00:00");
}

static char *
role_tag(const struct uuid *sw, const char *role, const struct uuid *port)
{
    return rc_role_tag(sw, role, port);
}

/* An adopted tap's tag has a role of its own: it says, even once the
 * port's row is gone, that the device is released and never deleted. */
static char *
port_tag(const struct rc_switch *sw, const struct rc_port *port,
         const char *role)
{
    if (port->adopted && !strcmp(role, RC_ROLE_PORT)) {
        role = RC_ROLE_ADOPTED;
    }
    return role_tag(&sw->uuid, role, &port->uuid);
}

char *
rc_port_name_tag(const struct uuid *sw, const struct uuid *port,
                 bool internal, bool adopted)
{
    return role_tag(sw, (internal ? RC_ROLE_PORT_HOST
                         : adopted ? RC_ROLE_ADOPTED : RC_ROLE_PORT), port);
}

struct port_index_node {
    struct hmap_node node;
    const struct rc_port *port;
};

static const struct rc_port *
find_port(const struct rc_switch *sw_, const char *uuid_s)
{
    struct rc_switch *sw = CONST_CAST(struct rc_switch *, sw_);
    struct uuid uuid;

    if (!uuid_from_string(&uuid, uuid_s)) {
        return NULL;
    }
    if (!sw->port_index) {
        /* The hmap first, then its nodes, in one block. */
        struct hmap *index = xmalloc(sizeof *index
                                     + sw->n_ports
                                       * sizeof(struct port_index_node));
        struct port_index_node *nodes = (struct port_index_node *) (index
                                                                    + 1);
        hmap_init(index);
        hmap_reserve(index, sw->n_ports);
        for (size_t i = 0; i < sw->n_ports; i++) {
            nodes[i].port = &sw->ports[i];
            hmap_insert(index, &nodes[i].node,
                        uuid_hash(&sw->ports[i].uuid));
        }
        sw->port_index = index;
    }
    const struct port_index_node *pin;
    HMAP_FOR_EACH_WITH_HASH (pin, node, uuid_hash(&uuid), sw->port_index) {
        if (uuid_equals(&pin->port->uuid, &uuid)) {
            return pin->port;
        }
    }
    return NULL;
}

void
rc_port_index_destroy(struct rc_switch *sw)
{
    if (sw->port_index) {
        hmap_destroy(sw->port_index);
        free(sw->port_index);
        sw->port_index = NULL;
    }
}

bool
rc_port_on_tap(const struct rc_port *port)
{
    return (port->kind_in_use
            && (!strcmp(port->kind_in_use, vsw_port_kind_names[VSW_PORT_TAP])
                || !strcmp(port->kind_in_use,
                           vsw_port_kind_names[VSW_PORT_VHOST_NET])));
}

bool
rc_parse_port_role(const char *role, struct uuid *port, bool *bridge_side)
{
    static const struct {
        const char *prefix;
        bool bridge_side;
    } roles[] = {
        { RC_ROLE_PORT, true }, { RC_ROLE_PORT_HOST, false },
        { RC_ROLE_VF, true }, { RC_ROLE_ADOPTED, true },
    };
    for (size_t i = 0; role && i < ARRAY_SIZE(roles); i++) {
        size_t len = strlen(roles[i].prefix);
        if (!strncmp(role, roles[i].prefix, len)
            && uuid_from_string(port, role + len)) {
            *bridge_side = roles[i].bridge_side;
            return true;
        }
    }
    return false;
}

bool
rc_port_wants_role(const struct rc_switch *sw, const char *role)
{
    const struct rc_port *port;

    if (!strncmp(role, RC_ROLE_PORT, strlen(RC_ROLE_PORT))) {
        /* Also a port since marked adopted: the device vsw made for it
         * stays (the port says why it is not adopted). */
        return find_port(sw, role + strlen(RC_ROLE_PORT)) != NULL;
    } else if (!strncmp(role, RC_ROLE_ADOPTED, strlen(RC_ROLE_ADOPTED))) {
        port = find_port(sw, role + strlen(RC_ROLE_ADOPTED));
        return port && port->adopted;
    } else if (!strncmp(role, RC_ROLE_PORT_HOST, strlen(RC_ROLE_PORT_HOST))) {
        port = find_port(sw, role + strlen(RC_ROLE_PORT_HOST));
        return port && port->kind == VSW_PORT_INTERNAL;
    } else if (!strncmp(role, RC_ROLE_VF, strlen(RC_ROLE_VF))) {
        port = find_port(sw, role + strlen(RC_ROLE_VF));
        return port && port->kind == VSW_PORT_VF;
    }
    return false;               /* A role this version does not know. */
}

/* Whether existing tap 'link' was made the way 'port' wants it; a tap's
 * flags and owner can only be set when it is created. */
static bool
tap_matches(const struct rc_port *port, const struct dp_link *link)
{
    bool mq = (link->tun_flags & IFF_MULTI_QUEUE) != 0;
    return !strcmp(link->kind, "tun")
           && (link->tun_flags & IFF_TAP)
           && (link->tun_flags & IFF_VNET_HDR)
           && mq == (port->queues > 1 || port->kind == VSW_PORT_VHOST_NET)
           && link->tun_owner == port->owner
           && link->tun_group == port->group;
}

/* Whether 'link' is one of 'port''s own devices, under any role. */
static bool
is_own_device(const struct rc_switch *sw, const struct rc_port *port,
              const struct dp_link *link)
{
    struct uuid uuid;
    const char *role;
    char port_uuid[UUID_LEN + 1];

    snprintf(port_uuid, sizeof port_uuid, UUID_FMT, UUID_ARGS(&port->uuid));
    return (rc_parse_tag(link->alias, &uuid, &role)
            && uuid_equals(&uuid, &sw->uuid) && role
            && strstr(role, port_uuid));
}

/* Taps made again because their flags or owner differed: the port and the
 * settings it was made again for. */
struct recreated {
    struct hmap_node node;      /* In 'recreated', by uuid. */
    struct uuid uuid;
    uint32_t spec;
};
static struct hmap recreated = HMAP_INITIALIZER(&recreated);

static uint32_t
tap_spec_hash(const struct rc_port *port)
{
    uint32_t h = hash_int(port->queues, port->kind);
    h = hash_int(port->owner, h);
    return hash_int(port->group, h);
}

static struct recreated *
recreate_find(const struct rc_port *port)
{
    struct recreated *r;
    HMAP_FOR_EACH_WITH_HASH (r, node, uuid_hash(&port->uuid), &recreated) {
        if (uuid_equals(&r->uuid, &port->uuid)) {
            return r;
        }
    }
    return NULL;
}

static bool
recreate_tried(const struct rc_port *port)
{
    const struct recreated *r = recreate_find(port);
    return r && r->spec == tap_spec_hash(port);
}

static void
recreate_note(const struct rc_port *port)
{
    struct recreated *r = recreate_find(port);
    if (!r) {
        r = xmalloc(sizeof *r);
        r->uuid = port->uuid;
        hmap_insert(&recreated, &r->node, uuid_hash(&port->uuid));
    }
    r->spec = tap_spec_hash(port);
}

static void
recreate_forget(const struct rc_port *port)
{
    struct recreated *r = recreate_find(port);
    if (r) {
        hmap_remove(&recreated, &r->node);
        free(r);
    }
}

/* Creates the port's tap under its own name and makes it ready (MAC, MTU,
 * tag, up, in bridge 'br_ifindex', dormant until a VM attaches) while the
 * fd that made it still holds it; only then is it made persistent.  A
 * crash before that leaves no tap behind, so a tap needs no temporary
 * name, and no record and no rename (which registers every sysctl of the
 * device again): together a fifth of what a port cost.  Returns its
 * ifindex, or 0 on failure. */
static int
create_tap(struct rc_switch *sw, struct rc_port *port,
           const struct rc_ops *ops, const char *tag, int br_ifindex,
           bool *ready)
{
    struct dp_tap_spec spec = {
        .name = port->name,
        .multi_queue = port->queues > 1 || port->kind == VSW_PORT_VHOST_NET,
        .owner = port->owner,
        .group = port->group,
    };
    int ifindex, fd;
    if (ops->link->tap_create(&spec, &ifindex, &fd)) {
        port_error(port, "cannot create tap %s: %s", port->name,
                   ops->error());
        return 0;
    }
    /* A VM's port is not an interface of the host: no host IPv6 on it (off
     * before it is up, so it never solicits into the VM). */
    rc_ensure_no_ipv6(&port->ok, &port->error, NULL, port->name, ops);
    char mac[18];
    if (port->mac) {
        rc_tap_mac(port->mac, mac);
    }
    struct dp_link_setup setup = {
        .mac = port->mac ? mac : NULL,
        .mtu = port->mtu,
        .alias = tag,
        .up = true,
        .master = br_ifindex,
        .dormant = true,
    };
    if (ops->link->setup(ifindex, &setup)) {
        port_error(port, "cannot set up the new tap %s (MAC %s, MTU %d, "
                   "bridge %s): %s", port->name,
                   port->mac ? mac : "as made", port->mtu, sw->name,
                   ops->error());
        ops->link->tap_finish(fd, false);
        return 0;
    }
    if (ops->link->tap_finish(fd, true)) {
        port_error(port, "cannot make tap %s persistent: %s", port->name,
                   ops->error());
        return 0;
    }
    VLOG_INFO("switch %s: created port %s", sw->name, port->name);
    *ready = true;
    return ifindex;
}

/* Creates the port's device(s): a tap by create_tap(), made ready in the
 * same step ('*ready' says so); veths under a temporary name, tagged, then
 * named.  Returns the bridge-side ifindex, or 0 on failure. */
static int
create_port(struct rc_switch *sw, struct rc_port *port,
            const struct dp_links *links, const struct rc_ops *ops,
            const char *tag, int br_ifindex, bool *ready)
{
    *ready = false;
    int ifindex = 0, peer = 0;
    char peer_name[16];
    const struct dp_link *clash = dp_links_by_name(links, port->name);
    if (clash && (is_own_device(sw, port, clash)
                  || rc_deleted_in_pass(clash))) {
        clash = NULL;           /* Our own, deleted just before (the port
                                 * changed kind, or was made again), or a
                                 * device vsw deleted in this pass (the
                                 * port moved to this switch). */
    }

    if (clash && port->kind != VSW_PORT_VETH) {
        port_error(port, "a network device named %s already exists and "
                   "vsw did not create it; rename or remove it, or name "
                   "the port differently", port->name);
        return 0;
    }
    if (port->kind == VSW_PORT_TAP || port->kind == VSW_PORT_VHOST_NET
        || port->kind == VSW_PORT_VF) {
        return create_tap(sw, port, ops, tag, br_ifindex, ready);
    }
    rc_port_peer_name(&port->uuid, peer_name);
    char tmp[16];
    vsw_internal_ifname(VSW_NAME_TEMP, &port->uuid, tmp);
    if (ops->record->temp_begin(tmp)) {
        port_error(port, "cannot create %s: %s", port->name, ops->error());
        return 0;
    }

    switch (port->kind) {
    case VSW_PORT_TAP:
    case VSW_PORT_VHOST_NET:
    case VSW_PORT_VF:
        OVS_NOT_REACHED();
    case VSW_PORT_INTERNAL:
        /* Host end named after the port; bridge end "vpb...". */
        if (ops->link->veth_create(tmp, peer_name, &peer, &ifindex)) {
            port_error(port, "cannot create host port %s: %s", port->name,
                       ops->error());
            ops->record->temp_end(tmp);
            return 0;
        }
        rc_ensure_no_ipv6(&port->ok, &port->error, NULL, peer_name, ops);
        break;
    case VSW_PORT_VETH:
        /* Bridge end named after the port; the other end moves. */
        if (clash) {
            port_error(port, "a network device named %s already exists and "
                       "vsw did not create it; rename or remove it, or "
                       "name the port differently", port->name);
            ops->record->temp_end(tmp);
            return 0;
        }
        if (ops->link->veth_create(tmp, peer_name, &ifindex, &peer)) {
            port_error(port, "cannot create veth %s: %s", port->name,
                       ops->error());
            ops->record->temp_end(tmp);
            return 0;
        }
        rc_ensure_no_ipv6(&port->ok, &port->error, NULL, tmp, ops);
        break;
    case VSW_N_PORT_KINDS:
        OVS_NOT_REACHED();
    }

    /* The name goes to the device the port is known by: an internal
     * port's host end, the bridge end otherwise. */
    char *host_tag = port_tag(sw, port, RC_ROLE_PORT_HOST);
    bool internal = port->kind == VSW_PORT_INTERNAL;
    bool made = (internal
                 ? rc_tag_and_name(&port->ok, &port->error, peer, tmp,
                                   host_tag, ifindex, tag, port->name,
                                   "port", ops)
                 : rc_tag_and_name(&port->ok, &port->error, ifindex, tmp,
                                   tag, 0, NULL, port->name, "port", ops));
    if (!made) {
        ifindex = 0;
    } else if (port->kind == VSW_PORT_INTERNAL) {
        if (port->mac && ops->link->set_mac(peer, port->mac)) {
            port_error(port, "cannot set MAC %s on %s: %s", port->mac,
                       port->name, ops->error());
        }
        if (port->mtu && ops->link->set_mtu(peer, port->mtu)) {
            port_error(port, "cannot set MTU %d on %s: %s", port->mtu,
                       port->name, ops->error());
        }
        rc_ensure_up(&port->ok, &port->error, NULL, peer, port->name, ops);
        port->host_ifindex = peer;
    } else if (port->kind == VSW_PORT_VETH) {
        if (port->mac && ops->link->set_mac(peer, port->mac)) {
            port_error(port, "cannot set MAC %s on the peer of %s: %s",
                       port->mac, port->name, ops->error());
        }
        if (port->mtu && ops->link->set_mtu(peer, port->mtu)) {
            port_error(port, "cannot set MTU %d on the peer of %s: %s",
                       port->mtu, port->name, ops->error());
        }
        int err = ops->link->set_netns(peer, port->netns, port->peer_name);
        if (err) {
            port_error(port, "cannot move the peer of %s into network "
                       "namespace %s as %s: %s%s%s%s", port->name,
                       port->netns, port->peer_name, ops->error(),
                       err == ENOENT ? " (create it with ip netns add " : "",
                       err == ENOENT ? port->netns
                       : err == EEXIST ? " (a device of that name is "
                         "already there: vswctl set port ... "
                         "other_config:peer_name=NAME chooses another)" : "",
                       err == ENOENT ? ")" : "");
            ops->link->delete(ifindex);
            ifindex = 0;
        }
    }
    free(host_tag);
    if (ifindex) {
        VLOG_INFO("switch %s: created port %s", sw->name, port->name);
    }
    return ifindex;
}

/* A VF port on VF 'vf' through representor 'rep': tagged, the VF's MAC,
 * VLAN and spoof check set on the PF, the representor in the bridge. */
static void
converge_vf(struct rc_switch *sw, struct rc_port *port,
            const struct dp_link *rep, int vf, const char *vf_tag,
            int br_ifindex, const struct rc_ops *ops, bool *changed)
{
    port->kind_in_use = vsw_port_kind_names[VSW_PORT_VF];
    port->vf_index = vf;
    ovs_strlcpy(port->representor, rep->name, sizeof port->representor);
    port->ifindex = rep->ifindex;

    if (strcmp(rep->alias, vf_tag)) {
        *changed = true;
        if (ops->link->set_alias(rep->ifindex, vf_tag)) {
            port_error(port, "cannot tag representor %s as vsw's: %s",
                       rep->name, ops->error());
            return;
        }
        VLOG_INFO("switch %s: port %s gets VF %d (representor %s)",
                  sw->name, port->name, vf, rep->name);
    }
    /* The PF's own report of the VF decides, not memory: after any
     * restart a VF already set up costs no call. */
    int vlan = port->vlan_mode == RC_VLAN_ACCESS ? port->tag : 0;
    const char *mac = port->mac ? port->mac : "00:00:00:00:00:00";
    const struct ofl_sriov_vf *cur = (sw->pf && vf < sw->pf->n_vf_info
                                      ? &sw->pf->vfs[vf] : NULL);
    snprintf(port->vf_config, sizeof port->vf_config, "%s/%d", mac, vlan);
    if (!cur || strcasecmp(cur->mac, mac) || cur->vlan != vlan
        || cur->spoofchk == 0) {
        *changed = true;
        if (ops->iov->set_vf(sw->uplink_ifindex, vf, mac, vlan, true)) {
            port_error(port, "cannot set VF %d of %s (MAC %s, VLAN %d): %s",
                       vf, sw->uplink, port->mac ? port->mac : "-", vlan,
                       ops->error());
            port->vf_config[0] = '\0';
        }
    }
    if (rep->master != br_ifindex) {
        *changed = true;
        if (ops->link->set_master(rep->ifindex, br_ifindex)) {
            port_error(port, "cannot add representor %s to bridge %s: %s",
                       rep->name, sw->name, ops->error());
        }
    }
    *changed |= rc_ensure_up(&port->ok, &port->error, rep, rep->ifindex,
                             rep->name, ops);
    port->carrier = rep->flags & 0x10000;
}

/* Puts 'link' (the port's device, tagged or not) in the bridge with the
 * switch's MTU, up and without IPv6: what every port's device gets. */
static void
attach_device(struct rc_switch *sw, struct rc_port *port,
              const struct dp_link *link, int ifindex, int br_ifindex,
              const struct rc_ops *ops, bool *changed)
{
    if (link) {
        /* The port's bridge end: off, turned on behind vsw's back or made
         * by an older vsw. */
        *changed |= rc_ensure_no_ipv6(&port->ok, &port->error, link,
                                      link->name, ops);
    }
    /* The MTU is set before the port joins the bridge. */
    if (port->mtu && (!link || link->mtu != port->mtu)) {
        *changed = true;
        if (ops->link->set_mtu(ifindex, port->mtu)) {
            port_error(port, "cannot set MTU %d on %s: %s", port->mtu,
                       port->name, ops->error());
        }
    }
    if (!link || link->master != br_ifindex) {
        *changed = true;
        if (ops->link->set_master(ifindex, br_ifindex)) {
            port_error(port, "cannot add %s to bridge %s: %s", port->name,
                       sw->name, ops->error());
        }
    }
    *changed |= rc_ensure_up(&port->ok, &port->error, link, ifindex,
                             port->name, ops);
    port->ifindex = ifindex;
    port->carrier = link && (link->flags & 0x10000);    /* IFF_LOWER_UP */
}

/* A tap another program made and holds open (libvirt's vnetN, QEMU's
 * tapN): tagged as the port's, attached, and otherwise left as its maker
 * made it (MAC, owner, queues, offloads).  Never made: when it is missing
 * the port says so, and 'device_gone' tells the caller that the tap the
 * port had is gone (the row then goes too). */
static void
converge_adopted(struct rc_switch *sw, struct rc_port *port, int br_ifindex,
                 const struct dp_links *links, const struct rc_ops *ops,
                 const char *tag, const struct dp_link *link, bool *changed)
{
    port->kind_in_use = vsw_port_kind_names[VSW_PORT_TAP];
    if (link && link->master && link->master != br_ifindex) {
        /* Its maker moved it to another bridge (libvirt's update-device,
         * another vsw switch): no longer this port's.  Let go of it; the
         * row goes, and a tap in a vsw bridge is adopted afresh there. */
        VLOG_INFO("switch %s: tap %s, adopted as port %s, was moved to "
                  "another bridge by another program: let go", sw->name,
                  link->name, port->name);
        *changed = true;
        ops->link->set_alias(link->ifindex, "");
        port->device_gone = true;
        port_error(port, "its tap was moved to another bridge by another "
                   "program");
        return;
    }
    if (link && strcmp(link->name, port->name)) {
        /* Renamed by its maker: the port follows (its row is renamed). */
        ovs_strlcpy(port->renamed_to, link->name, sizeof port->renamed_to);
    }
    if (!link) {
        link = dp_links_by_name(links, port->name);
        if (!link || (port->prev_ifindex
                      && link->ifindex != port->prev_ifindex)) {
            /* Gone, or the name is a newer tap's (adopted afresh, in a row
             * of its own, once this one is gone). */
            port->device_gone = port->prev_ifindex != 0;
            port_error(port, "tap %s does not exist: an adopted port's tap "
                       "is made by another program (libvirt, QEMU), and "
                       "vsw attaches it once it exists", port->name);
            return;
        }
        if (strcmp(link->kind, "tun") || !(link->tun_flags & IFF_TAP)) {
            port_error(port, "%s is not a tap (it is a %s device): only a "
                       "tap can be adopted (vswctl del-port %s)", port->name,
                       link->kind[0] ? link->kind : "physical", port->name);
            return;
        }
        if (vsw_is_tag(link->alias)) {
            port_error(port, "%s is a device vsw made (%s): only a tap "
                       "another program made can be adopted (vswctl set "
                       "port %s adopted=false)", port->name, link->alias,
                       port->name);
            return;
        }
        if (link->master && link->master != br_ifindex) {
            /* Another program's bridge holds it: not taken from there
             * (a database client could otherwise pull any VM's NIC into
             * a vsw switch). */
            const struct dp_link *m = dp_links_by_index(links, link->master);
            port_error(port, "tap %s is in %s, which is not switch %s's "
                       "bridge: vsw adopts a tap that is in no bridge or "
                       "already in the switch's (ip link set %s nomaster, "
                       "if it should move)", port->name,
                       m ? m->name : "another bridge", sw->name, port->name);
            return;
        }
        *changed = true;
        if (ops->link->set_alias(link->ifindex, tag)) {
            port_error(port, "cannot tag tap %s as vsw's: %s", port->name,
                       ops->error());
            return;
        }
        VLOG_INFO("switch %s: adopted tap %s (made by another program)",
                  sw->name, port->name);
    }
    attach_device(sw, port, link, link->ifindex, br_ifindex, ops, changed);
}

static void
converge_port(struct rc_switch *sw, struct rc_port *port, int br_ifindex,
              const struct dp_links *links, const struct rc_ops *ops,
              bool *changed)
{
    char *tag = port_tag(sw, port, RC_ROLE_PORT);
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
    if (port->adopted) {
        converge_adopted(sw, port, br_ifindex, links, ops, tag, link,
                         changed);
        free(tag);
        return;
    }
    if (port->kind == VSW_PORT_VF) {
        char *vf_tag = port_tag(sw, port, RC_ROLE_VF);
        const struct dp_link *rep = dp_links_by_alias(links, vf_tag);
        int vf = -1;
        if (rep) {
            ofl_sriov_parse_rep_name(rep->phys_port_name, &vf);
        } else {
            vf = rc_iov_free_vf(sw, links, &rep);
        }
        if (rep && vf >= 0) {
            converge_vf(sw, port, rep, vf, vf_tag, br_ifindex, ops, changed);
            if (link) {
                /* The software path it had while no VF was free. */
                *changed = true;
                ops->link->delete(link->ifindex);
            }
            free(vf_tag);
            free(tag);
            return;
        }
        free(vf_tag);
        /* Without a VF the port keeps working through the software
         * switch, as a tap. */
        port->kind_in_use = vsw_port_kind_names[VSW_PORT_TAP];
        if (!sw->iov) {
            ds_put_format(&port->reason, "switch %s is not an SR-IOV switch "
                          "(created without --iov); using the software path "
                          "(tap)", sw->name);
        } else if (!sw->iov_support) {
            ds_put_format(&port->reason, "switch %s cannot deliver SR-IOV "
                          "(%s); using the software path (tap)", sw->name,
                          ds_cstr_ro(&sw->iov_reason));
        } else {
            ds_put_format(&port->reason, "no free VF (%d of %d in use); "
                          "using the software path (tap)", sw->vfs_in_use,
                          sw->vf_capacity);
        }
    } else if (port->kind == VSW_PORT_VHOST_NET && !port->vhost_available) {
        port->kind_in_use = vsw_port_kind_names[VSW_PORT_TAP];
        ds_put_cstr(&port->reason, "/dev/vhost-net is missing (kernel "
                    "without vhost_net?); the tap works without vhost: "
                    "-netdev tap,ifname=NAME,vhost=off,script=no");
    } else {
        port->kind_in_use = vsw_port_kind_names[port->kind];
    }

    /* A tap made with other flags or owner is made again, once: if the
     * new one does not match either, something else is wrong (a value the
     * kernel does not keep, another program), and making it again and
     * again would only take the VM's NIC away each time. */
    if (link && vsw_port_kind_is_tap(port->kind)) {
        if (tap_matches(port, link)) {
            recreate_forget(port);
        } else if (link->flags & 0x10000) {                /* LOWER_UP */
            /* A VM has the tap open: making it again would cut the VM off
             * (its fds would point at nothing). */
            port_error(port, "the change of queues, owner or group waits: "
                       "a VM has tap %s open, and the tap must be made "
                       "again for it; it is applied once the VM lets go of "
                       "the tap (stop the VM, or detach the NIC)",
                       port->name);
        } else if (recreate_tried(port)) {
            port_error(port, "tap %s was made again for its settings (queues "
                       "%d, owner %ld, group %ld) but still does not have "
                       "them; vsw leaves it as it is until the port's "
                       "settings change", port->name, port->queues,
                       port->owner, port->group);
        } else {
            VLOG_INFO("switch %s: recreating tap %s (queues or owner "
                      "changed)", sw->name, link->name);
            recreate_note(port);
            *changed = true;
            ops->link->delete(link->ifindex);
            link = NULL;
        }
    }
    if (link && port->kind == VSW_PORT_INTERNAL) {
        char *host_tag = port_tag(sw, port, RC_ROLE_PORT_HOST);
        const struct dp_link *host = dp_links_by_alias(links, host_tag);
        free(host_tag);
        if (!host || host->peer != link->ifindex) {
            *changed = true;
            ops->link->delete(link->ifindex);     /* Half a pair: start over. */
            link = NULL;
        } else {
            port->host_ifindex = host->ifindex;
            *changed |= rc_ensure_name(&port->ok, &port->error, links, host,
                                       port->name, ops);
            if (port->mac && strcasecmp(host->mac, port->mac)) {
                *changed = true;
                if (ops->link->set_mac(host->ifindex, port->mac)) {
                    port_error(port, "cannot set MAC %s on %s: %s",
                               port->mac, port->name, ops->error());
                }
            }
            if (port->mtu && host->mtu != port->mtu) {
                *changed = true;
                if (ops->link->set_mtu(host->ifindex, port->mtu)) {
                    port_error(port, "cannot set MTU %d on %s: %s",
                               port->mtu, port->name, ops->error());
                }
            }
            *changed |= rc_ensure_up(&port->ok, &port->error, host,
                                     host->ifindex, port->name, ops);
        }
    }
    if (link && port->kind == VSW_PORT_VETH && !link->peer_elsewhere) {
        /* The namespace went away with the peer, or never got it. */
        *changed = true;
        ops->link->delete(link->ifindex);
        link = NULL;
    }

    int ifindex;
    if (link) {
        ifindex = link->ifindex;
        if (port->kind != VSW_PORT_INTERNAL) {
            *changed |= rc_ensure_name(&port->ok, &port->error, links, link,
                                       port->name, ops);
        }
    } else {
        *changed = true;
        bool ready;
        ifindex = create_port(sw, port, links, ops, tag, br_ifindex, &ready);
        if (!ifindex) {
            free(tag);
            return;
        }
        port->created = true;
        if (ready) {
            port->ifindex = ifindex;
            port->carrier = false;
            free(tag);
            return;
        }
    }

    /* The MAC is set before the port joins the bridge. */
    if (vsw_port_kind_is_tap(port->kind) && port->mac) {
        char mac[18];
        rc_tap_mac(port->mac, mac);
        if (!link || strcasecmp(link->mac, mac)) {
            *changed = true;
            if (ops->link->set_mac(ifindex, mac)) {
                port_error(port, "cannot set MAC %s on %s: %s", mac,
                           port->name, ops->error());
            }
        }
    }
    attach_device(sw, port, link, ifindex, br_ifindex, ops, changed);
    free(tag);
}

void
rc_converge_ports(struct rc_switch *sw, int br_ifindex,
                  const struct dp_links *links, const struct rc_ops *ops,
                  bool *changed)
{
    for (size_t i = 0; i < sw->n_ports; i++) {
        struct rc_port *port = &sw->ports[i];
        if (!port->dirty) {
            continue;
        }
        port->ifindex = port->host_ifindex = 0;
        port->created = false;
        port->vf_index = -1;
        port->representor[0] = port->vf_config[0] = '\0';
        converge_port(sw, port, br_ifindex, links, ops, changed);
    }
}

/* ---- VLANs ------------------------------------------------------------- */

/* The VLANs 'port' should have: flags[vid] as in datapath/vlan.h. */
static void
port_vlans(const struct rc_port *port, uint8_t flags[4096])
{
    memset(flags, 0, 4096);
    switch (port->vlan_mode) {
    case RC_VLAN_NONE:
        flags[1] = DP_VLAN_MEMBER | DP_VLAN_PVID | DP_VLAN_UNTAGGED;
        break;
    case RC_VLAN_ACCESS:
        flags[port->tag] = DP_VLAN_MEMBER | DP_VLAN_PVID | DP_VLAN_UNTAGGED;
        break;
    case RC_VLAN_TRUNK:
        for (size_t i = 0; i < port->n_trunks; i++) {
            if (port->trunks[i] > 0 && port->trunks[i] < 4095) {
                flags[port->trunks[i]] = DP_VLAN_MEMBER;
            }
        }
        if (port->tag) {
            flags[port->tag] = DP_VLAN_MEMBER | DP_VLAN_PVID
                               | DP_VLAN_UNTAGGED;
        }
        break;
    }
}

/* Makes port 'ifindex''s VLANs 'want', changing only what differs; runs
 * of neighbouring VLANs with the same change go in one request. */
static void
apply_vlans(int ifindex, const char *name, const uint8_t want[4096],
            const struct dp_links *links, const struct rc_ops *ops,
            bool *ok, struct ds *error, bool *changed)
{
    const struct dp_vlan_port *cur = dp_vlan_table_find(&links->vlans,
                                                        ifindex);
    static const uint8_t none[4096];
    const uint8_t *have = cur ? cur->flags : none;

    for (int vid = 1; vid < 4095; ) {
        if (have[vid] == want[vid]) {
            vid++;
            continue;
        }
        /* A run of VLANs needing the same change (a PVID stands alone). */
        int hi = vid;
        while (hi + 1 < 4095 && !(want[vid] & DP_VLAN_PVID)
               && have[hi + 1] != want[hi + 1]
               && want[hi + 1] == want[vid] && have[hi + 1] == have[vid]) {
            hi++;
        }
        *changed = true;
        int err = want[vid] ? ops->vlan->vlan_add(ifindex, vid, hi, want[vid])
                            : ops->vlan->vlan_del(ifindex, vid, hi);
        if (err) {
            rc_err(ok, error, "cannot set VLAN%s %d%s%.0d on %s: %s",
                   hi > vid ? "s" : "", vid, hi > vid ? "-" : "",
                   hi > vid ? hi : 0, name, ops->error());
        }
        vid = hi + 1;
    }
}

void
rc_converge_vlans(struct rc_switch *sw, int br_ifindex,
                  const struct dp_links *links, const struct rc_ops *ops,
                  bool *changed)
{
    bool wanted = false;
    for (size_t i = 0; i < sw->n_ports; i++) {
        const struct rc_port *p = &sw->ports[i];
        wanted |= p->vlan_mode != RC_VLAN_NONE && !p->config_error;
    }
    const struct dp_link *br = dp_links_by_index(links, br_ifindex);
    if (!wanted || !br || br->vlan_filtering < 0) {
        return;         /* Nothing to do, or refused in fill (no support). */
    }
    if (!br->vlan_filtering) {
        *changed = true;
        if (ops->vlan->vlan_filtering(br_ifindex, true)) {
            rc_err(&sw->ok, &sw->error, "cannot turn on VLAN filtering on "
                   "bridge %s: %s", sw->name, ops->error());
        } else {
            VLOG_INFO("switch %s: VLAN filtering on", sw->name);
        }
        return;         /* The next pass sees the ports' default VLANs. */
    }
    if (!links->have_vlans) {
        return;
    }

    /* Ports. */
    uint8_t want[4096], trunk[4096];
    memset(trunk, 0, sizeof trunk);
    for (size_t i = 0; i < sw->n_ports; i++) {
        struct rc_port *p = &sw->ports[i];
        if (p->config_error) {
            continue;
        }
        /* The uplink carries the VLANs of every port, converged in this
         * pass or not. */
        port_vlans(p, want);
        for (int v = 2; v < 4095; v++) {
            if (want[v]) {
                trunk[v] = DP_VLAN_MEMBER;
            }
        }
        if (p->dirty && p->ifindex) {
            apply_vlans(p->ifindex, p->name, want, links, ops, &p->ok,
                        &p->error, changed);
        }
    }

    /* The uplink is a trunk of every VLAN the ports use, plus the untagged
     * domain; the host port is in the untagged domain. */
    trunk[1] = DP_VLAN_MEMBER | DP_VLAN_PVID | DP_VLAN_UNTAGGED;
    if (sw->uplink_ifindex) {
        apply_vlans(sw->uplink_ifindex, sw->uplink, trunk, links, ops,
                    &sw->ok, &sw->error, changed);
    }
    char *peer_tag = rc_tag(&sw->uuid, RC_ROLE_HOST_PEER);
    const struct dp_link *peer = dp_links_by_alias(links, peer_tag);
    free(peer_tag);
    if (peer) {
        memset(want, 0, sizeof want);
        want[1] = DP_VLAN_MEMBER | DP_VLAN_PVID | DP_VLAN_UNTAGGED;
        apply_vlans(peer->ifindex, peer->name, want, links, ops, &sw->ok,
                    &sw->error, changed);
    }
}
