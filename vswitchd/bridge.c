/* The reconciler's database side; see bridge.h.
 *
 * Passes are incremental.  The kernel's links live in a table kept current
 * by the link notifications (datapath/link.c); it is dumped in full only at
 * start, after a notification overrun, on the safety resync and on
 * bridge/reconcile.  The database's changes are tracked column by column
 * (ovsdb_idl_track_*).  Both mark objects dirty: a port row that changed, a
 * device whose tag names a port, a name a device took or gave up.  A pass
 * converges and observes the dirty switches and ports only, and writes the
 * status of those only, so the cost of one change does not depend on how
 * many ports exist; a pass that changed the kernel is confirmed by another
 * over the same objects once the kernel's notifications are in. */
#include <config.h>

#include "vswitchd/bridge.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datapath/ifname.h"
#include "hash.h"
#include "datapath/link.h"
#include "datapath/netlink.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "sset.h"
#include "svec.h"
#include "uuid.h"
#include "uuidset.h"
#include "vsw-idl.h"
#include "offload/sriov.h"
#include "vswitchd/dbserver.h"
#include "vswitchd/paths.h"
#include "vswitchd/validate.h"
#include "vswitchd/offload.h"
#include "vswitchd/reconcile.h"
#include "vswitchd/stats.h"
#include "vswitchd/vhost.h"

VLOG_DEFINE_THIS_MODULE(bridge);

/* Safety-net interval between passes, in ms: notifications say what
 * changed in the kernel, so a full pass on a timer only guards against a
 * lost one (an overrun is noticed and resyncs at once). */
#define RESYNC_INTERVAL 60000

/* A pass that converges more objects than this makes its changes without
 * listening to the kernel's notifications of them, and reads the links in
 * full afterwards (dp_nl_notify_pause()). */
#define BULK_OBJECTS 64

/* Interval between retries of what the kernel refused, in ms. */
#define RETRY_INTERVAL 5000
static bool retry_soon;
static int n_failing_changes;   /* Passes in a row that changed and failed. */
#define MAX_FAILING_CHANGES 3

static struct ovsdb_idl *idl;
static unsigned int last_seqno;
static bool need_pass = true;

/* The kernel's links, kept current by notifications. */
static struct dp_links kernel;
static bool kernel_dumped;      /* False: dump before the next pass. */

/* What the next pass converges: every object, or the dirty ones. */
static bool full_needed = true;
static struct uuidset dirty = UUIDSET_INITIALIZER(&dirty);   /* Rows. */
/* Switches whose own settings changed in the database: all their ports
 * are converged too (a switch changed in the kernel converges itself). */
static struct uuidset dirty_all = UUIDSET_INITIALIZER(&dirty_all);
static struct sset dirty_names = SSET_INITIALIZER(&dirty_names);
static bool dirty_iov;          /* A representor changed. */
static bool dirty_uplinks;      /* An ethtool notification without device. */
static bool switches_gone;      /* A switch row was deleted. */
static struct uuidset failing = UUIDSET_INITIALIZER(&failing);

/* Which switch each port row was last seen in, to notice a port moved
 * from one switch to another (its own row unchanged). */
struct port_home {
    struct hmap_node node;      /* In 'port_homes', by port uuid. */
    struct uuid port, sw;
};
static struct hmap port_homes = HMAP_INITIALIZER(&port_homes);
static long long int next_resync;
static struct ovsdb_idl_txn *status_txn;
static uint64_t n_passes;

/* Why passes ran (several reasons may share one pass), for dp/counters. */
enum { WHY_KERNEL, WHY_DB, WHY_TIMER, N_WHY };
static bool pass_why[N_WHY];
static uint64_t n_passes_why[N_WHY];
static uint64_t n_full_passes;
static uint64_t n_objects_converged;    /* Switches and ports, all passes. */
static long long int last_pass_usec;

/* The columns a pass reads (the others are vswitchd's own output, or
 * not used by it). */
static const struct ovsdb_idl_column *const switch_inputs[] = {
    &vswrec_switch_col_name, &vswrec_switch_col_host,
    &vswrec_switch_col_type, &vswrec_switch_col_uplink,
    &vswrec_switch_col_iov, &vswrec_switch_col_allow_management_os,
    &vswrec_switch_col_host_port, &vswrec_switch_col_mtu,
    &vswrec_switch_col_offload, &vswrec_switch_col_rss,
    &vswrec_switch_col_other_config,
    &vswrec_switch_col_ports,           /* Last: see mark_db_changes(). */
};
static const struct ovsdb_idl_column *const port_inputs[] = {
    &vswrec_port_col_name, &vswrec_port_col_host, &vswrec_port_col_kind,
    &vswrec_port_col_mac, &vswrec_port_col_mtu, &vswrec_port_col_queues,
    &vswrec_port_col_netns, &vswrec_port_col_owner, &vswrec_port_col_group,
    &vswrec_port_col_vlan_mode, &vswrec_port_col_tag,
    &vswrec_port_col_trunks, &vswrec_port_col_iov_weight,
    &vswrec_port_col_vmq_weight, &vswrec_port_col_other_config,
};

/* Whether any of 'cols' of tracked 'row' changed. */
static bool
inputs_changed(const struct ovsdb_idl_row *row,
               const struct ovsdb_idl_column *const *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ovsdb_idl_track_is_updated(row, cols[i])) {
            return true;
        }
    }
    return false;
}

static void last_holders_load(void);
static void bridge_unixctl_counters(struct unixctl_conn *, int argc,
                                    const char *argv[], void *aux);
static void bridge_unixctl_reconcile(struct unixctl_conn *, int argc,
                                     const char *argv[], void *aux);

