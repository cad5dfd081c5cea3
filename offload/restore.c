/* The uplink as vsw found it; see restore.h. */
#include <config.h>

#include "offload/restore.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "datapath/netlink.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "vswitchd/paths.h"

VLOG_DEFINE_THIS_MODULE(ofl_restore);

static char *
record_path(const char *ifname)
{
    return xasprintf("%s/offload/%s.orig", vsw_state_dir(), ifname);
}

/* Reads the record into 'names'/'on'; returns how many. */
static size_t
read_record(const char *path, char names[][OFL_FEATURE_NAME_LEN], bool on[])
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    char name[OFL_FEATURE_NAME_LEN];
    int value;

    if (f) {
        while (n < OFL_MAX_FEATURES
               && fscanf(f, "%31s %d", name, &value) == 2) {
            ovs_strlcpy(names[n], name, OFL_FEATURE_NAME_LEN);
            on[n++] = value;
        }
        fclose(f);
    }
    return n;
}

int
ofl_restore_record(const char *ifname, const struct ofl_features *caps,
                   const char *const names[], size_t n)
{
    char (*have)[OFL_FEATURE_NAME_LEN] = xcalloc(OFL_MAX_FEATURES,
                                                 OFL_FEATURE_NAME_LEN);
    bool on[OFL_MAX_FEATURES];
    char *dir = xasprintf("%s/offload", vsw_state_dir());
    char *path = record_path(ifname);
    int error = vsw_make_dir(dir, 0700);
    size_t n_have = read_record(path, have, on);

    FILE *f = error ? NULL : fopen(path, "a");
    if (!f) {
        error = error ? error : errno;
    }
    for (size_t i = 0; f && i < n; i++) {
        bool known = false;
        for (size_t j = 0; j < n_have; j++) {
            known |= !strcmp(have[j], names[i]);
        }
        const struct ofl_feature *feat = ofl_features_find(caps, names[i]);
        if (!known && feat) {
            fprintf(f, "%s %d\n", names[i], feat->wanted);
        }
    }
    if (f && (fflush(f) || fsync(fileno(f)))) {
        error = errno;
    }
    if (f) {
        fclose(f);
    }
    if (error) {
        VLOG_WARN("%s: cannot record its original offloads in %s: %s",
                  ifname, path, ovs_strerror(error));
    }
    free(have);
    free(dir);
    free(path);
    return error;
}

void
ofl_restore_apply(const char *ifname)
{
    char (*names)[OFL_FEATURE_NAME_LEN] = xcalloc(OFL_MAX_FEATURES,
                                                  OFL_FEATURE_NAME_LEN);
    const char *ptrs[OFL_MAX_FEATURES];
    bool on[OFL_MAX_FEATURES];
    char *path = record_path(ifname);
    size_t n = read_record(path, names, on);

    if (n) {
        for (size_t i = 0; i < n; i++) {
            ptrs[i] = names[i];
        }
        if (ofl_ethtool_set_features(ifname, ptrs, on, n)) {
            VLOG_WARN("%s: cannot put its original offloads back: %s",
                      ifname, dp_nl_error());
        } else {
            VLOG_INFO("%s: original offloads restored (%zu features)",
                      ifname, n);
        }
        unlink(path);
    }
    free(names);
    free(path);
}
