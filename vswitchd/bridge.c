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
#include <linux/if_tun.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "datapath/ifname.h"
#include "hash.h"
#include "datapath/link.h"
#include "datapath/netlink.h"
#include "datapath/nft.h"
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
#include "vswitchd/db-remote.h"
#include "vswitchd/desired.h"
#include "vswitchd/host-row.h"
#include "vswitchd/events.h"
#include "vswitchd/paths.h"
#include "vswitchd/port-row.h"
#include "vswitchd/validate.h"
#include "vswitchd/offload.h"
#include "vswitchd/reconcile.h"
#include "vswitchd/stats.h"
#include "vswitchd/stats-http.h"
#include "vswitchd/status.h"
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
static bool db_shared;          /* --db: the Root row is not ours. */
static struct vsw_db_remote db_remote;  /* Back soon after a failover. */
static unsigned int last_seqno;
static bool need_pass = true;

/* The kernel's links, kept current by notifications. */
static struct dp_links kernel;
static bool kernel_dumped;      /* False: dump before the next pass. */

/* What the next pass converges: every object, or the dirty ones. */
static bool full_needed = true;
static bool nft_distrust;       /* Another program changed vsw's nftables
                                 * tables: the next full pass reads all. */
static bool nft_watched;        /* Changes to them are heard; else every
                                 * full pass reads them. */
static struct uuidset dirty = UUIDSET_INITIALIZER(&dirty);   /* Rows. */
/* Switches whose own settings changed in the database: all their ports
 * are converged too (a switch changed in the kernel converges itself). */
static struct uuidset dirty_all = UUIDSET_INITIALIZER(&dirty_all);
static struct sset dirty_names = SSET_INITIALIZER(&dirty_names);
static bool dirty_iov;          /* A representor changed. */
static bool dirty_uplinks;      /* An ethtool notification without device. */
static bool switches_gone;      /* A switch row was deleted. */
static struct uuidset failing = UUIDSET_INITIALIZER(&failing);

/* Which switch each port row was in at the last pass, and whether it has
 * VLAN, mirroring or bandwidth weight settings: a port that came, went or
 * moved concerns every port of an SR-IOV switch (the VFs are shared), and
 * a deleted row no longer says where it was.  Kept with it, per switch,
 * how many ports name it and how many of those have settings that concern
 * all of its ports (VLANs, mirroring, weights), so that a pass knows
 * whether it needs all of
 * a switch's ports without reading them (gather_switches()).
 * Brought up to date by each full pass, kept current by mark_db_changes(). */
struct port_home {
    struct hmap_node node;      /* In 'port_homes', by port uuid. */
    struct uuid port, sw;
    bool switch_wide;           /* VLAN, mirroring, weight. */
    uint64_t seen;              /* The last full pass that saw it. */
};
static struct hmap port_homes = HMAP_INITIALIZER(&port_homes);
struct switch_tally {
    struct hmap_node node;      /* In 'tallies', by switch uuid. */
    struct uuid sw;
    size_t n_ports, n_switch_wide;  /* Ports, and those switch_wide. */
};
static struct hmap tallies = HMAP_INITIALIZER(&tallies);
static struct ovsdb_idl_index *ports_by_switch;     /* Port.switch. */
static struct ovsdb_idl_index *ports_by_name;       /* Port.name. */
static long long int next_resync;
static struct ovsdb_idl_txn *status_txn;
static bool compact_db;         /* A big pass wrote its status: conf.db to
                                 * be compacted once that is done. */
static uint64_t n_passes;

/* Adoption: taps another program put in a vsw bridge (libvirt's vnetN,
 * one hot-plugged with virsh attach-interface), by name, each to get a
 * Port row with 'adopted' true; and adopted ports whose tap is gone,
 * whose rows go.  Both are written by adoption_run(). */