void
bridge_init(const char *remote)
{
    idl = ovsdb_idl_create(remote, &vswrec_idl_class, true, true);
    /* Columns we write must not wake us up. */
    ovsdb_idl_omit_alert(idl, &vswrec_root_col_cur_cfg);
    ovsdb_idl_omit_alert(idl, &vswrec_root_col_status);
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_status);
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_statistics);
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_offload_requested);
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_offload_effective);
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_offload_reason);
    ovsdb_idl_omit_alert(idl, &vswrec_port_col_status);
    ovsdb_idl_omit_alert(idl, &vswrec_port_col_statistics);

    /* The columns a pass reads: their changes mark rows dirty. */
    for (size_t i = 0; i < ARRAY_SIZE(switch_inputs); i++) {
        ovsdb_idl_track_add_column(idl, switch_inputs[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(port_inputs); i++) {
        ovsdb_idl_track_add_column(idl, port_inputs[i]);
    }

    dp_links_init(&kernel);
    stats_init();
    dp_nl_notify_open();
    rc_temp_records_sweep();
    last_holders_load();
    unixctl_command_register("dp/counters", "", 0, 0,
                             bridge_unixctl_counters, NULL);
    unixctl_command_register("bridge/reconcile", "", 0, 0,
                             bridge_unixctl_reconcile, NULL);
}

static bool
is_managed_here(const struct vswrec_switch *sw)
{
    return !strcmp(sw->host, vsw_host_id());
}

static enum rc_switch_type
switch_type(const char *type)
{
    return (!strcmp(type, "external") ? RC_EXTERNAL
            : !strcmp(type, "internal") ? RC_INTERNAL
            : RC_PRIVATE);
}

static enum rc_port_kind
port_kind(const char *kind)
{
    return (!strcmp(kind, "vhost-net") ? RC_PORT_VHOST_NET
            : !strcmp(kind, "internal") ? RC_PORT_INTERNAL
            : !strcmp(kind, "veth") ? RC_PORT_VETH
            : !strcmp(kind, "vf") ? RC_PORT_VF
            : RC_PORT_TAP);
}

/* Resolves a user or group name (or number) to its id; -1 if 'name' is
 * NULL, -2 if it is not valid here, and then '*why' says why (it is NULL
 * otherwise). */
static long
resolve_id(const char *name, bool user, const char **why)
{
    long id;
    *why = name ? vsw_check_owner(name, user, &id) : NULL;
    return !name ? -1 : *why ? -2 : id;
}

/* Per-object strings that live as long as one pass. */
struct port_strings {
    char *config_error;
};

/* Sets 'strs''s config error unless it has one: the first problem found is
 * the one reported. */
static void OVS_PRINTF_FORMAT(2, 3)
refuse(struct port_strings *strs, const char *fmt, ...)
{
    if (!strs->config_error) {
        va_list args;
        va_start(args, fmt);
        strs->config_error = xvasprintf(fmt, args);
        va_end(args);
    }
}

/* The values of port 'p' that reach the kernel, checked the same way
 * vswctl checks them: any database client can write anything the schema
 * allows. */
static void
validate_port(const struct vswrec_switch *sw, const struct vswrec_port *p,
              const char *owner_why, const char *group_why,
              struct port_strings *strs)
{
    const char *why;

    if ((why = vsw_check_ifname(p->name))) {
        refuse(strs, "port \"%s\": invalid name: %s (it is the port's "
               "interface name; vswctl del-port, then add it with a valid "
               "name)", p->name, why);
    }
    if (strcmp(p->host, sw->host)) {
        refuse(strs, "port %s belongs to host \"%s\" but its switch %s to "
               "host \"%s\"; a port is on its switch's host (vswctl set "
               "port %s host=%s, or rename the port if another of that host "
               "has its name)", p->name, p->host, sw->name, sw->host,
               p->name, sw->host);
    }
    bool tap = strcmp(p->kind, "internal") && strcmp(p->kind, "veth");
    if (p->mac && (why = vsw_check_guest_mac(p->mac, tap))) {
        refuse(strs, "port %s: MAC \"%s\": %s (vswctl set port %s "
               "mac=52:54:00:xx:xx:xx)", p->name, p->mac, why, p->name);
    }
    if (owner_why) {
        refuse(strs, "port %s: owner \"%s\": %s (vswctl set port %s "
               "owner=USER, or clear it)", p->name, p->owner, owner_why,
               p->name);
    }
    if (group_why) {
        refuse(strs, "port %s: group \"%s\": %s (vswctl set port %s "
               "group=GROUP, or clear it)", p->name, p->group, group_why,
               p->name);
    }
    if (p->netns && (why = dp_netns_check(p->netns))) {
        refuse(strs, "port %s: netns \"%s\": %s", p->name, p->netns, why);
    }
    const char *peer = smap_get(&p->other_config, "peer_name");
    if (peer && (why = dp_ifname_check(peer))) {
        refuse(strs, "port %s: other_config:peer_name \"%s\": %s", p->name,
               peer, why);
    }
}

/* What every port of a switch needs in a pass, dirty or clean: identity
 * (for ownership and name claims) and VLANs (an uplink trunks the VLANs of
 * all ports). */
static void
fill_port_identity(struct rc_port *rc, const struct vswrec_port *p)
{
    rc_port_init(rc);
    rc->uuid = p->header_.uuid;
    rc->name = p->name;
    rc->kind = port_kind(p->kind);
    if (p->vlan_mode) {
        rc->vlan_mode = (!strcmp(p->vlan_mode, "access") ? RC_VLAN_ACCESS
                         : RC_VLAN_TRUNK);
        rc->tag = p->tag ? *p->tag : 0;
        rc->trunks = p->trunks;
        rc->n_trunks = p->n_trunks;
    }
}

/* A dirty port: everything, validated.  'br' is its switch's bridge in the
 * kernel, or NULL. */
static void
fill_port(struct rc_port *rc, const struct vswrec_switch *sw,
          const struct vswrec_port *p, struct port_strings *strs,
          const struct dp_link *br, bool vhost_available)
{
    fill_port_identity(rc, p);
    rc->mac = p->mac;
    rc->queues = p->queues > 0 ? p->queues : 1;
    const char *owner_why, *group_why;
    rc->owner = resolve_id(p->owner, true, &owner_why);
    rc->group = resolve_id(p->group, false, &group_why);
    if (rc->owner == -1 && rc->group == -1) {
        /* The kernel lets anyone attach to a tap with neither owner nor
         * group: make it root's, so no other user can sniff a VM. */
        rc->owner = 0;
    }
    rc->netns = p->netns;
    rc->peer_name = smap_get_def(&p->other_config, "peer_name", p->name);
    rc->vhost_available = vhost_available;

    validate_port(sw, p, owner_why, group_why, strs);
    /* The switch MTU is enforced on every port. */
    if (strs->config_error) {
        /* Reported as it is. */
    } else if (sw->mtu && p->mtu && *p->mtu != *sw->mtu) {
        refuse(strs,
            "MTU mismatch: port %s asks for MTU %"PRId64", switch %s "
            "enforces %"PRId64" (vswctl set port %s mtu=%"PRId64", or clear "
            "it)", p->name, *p->mtu, sw->name, *sw->mtu, p->name, *sw->mtu);
    } else if (rc->kind == RC_PORT_VETH && !p->netns) {
        refuse(strs,
            "port %s: a veth port needs a network namespace (vswctl set "
            "port %s netns=NAME)", p->name, p->name);
    } else if (p->vlan_mode && (!br || br->vlan_filtering < 0)) {
        /* Never attach a VLAN port untagged, not even for one pass. */
        refuse(strs,
            !br
            ? "port %s: waiting for the switch's bridge"
            : "port %s: VLAN settings need bridge VLAN filtering, which "
              "this kernel lacks (CONFIG_BRIDGE_VLAN_FILTERING); the port "
              "stays off the switch rather than join it untagged", p->name);
    } else if (p->vlan_mode && !strcmp(p->vlan_mode, "access") && !p->tag) {
        refuse(strs,
            "port %s: an access port needs a VLAN (vswctl set port %s "
            "tag=N)", p->name, p->name);
    } else if (p->vlan_mode && !strcmp(p->vlan_mode, "trunk")
               && !p->n_trunks) {
        refuse(strs,
            "port %s: a trunk needs VLANs (vswctl set port %s "
            "trunks=10,20)", p->name, p->name);
    }
    rc->config_error = strs->config_error;
    rc->mtu = sw->mtu ? *sw->mtu : p->mtu ? *p->mtu : 0;
}

/* The switch's own values that reach the kernel. */
static void
validate_switch(const struct vswrec_switch *sw, const char *host_port_name,
                struct port_strings *strs)
{
    const char *why;

    if ((why = vsw_check_ifname(sw->name))) {
        refuse(strs, "invalid switch name \"%s\": %s (it is the bridge's "
               "interface name; delete the switch and add it with a valid "
               "name)", sw->name, why);
    }
    if ((why = vsw_check_ifname(host_port_name))) {
        refuse(strs, "host port \"%s\": %s (vswctl set switch %s "
               "host_port=NAME, or clear it)", host_port_name, why,
               sw->name);
    }
    if (sw->uplink && (why = dp_ifname_check(sw->uplink))) {
        refuse(strs, "uplink \"%s\": %s (vswctl set switch %s "
               "uplink=IFNAME)", sw->uplink, why, sw->name);
    }
    const char *vfs = smap_get(&sw->other_config, "sriov_vfs");
    int n;
    if (vfs && (!str_to_int(vfs, 10, &n) || n < 0 || n > 4096)) {
        refuse(strs, "other_config:sriov_vfs \"%s\" is not a number of VFs "
               "in 0..4096", vfs);
    }
}

static void
fill_desired(struct rc_switch *rc, const struct vswrec_switch *sw,
             char **host_port_name, struct port_strings *strs)
{
    rc_switch_init(rc);
    rc->uuid = sw->header_.uuid;
    rc->name = sw->name;
    rc->type = switch_type(sw->type);
    rc->uplink = sw->uplink;
    rc->host_port = (rc->type == RC_INTERNAL
                     || (rc->type == RC_EXTERNAL && sw->allow_management_os));
    *host_port_name = vsw_host_port_name(sw->name, &sw->header_.uuid,
                                         sw->host_port);
    rc->host_port_name = *host_port_name;
    validate_switch(sw, *host_port_name, strs);
    rc->config_error = strs->config_error;
    rc->prev_uplink = smap_get_int(&sw->status, "uplink_ifindex", 0);
    rc->mtu = sw->mtu ? *sw->mtu : 0;
    rc->iov = sw->iov;
    if (sw->iov && sw->uplink && !rc->config_error) {
        /* Read-only: sysfs and a devlink GET. */
        struct ofl_sriov_pf *pf = xzalloc(sizeof *pf);
        ofl_sriov_probe(sw->uplink, pf);
        rc->pf = pf;
        rc->want_vfs = smap_get_int(&sw->other_config, "sriov_vfs",
                                    pf->total_vfs > 0 ? pf->total_vfs : 4);
    }
    rc->n_ports = sw->n_ports;
    rc->ports = xcalloc(sw->n_ports + 1, sizeof *rc->ports);
}

/* One kernel name wanted by one object. */
struct claim {
    const char *name;
    int rank;                   /* Who keeps a contested name: lowest. */
    size_t seq;                 /* Then the first one seen. */
    const char *what;           /* "bridge", "host port", "port". */
    const char *owner;          /* The switch. */
    const struct uuid *port;    /* The port row, for ports. */
    struct port_strings *strs;  /* Where a refusal goes. */
};

static int
compare_claims(const void *a_, const void *b_)
{
    const struct claim *a = a_, *b = b_;
    int c = strcmp(a->name, b->name);
    return (c ? c
            : a->rank != b->rank ? a->rank - b->rank
            : a->seq < b->seq ? -1 : a->seq > b->seq);
}

/* Which object (by tag) held each name in the kernel at the last pass
 * that saw it held: a device deleted behind vsw's back does not hand its
 * name to another object that wants it too, also across a restart
 * (STATE/names, one "NAME TAG" a line, the last line of a name winning).
 * New holders are appended; the file is written anew only once it holds
 * twice as many lines as names, so one new port costs one short write. */
static struct shash last_holders = SHASH_INITIALIZER(&last_holders);
static struct svec new_holders = SVEC_EMPTY_INITIALIZER;    /* "NAME TAG" */
static size_t n_holder_lines;       /* Lines in the file. */

static char *
names_path(void)
{
    return xasprintf("%s/names", vsw_state_dir());
}

static void
last_holders_load(void)
{
    char *path = names_path();
    FILE *f = fopen(path, "r");
    char name[64], tag[256];

    while (f && fscanf(f, "%63s %255s", name, tag) == 2) {
        free(shash_replace(&last_holders, name, xstrdup(tag)));
        n_holder_lines++;
    }
    if (f) {
        fclose(f);
    }
    free(path);
}

static void
last_holders_save(void)
{
    if (!new_holders.n) {
        return;
    }
    char *path = names_path();
    bool rewrite = (n_holder_lines + new_holders.n
                    > 2 * shash_count(&last_holders) + 16);
    char *tmp = rewrite ? xasprintf("%s.tmp", path) : NULL;
    FILE *f = fopen(rewrite ? tmp : path, rewrite ? "w" : "a");
    size_t lines = 0;

    if (rewrite) {
        const struct shash_node *node;
        SHASH_FOR_EACH (node, &last_holders) {
            if (f) {
                fprintf(f, "%s %s\n", node->name, (char *) node->data);
            }
            lines++;
        }
    } else {
        for (size_t i = 0; i < new_holders.n; i++) {
            if (f) {
                fprintf(f, "%s\n", new_holders.names[i]);
            }
        }
        lines = n_holder_lines + new_holders.n;
    }
    if (!f || fclose(f) || (rewrite && rename(tmp, path))) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
        VLOG_WARN_RL(&rl, "cannot write %s: %s", path, ovs_strerror(errno));
    } else {
        svec_clear(&new_holders);
        n_holder_lines = lines;
    }
    free(tmp);
    free(path);
}

