/* Offload negotiation of uplinks and vNICs; see offload.h. */
#include <config.h>

#include "vswitchd/offload.h"

#include <string.h>

#include "datapath/ifname.h"
#include "datapath/netlink.h"
#include "offload/ethtool.h"
#include "offload/negotiate.h"
#include "offload/queues.h"
#include "offload/restore.h"
#include "offload/rss.h"
#include "offload/sriov.h"
#include "offload/vmq.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"
#include "vsw-idl.h"
#include "vswitchd/desired.h"
#include "vswitchd/reconcile.h"

VLOG_DEFINE_THIS_MODULE(offload);

void
vsw_offload_init(struct vsw_offload *o)
{
    memset(o, 0, sizeof *o);
    smap_init(&o->req);
    smap_init(&o->eff);
    smap_init(&o->why);
    smap_init(&o->probe);
}

void
vsw_offload_destroy(struct vsw_offload *o)
{
    smap_destroy(&o->req);
    smap_destroy(&o->eff);
    smap_destroy(&o->why);
    smap_destroy(&o->probe);
    for (size_t i = 0; i < o->n_ports; i++) {
        smap_destroy(&o->port_vmq[i]);
    }
    free(o->port_vmq);
}

/* Features: plan, record, apply, read back.  Returns true if it asked the
 * kernel for a change; '*caps' is the device's state afterwards. */
static bool
negotiate_features(const struct vswrec_switch *sw, struct ofl_features *caps,
                   struct vsw_offload *out)
{
    struct ofl_result results[OFL_N_FEATURES];
    const char *names[OFL_MAX_FEATURES];
    bool on[OFL_MAX_FEATURES];
    char *set_error = NULL;

    /* The uplink as found, every feature vsw may touch, recorded the
     * first time it is seen: a feature changed later behind vsw's back
     * and put back by vsw is restored as found, not as changed. */
    const char *all[OFL_MAX_FEATURES], *changeable[OFL_MAX_FEATURES];
    size_t n_all = ofl_negotiate_kernel_names(all, ARRAY_SIZE(all));
    size_t n_changeable = 0;
    for (size_t i = 0; i < n_all; i++) {
        const struct ofl_feature *f = ofl_features_find(caps, all[i]);
        if (f && f->hw && !f->nochange) {
            changeable[n_changeable++] = all[i];
        }
    }
    ofl_restore_record(sw->uplink, caps, changeable, n_changeable);

    size_t n = ofl_negotiate_plan(caps, &sw->offload, names, on, results);
    if (n) {
        for (size_t i = 0; i < n; i++) {
            const struct ofl_feature *f = ofl_features_find(caps, names[i]);
            VLOG_INFO("switch %s: uplink %s: %s %s (was %s)", sw->name,
                      sw->uplink, names[i], on[i] ? "on" : "off",
                      f && f->active ? "on" : "off");
        }
        if (ofl_ethtool_set_features(sw->uplink, names, on, n)) {
            set_error = xstrdup(dp_nl_error());
        }
        if (ofl_ethtool_get_features(sw->uplink, caps)) {
            memset(caps, 0, sizeof *caps);
        }
    }
    ofl_negotiate_report(caps, set_error, results);
    for (size_t i = 0; i < OFL_N_FEATURES; i++) {
        const struct ofl_result *r = &results[i];
        smap_add_format(&out->req, r->feature, "%s%s",
                        r->requested ? "on" : "off",
                        strcmp(r->policy, "auto") ? "" : " (auto)");
        smap_add(&out->eff, r->feature, r->effective ? "on" : "off");
        if (r->reason[0]) {
            smap_add(&out->why, r->feature, r->reason);
        }
    }
    free(set_error);
    return n > 0;
}

/* Reads what the queue plan depends on. */
static void
read_queue_caps(const char *uplink, const struct ofl_features *features,
                struct ofl_rss *rss, struct ofl_queue_caps *caps)
{
    memset(caps, 0, sizeof *caps);
    caps->channels_ok = !ofl_ethtool_get_channels(uplink, &caps->ch);
    caps->rss_ok = !ofl_rss_get(uplink, rss);
    caps->rss = rss;
    const struct ofl_feature *nt = ofl_features_find(features,
                                                     "rx-ntuple-filter");
    caps->ntuple = nt && (nt->active || (nt->hw && !nt->nochange));
    caps->indir_touched = caps->rss_ok && ofl_restore_indir_touched(uplink);
}

/* Whether rule 'r' steers to the queue the plan gave 'v'. */
static bool
rule_serves(const struct ofl_vmq_rule *r, const struct ofl_vnic *v)
{
    return v->queue >= 0 && eth_addr_equals(r->mac, v->mac)
           && r->queue == (uint32_t) v->queue;
}