static struct sset strays = SSET_INITIALIZER(&strays);
static struct uuidset adopted_gone = UUIDSET_INITIALIZER(&adopted_gone);
static struct shash adopted_renamed         /* Port uuid -> its tap's name. */
    = SHASH_INITIALIZER(&adopted_renamed);

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
};
static const struct ovsdb_idl_column *const port_inputs[] = {
    &vswrec_port_col_name, &vswrec_port_col_host, &vswrec_port_col_switch_,
    &vswrec_port_col_kind, &vswrec_port_col_adopted,
    &vswrec_port_col_mac, &vswrec_port_col_mtu, &vswrec_port_col_queues,
    &vswrec_port_col_netns, &vswrec_port_col_owner, &vswrec_port_col_group,
    &vswrec_port_col_vlan_mode, &vswrec_port_col_tag,
    &vswrec_port_col_trunks, &vswrec_port_col_iov_weight,
    &vswrec_port_col_vmq_weight, &vswrec_port_col_other_config,
    &vswrec_port_col_mac_spoofing, &vswrec_port_col_dhcp_guard,
    &vswrec_port_col_router_guard, &vswrec_port_col_max_bandwidth,
    &vswrec_port_col_min_bandwidth_weight, &vswrec_port_col_storm_limit,
    &vswrec_port_col_mirror, &vswrec_port_col_acls,
};
static const struct ovsdb_idl_column *const acl_inputs[] = {
    &vswrec_acl_col_direction, &vswrec_acl_col_action,
    &vswrec_acl_col_local_address, &vswrec_acl_col_remote_address,
    &vswrec_acl_col_protocol, &vswrec_acl_col_local_ports,
    &vswrec_acl_col_remote_ports, &vswrec_acl_col_weight,
    &vswrec_acl_col_stateful, &vswrec_acl_col_idle_timeout,
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

static void bridge_unixctl_counters(struct unixctl_conn *, int argc,
                                    const char *argv[], void *aux);
static void bridge_unixctl_reconcile(struct unixctl_conn *, int argc,
                                     const char *argv[], void *aux);

/* The Port rows monitored: this host's, and any that names one of its
 * switches (a row whose host is wrong, e.g. a duplicate kept by a schema
 * conversion: its status says why it is not applied).  The condition
 * names the switches: made again when they change. */
static struct uuidset cond_switches = UUIDSET_INITIALIZER(&cond_switches);

static void
monitor_ports(void)
{
    struct ovsdb_idl_condition cond = OVSDB_IDL_CONDITION_INIT(&cond);
    vswrec_port_add_clause_host(&cond, OVSDB_F_EQ, vsw_host_id());
    const struct uuidset_node *un;
    UUIDSET_FOR_EACH (un, &cond_switches) {
        vswrec_port_add_clause_switch_(&cond, OVSDB_F_EQ, &un->uuid);
    }
    vswrec_port_set_condition(idl, &cond);
    ovsdb_idl_condition_destroy(&cond);
}

static void
monitor_ports_run(void)
{
    const struct vswrec_switch *sw;
    size_t n = 0;
    bool same = true;
    VSWREC_SWITCH_FOR_EACH (sw, idl) {
        n++;
        same = same && uuidset_contains(&cond_switches, &sw->header_.uuid);
    }
    if (same && n == uuidset_count(&cond_switches)) {
        return;
    }
    uuidset_clear(&cond_switches);
    VSWREC_SWITCH_FOR_EACH (sw, idl) {
        uuidset_insert(&cond_switches, &sw->header_.uuid);
    }
    monitor_ports();
}

void
bridge_init(const char *remote, bool shared)
{
    db_shared = shared;
    idl = ovsdb_idl_create(remote, &vswrec_idl_class, true, true);
    vsw_db_remote_init(&db_remote, idl, remote);
    /* Any member of a cluster that is connected to it, not only the
     * leader: a follower forwards transactions to the leader, and many
     * hosts' reads are spread over the members (as OVN's ovn-controller
     * does). */
    ovsdb_idl_set_leader_only(idl, false);
    /* Columns we write must not wake us up. */
    ovsdb_idl_omit_alert(idl, &vswrec_root_col_cur_cfg);
    ovsdb_idl_omit_alert(idl, &vswrec_root_col_status);
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_status);
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_statistics);
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_offload_requested);
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_offload_effective);
    ovsdb_idl_omit_alert(idl, &vswrec_switch_col_offload_reason);
    ovsdb_idl_omit_alert(idl, &vswrec_port_col_statistics);
    ovsdb_idl_omit_alert(idl, &vswrec_acl_col_status);
    ovsdb_idl_omit_alert(idl, &vswrec_acl_col_statistics);
    ovsdb_idl_omit_alert(idl, &vswrec_host_col_hostname);
    ovsdb_idl_omit_alert(idl, &vswrec_host_col_version);
    ovsdb_idl_omit_alert(idl, &vswrec_host_col_cur_cfg);
    ovsdb_idl_omit_alert(idl, &vswrec_host_col_last_seen);
    ovsdb_idl_omit_alert(idl, &vswrec_host_col_status);

    /* This host's rows only (conditional monitoring): what a vswitchd
     * receives for a change, and keeps, does not grow with the number of
     * hosts sharing the database. */
    struct ovsdb_idl_condition cond = OVSDB_IDL_CONDITION_INIT(&cond);
    vswrec_switch_add_clause_host(&cond, OVSDB_F_EQ, vsw_host_id());
    vswrec_switch_set_condition(idl, &cond);
    ovsdb_idl_condition_destroy(&cond);
    monitor_ports();
    ovsdb_idl_condition_init(&cond);
    vswrec_host_add_clause_name(&cond, OVSDB_F_EQ, vsw_host_id());
    vswrec_host_set_condition(idl, &cond);
    ovsdb_idl_condition_destroy(&cond);
    /* ACL entries: this host's, and those made before they had a host
     * (given theirs by host_run()). */
    ovsdb_idl_condition_init(&cond);
    vswrec_acl_add_clause_host(&cond, OVSDB_F_EQ, vsw_host_id());
    vswrec_acl_add_clause_host(&cond, OVSDB_F_EQ, "");
    vswrec_acl_set_condition(idl, &cond);
    ovsdb_idl_condition_destroy(&cond);

    /* The columns a pass reads: their changes mark rows dirty. */
    for (size_t i = 0; i < ARRAY_SIZE(switch_inputs); i++) {
        ovsdb_idl_track_add_column(idl, switch_inputs[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(port_inputs); i++) {
        ovsdb_idl_track_add_column(idl, port_inputs[i]);
    }
    /* Whoever changes a port's status (vswitchd itself included), the
     * status writer's memo of it goes (status_forget_port()); the change
     * makes no pass converge the port. */
    ovsdb_idl_track_add_column(idl, &vswrec_port_col_status);
    for (size_t i = 0; i < ARRAY_SIZE(acl_inputs); i++) {
        ovsdb_idl_track_add_column(idl, acl_inputs[i]);
    }
    ports_by_switch = ovsdb_idl_index_create1(idl, &vswrec_port_col_switch_);
    ports_by_name = ovsdb_idl_index_create1(idl, &vswrec_port_col_name);

    dp_links_init(&kernel);
    stats_init();
    dp_nl_notify_open();
    nft_watched = dp_nft_watch_open() >= 0;
    rc_temp_records_sweep();
    desired_init();
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
            events_port_status(p->switch_ ? p->switch_->name : NULL, p, old,
                               &status);
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

/* Whether 'link' looks like a tap another program put in a bridge: a tap,
 * untagged, with a master (which adoption_run() checks is a vsw bridge). */
static bool
may_be_stray(const struct dp_link *link)
{
    return (link && link->master && !strcmp(link->kind, "tun")
            && (link->tun_flags & IFF_TAP) && !vsw_is_tag(link->alias)
            && !vsw_ifname_is_temp(link->name));
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
            if (may_be_stray(link)) {
                sset_add(&strays, link->name);
            }
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

static struct switch_tally *
tally_find(const struct uuid *sw)
{
    struct switch_tally *t;
    HMAP_FOR_EACH_WITH_HASH (t, node, uuid_hash(sw), &tallies) {
        if (uuid_equals(&t->sw, sw)) {
            return t;
        }
    }
    return NULL;
}

/* Counts 'ph' in its switch's tally ('sign' 1) or no longer (-1). */
static void
tally_count(const struct port_home *ph, int sign)
{
    struct switch_tally *t = tally_find(&ph->sw);
    if (!t) {
        ovs_assert(sign > 0);
        t = xzalloc(sizeof *t);
        t->sw = ph->sw;
        hmap_insert(&tallies, &t->node, uuid_hash(&t->sw));
    }
    t->n_ports += sign;
    t->n_switch_wide += ph->switch_wide ? sign : 0;
    if (!t->n_ports) {
        hmap_remove(&tallies, &t->node);
        free(t);
    }
}

/* Records that port 'p' is in switch 'sw' now; returns its entry. */
static struct port_home *
port_home_set(struct port_home *ph, const struct vswrec_port *p,
              const struct uuid *sw)
{
    if (ph) {
        tally_count(ph, -1);
    } else {
        ph = xmalloc(sizeof *ph);
        ph->port = p->header_.uuid;
        hmap_insert(&port_homes, &ph->node, uuid_hash(&ph->port));
    }
    ph->sw = *sw;
    /* VLANs (the uplink trunks them all), mirroring (a destination gets
     * every source's copies) and bandwidth weights (the uplink's
     * bandwidth is shared by all of them) concern all of the switch's
     * ports. */
    ph->switch_wide = (p->vlan_mode != NULL || p->mirror != NULL
                       || p->min_bandwidth_weight != NULL);
    tally_count(ph, 1);
    return ph;
}

static void
port_home_remove(struct port_home *ph)
{
    tally_count(ph, -1);
    hmap_remove(&port_homes, &ph->node);
    free(ph);
}

/* A port of switch 'sw_uuid' came, went or moved: on an SR-IOV switch the
 * VFs are shared, and a port with settings that concern all of its
 * switch's ports ('switch_wide': a mirror destination, a bandwidth weight)
 * that went changes what the others have, so every port of that switch is
 * converged. */
static void
mark_shared_switch(const struct uuid *sw_uuid, bool switch_wide)
{
    const struct vswrec_switch *sw = vswrec_switch_get_for_uuid(idl, sw_uuid);
    if (sw && (sw->iov || switch_wide)) {
        uuidset_insert(&dirty, sw_uuid);
        uuidset_insert(&dirty_all, sw_uuid);
    }
}

/* Marks dirty what the database changed since the last pass: a switch
 * whose own settings changed with all its ports (name, MTU, host,
 * uplink...), a port that came, went, moved or changed by itself. */
static void
mark_db_changes(void)
{
    const struct vswrec_switch *sw;
    VSWREC_SWITCH_FOR_EACH_TRACKED (sw, idl) {
        if (vswrec_switch_is_deleted(sw) || vswrec_switch_is_new(sw)
            || inputs_changed(&sw->header_, switch_inputs,
                              ARRAY_SIZE(switch_inputs))) {
            uuidset_insert(&dirty, &sw->header_.uuid);
            uuidset_insert(&dirty_all, &sw->header_.uuid);
            switches_gone |= vswrec_switch_is_deleted(sw);
            if (vswrec_switch_is_deleted(sw) && sw->name && sw->host
                && is_managed_here(sw) && smap_get(&sw->status, "state")) {
                vsw_event("switch-deleted", sw->name, NULL, NULL, NULL);
            }
        }
    }
    const struct vswrec_port *p;
    bool port_acls_changed = false;
    VSWREC_PORT_FOR_EACH_TRACKED (p, idl) {
        port_acls_changed |= (vswrec_port_is_deleted(p)
                              || vswrec_port_is_new(p)
                              || ovsdb_idl_track_is_updated(
                                  &p->header_, &vswrec_port_col_acls));
        if (vswrec_port_is_deleted(p) || vswrec_port_is_new(p)
            || ovsdb_idl_track_is_updated(&p->header_,
                                          &vswrec_port_col_status)) {
            status_forget_port(&p->header_.uuid);
        }
        if (!vswrec_port_is_deleted(p) && !vswrec_port_is_new(p)
            && !inputs_changed(&p->header_, port_inputs,
                               ARRAY_SIZE(port_inputs))) {
            continue;
        }
        uuidset_insert(&dirty, &p->header_.uuid);
        struct port_home *ph = port_home_find(&p->header_.uuid);
        if (vswrec_port_is_deleted(p)) {
            if (p->name && p->host && !strcmp(p->host, vsw_host_id())
                && smap_get(&p->status, "ifindex")) {
                const struct vswrec_switch *home = (ph
                    ? vswrec_switch_get_for_uuid(idl, &ph->sw) : NULL);
                struct smap d = SMAP_INITIALIZER(&d);
                smap_add(&d, "why", "port deleted");
                vsw_event("port-detached", home ? home->name : NULL, p->name,
                          p, &d);
                smap_destroy(&d);
            }
            if (ph) {
                mark_shared_switch(&ph->sw, ph->switch_wide);
                port_home_remove(ph);
            }
            continue;
        }
        if (p->name) {
            sset_add(&dirty_names, p->name);   /* Its rivals for the name. */
        }
        const struct uuid *home = p->switch_ ? &p->switch_->header_.uuid : NULL;
        if (ph && (!home || !uuid_equals(&ph->sw, home))) {
            mark_shared_switch(&ph->sw, ph->switch_wide);
        }
        if (home && (!ph || !uuid_equals(&ph->sw, home))) {
            mark_shared_switch(home, false);
        }
        if (home) {
            port_home_set(ph, p, home);
        } else if (ph) {
            port_home_remove(ph);
        }
    }
    /* An ACL comes and goes with its port's 'acls' (a change of the
     * port); one changed in place (by a client other than vswctl) names
     * no port: every port's policy is looked at. */
    const struct vswrec_acl *a;
    VSWREC_ACL_FOR_EACH_TRACKED (a, idl) {
        if (!vswrec_acl_is_deleted(a) && !vswrec_acl_is_new(a)
            && inputs_changed(&a->header_, acl_inputs,
                              ARRAY_SIZE(acl_inputs))) {
            full_needed = true;
        }
        /* One that came or went with no port's list changing: given
         * another host, or back (it entered or left what this host
         * monitors), and its port is to say so. */
        if ((vswrec_acl_is_deleted(a) || vswrec_acl_is_new(a))
            && !port_acls_changed) {
            full_needed = true;
        }
    }
    ovsdb_idl_track_clear(idl);
}

/* Ports of one switch in a pass's scope (gather_switches()). */
struct scoped_ports {
    struct hmap_node node;      /* By switch uuid. */
    struct uuid sw;
    const struct vswrec_port **ports;
    size_t n, allocated;
    bool vmq;                   /* One of them may hold a VMQ queue. */
};

static struct scoped_ports *
scoped_ports_find(const struct hmap *by_sw, const struct uuid *sw)
{
    struct scoped_ports *sp;
    HMAP_FOR_EACH_WITH_HASH (sp, node, uuid_hash(sw), by_sw) {
        if (uuid_equals(&sp->sw, sw)) {
            return sp;
        }
    }
    return NULL;
}

static void
scope_add_port(struct hmap *by_sw, struct uuidset *seen,
               const struct vswrec_port *p)
{
    if (!p->switch_ || uuidset_contains(seen, &p->header_.uuid)) {
        return;
    }
    uuidset_insert(seen, &p->header_.uuid);
    const struct uuid *sw = &p->switch_->header_.uuid;
    struct scoped_ports *sp = scoped_ports_find(by_sw, sw);
    if (!sp) {
        sp = xzalloc(sizeof *sp);
        sp->sw = *sw;
        hmap_insert(by_sw, &sp->node, uuid_hash(sw));
    }
    if (sp->n >= sp->allocated) {
        sp->ports = x2nrealloc(sp->ports, &sp->allocated, sizeof *sp->ports);
    }
    sp->ports[sp->n++] = p;
    sp->vmq |= p->vmq_weight > 0 || smap_get(&p->status, "vmq_queue");
}

static int
compare_port_uuids(const void *a_, const void *b_)
{
    const struct vswrec_port *const *a = a_, *const *b = b_;
    return uuid_compare_3way(&(*a)->header_.uuid, &(*b)->header_.uuid);
}

/* The ports of 'scope', by switch: the rows marked and whoever wants one of
 * the names. */
static void
scope_ports(const struct desired_scope *scope, struct hmap *by_sw)
{
    struct uuidset seen = UUIDSET_INITIALIZER(&seen);
    const struct uuidset_node *un;
    UUIDSET_FOR_EACH (un, scope->objects) {
        const struct vswrec_port *p = vswrec_port_get_for_uuid(idl,
                                                               &un->uuid);
        if (p) {
            scope_add_port(by_sw, &seen, p);
        }
    }
    const char *name;
    SSET_FOR_EACH (name, scope->names) {
        /* A key row per value: setting a key row's column again leaks the
         * value before. */
        struct vswrec_port *key = vswrec_port_index_init_row(ports_by_name);
        vswrec_port_index_set_name(key, name);
        const struct vswrec_port *p;
        VSWREC_PORT_FOR_EACH_EQUAL (p, key, ports_by_name) {
            scope_add_port(by_sw, &seen, p);
        }
        vswrec_port_index_destroy_row(key);
    }
    uuidset_destroy(&seen);
}

/* Every port row naming switch 'sw' (the Port.switch index, in uuid
 * order), in a malloc()'d array of '*n'. */
static const struct vswrec_port **
ports_of_switch(const struct vswrec_switch *sw, size_t *n)
{
    const struct vswrec_port **ports = NULL;
    size_t allocated = 0;
    struct vswrec_port *key = vswrec_port_index_init_row(ports_by_switch);
    const struct vswrec_port *p;

    *n = 0;
    vswrec_port_index_set_switch_(key, sw);
    VSWREC_PORT_FOR_EACH_EQUAL (p, key, ports_by_switch) {
        if (*n >= allocated) {
            ports = x2nrealloc(ports, &allocated, sizeof *ports);
        }
        ports[(*n)++] = p;
    }
    vswrec_port_index_destroy_row(key);
    return ports;
}

/* This host's switches with their ports for one pass over 'scope': all of
 * a switch's ports where the pass needs them all
 * (desired_needs_all_ports()), otherwise only those in the scope, so that
 * a pass over one port does not read the others. */
static struct switch_rows *
gather_switches(const struct desired_scope *scope, size_t *n)
{
    size_t n_sw = 0, allocated = 0;
    struct switch_rows *out = NULL;
    struct hmap by_sw = HMAP_INITIALIZER(&by_sw);
    if (!scope->full) {
        scope_ports(scope, &by_sw);
    }

    const struct vswrec_switch *sw;
    VSWREC_SWITCH_FOR_EACH (sw, idl) {
        if (!is_managed_here(sw)) {
            continue;
        }
        if (n_sw >= allocated) {
            out = x2nrealloc(out, &allocated, sizeof *out);
        }
        struct switch_rows *sr = &out[n_sw++];
        const struct uuid *uuid = &sw->header_.uuid;
        struct scoped_ports *sp = scoped_ports_find(&by_sw, uuid);
        const struct switch_tally *t = tally_find(uuid);
        sr->row = sw;
        sr->ports = NULL;
        sr->n_ports = 0;
        sr->n_in_db = t ? t->n_ports : 0;
        if (desired_needs_all_ports(sw, scope, sr->n_in_db,
                                    t ? t->n_switch_wide : 0,
                                    sp && sp->vmq)) {
            sr->ports = ports_of_switch(sw, &sr->n_ports);
            sr->n_in_db = sr->n_ports;
        } else if (sp) {
            qsort(sp->ports, sp->n, sizeof *sp->ports, compare_port_uuids);
            sr->ports = sp->ports;
            sr->n_ports = sp->n;
            sp->ports = NULL;
        }
    }
    struct scoped_ports *sp;
    HMAP_FOR_EACH_POP (sp, node, &by_sw) {
        free(sp->ports);
        free(sp);
    }
    hmap_destroy(&by_sw);
    *n = n_sw;
    return out;
}

static void
free_switches(struct switch_rows *sws, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(sws[i].ports);
    }
    free(sws);
}

static bool
work_pending(void)
{
    return (full_needed || !uuidset_is_empty(&dirty)
            || !sset_is_empty(&dirty_names) || dirty_iov || dirty_uplinks
            || !sset_is_empty(&strays) || !uuidset_is_empty(&adopted_gone)
            || !shash_is_empty(&adopted_renamed));
}

static void
port_homes_clear(void)
{
    struct port_home *ph;
    HMAP_FOR_EACH_POP (ph, node, &port_homes) {
        free(ph);
    }
    struct switch_tally *t;
    HMAP_FOR_EACH_POP (t, node, &tallies) {
        free(t);
    }
}

/* One pass over the dirty objects, or over all of them with 'full'. */
static void
reconcile_pass(const struct vswrec_root *root, bool full)
{
    long long int start = time_usec();

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
    bool changed_any = false;   /* The kernel or the database. */
    if (full || !kernel_dumped) {
        error = dp_links_dump(&kernel);
        kernel_dumped = !error;
        full = true;
    }
    if (full) {
        const struct dp_link *link;
        HMAP_FOR_EACH (link, node, &kernel.by_index) {
            if (may_be_stray(link)) {
                sset_add(&strays, link->name);
            }
        }
    }
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
            if (uuidset_contains(&cur_all, &un->uuid)) {
                size_t n_ports;
                const struct vswrec_port **ports = ports_of_switch(sw,
                                                                   &n_ports);
                for (size_t j = 0; j < n_ports; j++) {
                    sset_add(&cur_names, ports[j]->name);
                }
                free(ports);
            }
        }
    }
    bool scope_all = full || switches_gone;
    switches_gone = false;

    struct desired d;
    struct desired_scope scope = {
        .full = full,
        .objects = &cur,
        .all_ports = &cur_all,
        .names = &cur_names,
        .uplinks = cur_uplinks,
        .iov = cur_iov,
        .vhost_available = !access("/dev/vhost-net", F_OK),
    };
    size_t n_in;
    struct switch_rows *in = gather_switches(&scope, &n_in);
    desired_build(&d, in, n_in, vsw_host_id(), &kernel, &scope);
    size_t n = d.n;
    struct rc_switch *rcs = d.switches;
    const struct switch_rows *rows = d.rows;
    size_t n_converged = d.n_converged;
    if (full) {
        /* Where each port is (see port_homes): updated in place, and the
         * entries of ports this pass did not see removed. */
        static uint64_t seen;
        seen++;
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < rows[i].n_ports; j++) {
                const struct vswrec_port *p = rows[i].ports[j];
                struct port_home *ph = port_home_set(
                    port_home_find(&p->header_.uuid), p,
                    &rows[i].row->header_.uuid);
                ph->seen = seen;
            }
        }
        struct port_home *ph;
        HMAP_FOR_EACH_SAFE (ph, node, &port_homes) {
            if (ph->seen != seen) {
                port_home_remove(ph);
            }
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
        bool unheard = (n_converged > BULK_OBJECTS
                        || uuidset_count(&cur) > BULK_OBJECTS);
        if (unheard) {
            dp_nl_notify_flush(&listener);
            dp_nl_notify_pause();
        }
        bool distrust = full && (nft_distrust || !nft_watched);
        nft_distrust &= !full;
        bool changed = rc_reconcile(rcs, n, &kernel, &rc_kernel_ops,
                                    (dbserver_damage() ? 0 : RC_MAY_DELETE)
                                    | (full ? 0 : RC_INCREMENTAL)
                                    | (distrust ? RC_DISTRUST : 0),
                                    scope_all ? NULL : &cur);
        changed_any = changed;
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
                if (rp->created && rc_port_on_tap(rp)) {
                    vsw_offload_vnic_fresh(rp->ifindex);
                }
                if (rp->dirty && rp->device_gone) {
                    uuidset_insert(&adopted_gone, &rp->uuid);
                }
                if (rp->dirty && rp->renamed_to[0]) {
                    char key[UUID_LEN + 1];
                    snprintf(key, sizeof key, UUID_FMT,
                             UUID_ARGS(&rp->uuid));
                    free(shash_replace(&adopted_renamed, key,
                                       xstrdup(rp->renamed_to)));
                }
            }
        }
        for (size_t i = 0; i < n; i++) {
            /* The uplink's offloads: when the switch changed, or a port
             * that may hold a VMQ queue did. */
            bool run = rcs[i].dirty;
            for (size_t j = 0; !run && j < rcs[i].n_ports; j++) {
                run = (rcs[i].ports[j].dirty
                       && (rows[i].ports[j]->vmq_weight > 0
                           || smap_get(&rows[i].ports[j]->status,
                                       "vmq_queue")));
            }
            if (run && rcs[i].type == RC_EXTERNAL && rcs[i].uplink_ifindex) {
                offload_ran[i] = true;
                changed |= vsw_offload_uplink(&rows[i], &rcs[i], &offs[i]);
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
    bool wrote = !error && status_write(rcs, rows, n, offs, offload_ran,
                                        &kernel);
    /* What concerns this host: in the Root row on the embedded database,
     * in this host's Host row on a shared one (where the Root row is
     * everyone's, and access control lets a host write only its own). */
    struct smap root_status = SMAP_INITIALIZER(&root_status);
    const char *listen_error = stats_http_listen(root->stats_listen);
    if (listen_error) {
        smap_add(&root_status, "stats_listen", listen_error);
    }
    const char *beat = smap_get(&root->other_config, "host-heartbeat");
    const char *beat_error = vsw_check_host_heartbeat(beat);
    if (beat_error) {
        static char *warned;            /* The value last warned about. */
        if (!warned || strcmp(warned, beat)) {
            VLOG_WARN("other_config:host-heartbeat \"%s\": %s; the "
                      "default is used", beat, beat_error);
            free(warned);
            warned = xstrdup(beat);
        }
        smap_add_format(&root_status, "host_heartbeat", "other_config:"
                        "host-heartbeat \"%s\" is not used (%s): %d ms "
                        "are; set a valid value or remove it", beat,
                        beat_error, vsw_host_heartbeat(root));
    }
    const struct vswrec_host *host = vsw_host_find(idl, vsw_host_id());
    if (db_shared) {
        smap_add(&root_status, "instance", vsw_host_instance());
    }
    if (db_shared && host && !smap_equal(&root_status, &host->status)) {
        vswrec_host_set_status(host, &root_status);
        wrote = true;
    }
    if (dbserver_damage()) {
        smap_add(&root_status, "db_damaged", dbserver_damage());
        if (!smap_get(&root->status, "db_damaged")) {
            struct smap d = SMAP_INITIALIZER(&d);
            smap_add(&d, "db_damaged", dbserver_damage());
            vsw_event("database-damaged", NULL, NULL, NULL, &d);
            smap_destroy(&d);
        }
    }
    if (!db_shared && !smap_equal(&root_status, &root->status)) {
        vswrec_root_set_status(root, &root_status);
        wrote = true;
    }
    smap_destroy(&root_status);
    if (!db_shared && settled && root->cur_cfg != root->next_cfg) {
        vswrec_root_set_cur_cfg(root, root->next_cfg);
        wrote = true;
    }
    if (host && (!vsw_host_cfg_in_range(host->next_cfg)
                 || !vsw_host_cfg_in_range(host->cur_cfg))) {
        /* Not vswctl's counting: "vswctl --wait" could not go on from
         * there (or would not wait at all). */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
        VLOG_WARN_RL(&rl, "host \"%s\": its Host row's next_cfg %"PRId64
                     " and cur_cfg %"PRId64" are not both within 0..2^62-1 "
                     "(another client wrote them): both set to 0",
                     vsw_host_id(), host->next_cfg, host->cur_cfg);
        vswrec_host_set_next_cfg(host, 0);
        vswrec_host_set_cur_cfg(host, 0);
        wrote = true;
    } else if (settled && host && host->cur_cfg != host->next_cfg) {
        vswrec_host_set_cur_cfg(host, host->next_cfg);
        wrote = true;
    }
    changed_any |= wrote;
    if (wrote) {
        status_txn = txn;
        status_txn_busy();
        /* A big write (a bulk change's status) leaves the database server
         * a heap of freed memory; a resync that finds nothing writes
         * nothing, and compacts nothing. */
        compact_db |= n_converged > BULK_OBJECTS;
    } else {
        ovsdb_idl_txn_destroy(txn);
    }

out:
    for (size_t i = 0; i < n; i++) {
        vsw_offload_destroy(&offs[i]);
    }
    desired_destroy(&d);
    free_switches(in, n_in);
    if (n_converged > BULK_OBJECTS && changed_any) {
        /* What a big pass allocated goes back to the system, not only to
         * malloc's free lists: resident memory is what people read.  Not
         * after a resync that found nothing: the next one would only take
         * the same pages back (at 1000 ports, a tenth of its time went to
         * faulting them in and zeroing them again). */
        malloc_trim(0);
    }
    uuidset_destroy(&cur);
    uuidset_destroy(&cur_all);
    sset_destroy(&cur_names);
    free(offload_ran);
    free(offs);
    last_pass_usec = time_usec() - start;
}

/* The switch whose bridge stray tap 'link' is in, if that switch is
 * managed here and adopts taps (other_config:adopt-taps); else NULL. */
static const struct vswrec_switch *
stray_switch(const struct dp_link *link)
{
    struct uuid uuid;
    const char *role;
    const struct dp_link *br = (may_be_stray(link)
                                ? dp_links_by_index(&kernel, link->master)
                                : NULL);
    if (!br || !rc_parse_tag(br->alias, &uuid, &role) || role) {
        return NULL;
    }
    const struct vswrec_switch *sw = vswrec_switch_get_for_uuid(idl, &uuid);
    return (sw && is_managed_here(sw)
            && smap_get_bool(&sw->other_config, "adopt-taps", true)
            ? sw : NULL);
}

/* The port of host 'host' named 'name', or NULL. */
static const struct vswrec_port *
port_named(const char *host, const char *name)
{
    struct vswrec_port *key = vswrec_port_index_init_row(ports_by_name);
    vswrec_port_index_set_name(key, name);
    const struct vswrec_port *p, *found = NULL;
    VSWREC_PORT_FOR_EACH_EQUAL (p, key, ports_by_name) {
        if (!strcmp(p->host, host)) {
            found = p;
        }
    }
    vswrec_port_index_destroy_row(key);
    return found;
}

/* Writes what adoption found (see 'strays'): a Port row for each tap
 * another program put in a vsw bridge, and none any more for an adopted
 * port whose tap is gone.  A name that has a row already is that row's
 * (a VM manager's hook may have added it first, or an operator's port of
 * that name is in the way and says so).  As a status transaction: the
 * next run waits for it. */
static void
adoption_run(void)
{
    if (sset_is_empty(&strays) && uuidset_is_empty(&adopted_gone)
        && shash_is_empty(&adopted_renamed)) {
        return;
    }
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    ovsdb_idl_txn_add_comment(txn, "vswitchd: adopted taps");
    bool wrote = false;

    /* Names to look at again once this transaction is in. */
    struct sset next = SSET_INITIALIZER(&next);
    const struct uuidset_node *un;
    UUIDSET_FOR_EACH (un, &adopted_gone) {
        const struct vswrec_port *p = vswrec_port_get_for_uuid(idl,
                                                               &un->uuid);
        if (p && p->adopted) {
            VLOG_INFO("switch %s: tap %s is gone (its VM stopped or let go "
                      "of it): adopted port %s goes too",
                      p->switch_->name, p->name, p->name);
            if (dp_links_by_name(&kernel, p->name)) {
                sset_add(&next, p->name);       /* A newer tap of that name. */
            }
            vswrec_port_delete(p);
            wrote = true;
        }
    }
    uuidset_clear(&adopted_gone);

    struct shash_node *rn;
    SHASH_FOR_EACH (rn, &adopted_renamed) {
        struct uuid u;
        const struct vswrec_port *p = (uuid_from_string(&u, rn->name)
                                       ? vswrec_port_get_for_uuid(idl, &u)
                                       : NULL);
        const char *to = rn->data;
        if (p && p->adopted && strcmp(p->name, to)
            && !port_named(p->host, to)) {
            VLOG_INFO("port %s: its tap was renamed %s by another program: "
                      "the adopted port follows", p->name, to);
            vswrec_port_set_name(p, to);
            wrote = true;
        }
    }
    shash_clear_free_data(&adopted_renamed);

    const char *name;
    SSET_FOR_EACH (name, &strays) {
        const struct dp_link *link = dp_links_by_name(&kernel, name);
        const struct vswrec_switch *sw = stray_switch(link);
        const struct vswrec_port *p = sw ? port_named(sw->host, name) : NULL;
        if (!sw || p) {
            continue;
        }
        VLOG_INFO("switch %s: adopting tap %s, which another program put "
                  "in its bridge", sw->name, name);
        struct vswrec_port *row = vsw_port_row_insert(txn, name, "tap", sw);
        vswrec_port_set_adopted(row, true);
        wrote = true;
    }
    sset_swap(&strays, &next);
    sset_destroy(&next);

    if (wrote) {
        status_txn = txn;
        status_txn_busy();
    } else {
        ovsdb_idl_txn_destroy(txn);
    }
}

/* Inserts the Root row into an empty database (as a status transaction,
 * so that the next run waits for it). */
static void
create_root(void)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    ovsdb_idl_txn_add_comment(txn, "vswitchd: create the Root row");
    VSW_ROW_INSERT(txn, root);
    VLOG_INFO("empty database: created its Root row");
    status_txn = txn;
    status_txn_busy();
}