/* Ranks claim 'name' of the object tagged 'tag': 0 if its device holds
 * the name in the kernel, 1 if it did when last seen, 'otherwise'. */
static int
holder_rank(const struct dp_links *links, const char *name, const char *tag,
            int otherwise)
{
    const struct dp_link *link = dp_links_by_name(links, name);
    if (link && !strcmp(link->alias, tag)) {
        const char *last = shash_find_data(&last_holders, name);
        if (!last || strcmp(last, tag)) {
            free(shash_replace(&last_holders, name, xstrdup(tag)));
            svec_add_nocopy(&new_holders, xasprintf("%s %s", name, tag));
        }
        return 0;
    }
    const char *last = shash_find_data(&last_holders, name);
    return last && !strcmp(last, tag) ? 1 : otherwise;
}

/* Interface names are one namespace per host: every name a switch's
 * bridge, host port or port wants may be wanted once.  Of several claims
 * the object whose device holds the name in the kernel keeps it (so
 * neither a new row nor a renamed switch takes a running VM's tap), then
 * the one that held it last (its device deleted behind vsw's back), then
 * bridges, host ports and ports in that order; the others are refused.
 * A port listed by two switches is refused in both. */
static void
refuse_contested_names(struct claim *claims, size_t n)
{
    qsort(claims, n, sizeof *claims, compare_claims);
    for (size_t i = 0; i < n; ) {
        size_t j = i + 1;
        while (j < n && !strcmp(claims[j].name, claims[i].name)) {
            j++;
        }
        const struct claim *keep = &claims[i];
        for (size_t k = i + 1; k < j; k++) {
            const struct claim *c = &claims[k];
            if (keep->port && c->port && uuid_equals(keep->port, c->port)) {
                char *msg = xasprintf(
                    "port %s is listed by switches %s and %s; a port belongs "
                    "to one switch (remove it from one: vswctl remove switch "
                    "%s ports "UUID_FMT")", c->name, keep->owner, c->owner,
                    c->owner, UUID_ARGS(c->port));
                refuse(keep->strs, "%s", msg);
                refuse(c->strs, "%s", msg);
                free(msg);
            } else {
                refuse(c->strs, "%s %s: the name is already used by the %s "
                       "of switch %s; interface names are unique on a host: "
                       "choose another", c->what, c->name, keep->what,
                       keep->owner);
            }
        }
        i = j;
    }
}

/* A switch's bridge takes at most VSW_BRIDGE_MAX_PORTS ports.  Ports in
 * place keep theirs; the others are taken in order while there is room and
 * refused after. */
static void
refuse_ports_beyond_capacity(const struct vswrec_switch *sw,
                             const struct rc_switch *rc,
                             struct port_strings *strs)
{
    int capacity = vsw_switch_port_capacity(sw->uplink != NULL,
                                            rc->host_port);
    int used = 0;

    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t j = 0; j < sw->n_ports; j++) {
            bool placed = smap_get_int(&sw->ports[j]->status, "ifindex", 0);
            if (strs[j].config_error || placed != !pass) {
                continue;
            }
            if (used < capacity) {
                used++;
            } else {
                refuse(&strs[j], "port %s: switch %s is full: a Linux bridge "
                       "takes at most %d ports, so with its %s this switch "
                       "holds %d VM ports; delete a port, or put this one "
                       "on another switch", sw->ports[j]->name, sw->name,
                       VSW_BRIDGE_MAX_PORTS,
                       sw->uplink && rc->host_port ? "uplink and host port"
                       : sw->uplink ? "uplink" : rc->host_port ? "host port"
                       : "ports", capacity);
            }
        }
    }
}

