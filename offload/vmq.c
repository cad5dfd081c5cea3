/* VMQ through ntuple rules; see vmq.h. */
#include <config.h>

#include "offload/vmq.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "datapath/netlink.h"
#include "offload/ethtool.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"
#include "vswitchd/paths.h"

VLOG_DEFINE_THIS_MODULE(ofl_vmq);

static char *
record_path(const char *ifname)
{
    return xasprintf("%s/offload/%s.vmq", vsw_state_dir(), ifname);
}

static void
read_record(const char *ifname, struct ofl_vmq_rules *rules)
{
    char *path = record_path(ifname);
    FILE *f = fopen(path, "r");
    char mac[32];
    struct ofl_vmq_rule r;

    rules->n = 0;
    while (f && rules->n < OFL_VMQ_MAX
           && fscanf(f, "%"SCNu32" %31s %"SCNu32, &r.location, mac,
                     &r.queue) == 3) {
        if (eth_addr_from_string(mac, &r.mac)) {
            rules->r[rules->n++] = r;
        }
    }
    if (f) {
        fclose(f);
    }
    free(path);
}

static void
write_record(const char *ifname, const struct ofl_vmq_rules *rules)
{
    char *path = record_path(ifname);
    char *dir = xasprintf("%s/offload", vsw_state_dir());

    if (!rules->n) {
        unlink(path);
    } else if (!vsw_make_dir(dir, 0700)) {
        char *tmp = xasprintf("%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        for (size_t i = 0; f && i < rules->n; i++) {
            fprintf(f, "%"PRIu32" "ETH_ADDR_FMT" %"PRIu32"\n",
                    rules->r[i].location, ETH_ADDR_ARGS(rules->r[i].mac),
                    rules->r[i].queue);
        }
        if (!f || fflush(f) || fsync(fileno(f)) || fclose(f)
            || rename(tmp, path)) {
            VLOG_WARN("%s: cannot record its VMQ rules in %s: %s", ifname,
                      path, ovs_strerror(errno));
        }
        free(tmp);
    }
    free(dir);
    free(path);
}

/* Reads the device's rule at 'location'; true if it is "destination MAC
 * -> queue" as vsw makes them. */
static bool
read_rule(const char *ifname, uint32_t location, struct ofl_vmq_rule *r)
{
    struct ethtool_rxnfc nfc = { .cmd = ETHTOOL_GRXCLSRULE };

    nfc.fs.location = location;
    if (ofl_ethtool_ioctl(ifname, &nfc, "ETHTOOL_GRXCLSRULE", false)
        || (nfc.fs.flow_type & ~(FLOW_EXT | FLOW_MAC_EXT)) != ETHER_FLOW
        || nfc.fs.ring_cookie == RX_CLS_FLOW_DISC) {
        return false;
    }
    r->location = location;
    memcpy(r->mac.ea, nfc.fs.h_u.ether_spec.h_dest, ETH_ADDR_LEN);
    r->queue = ethtool_get_flow_spec_ring(nfc.fs.ring_cookie);
    return true;
}

int
ofl_vmq_get(const char *ifname, struct ofl_vmq_rules *rules)
{
    struct ofl_vmq_rules rec;
    struct ethtool_rxnfc cnt = { .cmd = ETHTOOL_GRXCLSRLCNT };

    rules->n = 0;
    int error = ofl_ethtool_ioctl(ifname, &cnt, "ETHTOOL_GRXCLSRLCNT",
                                  false);
    if (error) {
        return error;
    }
    read_record(ifname, &rec);
    for (size_t i = 0; i < rec.n; i++) {
        struct ofl_vmq_rule r;
        if (read_rule(ifname, rec.r[i].location, &r)
            && eth_addr_equals(r.mac, rec.r[i].mac)) {
            rules->r[rules->n++] = r;
        }
    }
    if (rules->n != rec.n) {
        write_record(ifname, rules);    /* Forget rules the device lost. */
    }
    return 0;
}

/* A location for a new rule: RX_CLS_LOC_ANY if the driver picks one, else
 * the first one the device's table does not use. */