/* ACL entries made before 1.7.0 have no host: this host's ports' get
 * this host, in a transaction of their own (under access control it is
 * refused, and so are the host's writes to them: the entries are still
 * enforced).  Tried once a heartbeat.  Returns true if a transaction is in
 * flight. */
static long long int next_acl_fixup;
static bool acls_checked;       /* None without a host since the rows last
                                 * changed. */

static bool
acls_without_host(const struct vswrec_root *root)
{
    if (acls_checked || time_msec() < next_acl_fixup) {
        return false;
    }
    const struct vswrec_acl *a;
    bool any = false;
    VSWREC_ACL_FOR_EACH (a, idl) {
        if (!a->host[0]) {
            any = true;
            break;
        }
    }
    if (!any) {
        acls_checked = true;
        return false;
    }
    next_acl_fixup = time_msec() + vsw_host_heartbeat(root);
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    ovsdb_idl_txn_add_comment(txn, "vswitchd: ACL entries' host");
    size_t n = 0;
    const struct vswrec_port *p;
    VSWREC_PORT_FOR_EACH (p, idl) {
        for (size_t i = 0; p->switch_ && is_managed_here(p->switch_)
                           && i < p->n_acls; i++) {
            if (!p->acls[i]->host[0]) {
                vswrec_acl_set_host(p->acls[i], vsw_host_id());
                n++;
            }
        }
    }
    if (!n) {
        ovsdb_idl_txn_destroy(txn);
        return false;
    }
    VLOG_INFO("giving %"PRIuSIZE" ACL entries made before hosts their "
              "port's host", n);
    status_txn = txn;
    status_txn_busy();
    return true;
}