static void
status_put_ifindex(struct smap *status, const char *key, int ifindex)
{
    if (ifindex) {
        smap_add_format(status, key, "%d", ifindex);
    }
}

static void
make_status(const struct rc_switch *rc, struct smap *status)
{
    smap_init(status);
    smap_add(status, "state", rc->ok ? "up" : rc->ifindex ? "degraded"
                                                          : "error");
    status_put_ifindex(status, "bridge_ifindex", rc->ifindex);
    status_put_ifindex(status, "uplink_ifindex", rc->uplink_ifindex);
    if (rc->uplink_ifindex) {
        smap_add(status, "uplink_link", rc->uplink_carrier ? "up" : "down");
    }
    status_put_ifindex(status, "host_port_ifindex", rc->host_ifindex);
    if (rc->host_ifindex) {
        smap_add(status, "host_port", rc->host_port_name);
    }
    if (rc->iov) {
        smap_add(status, "iov_support", rc->iov_support ? "true" : "false");
        if (rc->iov_reason.length) {
            smap_add(status, "iov_reasons", ds_cstr_ro(&rc->iov_reason));
        }
        smap_add_format(status, "vf_capacity", "%d", rc->vf_capacity);
        smap_add_format(status, "vfs_in_use", "%d", rc->vfs_in_use);
    }
    if (rc->error.length) {
        smap_add(status, "error", ds_cstr_ro(&rc->error));
    }
}

/* Whether 'rp' is on a tap (a VM's vNIC) in this pass. */
static bool
is_tap_kind_in_use(const struct rc_port *rp)
{
    return rp->kind_in_use && (!strcmp(rp->kind_in_use, "tap")
                               || !strcmp(rp->kind_in_use, "vhost-net"));
}

/* 'rc''s status; 'link' is its bridge port in the kernel, or NULL. */
static void
make_port_status(const struct rc_port *rc, const struct dp_link *link,
                 struct smap *status)
{
    smap_init(status);
    smap_add(status, "state", rc->ok ? "up" : rc->ifindex ? "degraded"
                                                          : "error");
    status_put_ifindex(status, "ifindex", rc->ifindex);
    status_put_ifindex(status, "host_ifindex", rc->host_ifindex);
    if (rc->kind_in_use) {
        smap_add(status, "kind", rc->kind_in_use);
    }
    if (rc->reason.length) {
        smap_add(status, "reason", ds_cstr_ro(&rc->reason));
    }
    if (rc->ifindex) {
        smap_add(status, "link", rc->carrier ? "up" : "down");
    }
    if (is_tap_kind_in_use(rc)) {
        smap_add_format(status, "queues_requested", "%d", rc->queues);
        if (link) {
            /* The queues a VM has attached: a multiqueue tap says how
             * many, a single-queue one has a carrier while attached. */
            smap_add_format(status, "queues_attached", "%d",
                            link->tun_queues >= 0 ? link->tun_queues
                            : (link->flags & 0x10000) != 0);
        }
    }
    if (rc->vf_index >= 0) {
        smap_add_format(status, "vf_index", "%d", rc->vf_index);
        smap_add(status, "representor", rc->representor);
    }
    if (rc->vf_config[0]) {
        smap_add(status, "vf_config", rc->vf_config);
    }
    if (rc->error.length) {
        smap_add(status, "error", ds_cstr_ro(&rc->error));
    }
}

/* Finishes an earlier status transaction.  Returns true while it is still
 * in flight. */
