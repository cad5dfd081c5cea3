/* SR-IOV on a switch's uplink; see sriov.h. */
#include <config.h>

#include "offload/sriov.h"

#include <errno.h>
#include <libgen.h>
#include <net/if.h>
#include <limits.h>
#include <linux/devlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datapath/ifname.h"
#include "datapath/link.h"
#include "datapath/netlink.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ofl_sriov);

static bool
read_int(const char *ifname, const char *attr, int *value)
{
    char name[64];
    long v;

    snprintf(name, sizeof name, "device/%s", attr);
    if (!dp_sysfs_read_long(ifname, name, 10, &v)) {
        return false;
    }
    *value = v;
    return true;
}

static int
write_int(const char *ifname, const char *attr, int value)
{
    char path[PATH_MAX];

    snprintf(path, sizeof path, "/sys/class/net/%s/device/%s", ifname, attr);
    dp_nl_count_modify();
    FILE *f = fopen(path, "w");
    int error = 0;
    if (!f) {
        error = errno;
    } else {
        if (fprintf(f, "%d\n", value) < 0) {
            error = errno;
        }
        if (fclose(f) && !error) {
            error = errno;
        }
    }
    if (error) {
        dp_nl_count_failed();
        dp_nl_set_error(error, "writing %d to %s", value, path);
    }
    return error;
}

static int
devlink_family(void)
{
    return dp_nl_genl_family(DEVLINK_GENL_NAME);
}

static int
parse_eswitch(struct nl_msg *msg, void *mode_)
{
    int *mode = mode_;
    struct nlattr *tb[DEVLINK_ATTR_MAX + 1];

    int rc = genlmsg_parse(nlmsg_hdr(msg), 0, tb, DEVLINK_ATTR_MAX, NULL);
    VLOG_DBG("eswitch reply: type %d, parse %d, mode attr %s",
             nlmsg_hdr(msg)->nlmsg_type, rc,
             !rc && tb[DEVLINK_ATTR_ESWITCH_MODE] ? "present" : "absent");
    if (!rc && tb[DEVLINK_ATTR_ESWITCH_MODE]) {
        *mode = nla_get_u16(tb[DEVLINK_ATTR_ESWITCH_MODE])
                == DEVLINK_ESWITCH_MODE_SWITCHDEV
                ? OFL_ESWITCH_SWITCHDEV : OFL_ESWITCH_LEGACY;
    }
    return NL_OK;
}

static struct nl_msg *
devlink_request(const struct ofl_sriov_pf *pf, int cmd, int flags)
{
    struct nl_msg *msg = nlmsg_alloc();
    genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, devlink_family(), 0, flags,
                cmd, DEVLINK_GENL_VERSION);
    nla_put_string(msg, DEVLINK_ATTR_BUS_NAME, pf->bus);
    nla_put_string(msg, DEVLINK_ATTR_DEV_NAME, pf->dev);
    return msg;
}

static int
parse_vfinfo(struct nl_msg *msg, void *pf_)
{
    struct ofl_sriov_pf *pf = pf_;
    struct nlmsghdr *hdr = nlmsg_hdr(msg);
    struct nlattr *tb[IFLA_MAX + 1];

    if (hdr->nlmsg_type != RTM_NEWLINK
        || nlmsg_parse(hdr, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL)
        || !tb[IFLA_VFINFO_LIST]) {
        return NL_OK;
    }
    struct nlattr *info;
    int rem;
    nla_for_each_nested (info, tb[IFLA_VFINFO_LIST], rem) {
        struct nlattr *vf[IFLA_VF_MAX + 1];
        if (nla_type(info) != IFLA_VF_INFO
            || nla_parse_nested(vf, IFLA_VF_MAX, info, NULL)
            || !vf[IFLA_VF_MAC]) {
            continue;
        }
        const struct ifla_vf_mac *m = nla_data(vf[IFLA_VF_MAC]);
        if (m->vf >= OFL_SRIOV_MAX_VFS) {
            continue;
        }
        struct ofl_sriov_vf *v = &pf->vfs[m->vf];
        snprintf(v->mac, sizeof v->mac, "%02x:%02x:%02x:%02x:%02x:%02x",
                 m->mac[0], m->mac[1], m->mac[2], m->mac[3], m->mac[4],
                 m->mac[5]);
        v->vlan = vf[IFLA_VF_VLAN]
                  ? ((const struct ifla_vf_vlan *)
                     nla_data(vf[IFLA_VF_VLAN]))->vlan : 0;
        v->spoofchk = vf[IFLA_VF_SPOOFCHK]
                      ? (int) ((const struct ifla_vf_spoofchk *)
                               nla_data(vf[IFLA_VF_SPOOFCHK]))->setting
                      : -1;
        pf->n_vf_info = MAX(pf->n_vf_info, (int) m->vf + 1);
    }
    return NL_OK;
}

/* Reads the VFs' settings from the PF (RTM_GETLINK with RTEXT_FILTER_VF). */
static int
read_vfs(const char *ifname, struct ofl_sriov_pf *pf)
{
    int ifindex = if_nametoindex(ifname);
    if (!ifindex) {
        return ENODEV;
    }
    struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_REQUEST);
    struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
    nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO);
    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_VF);
    return dp_nl_transact(dp_nl_sock(), msg, false, parse_vfinfo, pf);
}