/* The VMQ rules the plan wants, against those in place ('have'): removes
 * the stale ones, adds the missing ones.  Returns true if it changed
 * anything. */
static bool
apply_vmq(const char *uplink, const struct ofl_vmq_rules *have,
          const struct ofl_vnic *vnics, size_t n, char **set_error)
{
    bool changed = false;

    for (size_t i = 0; i < have->n; i++) {
        bool wanted = false;
        for (size_t j = 0; j < n && !wanted; j++) {
            wanted = rule_serves(&have->r[i], &vnics[j]);
        }
        if (!wanted) {
            changed = true;
            ofl_vmq_del(uplink, have->r[i].location);
        }
    }
    for (size_t j = 0; j < n; j++) {
        bool present = false;
        for (size_t i = 0; i < have->n && !present; i++) {
            present = rule_serves(&have->r[i], &vnics[j]);
        }
        if (vnics[j].queue >= 0 && !present) {
            changed = true;
            if (ofl_vmq_add(uplink, vnics[j].mac, vnics[j].queue)
                && !*set_error) {
                *set_error = xstrdup(dp_nl_error());
            }
        }
    }
    return changed;
}

/* VMQ needs the ntuple feature on; 'auto' features leave it alone
 * otherwise.  Returns true if it asked for the change. */
static bool
ntuple_on(const char *uplink, struct ofl_features *caps, char **set_error)
{
    const struct ofl_feature *f = ofl_features_find(caps,
                                                    "rx-ntuple-filter");
    if (!f || f->active || !f->hw || f->nochange) {
        return false;
    }
    const char *name = "rx-ntuple-filter";
    bool on = true;
    ofl_restore_record(uplink, caps, &name, 1);
    if (ofl_ethtool_set_features(uplink, &name, &on, 1) && !*set_error) {
        *set_error = xstrdup(dp_nl_error());
    }
    ofl_ethtool_get_features(uplink, caps);
    return true;
}

static bool
negotiate_queues(const struct switch_rows *rows, const struct rc_switch *rc,
                 struct ofl_features *features, struct vsw_offload *out)
{
    const struct vswrec_switch *sw = rows->row;
    struct ofl_rss *rss = xmalloc(sizeof *rss);
    struct ofl_queue_plan plan;
    struct ofl_queue_caps caps;
    struct ofl_vnic *vnics = xcalloc(rc->n_ports + 1, sizeof *vnics);
    size_t *index = xcalloc(rc->n_ports + 1, sizeof *index);
    size_t n = 0;
    char *set_error = NULL;
    bool changed = false;

    for (size_t j = 0; j < rc->n_ports && j < rows->n_ports; j++) {
        const struct rc_port *p = &rc->ports[j];
        if ((p->ifindex && rc_port_on_tap(p))) {
            struct ofl_vnic *v = &vnics[n];
            v->name = p->name;
            v->has_mac = p->mac && eth_addr_from_string(p->mac, &v->mac);
            v->weight = rows->ports[j]->vmq_weight;
            index[n++] = j;
        }
    }

    read_queue_caps(sw->uplink, features, rss, &caps);
    struct ofl_vmq_rules *rules = xmalloc(sizeof *rules);
    if (!caps.ntuple || ofl_vmq_get(sw->uplink, rules)) {
        rules->n = 0;       /* No ntuple filters: no VMQ rule can exist. */
    }
    ofl_queues_plan(&sw->offload, &sw->rss, &caps, vnics, n, &plan);
    if (!plan.error[0]) {
        ofl_restore_record_queues(sw->uplink, &caps, &plan);
        if (plan.vmq) {
            changed |= ntuple_on(sw->uplink, features, &set_error);
        }
        changed |= ofl_queues_apply(sw->uplink, &caps, &plan,
                                    &ofl_queue_kernel_ops, &set_error);
        bool vmq_changed = apply_vmq(sw->uplink, rules, vnics, n,
                                     &set_error);
        if (vmq_changed && ofl_vmq_get(sw->uplink, rules)) {
            rules->n = 0;
        }
        if (changed || vmq_changed) {
            read_queue_caps(sw->uplink, features, rss, &caps);
        }
        changed |= vmq_changed;
    }
    ofl_queues_report(&caps, rules->n, set_error, &plan);
    for (size_t i = 0; i < OFL_N_QROWS; i++) {
        const struct ofl_queue_row *r = &plan.rows[i];
        smap_replace(&out->req, r->key, r->requested);
        smap_replace(&out->eff, r->key, r->effective);
        if (r->reason[0]) {
            smap_replace(&out->why, r->key, r->reason);
        }
    }

