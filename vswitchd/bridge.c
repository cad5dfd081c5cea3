/* The reconciler's database side; see bridge.h.
 *
 * A pass runs when the database changed, when the kernel reported a link
 * change, when a previous pass changed something (to confirm it), and
 * every few seconds as a safety net.  Each pass dumps the kernel's links
 * once.  Status is written only when it differs from what the database
 * holds, so an idle switch costs no database writes either. */
#include <config.h>

#include "vswitchd/bridge.h"

#include <string.h>

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
#include "vswitchd/paths.h"
#include "vswitchd/reconcile.h"

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

    for (size_t i = 0; i < root->n_switches; i++) {
        const struct vswrec_switch *sw = root->switches[i];
        if (is_managed_here(sw)) {
            rows[n] = sw;
            fill_desired(&rcs[n], sw, &names[n]);
            n++;
        }
    }

    struct dp_links links;
    dp_links_init(&links);
    bool settled = false;
    int error = dp_links_dump(&links);
    if (error) {
        VLOG_ERR("cannot read the kernel's links: %s", dp_nl_error());
    } else {
        n_passes++;
        bool changed = rc_reconcile(rcs, n, &links, &rc_kernel_ops);
        bool failed = false;
        for (size_t i = 0; i < n; i++) {
            failed |= !rcs[i].ok;
        }
        /* A pass that changed the kernel is confirmed by another one on a
         * fresh dump, except when something failed: then the periodic
         * resync retries, so a refusing kernel is not hammered. */
        settled = !changed || failed;
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
        rc_switch_destroy(&rcs[i]);
        free(names[i]);
    }
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