static bool
status_txn_busy(void)
{
    if (!status_txn) {
        return false;
    }
    enum ovsdb_idl_txn_status st = ovsdb_idl_txn_commit(status_txn);
    if (st == TXN_INCOMPLETE) {
        return true;
    }
    if (st == TXN_TRY_AGAIN) {
        need_pass = true;       /* The database changed meanwhile. */
    } else if (st != TXN_SUCCESS && st != TXN_UNCHANGED) {
        /* A database that refuses (a full disk, say) is asked again at the
         * retry interval, not at once and forever. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
        VLOG_WARN_RL(&rl, "writing status failed: %s (%s); retrying every "
                     "%d s", ovsdb_idl_txn_status_to_string(st),
                     ovsdb_idl_txn_get_error(status_txn), RETRY_INTERVAL / 1000);
        retry_soon = true;
        next_resync = time_msec() + RETRY_INTERVAL;
    }
    ovsdb_idl_txn_destroy(status_txn);
    status_txn = NULL;
    return false;
}

/* Carrier changes waiting for the status transaction in flight. */
static struct dp_nl_carrier {
    int ifindex;
    bool carrier;
} *carriers;
static size_t n_carriers, allocated_carriers;

/* The row whose status shows the carrier of link 'ifindex': a port whose
 * bridge port it is (by its tag), or a switch whose uplink it is. */
static void
carrier_row(int ifindex, const struct vswrec_port **portp,
            const struct vswrec_switch **swp)
{
    const struct dp_link *link = dp_links_by_index(&kernel, ifindex);
    struct uuid uuid, port_uuid;
    const char *role;
    bool bridge_side;

    *portp = NULL;
    *swp = NULL;
    if (!link) {
        return;
    }
    if (rc_parse_tag(link->alias, &uuid, &role)) {
        if (rc_parse_port_role(role, &port_uuid, &bridge_side)
            && bridge_side) {
            *portp = vswrec_port_get_for_uuid(idl, &port_uuid);
        }
        return;
    }
    const struct vswrec_switch *sw;
    VSWREC_SWITCH_FOR_EACH (sw, idl) {
        if (sw->uplink && !strcmp(sw->uplink, link->name)
            && smap_get_int(&sw->status, "uplink_ifindex", 0) == ifindex) {
            *swp = sw;
            return;
        }
    }
}

/* Writes the carriers that changed into their rows' status. */
static void
update_carriers(void)
{
    struct ovsdb_idl_txn *txn = NULL;

    for (size_t i = 0; i < n_carriers; i++) {
        const struct vswrec_switch *sw;
        const struct vswrec_port *p;
        carrier_row(carriers[i].ifindex, &p, &sw);
        if (!sw && !p) {
            continue;           /* Not a device whose carrier we show. */
        }
        const struct smap *old = sw ? &sw->status : &p->status;
        const char *key = sw ? "uplink_link" : "link";
        const char *want = carriers[i].carrier ? "up" : "down";
        const char *have = smap_get(old, key);
        if (!have || !strcmp(have, want)) {
            continue;
        }
        if (!txn) {
            txn = ovsdb_idl_txn_create(idl);
            ovsdb_idl_txn_add_comment(txn, "vswitchd: carrier");
        }
        struct smap status;
        smap_clone(&status, old);
        smap_replace(&status, key, want);
        if (sw) {
            vswrec_switch_set_status(sw, &status);
        } else {
            vswrec_port_set_status(p, &status);
        }
        smap_destroy(&status);
    }
    n_carriers = 0;
    if (txn) {
        status_txn = txn;
        status_txn_busy();
    }
}

/* Marks dirty the object that tag 'alias' names: a switch (its bridge or
 * host port) or a port. */
static void
mark_tagged(const char *alias)
{
    struct uuid uuid, port;
    const char *role;
    bool bridge_side;

    if (rc_parse_tag(alias, &uuid, &role)) {
        uuidset_insert(&dirty, rc_parse_port_role(role, &port, &bridge_side)
                               ? &port : &uuid);
    }
}

static void
retry_failing(void)
{
    struct uuidset_node *node;
    UUIDSET_FOR_EACH (node, &failing) {
        uuidset_insert(&dirty, &node->uuid);
    }
    uuidset_clear(&failing);
}

/* A link notification: the table of links follows it; what it changed
 * marks objects dirty, a carrier alone goes straight to the status. */
static void
on_link_msg(const struct nlmsghdr *h, void *aux OVS_UNUSED)
{
    struct dp_link_event ev;
    const struct dp_link *link;

    dp_links_update(&kernel, h, &ev);
    if (ev.change == DP_LINK_GONE) {
        vsw_offload_vnic_forget(ev.ifindex);
    }
    switch (ev.change) {
    case DP_LINK_IGNORED:
        return;
    case DP_LINK_CARRIER:
        if (n_carriers >= allocated_carriers) {
            carriers = x2nrealloc(carriers, &allocated_carriers,
                                  sizeof *carriers);
        }
        carriers[n_carriers++] = (struct dp_nl_carrier) {
            ev.ifindex, ev.carrier };
        return;
    case DP_LINK_SAME:
        /* Feature changes (a VM's offloads on its tap) come as ethtool
         * notifications too, where the kernel has them; otherwise this may
         * be one: the port's status is read again, nothing else. */
        if (!dp_nl_have_ethtool_notifications()) {
            vsw_offload_vnic_forget(ev.ifindex);
            link = dp_links_by_index(&kernel, ev.ifindex);
            if (link) {
                mark_tagged(link->alias);
            }
        }
        return;
    case DP_LINK_VLANS:
        link = dp_links_by_index(&kernel, ev.ifindex);
        if (link) {
            mark_tagged(link->alias);
        }
        return;
    case DP_LINK_CHANGED:
    case DP_LINK_GONE:
        /* What failed may work now (a name freed, a device back). */
        retry_failing();
        mark_tagged(ev.old_alias);
        if (ev.old_name[0]) {
            sset_add(&dirty_names, ev.old_name);
        }
        link = dp_links_by_index(&kernel, ev.ifindex);
        if (link) {
            mark_tagged(link->alias);
            sset_add(&dirty_names, link->name);
            dirty_iov |= link->phys_switch_id[0] != '\0';
        }
        return;
    }
}

static void
on_ethtool(int ifindex, void *aux OVS_UNUSED)
{
    vsw_offload_vnic_forget(ifindex);
    const struct dp_link *link = dp_links_by_index(&kernel, ifindex);
    if (!link) {
        dirty_uplinks = true;
    } else if (link->alias[0]) {
        mark_tagged(link->alias);
    } else {
        sset_add(&dirty_names, link->name);     /* An uplink, maybe. */
    }
}

static void
on_overrun(void *aux OVS_UNUSED)
{
    vsw_offload_vnic_forget_all();
    kernel_dumped = false;
    full_needed = true;
}

static const struct dp_nl_listener listener = {
    .link_msg = on_link_msg,
    .ethtool = on_ethtool,
    .overrun = on_overrun,
};

static struct port_home *
port_home_find(const struct uuid *port)
{
    struct port_home *ph;
    HMAP_FOR_EACH_WITH_HASH (ph, node, uuid_hash(port), &port_homes) {
        if (uuid_equals(&ph->port, port)) {
            return ph;
        }
    }
    return NULL;
}

/* Marks dirty what the database changed since the last pass. */
static void
mark_db_changes(void)
{
    const struct vswrec_switch *sw;
    VSWREC_SWITCH_FOR_EACH_TRACKED (sw, idl) {
        if (vswrec_switch_is_deleted(sw) || vswrec_switch_is_new(sw)) {
            uuidset_insert(&dirty, &sw->header_.uuid);
            uuidset_insert(&dirty_all, &sw->header_.uuid);
            switches_gone |= vswrec_switch_is_deleted(sw);
            continue;
        }
        /* A change of the switch's own settings concerns every port
         * (name, MTU, host, uplink, ...); a change of its port list only
         * the ports that came. */
        if (inputs_changed(&sw->header_, switch_inputs,
                           ARRAY_SIZE(switch_inputs) - 1)) {
            uuidset_insert(&dirty, &sw->header_.uuid);
            uuidset_insert(&dirty_all, &sw->header_.uuid);
        }
        if (vswrec_switch_is_updated(sw, VSWREC_SWITCH_COL_PORTS)) {
            if (sw->iov) {
                /* A port gone may have freed a VF for another. */
                uuidset_insert(&dirty, &sw->header_.uuid);
                uuidset_insert(&dirty_all, &sw->header_.uuid);
            }
            for (size_t j = 0; j < sw->n_ports; j++) {
                const struct uuid *pu = &sw->ports[j]->header_.uuid;
                struct port_home *ph = port_home_find(pu);
                if (!ph) {
                    ph = xmalloc(sizeof *ph);
                    ph->port = *pu;
                    hmap_insert(&port_homes, &ph->node, uuid_hash(pu));
                } else if (uuid_equals(&ph->sw, &sw->header_.uuid)) {
                    continue;
                }
                ph->sw = sw->header_.uuid;
                uuidset_insert(&dirty, pu);
            }
        }
    }
    const struct vswrec_port *p;
    VSWREC_PORT_FOR_EACH_TRACKED (p, idl) {
        if (!vswrec_port_is_deleted(p) && !vswrec_port_is_new(p)
            && !inputs_changed(&p->header_, port_inputs,
                               ARRAY_SIZE(port_inputs))) {
            continue;
        }
        uuidset_insert(&dirty, &p->header_.uuid);
        if (vswrec_port_is_deleted(p)) {
            struct port_home *ph = port_home_find(&p->header_.uuid);
            if (ph) {
                hmap_remove(&port_homes, &ph->node);
                free(ph);
            }
        } else if (p->name) {
            sset_add(&dirty_names, p->name);   /* Its rivals for the name. */
        }
    }
    ovsdb_idl_track_clear(idl);
}

static bool
work_pending(void)
{
    return (full_needed || !uuidset_is_empty(&dirty)
            || !sset_is_empty(&dirty_names) || dirty_iov || dirty_uplinks);
}

static void
port_homes_clear(void)
{
    struct port_home *ph;
    HMAP_FOR_EACH_POP (ph, node, &port_homes) {
        free(ph);
    }
}

/* Whether 'status' has the VMQ keys 'vmq' and no others. */
static bool
vmq_keys_equal(const struct smap *vmq, const struct smap *status)
{
    static const char *const keys[] = { "vmq_queue", "vmq_reason" };
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (!nullable_string_is_equal(smap_get(vmq, keys[i]),
                                      smap_get(status, keys[i]))) {
            return false;
        }
    }
    return true;
}

/* One pass over the dirty objects, or over all of them with 'full'. */
static void
reconcile_pass(const struct vswrec_root *root, bool full)
{
    long long int start = time_usec();
    size_t n = 0;
    struct rc_switch *rcs = xcalloc(root->n_switches + 1, sizeof *rcs);
    const struct vswrec_switch **rows = xcalloc(root->n_switches + 1,
                                                sizeof *rows);
    char **names = xcalloc(root->n_switches + 1, sizeof *names);

    /* The table of links must show what the last pass did. */
    dp_nl_notify_flush(&listener);

    /* This pass's marks; marks made while it runs are the next pass's. */
    struct uuidset cur = UUIDSET_INITIALIZER(&cur);
    struct uuidset cur_all = UUIDSET_INITIALIZER(&cur_all);
    struct sset cur_names = SSET_INITIALIZER(&cur_names);
    hmap_swap(&cur.uuids, &dirty.uuids);
    hmap_swap(&cur_all.uuids, &dirty_all.uuids);
    sset_swap(&cur_names, &dirty_names);
    bool cur_iov = dirty_iov, cur_uplinks = dirty_uplinks;
    dirty_iov = dirty_uplinks = false;

    int error = 0;
    if (full || !kernel_dumped) {
        error = dp_links_dump(&kernel, false);
        kernel_dumped = !error;
        full = true;
    }
    if (full) {
        port_homes_clear();
    }
    bool vhost_available = !access("/dev/vhost-net", F_OK);

    /* The names of the objects marked dirty join the names the kernel
     * changed: whoever else wants one of them is converged too (it may win
     * or lose a contested name now). */
    struct uuidset_node *un;
    UUIDSET_FOR_EACH (un, &cur) {
        const struct vswrec_port *p = vswrec_port_get_for_uuid(idl,
                                                               &un->uuid);
        const struct vswrec_switch *sw = (p ? NULL
            : vswrec_switch_get_for_uuid(idl, &un->uuid));
        if (p) {
            sset_add(&cur_names, p->name);
        } else if (sw) {
            sset_add(&cur_names, sw->name);
            for (size_t j = 0; uuidset_contains(&cur_all, &un->uuid)
                               && j < sw->n_ports; j++) {
                sset_add(&cur_names, sw->ports[j]->name);
            }
        }
    }
    bool scope_all = full || switches_gone;
    switches_gone = false;

    size_t n_strs = root->n_switches;
    for (size_t i = 0; i < root->n_switches; i++) {
        n_strs += root->switches[i]->n_ports;
    }
    /* One per switch, then one per port of each. */
    struct port_strings *strs = xcalloc(n_strs + 1, sizeof *strs);
    struct claim *claims = xcalloc(n_strs * 2 + 1, sizeof *claims);
    size_t n_claims = 0, seq = 0, n_converged = 0;
    n_strs = 0;
    for (size_t i = 0; i < root->n_switches; i++) {
        const struct vswrec_switch *sw = root->switches[i];
        if (!is_managed_here(sw)) {
            continue;
        }
        rows[n] = sw;
        struct port_strings *sw_strs = &strs[n_strs++];
        fill_desired(&rcs[n], sw, &names[n], sw_strs);
        bool sw_dirty = (full || uuidset_contains(&cur, &sw->header_.uuid)
                         || sset_contains(&cur_names, sw->name)
                         || sset_contains(&cur_names, names[n])
                         || (sw->uplink
                             && sset_contains(&cur_names, sw->uplink))
                         || (cur_uplinks && sw->uplink)
                         || (cur_iov && sw->iov));
        rcs[n].dirty = sw_dirty;
        n_converged += sw_dirty;

        char *tag = rc_tag(&sw->header_.uuid, NULL);
        const struct dp_link *br = dp_links_by_alias(&kernel, tag);
        free(tag);
        struct port_strings *port_strs = &strs[n_strs];
        /* On an SR-IOV switch the ports share the VFs: a VF given back
         * goes to a port waiting on a tap, so a change to one is a change
         * to all. */
        bool all_ports = uuidset_contains(&cur_all, &sw->header_.uuid);
        for (size_t j = 0; sw->iov && !all_ports && j < sw->n_ports; j++) {
            all_ports = (sw_dirty
                         || uuidset_contains(&cur, &sw->ports[j]->header_.uuid)
                         || sset_contains(&cur_names, sw->ports[j]->name));
        }
        for (size_t j = 0; j < sw->n_ports; j++) {
            const struct vswrec_port *p = sw->ports[j];
            if (full) {
                struct port_home *ph = xmalloc(sizeof *ph);
                ph->port = p->header_.uuid;
                ph->sw = sw->header_.uuid;
                hmap_insert(&port_homes, &ph->node, uuid_hash(&ph->port));
            }
            if (full || all_ports
                || uuidset_contains(&cur, &p->header_.uuid)
                || sset_contains(&cur_names, p->name)) {
                fill_port(&rcs[n].ports[j], sw, p, &strs[n_strs],
                          br, vhost_available);
                n_converged++;
            } else {
                fill_port_identity(&rcs[n].ports[j], p);
                rcs[n].ports[j].dirty = false;
            }
            n_strs++;
        }
        if (!sw_strs->config_error && sw_dirty) {
            tag = rc_tag(&sw->header_.uuid, NULL);
            claims[n_claims++] = (struct claim) {
                sw->name, holder_rank(&kernel, sw->name, tag, 2), seq++,
                "bridge", sw->name, NULL, sw_strs };
            free(tag);
            if (rcs[n].host_port) {
                tag = rc_tag(&sw->header_.uuid, RC_ROLE_HOST);
                claims[n_claims++] = (struct claim) {
                    names[n], holder_rank(&kernel, names[n], tag, 3),
                    seq++, "host port", sw->name, NULL, sw_strs };
                free(tag);
            }
        }
        for (size_t j = 0; j < sw->n_ports; j++) {
            const struct vswrec_port *p = sw->ports[j];
            if (!port_strs[j].config_error && rcs[n].ports[j].dirty) {
                tag = rc_port_name_tag(&sw->header_.uuid, &p->header_.uuid,
                                       !strcmp(p->kind, "internal"));
                claims[n_claims++] = (struct claim) {
                    p->name, holder_rank(&kernel, p->name, tag, 4),
                    seq++, "port", sw->name, &p->header_.uuid,
                    &port_strs[j] };
                free(tag);
            }
        }
        n++;
    }
    refuse_contested_names(claims, n_claims);
    free(claims);
    last_holders_save();
    /* The refusals go into the rows being reconciled, and the ports of a
     * switch that is full get theirs. */
    for (size_t i = 0, k = 0; i < n; i++) {
        struct port_strings *sw_strs = &strs[k++];
        if (rows[i]->n_ports > (size_t) vsw_switch_port_capacity(
                rows[i]->uplink != NULL, rcs[i].host_port)) {
            refuse_ports_beyond_capacity(rows[i], &rcs[i], &strs[k]);
        }
        rcs[i].config_error = sw_strs->config_error;
        for (size_t j = 0; j < rcs[i].n_ports; j++) {
            rcs[i].ports[j].config_error = strs[k++].config_error;
        }
    }

    struct vsw_offload *offs = xcalloc(n + 1, sizeof *offs);
    bool *offload_ran = xcalloc(n + 1, sizeof *offload_ran);
    for (size_t i = 0; i < n; i++) {
        vsw_offload_init(&offs[i]);
    }

    bool settled = false;
    bool vlans = false;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < rcs[i].n_ports; j++) {
            vlans |= rcs[i].ports[j].vlan_mode != RC_VLAN_NONE;
        }
    }
    kernel.have_vlans = false;
    if (!error && vlans) {
        error = dp_links_dump_vlans(&kernel);
    }
    if (error) {
        VLOG_ERR("cannot read the kernel's links: %s", dp_nl_error());
        full_needed = true;
    } else {
        n_passes++;
        n_full_passes += full;
        n_objects_converged += n_converged;
        /* Many objects to converge (1000 ports in one transaction, a
         * switch deleted): unheard, then one dump. */
        bool unheard = n_converged > BULK_OBJECTS;
        if (unheard) {
            dp_nl_notify_flush(&listener);
            dp_nl_notify_pause();
        }
        bool changed = rc_reconcile(rcs, n, &kernel, &rc_kernel_ops,
                                    (dbserver_damage() ? 0 : RC_MAY_DELETE)
                                    | (full ? 0 : RC_INCREMENTAL),
                                    scope_all ? NULL : &cur);
        if (unheard) {
            dp_nl_notify_resume();
            if (changed) {
                kernel_dumped = false;      /* The confirming pass dumps. */
                full_needed = true;
            }
        }
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < rcs[i].n_ports; j++) {
                const struct rc_port *rp = &rcs[i].ports[j];
                if (rp->created && is_tap_kind_in_use(rp)) {
                    vsw_offload_vnic_fresh(rp->ifindex);
                }
            }
        }
        for (size_t i = 0; i < n; i++) {
            /* The uplink's offloads: when the switch changed, or a port
             * that may hold a VMQ queue did. */
            bool run = rcs[i].dirty;
            for (size_t j = 0; !run && j < rcs[i].n_ports; j++) {
                run = (rcs[i].ports[j].dirty
                       && (rows[i]->ports[j]->vmq_weight > 0
                           || smap_get(&rows[i]->ports[j]->status,
                                       "vmq_queue")));
            }
            if (run && rcs[i].type == RC_EXTERNAL && rcs[i].uplink_ifindex) {
                offload_ran[i] = true;
                changed |= vsw_offload_uplink(rows[i], &rcs[i], &offs[i]);
            }
        }
        /* Failures the kernel caused are retried; refused configuration
         * waits for a change of the database. */
        bool failed = false;
        for (size_t i = 0; i < n; i++) {
            if (rcs[i].dirty && !rcs[i].ok && !rcs[i].config_error) {
                failed = true;
                uuidset_insert(&failing, &rcs[i].uuid);
            }
            for (size_t j = 0; j < rcs[i].n_ports; j++) {
                const struct rc_port *rp = &rcs[i].ports[j];
                if (rp->dirty && !rp->ok && !rp->config_error) {
                    failed = true;
                    uuidset_insert(&failing, &rp->uuid);
                }
            }
        }
        retry_soon = failed;
        /* Passes that change the kernel and fail again and again (a device
         * made and refused each time) make notifications of their own: a
         * few in a row, and notifications stop starting passes until the
         * retry timer says so. */
        n_failing_changes = changed && failed ? n_failing_changes + 1 : 0;
        /* A pass that changed the kernel is confirmed by another one over
         * the same objects, once the kernel's notifications are in; except
         * when something failed: then the retry timer retries, so a
         * refusing kernel is not hammered. */
        settled = !changed || failed;

        /* A kernel that keeps differing from what we just made (another
         * program fighting us, or a bug) must not make us spin. */
        static int n_unsettled;
        n_unsettled = settled ? 0 : n_unsettled + 1;
        if (n_unsettled > 10) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
            VLOG_WARN_RL(&rl, "the kernel does not converge after %d "
                         "passes; retrying every %d s", n_unsettled,
                         RETRY_INTERVAL / 1000);
            settled = true;
            retry_soon = true;
        }
        if (!settled) {
            /* Confirm: the same objects again. */
            for (size_t i = 0; i < n; i++) {
                if (rcs[i].dirty) {
                    uuidset_insert(&dirty, &rcs[i].uuid);
                }
                for (size_t j = 0; j < rcs[i].n_ports; j++) {
                    if (rcs[i].ports[j].dirty) {
                        uuidset_insert(&dirty, &rcs[i].ports[j].uuid);
                    }
                }
            }
            need_pass = true;
        }
    }

    /* Observed state back to the database: the objects of this pass, and
     * only what differs; after a pass that changed the kernel, by the pass
     * that confirms it (it runs at once), so that one change costs one
     * write. */
    if (!error && !settled) {
        goto out;
    }
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    ovsdb_idl_txn_add_comment(txn, "vswitchd: status");
    bool wrote = false;
    for (size_t i = 0; !error && i < n; i++) {
        struct smap status;
        if (rcs[i].dirty || offload_ran[i]) {
            make_status(&rcs[i], &status);
            struct smap_node *probe;
            SMAP_FOR_EACH (probe, &offs[i].probe) {
                smap_replace(&status, probe->key, probe->value);
            }
            if (!smap_equal(&status, &rows[i]->status)) {
                if (rcs[i].error.length) {
                    static struct vlog_rate_limit rl
                        = VLOG_RATE_LIMIT_INIT(5, 5);
                    VLOG_WARN_RL(&rl, "switch %s: %s", rows[i]->name,
                                 ds_cstr(&rcs[i].error));
                }
                vswrec_switch_set_status(rows[i], &status);
                wrote = true;
            }
            smap_destroy(&status);
        }
        if (offload_ran[i]) {
            if (!smap_equal(&offs[i].req, &rows[i]->offload_requested)) {
                vswrec_switch_set_offload_requested(rows[i], &offs[i].req);
                wrote = true;
            }
            if (!smap_equal(&offs[i].eff, &rows[i]->offload_effective)) {
                vswrec_switch_set_offload_effective(rows[i], &offs[i].eff);
                wrote = true;
            }
            if (!smap_equal(&offs[i].why, &rows[i]->offload_reason)) {
                vswrec_switch_set_offload_reason(rows[i], &offs[i].why);
                wrote = true;
            }
        }

        for (size_t j = 0; j < rcs[i].n_ports; j++) {
            const struct vswrec_port *p = rows[i]->ports[j];
            struct rc_port *rp = &rcs[i].ports[j];
            if (rp->dirty) {
                const struct dp_link *link = (rp->ifindex
                    ? dp_links_by_index(&kernel, rp->ifindex) : NULL);
                make_port_status(rp, link, &status);
                if (rp->ifindex && is_tap_kind_in_use(rp)) {
                    vsw_offload_vnic_status(p->name, rp->ifindex,
                                            rows[i]->uplink
                                            ? &offs[i].eff : NULL, &status);
                }
            } else if (offload_ran[i] && j < offs[i].n_ports
                       && !vmq_keys_equal(&offs[i].port_vmq[j],
                                          &p->status)) {
                /* Not converged: only its VMQ keys are new. */
                smap_clone(&status, &p->status);
                smap_remove(&status, "vmq_queue");
                smap_remove(&status, "vmq_reason");
            } else {
                continue;
            }
            if (offload_ran[i] && j < offs[i].n_ports) {
                struct smap_node *vmq;
                SMAP_FOR_EACH (vmq, &offs[i].port_vmq[j]) {
                    smap_replace(&status, vmq->key, vmq->value);
                }
            }
            if (!smap_equal(&status, &p->status)) {
                if (rp->dirty && rp->error.length) {
                    static struct vlog_rate_limit rl
                        = VLOG_RATE_LIMIT_INIT(5, 5);
                    const char *e = ds_cstr(&rp->error);
                    if (strstr(e, p->name)) {
                        VLOG_WARN_RL(&rl, "%s", e);  /* It names the port. */
                    } else {
                        VLOG_WARN_RL(&rl, "port %s: %s", p->name, e);
                    }
                }
                vswrec_port_set_status(p, &status);
                wrote = true;
            }
            smap_destroy(&status);
        }
    }
    struct smap root_status = SMAP_INITIALIZER(&root_status);
    if (dbserver_damage()) {
        smap_add(&root_status, "db_damaged", dbserver_damage());
    }
    if (!smap_equal(&root_status, &root->status)) {
        vswrec_root_set_status(root, &root_status);
        wrote = true;
    }
    smap_destroy(&root_status);
    if (settled && root->cur_cfg != root->next_cfg) {
        vswrec_root_set_cur_cfg(root, root->next_cfg);
        wrote = true;
    }
    if (wrote) {
        status_txn = txn;
        status_txn_busy();
    } else {
        ovsdb_idl_txn_destroy(txn);
    }

