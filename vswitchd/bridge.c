/* The reconciler's database side; see bridge.h.
 *
 * A pass runs when the database changed, when the kernel reported a link
 * change, when a previous pass changed something (to confirm it), and
 * every few seconds as a safety net.  Each pass dumps the kernel's links
 * once.  Status is written only when it differs from what the database
 * holds, so an idle switch costs no database writes either. */
#include <config.h>

#include "vswitchd/bridge.h"

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datapath/link.h"
#include "datapath/netlink.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "vsw-idl.h"
#include "offload/sriov.h"
#include "vswitchd/paths.h"
#include "vswitchd/offload.h"
#include "vswitchd/reconcile.h"
#include "vswitchd/vhost.h"

VLOG_DEFINE_THIS_MODULE(bridge);

/* Safety-net interval between passes, in ms. */
#define RESYNC_INTERVAL 5000

static struct ovsdb_idl *idl;
static unsigned int last_seqno;
static bool need_pass = true;
static long long int next_resync;
static struct ovsdb_idl_txn *status_txn;
static uint64_t n_passes;

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
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_status);
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_statistics);
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_offload_requested);
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_offload_effective);
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_offload_reason);
    ovsdb_idl_omit_alert(idl, &vswrec_port_col_status);
    ovsdb_idl_omit_alert(idl, &vswrec_port_col_statistics);

    dp_nl_notify_open();
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

/* Default name of a switch's host vNIC: "vh-" + switch name, or "vh" + 8
 * hex digits of its uuid when that is too long for an interface name. */
