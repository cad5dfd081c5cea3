/* The uplink as vsw found it; see restore.h.
 *
 * The record is a text file, one setting per line:
 *   <kernel feature> 0|1
 *   @channels combined|rx <count>
 *   @indir default | @indir <n> <queue>...
 *   @key <aa:bb:...>
 *   @fields <flow> <RXH_* bits>
 *   @iov <eswitch mode> <num VFs> <autoprobe: 0, 1, -1 unknown> */
#include <config.h>

#include "offload/restore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datapath/ifname.h"
#include "datapath/netlink.h"
#include "offload/queues.h"
#include "offload/rss.h"
#include "offload/sriov.h"
#include "offload/vmq.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "vswitchd/paths.h"

VLOG_DEFINE_THIS_MODULE(ofl_restore);

struct record {
    size_t n;                           /* Features. */
    char names[OFL_MAX_FEATURES][OFL_FEATURE_NAME_LEN];
    bool on[OFL_MAX_FEATURES];

    bool has_channels, combined;
    unsigned int channels;

    bool has_indir, indir_default;
    uint32_t indir_size;
    uint32_t indir[OFL_RSS_MAX_INDIR];

    bool has_key;
    uint32_t key_size;
    uint8_t key[OFL_RSS_MAX_KEY];

    bool has_fields[OFL_N_FLOWS];
    uint64_t fields[OFL_N_FLOWS];

    bool has_iov;
    int eswitch_mode, num_vfs, autoprobe;
};

static char *
record_path(const char *ifname)
{
    return xasprintf("%s/offload/%s.orig", vsw_state_dir(), ifname);
}

static void
parse_line(struct record *r, char *line)
{
    char *save = NULL;
    char *key = strtok_r(line, " \n", &save);
    char *arg = strtok_r(NULL, " \n", &save);

    if (!key || !arg) {
        return;
    }
    if (!strcmp(key, "@channels")) {
        char *n = strtok_r(NULL, " \n", &save);
        if (n) {
            r->has_channels = true;
            r->combined = !strcmp(arg, "combined");
            r->channels = strtoul(n, NULL, 10);
        }
    } else if (!strcmp(key, "@indir")) {
        r->has_indir = true;
        r->indir_default = !strcmp(arg, "default");
        r->indir_size = 0;
        if (!r->indir_default) {
            uint32_t n = MIN(strtoul(arg, NULL, 10), OFL_RSS_MAX_INDIR);
            char *q;
            while (r->indir_size < n && (q = strtok_r(NULL, " \n", &save))) {
                r->indir[r->indir_size++] = strtoul(q, NULL, 10);
            }
            r->has_indir = r->indir_size == n && n;
        }
    } else if (!strcmp(key, "@key")) {
        r->key_size = ofl_rss_key_parse(arg, r->key);
        r->has_key = r->key_size > 0;
    } else if (!strcmp(key, "@fields")) {
        char *bits = strtok_r(NULL, " \n", &save);
        for (size_t i = 0; bits && i < OFL_N_FLOWS; i++) {
            if (!strcmp(arg, ofl_rss_flow_names[i])) {
                r->has_fields[i] = true;
                r->fields[i] = strtoull(bits, NULL, 0);
            }
        }
    } else if (!strcmp(key, "@iov")) {
        char *vfs = strtok_r(NULL, " \n", &save);
        char *probe = strtok_r(NULL, " \n", &save);
        if (vfs && probe) {
            r->has_iov = true;
            r->eswitch_mode = atoi(arg);
            r->num_vfs = atoi(vfs);
            r->autoprobe = atoi(probe);
        }
    } else if (key[0] != '@' && r->n < OFL_MAX_FEATURES) {
        ovs_strlcpy(r->names[r->n], key, OFL_FEATURE_NAME_LEN);
        r->on[r->n++] = atoi(arg);
    }
}

static struct record *
read_record(const char *ifname)
{
    struct record *r = xzalloc(sizeof *r);
    char *path = record_path(ifname);
    FILE *f = fopen(path, "r");
    struct ds line = DS_EMPTY_INITIALIZER;

    while (f && !ds_get_line(&line, f)) {
        parse_line(r, ds_cstr(&line));
    }
    if (f) {
        fclose(f);
    }
    ds_destroy(&line);
    free(path);
    return r;
}