static int
free_location(const char *ifname, uint32_t *location)
{
    struct ethtool_rxnfc cnt = { .cmd = ETHTOOL_GRXCLSRLCNT };
    int error = ofl_ethtool_ioctl(ifname, &cnt, "ETHTOOL_GRXCLSRLCNT",
                                  false);
    if (error) {
        return error;
    }
    if (cnt.data & RX_CLS_LOC_SPECIAL) {
        *location = RX_CLS_LOC_ANY;
        return 0;
    }
    uint32_t size = cnt.data;
    size_t len = sizeof(struct ethtool_rxnfc) + cnt.rule_cnt
                 * sizeof(uint32_t);
    struct ethtool_rxnfc *all = xzalloc(len);
    all->cmd = ETHTOOL_GRXCLSRLALL;
    all->rule_cnt = cnt.rule_cnt;
    error = ofl_ethtool_ioctl(ifname, all, "ETHTOOL_GRXCLSRLALL", false);
    for (uint32_t loc = 0; !error; loc++) {
        if (loc >= size) {
            error = ENOSPC;
            dp_nl_set_error(error, "%s: its receive classification table "
                            "(%"PRIu32" rules) is full", ifname, size);
            break;
        }
        bool used = false;
        for (uint32_t i = 0; i < all->rule_cnt && !used; i++) {
            used = all->rule_locs[i] == loc;
        }
        if (!used) {
            *location = loc;
            break;
        }
    }
    free(all);
    return error;
}

int
ofl_vmq_add(const char *ifname, struct eth_addr mac, uint32_t queue)
{
    struct ethtool_rxnfc nfc = { .cmd = ETHTOOL_SRXCLSRLINS };
    int error = free_location(ifname, &nfc.fs.location);
    if (error) {
        return error;
    }
    nfc.fs.flow_type = ETHER_FLOW;
    memcpy(nfc.fs.h_u.ether_spec.h_dest, mac.ea, ETH_ADDR_LEN);
    memset(nfc.fs.m_u.ether_spec.h_dest, 0xff, ETH_ADDR_LEN);
    nfc.fs.ring_cookie = queue;
    char what[96];
    snprintf(what, sizeof what, "ETHTOOL_SRXCLSRLINS (steer "ETH_ADDR_FMT
             " to queue %"PRIu32")", ETH_ADDR_ARGS(mac), queue);
    error = ofl_ethtool_ioctl(ifname, &nfc, what, true);
    if (!error) {
        struct ofl_vmq_rules rec;
        read_record(ifname, &rec);
        if (rec.n < OFL_VMQ_MAX) {
            rec.r[rec.n++] = (struct ofl_vmq_rule) {
                .location = nfc.fs.location, .mac = mac, .queue = queue };
        }
        write_record(ifname, &rec);
    }
    return error;
}

int
ofl_vmq_del(const char *ifname, uint32_t location)
{
    struct ethtool_rxnfc nfc = { .cmd = ETHTOOL_SRXCLSRLDEL };
    nfc.fs.location = location;
    int error = ofl_ethtool_ioctl(ifname, &nfc, "ETHTOOL_SRXCLSRLDEL",
                                  true);

    struct ofl_vmq_rules rec;
    read_record(ifname, &rec);
    size_t n = 0;
    for (size_t i = 0; i < rec.n; i++) {
        if (rec.r[i].location != location) {
            rec.r[n++] = rec.r[i];
        }
    }
    rec.n = n;
    write_record(ifname, &rec);
    return error;
}

void
ofl_vmq_del_all(const char *ifname)
{
    struct ofl_vmq_rules rules;

    if (!ofl_vmq_get(ifname, &rules)) {
        for (size_t i = 0; i < rules.n; i++) {
            if (ofl_vmq_del(ifname, rules.r[i].location)) {
                VLOG_WARN("%s: cannot remove VMQ rule %"PRIu32": %s",
                          ifname, rules.r[i].location, dp_nl_error());
            }
        }
    }
    char *path = record_path(ifname);
    unlink(path);
    free(path);
}
