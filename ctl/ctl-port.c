/* vswctl's port commands: add-port, del-port, list-ports.
 *
 * add-port checks what it can before writing anything: the port name, the
 * switch, the kind against the switch (a VF port wants an SR-IOV switch,
 * and falls back to a tap on another; vswitchd reports that), the MTU
 * against the switch's, the VLAN syntax, the owner and group.  A MAC that
 * is not given is generated once (locally administered) and stored, so it
 * stays the same across restarts. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/vswctl.h"
#include "datapath/ifname.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "ovsdb-idl.h"
#include "random.h"
#include "smap.h"
#include "util.h"
#include "vsw-idl.h"
#include "vswitchd/paths.h"
#include "vswitchd/port-row.h"
#include "vswitchd/validate.h"

/* The port named 'name' on this host's switches, and its switch. */
const struct vswrec_port *
vswctl_find_port(struct ctl_context *ctx, const char *name,
                 const struct vswrec_switch **swp)
{
    const struct vswrec_port *p;

    VSWREC_PORT_FOR_EACH (p, ctx->idl) {
        if (p->switch_ && !strcmp(p->switch_->host, vsw_host_id())
            && !strcmp(p->name, name)) {
            if (swp) {
                *swp = p->switch_;
            }
            return p;
        }
    }
    return NULL;
}

static int
compare_port_names(const void *a_, const void *b_)
{
    const struct vswrec_port *const *a = a_, *const *b = b_;
    return strcmp((*a)->name, (*b)->name);
}

const struct vswrec_port **
vswctl_switch_ports(struct ovsdb_idl *idl, const struct vswrec_switch *sw,
                    size_t *n)
{
    const struct vswrec_port **v = NULL;
    size_t allocated = 0;
    const struct vswrec_port *p;

    *n = 0;
    VSWREC_PORT_FOR_EACH (p, idl) {
        if (p->switch_ == sw) {
            if (*n >= allocated) {
                v = x2nrealloc(v, &allocated, sizeof *v);
            }
            v[(*n)++] = p;
        }
    }
    if (*n) {
        qsort(v, *n, sizeof *v, compare_port_names);
    }
    return v;
}

/* A MAC for a vNIC that has none: 52:54:00 and three random bytes, as
 * libvirt and QEMU make them (locally administered, unicast, and never
 * starting with fe like the tap's own). */
static char *
generate_mac(void)
{
    uint8_t b[3];

    random_bytes(b, sizeof b);
    return xasprintf("52:54:00:%02x:%02x:%02x", b[0], b[1], b[2]);
}