int
ofl_sriov_probe(const char *ifname, struct ofl_sriov_pf *pf)
{
    char path[PATH_MAX], target[PATH_MAX];

    memset(pf, 0, sizeof *pf);
    pf->total_vfs = -1;
    pf->eswitch_mode = -1;

    if (!read_int(ifname, "sriov_numvfs", &pf->num_vfs)) {
        snprintf(pf->reason, sizeof pf->reason, "%s has no SR-IOV "
                 "capability (no sriov_numvfs: not a PF, or its driver "
                 "does not support SR-IOV)", ifname);
        return 0;
    }
    pf->capable = true;
    read_int(ifname, "sriov_totalvfs", &pf->total_vfs);
    if (pf->num_vfs > 0) {
        read_vfs(ifname, pf);
    }

    /* The devlink handle: the device's bus and name. */
    snprintf(path, sizeof path, "/sys/class/net/%s/device", ifname);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n > 0) {
        target[n] = '\0';
        ovs_strlcpy(pf->dev, basename(target), sizeof pf->dev);
    }
    snprintf(path, sizeof path, "/sys/class/net/%s/device/subsystem",
             ifname);
    n = readlink(path, target, sizeof target - 1);
    if (n > 0) {
        target[n] = '\0';
        ovs_strlcpy(pf->bus, basename(target), sizeof pf->bus);
    }

    if (devlink_family() < 0) {
        snprintf(pf->reason, sizeof pf->reason, "the kernel has no devlink "
                 "(generic netlink family \"devlink\" not found)");
        return 0;
    }
    pf->devlink = true;
    int mode = -1;
    int error = dp_nl_transact(dp_nl_genl_sock(),
                               devlink_request(pf, DEVLINK_CMD_ESWITCH_GET, 0),
                               false, parse_eswitch, &mode);
    if (error) {
        snprintf(pf->reason, sizeof pf->reason, "devlink %s/%s: cannot read "
                 "the eswitch mode: %s", pf->bus, pf->dev, dp_nl_error());
    }
    pf->eswitch_mode = mode;
    VLOG_DBG("%s: devlink %s/%s, %d/%d VFs, eswitch mode %d (%s)", ifname,
             pf->bus, pf->dev, pf->num_vfs, pf->total_vfs, mode,
             error ? dp_nl_error() : "ok");
    return 0;
}

int
ofl_sriov_set_num_vfs(const char *ifname, int n)
{
    return write_int(ifname, "sriov_numvfs", n);
}

int
ofl_sriov_set_autoprobe(const char *ifname, bool on)
{
    int cur;

    if (!read_int(ifname, "sriov_drivers_autoprobe", &cur)) {
        return 0;               /* Not a PCI device (e.g. netdevsim). */
    }
    return cur == on ? 0 : write_int(ifname, "sriov_drivers_autoprobe", on);
}

int
ofl_sriov_set_eswitch_mode(const struct ofl_sriov_pf *pf, int mode)
{
    struct nl_msg *msg = devlink_request(pf, DEVLINK_CMD_ESWITCH_SET,
                                         NLM_F_ACK);
    nla_put_u16(msg, DEVLINK_ATTR_ESWITCH_MODE,
                mode == OFL_ESWITCH_SWITCHDEV
                ? DEVLINK_ESWITCH_MODE_SWITCHDEV
                : DEVLINK_ESWITCH_MODE_LEGACY);
    return dp_nl_transact(dp_nl_genl_sock(), msg, true, NULL, NULL);
}

int
ofl_sriov_set_vf(int pf_ifindex, int vf, const char *mac, int vlan,
                 bool spoofchk)
{
    struct ifla_vf_mac vmac = { .vf = vf };
    struct ifla_vf_vlan vvlan = { .vf = vf, .vlan = vlan };
    struct ifla_vf_spoofchk vspoof = { .vf = vf, .setting = spoofchk };
    unsigned int b[6];

    if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
               &b[5]) != 6) {
        dp_nl_set_error(EINVAL, "\"%s\" is not a MAC address", mac);
        return EINVAL;
    }
    for (int i = 0; i < 6; i++) {
        vmac.mac[i] = b[i];
    }
    struct nl_msg *msg = dp_link_request(RTM_SETLINK, 0, pf_ifindex, 0, 0);
    struct nlattr *list = nla_nest_start(msg, IFLA_VFINFO_LIST);
    struct nlattr *info = nla_nest_start(msg, IFLA_VF_INFO);
    nla_put(msg, IFLA_VF_MAC, sizeof vmac, &vmac);
    nla_put(msg, IFLA_VF_VLAN, sizeof vvlan, &vvlan);
    nla_put(msg, IFLA_VF_SPOOFCHK, sizeof vspoof, &vspoof);
    nla_nest_end(msg, info);
    nla_nest_end(msg, list);
    return dp_nl_modify(msg);
}

bool
ofl_sriov_parse_rep_name(const char *name, int *vf)
{
    int pf, n;

    return name && sscanf(name, "pf%dvf%d%n", &pf, vf, &n) == 2
           && name[n] == '\0';
}

bool
ofl_sriov_rep_of(const struct dp_link *pf, const struct dp_link *link,
                 int *vf)
{
    return (pf->phys_switch_id[0]
            && !strcmp(link->phys_switch_id, pf->phys_switch_id)
            && ofl_sriov_parse_rep_name(link->phys_port_name, vf));
}