/* Appends 'text' to the record of 'ifname'. */
static int
append(const char *ifname, const char *text)
{
    char *dir = xasprintf("%s/offload", vsw_state_dir());
    char *path = record_path(ifname);
    int error = vsw_make_dir(dir, 0700);
    FILE *f = error ? NULL : fopen(path, "a");

    if (!error && !f) {
        error = errno;
    }
    if (f) {
        fputs(text, f);
        if (fflush(f) || fsync(fileno(f))) {
            error = errno;
        }
        fclose(f);
    }
    if (error) {
        VLOG_WARN("%s: cannot record its original settings in %s: %s",
                  ifname, path, ovs_strerror(error));
    }
    free(dir);
    free(path);
    return error;
}

int
ofl_restore_record(const char *ifname, const struct ofl_features *caps,
                   const char *const names[], size_t n)
{
    struct record *r = read_record(ifname);
    struct ds s = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < n; i++) {
        bool known = false;
        for (size_t j = 0; j < r->n; j++) {
            known |= !strcmp(r->names[j], names[i]);
        }
        const struct ofl_feature *feat = ofl_features_find(caps, names[i]);
        if (!known && feat) {
            ds_put_format(&s, "%s %d\n", names[i], feat->wanted);
        }
    }
    int error = s.length ? append(ifname, ds_cstr(&s)) : 0;
    ds_destroy(&s);
    free(r);
    return error;
}

int
ofl_restore_record_queues(const char *ifname,
                          const struct ofl_queue_caps *caps,
                          const struct ofl_queue_plan *plan)
{
    struct record *r = read_record(ifname);
    const struct ofl_rss *rss = caps->rss;
    struct ds s = DS_EMPTY_INITIALIZER;

    if (plan->channels && !r->has_channels) {
        ds_put_format(&s, "@channels %s %u\n",
                      ofl_channels_combined(&caps->ch) ? "combined" : "rx",
                      ofl_channels_rx(&caps->ch));
    }
    if ((plan->set_indir || plan->reset_indir) && !r->has_indir) {
        /* A table that is the driver's default (queue i % n) is put back
         * as "default", so that it follows the channel count again. */
        unsigned int n = ofl_channels_rx(&caps->ch);
        bool dflt = n > 0;
        for (uint32_t i = 0; dflt && i < rss->indir_size; i++) {
            dflt = rss->indir[i] == i % n;
        }
        if (dflt) {
            ds_put_cstr(&s, "@indir default\n");
        } else {
            ds_put_format(&s, "@indir %"PRIu32, rss->indir_size);
            for (uint32_t i = 0; i < rss->indir_size; i++) {
                ds_put_format(&s, " %"PRIu32, rss->indir[i]);
            }
            ds_put_char(&s, '\n');
        }
    }
    if (plan->set_key && !r->has_key) {
        char *key = ofl_rss_key_format(rss->key, rss->key_size);
        ds_put_format(&s, "@key %s\n", key);
        free(key);
    }
    for (size_t i = 0; i < OFL_N_FLOWS; i++) {
        if (plan->set_fields[i] && !r->has_fields[i]) {
            ds_put_format(&s, "@fields %s 0x%"PRIx64"\n",
                          ofl_rss_flow_names[i], rss->fields[i]);
        }
    }
    int error = s.length ? append(ifname, ds_cstr(&s)) : 0;
    ds_destroy(&s);
    free(r);
    return error;
}

static void
warn_failed(const char *ifname, const char *what)
{
    VLOG_WARN("%s: cannot put its original %s back: %s", ifname, what,
              dp_nl_error());
}

void
ofl_restore_record_iov(const char *ifname, const struct ofl_sriov_pf *pf)
{
    struct record *r = read_record(ifname);

    if (!r->has_iov) {
        long autoprobe;
        if (!dp_sysfs_read_long(ifname, "device/sriov_drivers_autoprobe", 10,
                                &autoprobe)) {
            autoprobe = -1;
        }
        char *line = xasprintf("@iov %d %d %ld\n", pf->eswitch_mode,
                               pf->num_vfs, autoprobe);
        append(ifname, line);
        free(line);
    }
    free(r);
}

/* The PF as found: VFs to 0 first (the eswitch mode never changes under
 * VFs), then the mode, autoprobe, and the original VFs. */