static void
cmd_add_port(struct ctl_context *ctx)
{
    const char *sw_name = ctx->argv[1];
    const char *name = ctx->argv[2];
    const char *kind = shash_find_data(&ctx->options, "--kind");
    const char *mac = shash_find_data(&ctx->options, "--mac");
    const char *mtu_s = shash_find_data(&ctx->options, "--mtu");
    const char *queues_s = shash_find_data(&ctx->options, "--queues");
    const char *netns = shash_find_data(&ctx->options, "--netns");
    const char *iov_s = shash_find_data(&ctx->options, "--iov-weight");
    const char *vlan = shash_find_data(&ctx->options, "--vlan");
    const char *owner = shash_find_data(&ctx->options, "--owner");
    const char *group = shash_find_data(&ctx->options, "--group");
    bool may_exist = shash_find(&ctx->options, "--may-exist") != NULL;
    bool adopt = shash_find(&ctx->options, "--adopt") != NULL;
    const char *why;
    int64_t mtu = 0, queues = 1, iov_weight = 0;

    const struct vswrec_switch *sw = vswctl_find_switch(ctx, sw_name);
    if (!sw) {
        ctl_error(ctx, "no switch named \"%s\" (vswctl list-switches shows "
                  "them)", sw_name);
        return;
    }
    if ((why = dp_ifname_check(name))) {
        ctl_error(ctx, "invalid port name \"%s\": %s (it is the port's "
                  "interface name)", name, why);
        return;
    }

    if (adopt && ((kind && strcmp(kind, "tap")) || queues_s || owner
                  || group || netns)) {
        ctl_error(ctx, "port \"%s\": --adopt attaches a tap another program "
                  "made, as it made it: no --kind but tap, no --queues, "
                  "--owner, --group or --netns", name);
        return;
    }
    if (!kind) {
        kind = "tap";
    }
    int k = vsw_port_kind_from_name(kind);
    bool known = k >= 0;
    if (!known) {
        ctl_error(ctx, "port \"%s\": unknown kind \"%s\" (choose tap, "
                  "vhost-net, vf, internal or veth)", name, kind);
        return;
    }

    const struct vswrec_switch *other;
    const struct vswrec_port *existing = vswctl_find_port(ctx, name, &other);
    if (existing) {
        if (!may_exist) {
            ctl_error(ctx, "port \"%s\" already exists on switch \"%s\" "
                      "(--may-exist accepts an existing port)", name,
                      other->name);
        } else if (other != sw) {
            ctl_error(ctx, "port \"%s\" exists on switch \"%s\", not \"%s\"",
                      name, other->name, sw_name);
        } else if (strcmp(existing->kind, kind)) {
            ctl_error(ctx, "port \"%s\" exists as a %s port, not %s", name,
                      existing->kind, kind);
        }
        return;
    }
    char *clash = vswctl_check_new_ifname(ctx->idl, name, NULL, adopt);
    if (clash) {
        ctl_error(ctx, "port \"%s\": %s", name, clash);
        free(clash);
        return;
    }

    int capacity = vsw_switch_port_capacity(
        sw->uplink != NULL,
        vsw_switch_has_host_port(sw->type, sw->allow_management_os));
    if (vswctl_switch_n_ports(ctx->idl, sw) >= capacity) {
        ctl_error(ctx, "switch \"%s\" is full: a Linux bridge takes at most "
                  "%d ports, so this switch holds %d VM ports; delete a port "
                  "or use another switch", sw_name, VSW_BRIDGE_MAX_PORTS,
                  capacity);
        return;
    }

    bool tap = vsw_port_kind_is_tap(k);
    if (mac && (why = vsw_check_guest_mac(mac, tap))) {
        ctl_error(ctx, "port \"%s\": MAC \"%s\": %s", name, mac, why);
        return;
    }
    if (mtu_s) {
        why = (!vsw_parse_int(mtu_s, INT32_MIN, INT32_MAX, &mtu)
               ? "is not a number" : vsw_check_port_mtu(k, mtu));
        if (why) {
            ctl_error(ctx, "port \"%s\": MTU \"%s\" %s", name, mtu_s, why);
            return;
        }
    }
    if (mtu_s && sw->mtu && mtu != *sw->mtu) {
        ctl_error(ctx, "port \"%s\": MTU %"PRId64" does not match switch "
                  "\"%s\"'s MTU %"PRId64" (every port of a switch has the "
                  "switch's MTU; leave --mtu out)", name, mtu, sw_name,
                  *sw->mtu);
        return;
    }
    if (sw->mtu && (why = vsw_check_port_mtu(k, *sw->mtu))) {
        ctl_error(ctx, "port \"%s\": switch \"%s\"'s MTU %"PRId64" %s "
                  "(vswctl set switch %s mtu=N with a smaller N first)", name,
                  sw_name, *sw->mtu, why, sw_name);
        return;
    }
    if (queues_s && !vsw_parse_int(queues_s, 1, 256, &queues)) {
        ctl_error(ctx, "port \"%s\": --queues \"%s\" is not in 1..256",
                  name, queues_s);
        return;
    }
    if (queues_s && queues > 1 && !vsw_port_kind_is_tap(k)) {
        ctl_error(ctx, "port \"%s\": --queues is for tap, vhost-net and vf "
                  "ports", name);
        return;
    }
    if (iov_s && !vsw_parse_int(iov_s, 0, 100, &iov_weight)) {
        ctl_error(ctx, "port \"%s\": --iov-weight \"%s\" is not in 0..100",
                  name, iov_s);
        return;
    }
    if (k == VSW_PORT_VETH) {
        if (!netns) {
            ctl_error(ctx, "port \"%s\": a veth port needs --netns NAME "
                      "(the namespace its other end moves into)", name);
            return;
        }
        if ((why = dp_netns_check(netns))) {
            ctl_error(ctx, "port \"%s\": --netns \"%s\": %s", name, netns,
                      why);
            return;
        }
        char *path = xasprintf("/run/netns/%s", netns);
        int missing = access(path, F_OK);
        free(path);
        if (missing && !strcmp(sw->host, vsw_host_id())) {
            ctl_error(ctx, "port \"%s\": network namespace \"%s\" does not "
                      "exist (ip netns add %s)", name, netns, netns);
            return;
        }
    } else if (netns) {
        ctl_error(ctx, "port \"%s\": --netns is for veth ports", name);
        return;
    }
    if ((owner || group) && !vsw_port_kind_is_tap(k)) {
        ctl_error(ctx, "port \"%s\": --owner/--group are for tap, vhost-net "
                  "and vf ports", name);
        return;
    }
    long id;
    if (owner && (why = vsw_check_owner(owner, true, &id))) {
        ctl_error(ctx, "port \"%s\": --owner \"%s\": %s", name, owner, why);
        return;
    }
    if (group && (why = vsw_check_owner(group, false, &id))) {
        ctl_error(ctx, "port \"%s\": --group \"%s\": %s", name, group, why);
        return;
    }

    const char *vlan_mode = NULL;
    int64_t tag = 0, *trunks = NULL;
    size_t n_trunks = 0;
    bool has_tag = false;
    if (vlan) {
        char *error = vsw_parse_vlan(vlan, &vlan_mode, &tag, &has_tag, &trunks,
                                 &n_trunks);
        if (error) {
            ctl_error(ctx, "port \"%s\": --vlan %s", name, error);
            free(error);
            return;
        }
        char *path = xasprintf("/sys/class/net/%s/bridge/vlan_filtering",
                               sw_name);
        int missing = access(path, F_OK);
        free(path);
        if (vlan_mode && missing) {
            ctl_error(ctx, "port \"%s\": VLAN settings need bridge VLAN "
                      "filtering, which this kernel lacks "
                      "(CONFIG_BRIDGE_VLAN_FILTERING); leave out --vlan or "
                      "use a kernel that has it", name);
            free(trunks);
            return;
        }
    }

    struct vswrec_port *p = vsw_port_row_insert(ctx->txn, name, kind, sw);
    vswctl_note_row(&p->header_, true);
    vswctl_switch_port_added(ctx->idl, sw);
    /* An adopted tap's guest MAC is its maker's to say: none made up. */
    char *gen = mac || adopt ? NULL : generate_mac();
    vswrec_port_set_mac(p, mac ? mac : gen);
    free(gen);
    if (mtu_s) {
        vswrec_port_set_mtu(p, &mtu, 1);
    }
    vswrec_port_set_queues(p, queues);
    vswrec_port_set_netns(p, netns);
    vswrec_port_set_owner(p, owner);
    vswrec_port_set_group(p, group);
    vswrec_port_set_iov_weight(p, iov_weight);
    vswrec_port_set_adopted(p, adopt);
    vswrec_port_set_vlan_mode(p, vlan_mode);
    vswrec_port_set_tag(p, has_tag ? &tag : NULL, has_tag);
    vswrec_port_set_trunks(p, trunks, n_trunks);
    free(trunks);
    vswctl_note_switch(sw_name);
    vswctl_note_port(name);
}