/* On a shared database, whether another vswitchd that lives has this
 * host id (host-row.h): then this one stands by, touching neither its
 * kernel nor the database, and says so. */
static bool standing_by;

static bool
host_claimed_elsewhere(const struct vswrec_root *root)
{
    const struct vswrec_host *h = vsw_host_find(idl, vsw_host_id());
    const char *theirs = h ? smap_get(&h->status, "instance") : NULL;
    /* How long the row has stayed as it is, by this machine's clock, while
     * connected (another machine's clock is not compared with ours, and a
     * database that was away says nothing of the host). */
    static char *seen_instance;
    static int64_t seen_last_seen;
    static long long int seen_since;
    long long int now = time_msec();
    if (!ovsdb_idl_is_connected(idl)
        || !nullable_string_is_equal(theirs, seen_instance)
        || !h || h->last_seen != seen_last_seen) {
        free(seen_instance);
        seen_instance = nullable_xstrdup(theirs);
        seen_last_seen = h ? h->last_seen : 0;
        seen_since = now;
    }
    if (!ovsdb_idl_is_connected(idl)) {
        return standing_by;     /* Nothing new to judge by. */
    }
    enum vsw_host_claim claim = vsw_host_claim(theirs, vsw_host_instance(),
                                               now - seen_since,
                                               vsw_host_heartbeat(root),
                                               vsw_host_instance_alive_here);
    if (claim == VSW_HOST_STANDBY) {
        static long long int next_say;      /* Said again every 5 min. */
        if (!standing_by) {
            VLOG_WARN("host id \"%s\" is another running vswitchd's "
                      "(instance %s, on machine \"%s\"): this one (%s) "
                      "changes nothing, and takes over only when that one "
                      "is gone; give each machine its own --host-id",
                      vsw_host_id(), theirs, h->hostname,
                      vsw_host_instance());
        } else if (now >= next_say) {
            VLOG_WARN("host id \"%s\" is still vswitchd instance %s's: "
                      "standing by", vsw_host_id(), theirs);
        }
        if (!standing_by || now >= next_say) {
            next_say = now + 300 * 1000;
        }
        standing_by = true;
        return true;
    }
    if (claim == VSW_HOST_TAKE || standing_by) {
        /* After standing by, news; at a restart, the usual. */
        if (theirs) {
            VLOG(standing_by ? VLL_WARN : VLL_INFO, "host id \"%s\": "
                 "vswitchd instance %s is gone; this one (%s) takes over",
                 vsw_host_id(), theirs, vsw_host_instance());
        } else {
            VLOG_WARN("host id \"%s\" was given up by its vswitchd (a "
                      "clean exit); this one (%s) takes over", vsw_host_id(),
                      vsw_host_instance());
        }
        full_needed = true;     /* What changed while we stood by. */
    }
    standing_by = false;
    return false;
}