static char *
default_host_port_name(const struct vswrec_switch *sw)
{
    char *name = xasprintf("vh-%s", sw->name);
    if (strlen(name) > 15) {
        free(name);
        name = xasprintf("vh%08x", sw->header_.uuid.parts[0]);
    }
    return name;
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
 * NULL, -2 if it does not exist. */
static long
resolve_id(const char *name, bool user)
{
    char *end;

    if (!name) {
        return -1;
    }
    long id = strtol(name, &end, 10);
    if (*name && !*end && id >= 0) {
        return id;
    }
    if (user) {
        struct passwd *pw = getpwnam(name);
        return pw ? (long) pw->pw_uid : -2;
    }
    struct group *gr = getgrnam(name);
    return gr ? (long) gr->gr_gid : -2;
}

/* Whether bridge 'name' has VLAN filtering: 1 yes, 0 the kernel lacks it,
 * -1 no bridge yet (the next pass asks again). */
static int
vlan_filtering_support(const char *name)
{
    char path[64];

    snprintf(path, sizeof path, "/sys/class/net/%s/bridge", name);
    if (access(path, F_OK)) {
        return -1;
    }
    snprintf(path, sizeof path, "/sys/class/net/%s/bridge/vlan_filtering",
             name);
    return !access(path, F_OK);
}

/* Per-port strings that live as long as one pass. */
struct port_strings {
    char *config_error;
};

static void
fill_port(struct rc_port *rc, const struct vswrec_switch *sw,
          const struct vswrec_port *p, struct port_strings *strs)
{
    rc_port_init(rc);
    rc->uuid = p->header_.uuid;
    rc->name = p->name;
    rc->kind = port_kind(p->kind);
    rc->mac = p->mac;
    rc->queues = p->queues > 0 ? p->queues : 1;
    rc->owner = resolve_id(p->owner, true);
    rc->group = resolve_id(p->group, false);
    if (rc->owner == -1 && rc->group == -1) {
        /* The kernel lets anyone attach to a tap with neither owner nor
         * group: make it root's, so no other user can sniff a VM. */
        rc->owner = 0;
    }
    rc->netns = p->netns;
    rc->peer_name = smap_get_def(&p->other_config, "peer_name", p->name);
    rc->vhost_available = !access("/dev/vhost-net", F_OK);

    int vlan_support;

    /* The switch MTU is enforced on every port. */
    if (sw->mtu && p->mtu && *p->mtu != *sw->mtu) {
        strs->config_error = xasprintf(
            "MTU mismatch: port %s asks for MTU %"PRId64", switch %s "
            "enforces %"PRId64" (vswctl set port %s mtu=%"PRId64", or clear "
            "it)", p->name, *p->mtu, sw->name, *sw->mtu, p->name, *sw->mtu);
    } else if (rc->owner == -2 || rc->group == -2) {
        strs->config_error = xasprintf(
            "port %s: no such %s \"%s\" on this host", p->name,
            rc->owner == -2 ? "user" : "group",
            rc->owner == -2 ? p->owner : p->group);
    } else if (rc->kind == RC_PORT_VETH && !p->netns) {
        strs->config_error = xasprintf(
            "port %s: a veth port needs a network namespace (vswctl set "
            "port %s netns=NAME)", p->name, p->name);
    } else if (p->vlan_mode && (vlan_support = vlan_filtering_support(
                                     sw->name)) <= 0) {
        /* Never attach a VLAN port untagged, not even for one pass. */
        strs->config_error = xasprintf(
            vlan_support < 0
            ? "port %s: waiting for the switch's bridge"
            : "port %s: VLAN settings need bridge VLAN filtering, which "
              "this kernel lacks (CONFIG_BRIDGE_VLAN_FILTERING); the port "
              "stays off the switch rather than join it untagged", p->name);
    } else if (p->vlan_mode && !strcmp(p->vlan_mode, "access") && !p->tag) {
        strs->config_error = xasprintf(
            "port %s: an access port needs a VLAN (vswctl set port %s "
            "tag=N)", p->name, p->name);
    } else if (p->vlan_mode && !strcmp(p->vlan_mode, "trunk")
               && !p->n_trunks) {
        strs->config_error = xasprintf(
            "port %s: a trunk needs VLANs (vswctl set port %s "
            "trunks=10,20)", p->name, p->name);
    }
    if (p->vlan_mode) {
        rc->vlan_mode = (!strcmp(p->vlan_mode, "access") ? RC_VLAN_ACCESS
                         : RC_VLAN_TRUNK);
        rc->tag = p->tag ? *p->tag : 0;
        rc->trunks = p->trunks;
        rc->n_trunks = p->n_trunks;
    }
    rc->config_error = strs->config_error;
    rc->mtu = sw->mtu ? *sw->mtu : p->mtu ? *p->mtu : 0;
}

static void
fill_desired(struct rc_switch *rc, const struct vswrec_switch *sw,
             char **host_port_name)
{
    rc_switch_init(rc);
    rc->uuid = sw->header_.uuid;
    rc->name = sw->name;
    rc->type = switch_type(sw->type);
    rc->uplink = sw->uplink;
    rc->host_port = (rc->type == RC_INTERNAL
                     || (rc->type == RC_EXTERNAL && sw->allow_management_os));
    *host_port_name = (sw->host_port ? xstrdup(sw->host_port)
                       : default_host_port_name(sw));
    rc->host_port_name = *host_port_name;
    rc->prev_uplink = smap_get_int(&sw->status, "uplink_ifindex", 0);
    rc->mtu = sw->mtu ? *sw->mtu : 0;
    rc->iov = sw->iov;
    if (sw->iov && sw->uplink) {
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

/* Number of queues attached to tap 'name' (its tx-N queue directories). */
static int
count_queues(const char *name)
{
    char path[64];
    int n = 0;

    snprintf(path, sizeof path, "/sys/class/net/%s/queues", name);
    DIR *dir = opendir(path);
    if (dir) {
        struct dirent *de;
        while ((de = readdir(dir))) {
            n += !strncmp(de->d_name, "tx-", 3);
        }
        closedir(dir);
    }
    return n;
}

static void
make_port_status(const struct rc_port *rc, const struct vswrec_port *p,
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
    if (rc->kind_in_use && (!strcmp(rc->kind_in_use, "tap")
                            || !strcmp(rc->kind_in_use, "vhost-net"))) {
        smap_add_format(status, "queues_requested", "%d", rc->queues);
        if (rc->ifindex) {
            /* A multiqueue tap shows the queues a VM has attached; a
             * single-queue one always has its one. */
            smap_add_format(status, "queues_attached", "%d",
                            count_queues(p->name));
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
    if (st != TXN_SUCCESS && st != TXN_UNCHANGED) {
        VLOG_WARN("writing status failed: %s",
                  ovsdb_idl_txn_status_to_string(st));
        need_pass = true;
    }
    ovsdb_idl_txn_destroy(status_txn);
    status_txn = NULL;
    return false;
}

static void
reconcile_pass(const struct vswrec_root *root)
{
    size_t n = 0;
    struct rc_switch *rcs = xcalloc(root->n_switches + 1, sizeof *rcs);
    const struct vswrec_switch **rows = xcalloc(root->n_switches + 1,
                                                sizeof *rows);
    char **names = xcalloc(root->n_switches + 1, sizeof *names);

    size_t n_strs = 0;
    for (size_t i = 0; i < root->n_switches; i++) {
        n_strs += root->switches[i]->n_ports;
    }
    struct port_strings *strs = xcalloc(n_strs + 1, sizeof *strs);
    n_strs = 0;
    for (size_t i = 0; i < root->n_switches; i++) {
        const struct vswrec_switch *sw = root->switches[i];
        if (is_managed_here(sw)) {
            rows[n] = sw;
            fill_desired(&rcs[n], sw, &names[n]);
            for (size_t j = 0; j < sw->n_ports; j++) {
                fill_port(&rcs[n].ports[j], sw, sw->ports[j],
                          &strs[n_strs++]);
            }
            n++;
        }
    }

    struct vsw_offload *offs = xcalloc(n + 1, sizeof *offs);
    for (size_t i = 0; i < n; i++) {
        vsw_offload_init(&offs[i]);
    }

    struct dp_links links;
    dp_links_init(&links);
    bool settled = false;
    int error = dp_links_dump(&links);
    bool vlans = false;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < rcs[i].n_ports; j++) {
            vlans |= rcs[i].ports[j].vlan_mode != RC_VLAN_NONE;
        }
    }
    if (!error && vlans) {
        error = dp_links_dump_vlans(&links);
    }
    if (error) {
        VLOG_ERR("cannot read the kernel's links: %s", dp_nl_error());
    } else {
        n_passes++;
        bool changed = rc_reconcile(rcs, n, &links, &rc_kernel_ops);
        for (size_t i = 0; i < n; i++) {
            changed |= vsw_offload_uplink(rows[i], &rcs[i], &offs[i]);
        }
        bool failed = false;
        for (size_t i = 0; i < n; i++) {
            failed |= !rcs[i].ok;
            for (size_t j = 0; j < rcs[i].n_ports; j++) {
                failed |= !rcs[i].ports[j].ok;
            }
        }
        /* A pass that changed the kernel is confirmed by another one on a
         * fresh dump, except when something failed: then the periodic
         * resync retries, so a refusing kernel is not hammered. */
        settled = !changed || failed;

        /* A kernel that keeps differing from what we just made (another
         * program fighting us, or a bug) must not make us spin. */
        static int n_unsettled;
        n_unsettled = settled ? 0 : n_unsettled + 1;
        if (n_unsettled > 10) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
            VLOG_WARN_RL(&rl, "the kernel does not converge after %d "
                         "passes; retrying every %d s", n_unsettled,
                         RESYNC_INTERVAL / 1000);
            settled = true;
        }
        need_pass |= !settled;
    }
    dp_links_destroy(&links);

    /* Observed state back to the database, only what differs. */
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    ovsdb_idl_txn_add_comment(txn, "vswitchd: status");
    bool wrote = false;
    for (size_t i = 0; !error && i < n; i++) {
        struct smap status;
        make_status(&rcs[i], &status);
        struct smap_node *probe;
        SMAP_FOR_EACH (probe, &offs[i].probe) {
            smap_replace(&status, probe->key, probe->value);
        }
        if (!smap_equal(&status, &rows[i]->status)) {
            if (rcs[i].error.length) {
                static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
                VLOG_WARN_RL(&rl, "switch %s: %s", rows[i]->name,
                             ds_cstr(&rcs[i].error));
            }
            vswrec_switch_set_status(rows[i], &status);
            wrote = true;
        }
        smap_destroy(&status);

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

        for (size_t j = 0; j < rcs[i].n_ports; j++) {
            const struct vswrec_port *p = rows[i]->ports[j];
            struct rc_port *rp = &rcs[i].ports[j];
            make_port_status(rp, p, &status);
            if (rp->ifindex && rp->kind_in_use
                && (!strcmp(rp->kind_in_use, "tap")
                    || !strcmp(rp->kind_in_use, "vhost-net"))) {
                vsw_offload_vnic_status(p->name, rows[i]->uplink
                                        ? &offs[i].eff : NULL, &status);
            }
            if (j < offs[i].n_ports) {
                struct smap_node *vmq;
                SMAP_FOR_EACH (vmq, &offs[i].port_vmq[j]) {
                    smap_replace(&status, vmq->key, vmq->value);
                }
            }
            if (!smap_equal(&status, &p->status)) {
                if (rp->error.length) {
                    static struct vlog_rate_limit rl
                        = VLOG_RATE_LIMIT_INIT(5, 5);
                    VLOG_WARN_RL(&rl, "port %s: %s", p->name,
                                 ds_cstr(&rp->error));
                }
                vswrec_port_set_status(p, &status);
                wrote = true;
            }
            smap_destroy(&status);
        }
    }
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
    free(offs);
    free(strs);
    free(rcs);
    free(rows);
    free(names);
}

void
bridge_run(void)
{
    ovsdb_idl_run(idl);

    if (dp_nl_notify_run()) {
        need_pass = true;
    }
    if (ovsdb_idl_get_seqno(idl) != last_seqno) {
        last_seqno = ovsdb_idl_get_seqno(idl);
        need_pass = true;
    }
    if (time_msec() >= next_resync) {
        need_pass = true;
    }

    /* Never act on a database we have not read in full: an empty view
     * would delete every switch. */
    const struct vswrec_root *root = vswrec_root_first(idl);
    if (!need_pass || !root || !ovsdb_idl_has_ever_connected(idl)
        || status_txn_busy()) {
        return;
    }
    need_pass = false;
    next_resync = time_msec() + RESYNC_INTERVAL;
    reconcile_pass(root);
}

void
bridge_wait(void)
{
    ovsdb_idl_wait(idl);
    dp_nl_notify_wait();
    if (status_txn) {
        ovsdb_idl_txn_wait(status_txn);
    }
    if (need_pass && vswrec_root_first(idl) && !status_txn) {
        poll_immediate_wake();
    }
    poll_timer_wait_until(next_resync);
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
                info->owner = resolve_id(p->owner, true);
                info->group = resolve_id(p->group, false);
                info->up = smap_get_int(&p->status, "ifindex", 0) != 0;
                return true;
            }
        }
    }
    return false;
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
                  " passes=%"PRIu64"\n", c.modify, c.modify_failed, c.dump,
                  c.notify, c.resync, n_passes);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
bridge_unixctl_reconcile(struct unixctl_conn *conn, int argc OVS_UNUSED,
                         const char *argv[] OVS_UNUSED,
                         void *aux OVS_UNUSED)
{
    need_pass = true;
    poll_immediate_wake();
    unixctl_command_reply(conn, NULL);
}
