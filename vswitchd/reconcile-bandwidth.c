/* Minimum bandwidth by weight, as Hyper-V's -MinimumBandwidthWeight: on
 * an external switch, the ports with a weight share the uplink's transmit
 * bandwidth in proportion to their weights when it is busy, and each may
 * use all of it when it is not; see reconcile.h.
 *
 * The uplink gets an htb root qdisc of vsw's (datapath/qdisc.h) in place
 * of the kernel's default, only while some port of the switch has a
 * weight:
 *
 *   7673:     htb, unclassified traffic to 7673:ffff
 *   7673:1    the uplink's bandwidth L (rate = ceiling = L)
 *   7673:M    a weighted port: rate L * w / W, ceiling L, quantum by w
 *   7673:ffff the rest (the host, ports without a weight): weight 1
 *
 * where W is the sum of the weights and 1.  A port's frames are put in
 * its class by the first rule of its policy chain (meta priority set
 * 7673:M, reconcile-policy.c), which is why this runs before the policy.
 * L is the switch's other_config:uplink-bandwidth, else the uplink's link
 * speed (ethtool).  A root qdisc someone else put on the uplink (any but
 * the kernel's default, handle 0:) is left alone and the weights are
 * reported not enforced.  A port keeps its class across restarts: its
 * status names it and is read back (rc_port.bw_class_hint).
 *
 * What vsw last read or made on each uplink is kept between passes, so a
 * change on a switch without weights costs no request; a full pass reads
 * it again. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pkt_sched.h>

#include "datapath/qdisc.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "uuid.h"
#include "vswitchd/reconcile.h"

VLOG_DEFINE_THIS_MODULE(reconcile_bandwidth);

#define PARENT_MINOR 1
#define DEFAULT_MINOR 0xffff
#define FIRST_PORT_MINOR 2
#define DEFAULT_WEIGHT 1        /* Of the traffic of ports without one. */
#define QUANTUM_PER_WEIGHT 1514 /* Bytes a class sends per round of what
                                 * the others leave, per unit of weight. */

/* What vsw believes an uplink's root qdisc is. */
struct uplink {
    struct hmap_node node;      /* In 'uplinks', by switch uuid. */
    struct uuid sw;
    int ifindex;
    bool ours;                  /* vsw's htb is its root. */
    struct dp_htb_class *classes;   /* Its classes, when 'ours'. */
    size_t n_classes;
};
static struct hmap uplinks = HMAP_INITIALIZER(&uplinks);

static void
uplink_forget(struct uplink *u)
{
    hmap_remove(&uplinks, &u->node);
    free(u->classes);
    free(u);
}

static struct uplink *
uplink_find(const struct uuid *sw)
{
    struct uplink *u;
    HMAP_FOR_EACH_WITH_HASH (u, node, uuid_hash(sw), &uplinks) {
        if (uuid_equals(&u->sw, sw)) {
            return u;
        }
    }
    return NULL;
}

uint32_t
rc_bw_class_parse(const char *s)
{
    unsigned int major, minor;
    char extra;
    if (!s || sscanf(s, "%x:%x%c", &major, &minor, &extra) != 2
        || major != DP_QDISC_MAJOR || minor < FIRST_PORT_MINOR
        || minor >= DEFAULT_MINOR) {
        return 0;
    }
    return minor;
}

static int64_t
port_weight(const struct rc_port *p)
{
    return p->config_error ? 0 : p->bw_weight;
}

/* Gives each weighted port of 'sw' a class minor: the one its status
 * names if no other port has it, else the first free one from a slot its
 * uuid picks (so that a new port never moves another). */
static void
assign_classes(struct rc_switch *sw)
{
    uint8_t *taken = xzalloc(DEFAULT_MINOR);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sw->n_ports; i++) {
            struct rc_port *p = &sw->ports[i];
            if (!port_weight(p)) {
                continue;
            }
            uint32_t m = p->bw_class_hint;
            if (pass == 0) {
                if (m && !taken[m]) {
                    taken[m] = 1;
                    p->bw_class = m;
                }
                continue;
            }
            if (p->bw_class) {
                continue;
            }
            uint32_t span = DEFAULT_MINOR - FIRST_PORT_MINOR;
            m = FIRST_PORT_MINOR + uuid_hash(&p->uuid) % span;
            for (uint32_t k = 0; k < span && taken[m]; k++) {
                m = m + 1 < DEFAULT_MINOR ? m + 1 : FIRST_PORT_MINOR;
            }
            taken[m] = 1;
            p->bw_class = m;
        }
    }
    free(taken);
}

static int
compare_classes(const void *a_, const void *b_)
{
    const struct dp_htb_class *a = a_, *b = b_;
    return a->classid < b->classid ? -1 : a->classid > b->classid;
}

static const struct dp_htb_class *
find_class(const struct dp_htb_class *cs, size_t n, uint32_t classid)
{
    struct dp_htb_class key = { .classid = classid };
    return n ? bsearch(&key, cs, n, sizeof *cs, compare_classes) : NULL;
}

