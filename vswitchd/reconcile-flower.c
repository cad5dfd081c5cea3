/* Hardware flow rules of an SR-IOV switch: derived from its configuration
 * (each VF port's MAC and VLAN; nothing is learned) and converged on the
 * ingress of the uplink and of the VF representors; see reconcile.h.
 *
 * Rules (offload/flower.h has their layout), for each VF port P in use
 * (its representor R, its MAC M, its access VLAN T or none; a trunk port
 * stays in software), for IPv4, IPv6 and ARP:
 *   uplink -> R    destination M (tagged T: pop the tag)          uplink;
 *   R -> R'        source M, destination M' of another VF port in
 *                  the same VLAN                                  R;
 *   R -> bridge    destination of a local port that is not a VF
 *                  (tap, internal, the host port)                 R;
 *   R -> uplink    source M, any unicast destination (tagged T:
 *                  push the tag)                                  R.
 * Frames from the VF with another source MAC, broadcast, multicast and
 * other frame types find no rule and take the bridge, where the port's
 * software policy applies.
 *
 * Placement (Switch other_config:flow-placement): "hardware" (default)
 * installs with skip_sw and, when the device refuses, installs the same
 * rule with skip_hw and records the kernel's words; "hardware-only" makes
 * the refusal an error on the port; "software" installs with skip_hw;
 * "off" has no rules.  A device whose hw-tc-offload is off gets skip_hw
 * rules at once.
 *
 * A rule's identity is its cookie (what it was derived from, and the
 * placement asked for): a dump of the devices finds the rules still
 * wanted (adopted as they are, whichever way they were placed), vsw's
 * rules no longer wanted (deleted), and leaves every other rule alone. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/link.h"
#include "offload/flower.h"
#include "offload/sriov.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "hash.h"
#include "util.h"
#include "vswitchd/reconcile.h"
#include "vswitchd/reconcile-private.h"

VLOG_DEFINE_THIS_MODULE(reconcile_flower);

static const char *const placements[] = {
    [RC_FLOWS_HARDWARE] = "hardware",
    [RC_FLOWS_HARDWARE_ONLY] = "hardware-only",
    [RC_FLOWS_SOFTWARE] = "software",
    [RC_FLOWS_OFF] = "off",
};

int
rc_flow_placement_from_string(const char *s)
{
    if (!s) {
        return RC_FLOWS_HARDWARE;
    }
    for (int i = 0; i < ARRAY_SIZE(placements); i++) {
        if (!strcmp(s, placements[i])) {
            return i;
        }
    }
    return -1;
}

const char *
rc_flow_placement_to_string(enum rc_flow_placement p)
{
    return placements[p];
}

void
rc_flow_rules_init(struct rc_flow_rules *rs)
{
    rs->rules = NULL;
    rs->ports = NULL;
    rs->n = rs->allocated = 0;
}

void
rc_flow_rules_destroy(struct rc_flow_rules *rs)
{
    free(rs->rules);
    free(rs->ports);
    rc_flow_rules_init(rs);
}

static struct ofl_flow_rule *
add_rule(struct rc_flow_rules *rs, int port, int ifindex, uint16_t eth_type,
         enum rc_flow_placement placement)
{
    if (rs->n >= rs->allocated) {
        rs->rules = x2nrealloc(rs->rules, &rs->allocated, sizeof *rs->rules);
        rs->ports = xrealloc(rs->ports, rs->allocated * sizeof *rs->ports);
    }
    struct ofl_flow_rule *r = &rs->rules[rs->n];
    memset(r, 0, sizeof *r);
    r->ifindex = ifindex;
    r->eth_type = eth_type;
    r->placement = placement;
    r->skip_sw = placement == RC_FLOWS_HARDWARE
                 || placement == RC_FLOWS_HARDWARE_ONLY;
    rs->ports[rs->n++] = port;
    return r;
}

static void
exact(uint8_t mac[6], uint8_t mask[6], const uint8_t value[6])
{
    memcpy(mac, value, 6);
    memset(mask, 0xff, 6);
}

/* What the rules need of one port. */
struct flow_port {
    bool vf;                    /* A VF port with its representor. */
    int rep;                    /* Its representor's ifindex. */
    bool has_mac;
    uint8_t mac[6];
    int vlan;                   /* Access VLAN, or 0. */
    bool trunk;
};