bool
bridge_is_standing_by(void)
{
    return standing_by;
}

/* At a clean exit, the Host row's status:instance goes (waiting at most a
 * second for the database), so that a successor, here after a reboot or
 * on another machine, need not wait for the row to go stale. */
static void
host_release(void)
{
    const struct vswrec_host *h = (db_shared && !standing_by && idl
                                   && ovsdb_idl_is_connected(idl)
                                   ? vsw_host_find(idl, vsw_host_id())
                                   : NULL);
    if (!h || !nullable_string_is_equal(smap_get(&h->status, "instance"),
                                        vsw_host_instance())) {
        return;
    }
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    ovsdb_idl_txn_add_comment(txn, "vswitchd: host %s exits", vsw_host_id());
    vswrec_host_update_status_delkey(h, "instance");
    long long int deadline = time_msec() + 1000;
    enum ovsdb_idl_txn_status st;
    while ((st = ovsdb_idl_txn_commit(txn)) == TXN_INCOMPLETE
           && time_msec() < deadline) {
        ovsdb_idl_run(idl);
        ovsdb_idl_wait(idl);
        ovsdb_idl_txn_wait(txn);
        poll_timer_wait_until(deadline);
        poll_block();
    }
    if (st != TXN_SUCCESS) {
        VLOG_INFO("host %s: could not say this vswitchd is gone (%s); a "
                  "successor elsewhere waits for the row to go stale",
                  vsw_host_id(), ovsdb_idl_txn_status_to_string(st));
    }
    ovsdb_idl_txn_destroy(txn);
}