    /* Each vNIC: its queue, or why it has none. */
    for (size_t k = 0; k < n; k++) {
        struct smap *s = &out->port_vmq[index[k]];
        bool installed = false;
        for (size_t i = 0; i < rules->n && !installed; i++) {
            installed = rule_serves(&rules->r[i], &vnics[k]);
        }
        if (installed) {
            smap_add_format(s, "vmq_queue", "%d", vnics[k].queue);
        } else if (vnics[k].queue >= 0) {
            smap_add_format(s, "vmq_reason", "queue %d refused: %s",
                            vnics[k].queue,
                            set_error ? set_error : "the rule is missing");
        } else if (vnics[k].reason[0]) {
            smap_add(s, "vmq_reason", vnics[k].reason);
        }
    }

    /* The probe, for Switch.status. */
    if (caps.channels_ok) {
        smap_add_format(&out->probe, "uplink_queues", "%u of %u",
                        ofl_channels_rx(&caps.ch),
                        ofl_channels_rx_max(&caps.ch));
    }
    if (caps.rss_ok) {
        smap_add_format(&out->probe, "uplink_rss", "table %"PRIu32" entries,"
                        " key %"PRIu32" bytes, hash fields %s",
                        rss->indir_size, rss->key_size,
                        rss->fields_supported ? "settable" : "fixed");
    } else {
        smap_add(&out->probe, "uplink_rss", "none");
    }
    smap_add(&out->probe, "uplink_ntuple", caps.ntuple ? "yes" : "no");

    ofl_queue_plan_destroy(&plan);
    free(rules);
    free(set_error);
    free(index);
    free(vnics);
    free(rss);
    return changed;
}

/* SR-IOV facts of uplinks, probed once per ifindex: they do not change
 * while the device exists, and devlink is not free. */
static void
probe_sriov(const char *uplink, int ifindex, struct smap *probe)
{
    static struct {
        int ifindex;
        char text[96];
    } cache[32];
    static size_t next;

    for (size_t i = 0; i < ARRAY_SIZE(cache); i++) {
        if (cache[i].ifindex == ifindex) {
            if (cache[i].text[0]) {
                smap_add(probe, "uplink_sriov", cache[i].text);
            }
            return;
        }
    }
    size_t slot = next++ % ARRAY_SIZE(cache);
    cache[slot].ifindex = ifindex;
    cache[slot].text[0] = '\0';

    long total;
    if (!dp_sysfs_read_long(uplink, "device/sriov_totalvfs", 10, &total)) {
        return;
    }
    struct ofl_sriov_pf *pf = xmalloc(sizeof *pf);
    const char *mode = "unknown";
    if (!ofl_sriov_probe(uplink, pf)) {
        mode = (pf->eswitch_mode == OFL_ESWITCH_SWITCHDEV ? "switchdev"
                : pf->eswitch_mode == OFL_ESWITCH_LEGACY ? "legacy"
                : pf->devlink ? "unknown" : "no devlink");
    }
    snprintf(cache[slot].text, sizeof cache[slot].text,
             "totalvfs %ld, eswitch %s", total, mode);
    smap_add(probe, "uplink_sriov", cache[slot].text);
    free(pf);
}

bool
vsw_offload_uplink(const struct switch_rows *rows, const struct rc_switch *rc,
                   struct vsw_offload *out)
{
    const struct vswrec_switch *sw = rows->row;

    out->n_ports = rows->n_ports;
    out->port_vmq = xcalloc(rows->n_ports + 1, sizeof *out->port_vmq);
    for (size_t j = 0; j < rows->n_ports; j++) {
        smap_init(&out->port_vmq[j]);
    }

    struct ofl_features *features = xmalloc(sizeof *features);
    if (rc->type != RC_EXTERNAL || !rc->uplink_ifindex
        || ofl_ethtool_get_features(sw->uplink, features)) {
        free(features);
        return false;
    }
    bool changed = negotiate_features(sw, features, out);
    changed |= negotiate_queues(rows, rc, features, out);

    struct ofl_rings rings;
    if (!ofl_ethtool_get_rings(sw->uplink, &rings) && rings.rx_max) {
        smap_add_format(&out->probe, "uplink_rings", "rx %u of %u, tx %u "
                        "of %u", rings.rx, rings.rx_max, rings.tx,
                        rings.tx_max);
    }