static void
flow_port_of(const struct rc_switch *sw, const struct rc_port *p,
             const struct dp_links *links, struct flow_port *fp)
{
    struct eth_addr ea;

    memset(fp, 0, sizeof *fp);
    fp->has_mac = p->mac && eth_addr_from_string(p->mac, &ea)
                  && !eth_addr_is_multicast(ea) && !eth_addr_is_zero(ea);
    if (fp->has_mac) {
        memcpy(fp->mac, ea.ea, 6);
    }
    fp->vlan = p->vlan_mode == RC_VLAN_ACCESS ? p->tag : 0;
    fp->trunk = p->vlan_mode == RC_VLAN_TRUNK;
    /* A port converged in this pass knows its representor; another one
     * is found by the tag its representor carries. */
    const struct dp_link *rep = NULL;
    if (p->representor[0]) {
        rep = dp_links_by_name(links, p->representor);
    } else if (p->kind == VSW_PORT_VF) {
        char *tag = rc_role_tag(&sw->uuid, RC_ROLE_VF, &p->uuid);
        rep = dp_links_by_alias(links, tag);
        free(tag);
    }
    fp->vf = rep && !p->config_error && fp->has_mac;
    fp->rep = rep ? rep->ifindex : 0;
}

void
rc_flows_derive(const struct rc_switch *sw, const struct dp_links *links,
                const uint8_t (*local_macs)[6], size_t n_local,
                struct rc_flow_rules *rs)
{
    static const uint8_t unicast_mask[6] = { 0x01 };
    static const uint8_t zero[6];
    enum rc_flow_placement placement = sw->flow_placement;
    int uplink = sw->type == RC_EXTERNAL ? sw->uplink_ifindex : 0;

    rc_flow_rules_init(rs);
    if (placement == RC_FLOWS_OFF) {
        return;
    }
    struct flow_port *fps = xcalloc(sw->n_ports + 1, sizeof *fps);
    for (size_t i = 0; i < sw->n_ports; i++) {
        flow_port_of(sw, &sw->ports[i], links, &fps[i]);
    }
    for (size_t i = 0; i < sw->n_ports; i++) {
        const struct flow_port *p = &fps[i];
        if (!p->vf || p->trunk) {
            continue;
        }
        for (int t = 0; t < ARRAY_SIZE(ofl_flow_eth_types); t++) {
            uint16_t et = ofl_flow_eth_types[t];
            struct ofl_flow_rule *r;

            if (uplink) {
                r = add_rule(rs, i, uplink, et, placement);
                exact(r->dst, r->dst_mask, p->mac);
                r->vlan = p->vlan;
                r->action = p->vlan ? OFL_FLOW_POP_REDIRECT
                                    : OFL_FLOW_REDIRECT;
                r->out_ifindex = p->rep;
            }
            for (size_t j = 0; j < sw->n_ports; j++) {
                const struct flow_port *q = &fps[j];
                if (j == i || !q->has_mac || q->trunk) {
                    continue;
                }
                if (q->vf && q->vlan == p->vlan) {
                    r = add_rule(rs, i, p->rep, et, placement);
                    exact(r->src, r->src_mask, p->mac);
                    exact(r->dst, r->dst_mask, q->mac);
                    r->action = OFL_FLOW_REDIRECT;
                    r->out_ifindex = q->rep;
                } else if (!q->vf && uplink) {
                    r = add_rule(rs, i, p->rep, et, placement);
                    exact(r->dst, r->dst_mask, q->mac);
                    r->action = OFL_FLOW_TO_BRIDGE;
                }
            }
            for (size_t k = 0; uplink && k < n_local; k++) {
                r = add_rule(rs, i, p->rep, et, placement);
                exact(r->dst, r->dst_mask, local_macs[k]);
                r->action = OFL_FLOW_TO_BRIDGE;
            }
            if (uplink) {
                r = add_rule(rs, i, p->rep, et, placement);
                exact(r->src, r->src_mask, p->mac);
                memcpy(r->dst, zero, 6);
                memcpy(r->dst_mask, unicast_mask, 6);
                r->action = p->vlan ? OFL_FLOW_PUSH_REDIRECT
                                    : OFL_FLOW_REDIRECT;
                r->push_vlan = p->vlan;
                r->out_ifindex = uplink;
            }
        }
    }
    for (size_t i = 0; i < rs->n; i++) {
        ofl_flow_cookie(&rs->rules[i]);
    }
    free(fps);
}