/* This host's Host row: made if missing, its hostname and version kept
 * current, and its last_seen refreshed every heartbeat (and its ACL
 * entries' host given, above).  Returns true if that put a transaction in
 * flight. */
static long long int next_heartbeat;
static int64_t last_seen_written;   /* Our last write of Host.last_seen. */
static long long int last_host_write;

static bool
host_run(const struct vswrec_root *root)
{
    if (acls_without_host(root)) {
        return true;
    }
    const struct vswrec_host *h = vsw_host_find(idl, vsw_host_id());
    struct utsname u;
    const char *hostname = uname(&u) ? "" : u.nodename;
    long long int now = time_msec();
    /* A shorter heartbeat is in force at once: clients judge by it. */
    next_heartbeat = MIN(next_heartbeat, now + vsw_host_heartbeat(root));
    /* Due: a heartbeat; or the row is not what we wrote (a restarted
     * server lost its last_seen: said again at once, not a heartbeat
     * later, or the host would look gone), tried once a second. */
    bool instance_said = (!db_shared
                          || (h && nullable_string_is_equal(
                                       smap_get(&h->status, "instance"),
                                       vsw_host_instance())));
    bool lost = (h && (h->last_seen != last_seen_written
                       || strcmp(h->hostname, hostname)
                       || strcmp(h->version, VSW_VERSION)
                       || !instance_said));
    if (h && now < next_heartbeat
        && (!lost || now < last_host_write + 1000)) {
        return false;
    }
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    ovsdb_idl_txn_add_comment(txn, "vswitchd: host %s", vsw_host_id());
    if (!h) {
        h = VSW_ROW_INSERT(txn, host);
        vswrec_host_set_name(h, vsw_host_id());
        VLOG_INFO("made the Host row of host \"%s\"", vsw_host_id());
    }
    if (strcmp(h->hostname, hostname)) {
        vswrec_host_set_hostname(h, hostname);
    }
    if (strcmp(h->version, VSW_VERSION)) {
        vswrec_host_set_version(h, VSW_VERSION);
    }
    if (!instance_said) {
        struct smap st;
        smap_clone(&st, &h->status);
        smap_replace(&st, "instance", vsw_host_instance());
        vswrec_host_set_status(h, &st);
        smap_destroy(&st);
    }
    last_seen_written = time_wall_msec();
    vswrec_host_set_last_seen(h, last_seen_written);
    last_host_write = now;
    next_heartbeat = now + vsw_host_heartbeat(root);
    status_txn = txn;
    status_txn_busy();
    return true;
}

