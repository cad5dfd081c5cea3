/* SR-IOV switches: the uplink (PF) in switchdev mode with its VFs, and
 * the bookkeeping of which VF representors are free; see reconcile.h.
 *
 * The safe order, as Hyper-V and the NIC vendors require: VFs to 0, eswitch
 * mode switchdev, driver autoprobe off, then the VFs.  The mode is never
 * changed while VFs exist.  A PF already in switchdev with VFs is adopted
 * as it is.  Every refusal becomes a reason in the switch's status
 * (iov_support false), with the kernel's words. */
#include <config.h>

#include <string.h>

#include "datapath/link.h"
#include "offload/sriov.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "vswitchd/reconcile.h"

VLOG_DEFINE_THIS_MODULE(reconcile_iov);

const struct dp_link *
rc_iov_pf_of(const struct dp_links *links, const struct dp_link *rep)
{
    const struct dp_link *link;
    int vf;

    HMAP_FOR_EACH (link, node, &links->by_index) {
        if (link != rep && link->phys_switch_id[0]
            && !strcmp(link->phys_switch_id, rep->phys_switch_id)
            && !ofl_sriov_parse_rep_name(link->phys_port_name, &vf)
            && link->phys_port_name[0] == 'p') {
            return link;
        }
    }
    return NULL;
}

/* Counts the VF representors of 'uplink', and in '*in_use' vsw's. */
static int
count_reps(const struct dp_links *links, const struct dp_link *uplink,
           int *in_use)
{
    const struct dp_link *link;
    int n = 0, vf;

    *in_use = 0;
    HMAP_FOR_EACH (link, node, &links->by_index) {
        if (ofl_sriov_rep_of(uplink, link, &vf)) {
            n++;
            *in_use += vsw_is_tag(link->alias);
        }
    }
    return n;
}

/* Whether a port of 'sw' took representor 'name' earlier in this pass. */
static bool
claimed(const struct rc_switch *sw, const char *name)
{
    for (size_t i = 0; i < sw->n_ports; i++) {
        if (!strcmp(sw->ports[i].representor, name)) {
            return true;
        }
    }
    return false;
}

int
rc_iov_free_vf(const struct rc_switch *sw, const struct dp_links *links,
               const struct dp_link **repp)
{
    const struct dp_link *uplink = dp_links_by_index(links,
                                                     sw->uplink_ifindex);
    const struct dp_link *link, *best = NULL;
    int best_vf = -1, vf;

    if (!uplink || !sw->iov_support) {
        return -1;
    }
    HMAP_FOR_EACH (link, node, &links->by_index) {
        if (ofl_sriov_rep_of(uplink, link, &vf)
            && !vsw_is_tag(link->alias)
            && !claimed(sw, link->name)
            && (best_vf < 0 || vf < best_vf)) {
            best = link;
            best_vf = vf;
        }
    }
    *repp = best;
    return best_vf;
}

static void
no_iov(struct rc_switch *sw, const char *fmt, const char *arg1,
       const char *arg2)
{
    sw->iov_support = false;
    ds_put_format(&sw->iov_reason, fmt, arg1, arg2);
}

void
rc_converge_iov(struct rc_switch *sw, const struct dp_links *links,
                const struct rc_ops *ops, bool *changed)
{
    const struct ofl_sriov_pf *pf = sw->pf;

    sw->iov_support = false;
    sw->vf_capacity = sw->vfs_in_use = 0;
    ds_clear(&sw->iov_reason);
    if (!sw->iov) {
        return;
    }
    if (sw->type != RC_EXTERNAL || !sw->uplink_ifindex || !pf) {
        no_iov(sw, "%s%s", "SR-IOV needs the switch's uplink (a PF) bound",
               "");
        return;
    }
    if (!pf->capable || !pf->devlink) {
        no_iov(sw, "%s%s", pf->reason, "");
        return;
    }

    const char *up = sw->uplink;
    if (pf->eswitch_mode < 0) {
        /* Never touch VFs on a guess. */
        no_iov(sw, "%s%s", pf->reason[0] ? pf->reason
               : "the eswitch mode of the uplink is unknown", "");
        return;
    }
    if ((pf->eswitch_mode != OFL_ESWITCH_SWITCHDEV || pf->num_vfs == 0)
        && ops->iov->iov_record) {
        ops->iov->iov_record(up, pf);    /* As found, before the first change. */
    }
    if (pf->eswitch_mode != OFL_ESWITCH_SWITCHDEV) {
        /* The safe order.  VFs first to 0: the mode never changes under
         * existing VFs. */
        *changed = true;
        if (pf->num_vfs > 0 && ops->iov->set_num_vfs(up, 0)) {
            no_iov(sw, "cannot remove the VFs of %s before switching to "
                   "switchdev: %s", up, ops->error());
            return;
        }
        if (ops->iov->set_eswitch_mode(pf, OFL_ESWITCH_SWITCHDEV)) {
            no_iov(sw, "eswitch mode switchdev refused on %s: %s", up,
                   ops->error());
            return;
        }
        VLOG_INFO("switch %s: %s is in switchdev mode", sw->name, up);
    }
    if (pf->num_vfs == 0 || pf->eswitch_mode != OFL_ESWITCH_SWITCHDEV) {
        *changed = true;
        if (ops->iov->set_autoprobe(up, false)) {
            no_iov(sw, "cannot turn off VF driver autoprobe on %s: %s", up,
                   ops->error());
            return;
        }
        if (ops->iov->set_num_vfs(up, sw->want_vfs)) {
            no_iov(sw, "cannot create the VFs of %s: %s", up, ops->error());
            return;
        }
        VLOG_INFO("switch %s: created %d VFs on %s", sw->name, sw->want_vfs,
                  up);
        sw->iov_support = true;     /* Representors show on the next pass. */
        return;
    }

    const struct dp_link *uplink = dp_links_by_index(links,
                                                     sw->uplink_ifindex);
    sw->vf_capacity = uplink ? count_reps(links, uplink, &sw->vfs_in_use)
                             : 0;
    if (!sw->vf_capacity) {
        no_iov(sw, "%s has %s VFs but no representors (the driver does "
               "not create VF representors in switchdev mode)", up,
               "its");
        return;
    }
    sw->iov_support = true;
}