    const struct ofl_feature *tc = ofl_features_find(features,
                                                     "hw-tc-offload");
    smap_add(&out->probe, "uplink_hw_tc_offload",
             !tc || !tc->hw ? "not supported" : tc->active ? "on" : "off");
    probe_sriov(sw->uplink, rc->uplink_ifindex, &out->probe);

    /* Policy keys vsw does not know are reported, not ignored. */
    struct smap_node *node;
    SMAP_FOR_EACH (node, &sw->offload) {
        if (!ofl_policy_known(node->key)) {
            smap_replace(&out->why, node->key,
                         "unknown feature: not negotiated");
        }
    }
    free(features);
    return changed;
}

/* What the VMs negotiated on their taps, by ifindex: read once, then
 * again only after a notification about that tap (vsw_offload_vnic_forget),
 * so that a full pass over 1000 ports asks the kernel nothing. */
static const struct {
    const char *kernel, *name;
} vm_features[] = {
    { "tx-checksum-ip-generic", "csum" },
    { "tx-tcp-segmentation", "tso4" },
    { "tx-tcp6-segmentation", "tso6" },
};
struct vnic_features {
    struct hmap_node node;      /* In 'vnics', by ifindex. */
    int ifindex;
    bool has[ARRAY_SIZE(vm_features)];
};
static struct hmap vnics = HMAP_INITIALIZER(&vnics);

static struct vnic_features *
vnic_find(int ifindex)
{
    struct vnic_features *v;
    HMAP_FOR_EACH_WITH_HASH (v, node, hash_int(ifindex, 0), &vnics) {
        if (v->ifindex == ifindex) {
            return v;
        }
    }
    return NULL;
}

void
vsw_offload_vnic_forget(int ifindex)
{
    struct vnic_features *v = vnic_find(ifindex);
    if (v) {
        hmap_remove(&vnics, &v->node);
        free(v);
    }
}

void
vsw_offload_vnic_fresh(int ifindex)
{
    if (!vnic_find(ifindex)) {
        struct vnic_features *v = xzalloc(sizeof *v);
        v->ifindex = ifindex;
        hmap_insert(&vnics, &v->node, hash_int(ifindex, 0));
    }
}

void
vsw_offload_vnic_forget_all(void)
{
    struct vnic_features *v;
    HMAP_FOR_EACH_POP (v, node, &vnics) {
        free(v);
    }
}

bool
vsw_offload_vnic_status(const char *tap, int ifindex, const struct smap *eff,
                        struct ds *offloads, struct ds *mismatch)
{
    struct vnic_features *v = vnic_find(ifindex);
    if (!v) {
        struct ofl_features *fs = xmalloc(sizeof *fs);
        if (ofl_ethtool_get_features(tap, fs)) {
            free(fs);
            return false;
        }
        v = xzalloc(sizeof *v);
        v->ifindex = ifindex;
        for (size_t i = 0; i < ARRAY_SIZE(vm_features); i++) {
            const struct ofl_feature *f = ofl_features_find(
                fs, vm_features[i].kernel);
            v->has[i] = f && f->active;
        }
        hmap_insert(&vnics, &v->node, hash_int(ifindex, 0));
        free(fs);
    }
    const bool *has = v->has;
    size_t start = offloads->length;
    for (size_t i = 0; i < ARRAY_SIZE(vm_features); i++) {
        if (has[i]) {
            if (offloads->length > start) {
                ds_put_char(offloads, ',');
            }
            ds_put_cstr(offloads, vm_features[i].name);
        }
    }
    if (offloads->length == start) {
        ds_put_cstr(offloads, "none");
    }

    struct ds *s = mismatch;
    start = s->length;
    bool coalesces = eff && (!strcmp(smap_get_def(eff, "gro", "off"), "on")
                             || !strcmp(smap_get_def(eff, "lro", "off"),
                                        "on"));
    if (!has[1] && coalesces) {
        ds_put_cstr(s, "the VM takes no TSO frames (its tap has "
                    "tx-tcp-segmentation off) while the uplink coalesces "
                    "what it receives (gro/lro on): traffic to this VM is "
                    "segmented again in software");
    }
    if (eff && !strcmp(smap_get_def(eff, "lro", "off"), "on")) {
        ds_put_format(s, "%sthe uplink coalesces in hardware (lro on): "
                      "frames merged by the NIC reach this VM as they are, "
                      "which Hyper-V never allows on a switch uplink",
                      s->length > start ? "; " : "");
    }
    if (!has[0]) {
        ds_put_format(s, "%sthe VM takes no partial checksums (its tap "
                      "has tx-checksum off): the host computes every "
                      "checksum toward it in software",
                      s->length > start ? "; " : "");
    }
    return true;
}