void
bridge_run(void)
{
    ovsdb_idl_run(idl);
    vsw_db_remote_run(&db_remote, idl);
    /* What looks at rows, only when they changed: on a cluster every
     * commit anywhere wakes every client (OVS's client library follows
     * the cluster's commit index), with nothing for this host. */
    static unsigned int rows_seqno;
    bool rows_changed = ovsdb_idl_get_seqno(idl) != rows_seqno;
    rows_seqno = ovsdb_idl_get_seqno(idl);
    if (rows_changed) {
        monitor_ports_run();
        acls_checked = false;
    }

    bool was_pending = work_pending();
    if (dp_nft_watch_run(RC_NFT_TABLE)) {
        /* Someone else changed vsw's policy or mirror table (or the
         * kernel deleted a device's mirror chains): read back, rebuilt. */
        VLOG_INFO("nftables table %s changed by another program or the "
                  "kernel; checking it", RC_NFT_TABLE);
        full_needed = nft_distrust = true;
    }
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
    if (db_shared && host_claimed_elsewhere(root)) {
        return;
    }
    if (host_run(root)) {
        return;                 /* The pass, if any, after it. */
    }
    adoption_run();
    if (status_txn) {
        return;                 /* The pass, if any, after it. */
    }
    if (compact_db) {
        compact_db = false;
        dbserver_compact();
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
    vsw_db_remote_wait(&db_remote);
    if (standing_by) {
        /* The other instance's row changes wake us; its process on this
         * machine, gone, does not. */
        poll_timer_wait(1000);
        return;
    }
    dp_nl_notify_wait();
    dp_nft_watch_wait();
    if (status_txn) {
        ovsdb_idl_txn_wait(status_txn);
    }
    if ((need_pass || n_carriers
         || (work_pending() && n_failing_changes < MAX_FAILING_CHANGES))
        && vswrec_root_first(idl) && !status_txn) {
        poll_immediate_wake();
    }
    /* The timers only when bridge_run() can act on them: while a status
     * transaction is in flight it does nothing until the reply (or the
     * connection's loss) wakes it, and a timer already due would spin. */
    if (!status_txn && ovsdb_idl_has_ever_connected(idl)) {
        if (next_resync) {
            poll_timer_wait_until(next_resync);
        }
        if (next_heartbeat) {
            poll_timer_wait_until(next_heartbeat);
        }
        stats_wait();
    }
}

void
bridge_exit(void)
{
    if (status_txn) {
        ovsdb_idl_txn_destroy(status_txn);
        status_txn = NULL;
    }
    host_release();
    ovsdb_idl_destroy(idl);
    idl = NULL;
    vsw_db_remote_destroy(&db_remote);
    free(carriers);
    carriers = NULL;
    desired_exit();
    dp_links_destroy(&kernel);
    vsw_offload_vnic_forget_all();
    stats_exit();
    uuidset_destroy(&dirty);
    uuidset_destroy(&dirty_all);
    uuidset_destroy(&failing);
    uuidset_destroy(&cond_switches);
    sset_destroy(&dirty_names);
    port_homes_clear();
}

bool
bridge_vhost_lookup(const char *name, struct vhost_port_info *info)
{
    const struct vswrec_port *p;

    if (standing_by) {
        return false;           /* Another vswitchd's ports. */
    }
    VSWREC_PORT_FOR_EACH (p, idl) {
        if (p->switch_ && is_managed_here(p->switch_)
            && !strcmp(p->name, name)) {
            info->is_vhost = (desired_port_kind(p->kind)
                              == VSW_PORT_VHOST_NET);
            info->queues = p->queues;
            const char *why;
            info->owner = desired_resolve_id(p->owner, true, &why);
            info->group = desired_resolve_id(p->group, false, &why);
            info->up = smap_get_int(&p->status, "ifindex", 0) != 0;
            return true;
        }
    }
    return false;
}

const struct ovsdb_idl *
bridge_idl(void)
{
    return idl;
}

void
bridge_get_pass_stats(struct bridge_pass_stats *s)
{
    s->passes = n_passes;
    s->full_passes = n_full_passes;
    s->objects_converged = n_objects_converged;
    s->last_pass_usec = last_pass_usec;
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