out:
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < rcs[i].n_ports; j++) {
            rc_port_destroy(&rcs[i].ports[j]);
        }
        free(rcs[i].ports);
        free(CONST_CAST(struct ofl_sriov_pf *, rcs[i].pf));
        rc_switch_destroy(&rcs[i]);
        free(names[i]);
    }
    for (size_t i = 0; i < n_strs; i++) {
        free(strs[i].config_error);
    }
    for (size_t i = 0; i < n; i++) {
        vsw_offload_destroy(&offs[i]);
    }
    uuidset_destroy(&cur);
    uuidset_destroy(&cur_all);
    sset_destroy(&cur_names);
    free(offload_ran);
    free(offs);
    free(strs);
    free(rcs);
    free(rows);
    free(names);
    last_pass_usec = time_usec() - start;
}

/* Inserts the Root row into an empty database (as a status transaction,
 * so that the next run waits for it). */
static void
create_root(void)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    ovsdb_idl_txn_add_comment(txn, "vswitchd: create the Root row");
    vswrec_root_insert(txn);
    VLOG_INFO("empty database: created its Root row");
    status_txn = txn;
    status_txn_busy();
}

void
bridge_run(void)
{
    ovsdb_idl_run(idl);

    bool was_pending = work_pending();
    if (dp_nl_notify_run(&listener) && !was_pending && work_pending()) {
        if (n_failing_changes < MAX_FAILING_CHANGES) {
            pass_why[WHY_KERNEL] = true;
        } else {
            /* Kept for the retry timer. */
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
            VLOG_WARN_RL(&rl, "%d passes in a row changed the kernel and "
                         "failed: retrying every %d s rather than at each "
                         "kernel notification", n_failing_changes,
                         RETRY_INTERVAL / 1000);
        }
    }
    if (ovsdb_idl_get_seqno(idl) != last_seqno) {
        last_seqno = ovsdb_idl_get_seqno(idl);
        need_pass = true;
        pass_why[WHY_DB] = true;
    }
    mark_db_changes();
    if (time_msec() >= next_resync) {
        need_pass = true;
        pass_why[WHY_TIMER] = true;
        if (retry_soon) {
            retry_failing();        /* The retry: what failed, again. */
        } else {
            full_needed = true;     /* The safety resync. */
        }
    }

    /* Never act on a database we have not read in full: an empty view
     * would delete every switch. */
    if (!ovsdb_idl_has_ever_connected(idl) || status_txn_busy()) {
        return;
    }
    const struct vswrec_root *root = vswrec_root_first(idl);
    if (!root) {
        /* A fresh database: the Root row is ours to create, so that
         * vswctl, other clients and the status below have it at once.
         * Tried once a second at most, should the database refuse. */
        if (time_msec() >= next_resync) {
            next_resync = time_msec() + 1000;
            create_root();
        }
        return;
    }
    if (stats_due(stats_interval_config(&root->other_config))) {
        struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
        ovsdb_idl_txn_add_comment(txn, "vswitchd: statistics");
        if (stats_collect(idl, vsw_host_id())) {
            status_txn = txn;
            status_txn_busy();
            return;             /* The pass, if any, after it. */
        }
        ovsdb_idl_txn_destroy(txn);
    }
    bool kernel_work = work_pending() && (n_failing_changes
                                          < MAX_FAILING_CHANGES
                                          || pass_why[WHY_TIMER]
                                          || full_needed);
    if (!need_pass && !kernel_work) {
        if (n_carriers) {
            update_carriers();
        }
        return;
    }
    if (kernel_work && !need_pass) {
        pass_why[WHY_KERNEL] = true;
    }
    need_pass = false;
    if (n_carriers) {
        update_carriers();
        if (status_txn) {
            need_pass = true;           /* After the carriers are written. */
            return;
        }
    }
    for (int i = 0; i < N_WHY; i++) {
        n_passes_why[i] += pass_why[i];
        pass_why[i] = false;
    }
    bool full = full_needed;
    full_needed = false;
    reconcile_pass(root, full);
    /* A pass that changed the kernel is confirmed at once, on the
     * notifications of its own changes (reconcile_pass() flushes them). */
    for (int i = 0; i < 3 && need_pass && !status_txn; i++) {
        need_pass = false;
        full = full_needed;
        full_needed = false;
        reconcile_pass(root, full);
    }
    if (full || retry_soon || time_msec() >= next_resync) {
        next_resync = time_msec() + (retry_soon ? RETRY_INTERVAL
                                                : RESYNC_INTERVAL);
    }
}