/* ---- Convergence --------------------------------------------------------- */


/* The devices that may hold this switch's rules: the uplink and every VF
 * representor of its PF (a representor given back keeps no rule). */
static size_t
flow_devices(const struct rc_switch *sw, const struct dp_links *links,
             int **out)
{
    const struct dp_link *up = dp_links_by_index(links, sw->uplink_ifindex);
    const struct dp_link *link;
    size_t n = 0, allocated = 0;
    int vf;

    *out = NULL;
    if (!up) {
        return 0;
    }
    *out = x2nrealloc(*out, &allocated, sizeof **out);
    (*out)[n++] = up->ifindex;
    HMAP_FOR_EACH (link, node, &links->by_index) {
        if (ofl_sriov_rep_of(up, link, &vf)) {
            if (n >= allocated) {
                *out = x2nrealloc(*out, &allocated, sizeof **out);
            }
            (*out)[n++] = link->ifindex;
        }
    }
    return n;
}

static void
count_placed(struct rc_switch *sw, struct rc_port *port,
             const struct ofl_flow_installed *r)
{
    bool hw = r->in_hw || (r->skip_sw && !r->not_in_hw);
    if (hw) {
        sw->flows_in_hw++;
        /* Offload is not always faster: a rule the hardware never
         * matched only takes room in it (it is reported; vswctl flows
         * shows each rule's hardware hits). */
        sw->flows_hw_unhit += !r->hw_packets;
    } else {
        sw->flows_in_sw++;
        sw->flows_refused += sw->flow_placement == RC_FLOWS_HARDWARE;
    }
    if (port) {
        port->flows_in_hw += hw;
        port->flows_in_sw += !hw;
    }
}

/* Offload is not always faster, and a NIC's rule table is small: with
 * placement "hardware", a rule the hardware has not matched for the
 * switch's flow_idle_demote seconds goes to software, and back to hardware
 * once its software counters move.  What each rule's counters were, and
 * since when, by device and cookie; forgotten with the rule. */
struct hit_watch {
    struct hmap_node node;
    int ifindex;
    uint8_t cookie[OFL_FLOW_COOKIE_LEN];
    uint64_t hw_packets, packets;   /* As last seen. */
    long long int since;            /* When they last moved (ms). */
    bool demoted;                   /* In software for want of hits. */
    unsigned int gen;               /* Last pass that saw it. */
};
static struct hmap hit_watches = HMAP_INITIALIZER(&hit_watches);
static unsigned int watch_gen;

static struct hit_watch *
hit_watch_find(const struct ofl_flow_installed *r)
{
    uint32_t hash = hash_bytes(r->cookie, OFL_FLOW_COOKIE_LEN, r->ifindex);
    struct hit_watch *w;
    HMAP_FOR_EACH_WITH_HASH (w, node, hash, &hit_watches) {
        if (w->ifindex == r->ifindex
            && !memcmp(w->cookie, r->cookie, OFL_FLOW_COOKIE_LEN)) {
            return w;
        }
    }
    w = xzalloc(sizeof *w);
    w->ifindex = r->ifindex;
    memcpy(w->cookie, r->cookie, OFL_FLOW_COOKIE_LEN);
    w->hw_packets = r->hw_packets;
    w->packets = r->packets;
    w->since = -1;
    hmap_insert(&hit_watches, &w->node, hash);
    return w;
}

enum hit_move { HIT_KEEP, HIT_DEMOTE, HIT_PROMOTE };