/* The classes 'sw' wants on an uplink of 'bps' bit/s (sorted). */
static struct dp_htb_class *
wanted_classes(const struct rc_switch *sw, int64_t bps, size_t *n)
{
    int64_t total = DEFAULT_WEIGHT;
    size_t n_weighted = 0;
    for (size_t i = 0; i < sw->n_ports; i++) {
        total += port_weight(&sw->ports[i]);
        n_weighted += port_weight(&sw->ports[i]) > 0;
    }
    uint64_t link = bps / 8;
    struct dp_htb_class *cs = xcalloc(n_weighted + 2, sizeof *cs);
    size_t k = 0;
    cs[k++] = (struct dp_htb_class) {
        DP_QDISC_HANDLE(PARENT_MINOR), TC_H_ROOT, link, link,
        QUANTUM_PER_WEIGHT,
    };
    cs[k++] = (struct dp_htb_class) {
        DP_QDISC_HANDLE(DEFAULT_MINOR), DP_QDISC_HANDLE(PARENT_MINOR),
        MAX(link * DEFAULT_WEIGHT / total, 1), link,
        QUANTUM_PER_WEIGHT * DEFAULT_WEIGHT,
    };
    for (size_t i = 0; i < sw->n_ports; i++) {
        const struct rc_port *p = &sw->ports[i];
        int64_t w = port_weight(p);
        if (w) {
            cs[k++] = (struct dp_htb_class) {
                DP_QDISC_HANDLE(p->bw_class), DP_QDISC_HANDLE(PARENT_MINOR),
                MAX(link * w / total, 1), link, QUANTUM_PER_WEIGHT * w,
            };
        }
    }
    qsort(cs, k, sizeof *cs, compare_classes);
    *n = k;
    return cs;
}

static bool
class_equal(const struct dp_htb_class *a, const struct dp_htb_class *b)
{
    return (a->classid == b->classid && a->parent == b->parent
            && a->rate == b->rate && a->ceil == b->ceil
            && a->quantum == b->quantum);
}

/* Makes 'u''s uplink carry 'want' ('n' classes; none: vsw's htb goes).
 * Returns 0, or a positive errno with 'ops->error()' saying why. */
static int
apply(struct uplink *u, const struct dp_htb_class *want, size_t n,
      const struct rc_ops *ops, bool *changed)
{
    const struct rc_qdisc_ops *q = ops->qdisc;
    int error = 0;
    if (!n) {
        if (u->ours) {
            error = q->del_htb(u->ifindex);
            *changed = true;
            if (!error) {
                u->ours = false;
                u->n_classes = 0;
            }
        }
        return error;
    }
    if (!u->ours) {
        error = q->add_htb(u->ifindex, DEFAULT_MINOR);
        *changed = true;
        if (error) {
            return error;
        }
        u->ours = true;
        u->n_classes = 0;
    }
    /* Parents before children: sorted, 7673:1 comes first. */
    for (size_t i = 0; i < n && !error; i++) {
        const struct dp_htb_class *have = find_class(u->classes, u->n_classes,
                                                     want[i].classid);
        if (!have || !class_equal(have, &want[i])) {
            error = q->set_class(u->ifindex, &want[i]);
            *changed = true;
        }
    }
    for (size_t i = 0; i < u->n_classes && !error; i++) {
        if (!find_class(want, n, u->classes[i].classid)) {
            error = q->del_class(u->ifindex, u->classes[i].classid);
            *changed = true;
        }
    }
    if (!error) {
        free(u->classes);
        u->classes = xmemdup(want, n * sizeof *want);
        u->n_classes = n;
    } else {
        /* Not sure any more what it holds: read it next time. */
        uplink_forget(u);
    }
    return error;
}

/* Reads 'sw''s uplink into a new entry.  Returns NULL if it cannot be
 * read, or if its root qdisc is someone else's ('*foreign' then says
 * which). */
static struct uplink *
uplink_read(const struct rc_switch *sw, const struct rc_ops *ops,
            struct ds *foreign)
{
    struct dp_qdisc_root root;
    if (ops->qdisc->read(sw->uplink_ifindex, &root)) {
        ds_put_format(foreign, "cannot read the qdiscs of uplink %s (%s)",
                      sw->uplink, ops->error());
        return NULL;
    }
    struct uplink *u = NULL;
    bool ours = (root.handle == DP_QDISC_HANDLE(0)
                 && !strcmp(root.kind, "htb"));
    if (ours || !root.handle) {
        u = xzalloc(sizeof *u);
        u->sw = sw->uuid;
        u->ifindex = sw->uplink_ifindex;
        u->ours = ours;
        if (ours) {
            u->classes = root.classes;
            u->n_classes = root.n_classes;
            root.classes = NULL;
            if (u->n_classes) {
                qsort(u->classes, u->n_classes, sizeof *u->classes,
                      compare_classes);
            }
        }
        hmap_insert(&uplinks, &u->node, uuid_hash(&sw->uuid));
    } else {
        ds_put_format(foreign, "uplink %s has a root qdisc of someone "
                      "else's (%s %x:), which vsw leaves alone (tc qdisc "
                      "del dev %s root, and vsw puts its own)", sw->uplink,
                      root.kind, root.handle >> 16, sw->uplink);
    }
    dp_qdisc_root_destroy(&root);
    return u;
}