static void
cmd_del_port(struct ctl_context *ctx)
{
    const char *name = ctx->argv[ctx->argc - 1];
    const struct vswrec_switch *sw;
    const struct vswrec_port *p = vswctl_find_port(ctx, name, &sw);

    if (!p) {
        if (!shash_find(&ctx->options, "--if-exists")) {
            ctl_error(ctx, "no port named \"%s\" (--if-exists makes that not "
                      "an error)", name);
        }
        return;
    }
    if (ctx->argc > 2 && strcmp(sw->name, ctx->argv[1])) {
        ctl_error(ctx, "port \"%s\" is on switch \"%s\", not \"%s\"", name,
                  sw->name, ctx->argv[1]);
        return;
    }
    vswctl_note_row(&p->header_, false);
    vswrec_port_delete(p);
}

static void
cmd_list_ports(struct ctl_context *ctx)
{
    const char *only = ctx->argc > 1 ? ctx->argv[1] : NULL;
    const struct vswrec_switch *sw;
    struct table *t = xmalloc(sizeof *t);

    if (only && !vswctl_find_switch(ctx, only)) {
        ctl_error(ctx, "no switch named \"%s\"", only);
        free(t);
        return;
    }
    table_init(t);
    table_add_column(t, "switch");
    table_add_column(t, "port");
    table_add_column(t, "kind");
    table_add_column(t, "in_use");
    table_add_column(t, "mac");
    table_add_column(t, "state");
    table_add_column(t, "ifindex");
    table_add_column(t, "vm-id");
    table_add_column(t, "iface-id");
    table_add_column(t, "error");
    VSWREC_SWITCH_FOR_EACH (sw, ctx->idl) {
        if (strcmp(sw->host, vsw_host_id())
            || (only && strcmp(sw->name, only))) {
            continue;
        }
        size_t n;
        const struct vswrec_port **ports = vswctl_switch_ports(ctx->idl, sw,
                                                               &n);
        for (size_t i = 0; i < n; i++) {
            const struct vswrec_port *p = ports[i];
            const struct smap *ids = &p->external_ids;
            table_add_row(t);
            vswctl_add_cell(t, sw->name);
            vswctl_add_cell(t, p->name);
            if (p->adopted) {
                /* Another program's tap (libvirt, QEMU). */
                char *kind = xasprintf("%s (adopted)", p->kind);
                vswctl_add_cell(t, kind);
                free(kind);
            } else {
                vswctl_add_cell(t, p->kind);
            }
            vswctl_add_cell(t, smap_get(&p->status, "kind"));
            vswctl_add_cell(t, p->mac);
            vswctl_add_cell(t, smap_get_def(&p->status, "state", "pending"));
            vswctl_add_cell_int(t, smap_get(&p->status, "ifindex"));
            vswctl_add_cell(t, smap_get_def(ids, "vm-id",
                                     smap_get(ids, "vm-uuid")));
            vswctl_add_cell(t, smap_get(ids, "iface-id"));
            vswctl_add_cell(t, smap_get(&p->status, "error"));
        }
        free(ports);
    }
    ctx->table = t;
}

const struct ctl_command_syntax vswctl_port_commands[] = {
    {"add-port", 2, 2, "SWITCH PORT [--kind=tap|vhost-net|vf|internal|veth]"
     " [--mac=MAC] [--mtu=N] [--queues=N] [--netns=NAME] [--iov-weight=N]"
     " [--vlan=access:TAG|trunk:LIST[,native:TAG]] [--owner=USER]"
     " [--group=GROUP] [--adopt]",
     NULL, cmd_add_port, NULL,
     "--may-exist,--kind=,--mac=,--mtu=,--queues=,--netns=,--iov-weight=,"
     "--vlan=,--owner=,--group=,--adopt", RW},
    {"del-port", 1, 2, "[SWITCH] PORT", NULL, cmd_del_port, NULL,
     "--if-exists", RW},
    {"list-ports", 0, 1, "[SWITCH]", NULL, cmd_list_ports, NULL, "", RO},
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, RO},
};