/* What to do with adopted rule 'r' of 'sw'. */
static enum hit_move
hit_watch_check(const struct rc_switch *sw, const struct rc_flower_ops *fo,
                const struct ofl_flow_installed *r, struct hit_watch **wp)
{
    *wp = NULL;
    if (sw->flow_placement != RC_FLOWS_HARDWARE || !sw->flow_idle_demote) {
        return HIT_KEEP;
    }
    long long int now = fo->now();
    struct hit_watch *w = *wp = hit_watch_find(r);
    w->gen = watch_gen;
    if (w->since < 0) {
        w->since = now;
    }
    bool in_hw = r->in_hw || (r->skip_sw && !r->not_in_hw);
    if (in_hw) {
        if (r->hw_packets != w->hw_packets) {
            w->hw_packets = r->hw_packets;
            w->since = now;
        } else if (now - w->since >= sw->flow_idle_demote * 1000LL) {
            w->demoted = true;
            w->packets = r->packets;
            w->since = now;
            return HIT_DEMOTE;
        }
    } else if (w->demoted && r->packets != w->packets) {
        w->demoted = false;
        w->hw_packets = r->hw_packets;
        w->since = now;
        return HIT_PROMOTE;
    }
    return HIT_KEEP;
}

/* Forgets the watches of 'devs' that no pass saw this time. */
static void
hit_watch_sweep(const int *devs, size_t n_devs)
{
    struct hit_watch *w;
    HMAP_FOR_EACH_SAFE (w, node, &hit_watches) {
        if (w->gen == watch_gen) {
            continue;
        }
        for (size_t d = 0; d < n_devs; d++) {
            if (devs[d] == w->ifindex) {
                hmap_remove(&hit_watches, &w->node);
                free(w);
                break;
            }
        }
    }
}