static void
converge_switch(struct rc_switch *sw, const struct rc_ops *ops, bool full,
                bool *changed)
{
    bool weighted = false, dirty = sw->dirty || full;
    int64_t bps = sw->uplink_bandwidth;
    for (size_t i = 0; i < sw->n_ports; i++) {
        weighted |= port_weight(&sw->ports[i]) > 0;
        dirty |= sw->ports[i].dirty;
    }
    struct ds why = DS_EMPTY_INITIALIZER;
    if (weighted && (sw->type != RC_EXTERNAL || !sw->uplink)) {
        ds_put_cstr(&why, "not enforced: only an external switch's uplink "
                    "is shared by weight");
    } else if (weighted && !sw->uplink_ifindex) {
        ds_put_format(&why, "not enforced: uplink %s is not in the switch",
                      sw->uplink);
    }

    /* A full pass reads again the uplinks that have weights, and so does
     * putting vsw's htb on one (whose root qdisc may have changed since);
     * one that has none and had nothing of vsw's was read at start. */
    struct uplink *u = uplink_find(&sw->uuid);
    if (u && ((full && (weighted || u->ours))
              || (weighted && !u->ours)
              || u->ifindex != sw->uplink_ifindex)) {
        uplink_forget(u);
        u = NULL;
    }
    if (!dirty || (!weighted && u && !u->ours)) {
        /* Nothing of this switch's weights changed, or it has none and
         * vsw has put nothing on its uplink. */
        goto out;
    }
    if (!sw->uplink_ifindex || sw->config_error) {
        goto out;
    }

    if (weighted && !why.length && !bps) {
        int64_t mbps = -1;
        ops->qdisc->speed(sw->uplink, &mbps);
        if (mbps > 0) {
            bps = mbps * 1000000;
        } else {
            ds_put_format(&why, "not enforced: uplink %s does not say its "
                          "speed (set the switch's "
                          "other_config:uplink-bandwidth, e.g. 10G)",
                          sw->uplink);
        }
    }
    if (!u) {
        struct ds foreign = DS_EMPTY_INITIALIZER;
        u = uplink_read(sw, ops, &foreign);
        if (!u && weighted && !why.length) {
            ds_put_format(&why, "not enforced: %s", ds_cstr(&foreign));
        }
        ds_destroy(&foreign);
        if (!u) {
            goto out;
        }
    }
    size_t n_want = 0;
    struct dp_htb_class *want = NULL;
    if (weighted && !why.length) {
        assign_classes(sw);
        want = wanted_classes(sw, bps, &n_want);
    }
    if (apply(u, want, n_want, ops, changed)) {
        if (weighted && !why.length) {
            ds_put_format(&why, "not enforced: the kernel refused the "
                          "classes on uplink %s (%s)", sw->uplink,
                          ops->error());
        } else {
            VLOG_WARN("switch %s: cannot delete vsw's root qdisc from "
                      "uplink %s: %s", sw->name, sw->uplink, ops->error());
        }
        for (size_t i = 0; i < sw->n_ports; i++) {
            sw->ports[i].bw_class = 0;
        }
    }
    free(want);

out:
    for (size_t i = 0; i < sw->n_ports; i++) {
        struct rc_port *p = &sw->ports[i];
        ds_clear(&p->bw_status);
        int64_t w = port_weight(p);
        if (!w || !p->dirty) {
            continue;
        }
        if (why.length) {
            ds_put_cstr(&p->bw_status, ds_cstr(&why));
        } else if (p->bw_class) {
            ds_put_format(&p->bw_status, "%"PRId64": a share by weight of "
                          "uplink %s's %"PRId64" bit/s when it is busy, all "
                          "of it when not (htb class %x:%x; ports without "
                          "a weight weigh %d together; while weights are "
                          "set the uplink transmits from one queue)", w,
                          sw->uplink, bps, DP_QDISC_MAJOR, p->bw_class,
                          DEFAULT_WEIGHT);
        }
    }
    ds_destroy(&why);
}

void
rc_converge_bandwidth(struct rc_switch *switches, size_t n,
                      const struct rc_ops *ops, unsigned int flags,
                      bool *changed)
{
    if (!ops->qdisc) {
        return;
    }
    bool full = !(flags & RC_INCREMENTAL);
    for (size_t i = 0; i < n; i++) {
        converge_switch(&switches[i], ops, full, changed);
    }
}