static void
restore_iov(const char *ifname, const struct record *r)
{
    struct ofl_sriov_pf *pf = xmalloc(sizeof *pf);

    if (ofl_sriov_probe(ifname, pf)) {
        warn_failed(ifname, "SR-IOV state");
    } else if (pf->eswitch_mode != r->eswitch_mode
               || pf->num_vfs != r->num_vfs) {
        if (pf->num_vfs && ofl_sriov_set_num_vfs(ifname, 0)) {
            warn_failed(ifname, "VF count (0, before the eswitch mode)");
        } else if (r->eswitch_mode >= 0
                   && pf->eswitch_mode != r->eswitch_mode
                   && ofl_sriov_set_eswitch_mode(pf, r->eswitch_mode)) {
            warn_failed(ifname, "eswitch mode");
        } else {
            if (r->autoprobe >= 0
                && ofl_sriov_set_autoprobe(ifname, r->autoprobe)) {
                warn_failed(ifname, "VF driver autoprobe");
            }
            if (r->num_vfs && ofl_sriov_set_num_vfs(ifname, r->num_vfs)) {
                warn_failed(ifname, "VF count");
            }
        }
    }
    free(pf);
}

bool
ofl_restore_indir_touched(const char *ifname)
{
    struct record *r = read_record(ifname);
    bool touched = r->has_indir;
    free(r);
    return touched;
}

/* Channels and indirection table, in an order the kernel accepts (see
 * apply_queues() in vswitchd/offload.c): with fewer channels than now, a
 * table valid for them goes first; a table that was the driver's default
 * is reset after the channels, so the driver recomputes it for them. */
static void
restore_queues(const char *ifname, const struct record *r)
{
    struct ofl_channels ch;
    unsigned int target = 0;

    if (r->has_channels && !ofl_ethtool_get_channels(ifname, &ch)) {
        target = r->channels;
    }
    bool shrink = target && target < ofl_channels_rx(&ch);
    if (shrink && r->has_indir) {
        uint32_t *tab = r->indir_default ? NULL : CONST_CAST(uint32_t *,
                                                              r->indir);
        struct ofl_rss *rss = NULL;
        if (!tab) {
            /* Round robin over the original channels. */
            rss = xmalloc(sizeof *rss);
            if (!ofl_rss_get(ifname, rss)) {
                for (uint32_t i = 0; i < rss->indir_size; i++) {
                    rss->indir[i] = i % target;
                }
                tab = rss->indir;
            }
        }
        if (tab && ofl_rss_set_indir(ifname, tab, rss ? rss->indir_size
                                                      : r->indir_size)) {
            warn_failed(ifname, "RSS indirection table");
        }
        free(rss);
    }
    if (target && ofl_ethtool_set_queues(ifname, r->combined, target)) {
        warn_failed(ifname, "channel count");
    }
    if (r->has_indir && (r->indir_default || !shrink)
        && ofl_rss_set_indir(ifname, r->indir,
                             r->indir_default ? 0 : r->indir_size)) {
        warn_failed(ifname, "RSS indirection table");
    }
}

void
ofl_restore_apply(const char *ifname)
{
    struct record *r = read_record(ifname);
    char *path = record_path(ifname);

    ofl_vmq_del_all(ifname);
    if (r->has_key && ofl_rss_set_key(ifname, r->key, r->key_size)) {
        warn_failed(ifname, "RSS hash key");
    }
    for (size_t i = 0; i < OFL_N_FLOWS; i++) {
        if (r->has_fields[i]
            && ofl_rss_set_fields(ifname, i, r->fields[i])) {
            warn_failed(ifname, "RSS hash fields");
        }
    }
    restore_queues(ifname, r);
    if (r->n) {
        const char *ptrs[OFL_MAX_FEATURES];
        for (size_t i = 0; i < r->n; i++) {
            ptrs[i] = r->names[i];
        }
        if (ofl_ethtool_set_features(ifname, ptrs, r->on, r->n)) {
            warn_failed(ifname, "offloads");
        }
    }
    if (r->has_iov) {
        restore_iov(ifname, r);
    }
    if (r->n || r->has_channels || r->has_indir || r->has_key
        || r->has_iov) {
        VLOG_INFO("%s: original settings restored", ifname);
    }
    unlink(path);
    free(path);
    free(r);
}