void
rc_converge_flows(struct rc_switch *sw, const struct dp_links *links,
                  const struct rc_ops *ops, bool *changed)
{
    const struct rc_flower_ops *fo = ops->flower;

    sw->flows_in_hw = sw->flows_in_sw = sw->flows_refused = 0;
    sw->flows_hw_unhit = sw->flows_demoted = 0;
    ds_clear(&sw->flows_reason);
    sw->flows_effective = NULL;
    if (!fo || !sw->iov || sw->config_error) {
        return;
    }
    const char *why;
    if (!fo->available(&why)) {
        sw->flows_effective = "unavailable";
        ds_put_cstr(&sw->flows_reason, why);
        return;
    }
    if (!sw->iov_support || !sw->uplink_ifindex) {
        sw->flows_effective = "none";
        ds_put_cstr(&sw->flows_reason, "the switch has no SR-IOV (see "
                    "iov_reason)");
        return;
    }

    /* The host port's MAC is local too (the bridge itself carries no
     * address of the host's: it is not a destination). */
    uint8_t local[1][6];
    size_t n_local = 0;
    const struct dp_link *hp = (sw->host_ifindex
                                ? dp_links_by_index(links, sw->host_ifindex)
                                : NULL);
    struct eth_addr ea;
    if (hp && eth_addr_from_string(hp->mac, &ea)) {
        memcpy(local[n_local++], ea.ea, 6);
    }

    struct rc_flow_rules want;
    rc_flows_derive(sw, links, local, n_local, &want);
    for (size_t i = 0; i < sw->n_ports; i++) {
        sw->ports[i].flows_in_hw = sw->ports[i].flows_in_sw = 0;
    }

    watch_gen++;
    int *devs;
    size_t n_devs = flow_devices(sw, links, &devs);
    bool *done = xcalloc(want.n + 1, sizeof *done);
    enum hit_move *moved = xcalloc(want.n + 1, sizeof *moved);
    for (size_t d = 0; d < n_devs; d++) {
        struct ofl_flow_installed *have;
        size_t n_have;
        if (fo->dump(devs[d], &have, &n_have)) {
            ds_put_format(&sw->error, "%scannot read the flow rules of %s: "
                          "%s", sw->error.length ? "; " : "",
                          dp_links_name_of(links, devs[d]), ops->error());
            sw->ok = false;
            continue;
        }
        for (size_t k = 0; k < n_have; k++) {
            const struct ofl_flow_installed *r = &have[k];
            if (!r->ours) {
                continue;       /* Never touch another's rule. */
            }
            size_t i;
            for (i = 0; i < want.n; i++) {
                if (!done[i] && want.rules[i].ifindex == r->ifindex
                    && !memcmp(want.rules[i].cookie, r->cookie,
                               OFL_FLOW_COOKIE_LEN)) {
                    break;
                }
            }
            struct hit_watch *w = NULL;
            enum hit_move move = (i < want.n
                                  ? hit_watch_check(sw, fo, r, &w)
                                  : HIT_KEEP);
            if (i < want.n && move != HIT_KEEP) {
                /* The same rule, placed the other way (its cookie does not
                 * say how it is placed). */
                *changed = true;
                VLOG_INFO("switch %s: a flow rule on %s %s", sw->name,
                          dp_links_name_of(links, r->ifindex),
                          move == HIT_DEMOTE
                          ? "unmatched in hardware goes to software"
                          : "matched in software goes back to hardware");
                if (fo->remove(r)) {
                    done[i] = true;
                    count_placed(sw, &sw->ports[want.ports[i]], r);
                } else {
                    want.rules[i].skip_sw = move == HIT_PROMOTE;
                    moved[i] = move;
                }
            } else if (i < want.n) {
                done[i] = true;         /* Adopted as it is. */
                count_placed(sw, &sw->ports[want.ports[i]], r);
                if (w && w->demoted) {
                    sw->flows_refused--;
                    sw->flows_demoted++;
                }
            } else {
                *changed = true;
                VLOG_INFO("switch %s: deleting a flow rule of vsw's no longer "
                          "wanted on %s (prio %u, handle %#"PRIx32")",
                          sw->name, dp_links_name_of(links, r->ifindex), r->prio,
                          r->handle);
                if (fo->remove(r)) {
                    ds_put_format(&sw->error, "%scannot delete a stale flow "
                                  "rule on %s: %s",
                                  sw->error.length ? "; " : "",
                                  dp_links_name_of(links, r->ifindex),
                                  ops->error());
                    sw->ok = false;
                }
            }
        }
        free(have);
    }

    /* Hardware-only refusals, per port: how many, the first words. */
    int *n_denied = xcalloc(sw->n_ports + 1, sizeof *n_denied);
    char **denied_why = xcalloc(sw->n_ports + 1, sizeof *denied_why);
    int hw_checked = 0;             /* Last device asked for hw-tc-offload, */
    bool hw_ok = false;             /* and its answer. */
    size_t *todo = xmalloc((want.n + 1) * sizeof *todo);
    size_t n_todo = 0;
    for (size_t i = 0; i < want.n; i++) {
        if (done[i]) {
            continue;
        }
        struct ofl_flow_rule *r = &want.rules[i];
        const char *dev = dp_links_name_of(links, r->ifindex);
        *changed = true;
        if (r->ifindex != hw_checked) {
            hw_checked = r->ifindex;
            hw_ok = fo->hw_tc_offload(r->ifindex);
        }
        if (r->skip_sw && !hw_ok) {
            if (sw->flow_placement == RC_FLOWS_HARDWARE_ONLY) {
                int j = want.ports[i];
                if (!n_denied[j]++) {
                    denied_why[j] = xasprintf("hw-tc-offload is off on %s",
                                              dev);
                }
                sw->flows_refused++;
                continue;
            }
            if (!sw->flows_reason.length) {
                ds_put_format(&sw->flows_reason, "hw-tc-offload is off on "
                              "%s: rules go in software", dev);
            }
            r->skip_sw = false;
        }
        todo[n_todo++] = i;
    }

    /* Install in batches: what is refused for want of an ingress qdisc
     * goes again once its device has one, what the device refuses in
     * hardware goes again in software (placement "hardware"). */
    struct ofl_flow_rule *batch = xmalloc((n_todo + 1) * sizeof *batch);
    struct ofl_flow_installed *got = xmalloc((n_todo + 1) * sizeof *got);
    int *errors = xmalloc((n_todo + 1) * sizeof *errors);
    char **whys = xmalloc((n_todo + 1) * sizeof *whys);
    int last_ingress = 0;
    for (int round = 0; n_todo && round < 3; round++) {
        for (size_t k = 0; k < n_todo; k++) {
            batch[k] = want.rules[todo[k]];
        }
        fo->install_many(batch, n_todo, got, errors, whys);
        size_t n_again = 0;
        for (size_t k = 0; k < n_todo; k++) {
            size_t i = todo[k];
            struct ofl_flow_rule *r = &want.rules[i];
            struct rc_port *port = &sw->ports[want.ports[i]];
            const char *dev = dp_links_name_of(links, r->ifindex);
            if (!errors[k]) {
                count_placed(sw, port, &got[k]);
                if (moved[i] == HIT_DEMOTE && !got[k].in_hw) {
                    sw->flows_refused--;
                    sw->flows_demoted++;
                }
                if (sw->flow_placement == RC_FLOWS_HARDWARE
                    && sw->flow_idle_demote) {
                    /* Its idle time starts when it is placed. */
                    struct hit_watch *w = hit_watch_find(&got[k]);
                    w->gen = watch_gen;
                    w->since = fo->now();
                    w->hw_packets = got[k].hw_packets;
                    w->packets = got[k].packets;
                    w->demoted = moved[i] == HIT_DEMOTE;
                }
            } else if (errors[k] == EINVAL && strstr(whys[k], "Qdisc")
                       && round == 0) {
                if (r->ifindex != last_ingress
                    && fo->ensure_ingress(r->ifindex)) {
                    rc_err(&port->ok, &port->error, "cannot add a clsact "
                           "qdisc to %s: %s", dev, ops->error());
                } else {
                    last_ingress = r->ifindex;
                    todo[n_again++] = i;
                }
            } else if (r->skip_sw) {
                if (errors[k] == ENOENT && strstr(whys[k], "kind")) {
                    fo->set_unavailable("the kernel has no cls_flower");
                }
                if (sw->flow_placement == RC_FLOWS_HARDWARE_ONLY) {
                    int j = want.ports[i];
                    if (!n_denied[j]++) {
                        denied_why[j] = xasprintf("%s refused it: %s", dev,
                                                  whys[k]);
                    }
                    sw->flows_refused++;
                } else {
                    if (!sw->flows_reason.length) {
                        ds_put_format(&sw->flows_reason, "%s refused a "
                                      "hardware rule (%s): rules go in "
                                      "software", dev, whys[k]);
                    }
                    r->skip_sw = false;
                    todo[n_again++] = i;
                }
            } else {
                rc_err(&port->ok, &port->error, "cannot install a flow rule "
                       "on %s: %s", dev, whys[k]);
            }
            free(whys[k]);
        }
        n_todo = n_again;
    }
    free(batch);
    free(got);
    free(errors);
    free(whys);
    free(todo);
    for (size_t j = 0; j < sw->n_ports; j++) {
        if (n_denied[j]) {
            rc_err(&sw->ports[j].ok, &sw->ports[j].error, "%d of its "
                   "hardware-only flow rules are not installed (%s)",
                   n_denied[j], denied_why[j]);
        }
        free(denied_why[j]);
    }
    free(n_denied);
    free(denied_why);
    /* Rules placed in an earlier pass (or run) keep the reason given
     * then. */
    const char *last = fo->reason_get(&sw->uuid);
    if (sw->flows_reason.length) {
        if (!last || strcmp(last, ds_cstr(&sw->flows_reason))) {
            fo->reason_set(&sw->uuid, ds_cstr(&sw->flows_reason));
        }
    } else if (sw->flows_refused) {
        ds_put_cstr(&sw->flows_reason,
                    last ? last : "the device refused them in hardware");
    } else if (last) {
        fo->reason_set(&sw->uuid, NULL);
    }
    if (sw->flows_demoted) {
        ds_put_format(&sw->flows_reason, "%s%d rules the hardware did not "
                      "match for %d s went to software (they go back once "
                      "traffic hits them)", sw->flows_reason.length ? "; " : "",
                      sw->flows_demoted, sw->flow_idle_demote);
    }
    sw->flows_effective = (sw->flow_placement == RC_FLOWS_OFF ? "off"
                           : !sw->flows_in_hw && !sw->flows_in_sw ? "none"
                           : !sw->flows_in_sw ? "hardware"
                           : !sw->flows_in_hw ? "software" : "mixed");
    hit_watch_sweep(devs, n_devs);
    free(moved);
    free(done);
    free(devs);
    rc_flow_rules_destroy(&want);
}