void
bridge_wait(void)
{
    ovsdb_idl_wait(idl);
    dp_nl_notify_wait();
    if (status_txn) {
        ovsdb_idl_txn_wait(status_txn);
    }
    if ((need_pass || n_carriers
         || (work_pending() && n_failing_changes < MAX_FAILING_CHANGES))
        && vswrec_root_first(idl) && !status_txn) {
        poll_immediate_wake();
    }
    if (next_resync) {
        poll_timer_wait_until(next_resync);
    }
    stats_wait();
}

void
bridge_exit(void)
{
    if (status_txn) {
        ovsdb_idl_txn_destroy(status_txn);
        status_txn = NULL;
    }
    ovsdb_idl_destroy(idl);
    idl = NULL;
    free(carriers);
    carriers = NULL;
    shash_destroy_free_data(&last_holders);
    svec_destroy(&new_holders);
    dp_links_destroy(&kernel);
    vsw_offload_vnic_forget_all();
    stats_exit();
    uuidset_destroy(&dirty);
    uuidset_destroy(&dirty_all);
    uuidset_destroy(&failing);
    sset_destroy(&dirty_names);
    port_homes_clear();
}

bool
bridge_vhost_lookup(const char *name, struct vhost_port_info *info)
{
    const struct vswrec_switch *sw;

    VSWREC_SWITCH_FOR_EACH (sw, idl) {
        if (!is_managed_here(sw)) {
            continue;
        }
        for (size_t i = 0; i < sw->n_ports; i++) {
            const struct vswrec_port *p = sw->ports[i];
            if (!strcmp(p->name, name)) {
                info->is_vhost = !strcmp(p->kind, "vhost-net");
                info->queues = p->queues;
                const char *why;
                info->owner = resolve_id(p->owner, true, &why);
                info->group = resolve_id(p->group, false, &why);
                info->up = smap_get_int(&p->status, "ifindex", 0) != 0;
                return true;
            }
        }
    }
    return false;
}

void
bridge_force_pass(void)
{
    need_pass = true;
    full_needed = true;
    poll_immediate_wake();
}

static void
bridge_unixctl_counters(struct unixctl_conn *conn, int argc OVS_UNUSED,
                        const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct dp_nl_counters c;
    struct ds s = DS_EMPTY_INITIALIZER;

    dp_nl_get_counters(&c);
    ds_put_format(&s, "modify=%"PRIu64" modify_failed=%"PRIu64
                  " dump=%"PRIu64" notify=%"PRIu64" resync=%"PRIu64
                  " passes=%"PRIu64" (kernel %"PRIu64", db %"PRIu64
                  ", timer %"PRIu64") full=%"PRIu64" converged=%"PRIu64
                  " last_pass_us=%lld\n", c.modify, c.modify_failed, c.dump,
                  c.notify, c.resync, n_passes, n_passes_why[WHY_KERNEL],
                  n_passes_why[WHY_DB], n_passes_why[WHY_TIMER],
                  n_full_passes, n_objects_converged, last_pass_usec);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
bridge_unixctl_reconcile(struct unixctl_conn *conn, int argc OVS_UNUSED,
                         const char *argv[] OVS_UNUSED,
                         void *aux OVS_UNUSED)
{
    bridge_force_pass();
    unixctl_command_reply(conn, NULL);
}
