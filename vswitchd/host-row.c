/* Host rows; see host-row.h. */
#include <config.h>

#include "vswitchd/host-row.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "smap.h"
#include "util.h"
#include "vsw-idl.h"

#define HEARTBEAT_DEFAULT 10000
#define HEARTBEAT_MIN 500
#define HEARTBEAT_MAX 600000

int
vsw_host_heartbeat(const struct vswrec_root *root)
{
    const char *s = root ? smap_get(&root->other_config, "host-heartbeat")
                         : NULL;
    return s && !vsw_check_host_heartbeat(s) ? atoi(s) : HEARTBEAT_DEFAULT;
}

const char *
vsw_check_host_heartbeat(const char *s)
{
    int ms;
    if (s && (!str_to_int(s, 10, &ms)
              || ms < HEARTBEAT_MIN || ms > HEARTBEAT_MAX)) {
        return "host-heartbeat must be a number of ms from 500 to 600000 "
               "(default 10000)";
    }
    return NULL;
}

const char *
vsw_check_host_id(const char *id)
{
    size_t n = strlen(id);
    if (!n) {
        return NULL;
    } else if (n > 64) {
        return "a host id has at most 64 characters";
    } else if (id[0] == '-' || id[0] == '.') {
        return "a host id does not start with '-' or '.'";
    } else if (strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                          "0123456789._-") != n) {
        return "a host id is made of letters, digits, '.', '_' and '-'";
    }
    return NULL;
}

bool
vsw_host_cfg_in_range(int64_t cfg)
{
    return cfg >= 0 && cfg <= (INT64_C(1) << 62);
}

const struct vswrec_host *
vsw_host_find(struct ovsdb_idl *idl, const char *name)
{
    const struct vswrec_host *h;
    VSWREC_HOST_FOR_EACH (h, idl) {
        if (!strcmp(h->name, name)) {
            return h;
        }
    }
    return NULL;
}

long long int
vsw_host_age(const struct vswrec_host *h, long long int now)
{
    return h->last_seen > 0 ? MAX(now - h->last_seen, 0) : -1;
}

bool
vsw_host_is_gone(const struct vswrec_host *h, int heartbeat,
                 long long int now)
{
    long long int age = vsw_host_age(h, now);
    return age < 0 || age > (long long int) heartbeat * VSW_HOST_MISSED_BEATS;
}

void
vsw_host_put_state(const struct vswrec_host *h, int heartbeat,
                   long long int now, struct ds *out)
{
    if (h->cur_cfg >= h->next_cfg) {
        ds_put_cstr(out, "current");
    } else {
        ds_put_format(out, "behind by %"PRId64, h->next_cfg - h->cur_cfg);
    }
    if (vsw_host_is_gone(h, heartbeat, now)) {
        long long int age = vsw_host_age(h, now);
        if (age < 0) {
            ds_put_cstr(out, "; never seen");
        } else {
            ds_put_format(out, "; not seen for %lld s", age / 1000);
        }
    }
}

/* This machine's running kernel: its boot id, which containers on one
 * kernel share and two machines (or two boots) never do, unlike an
 * /etc/machine-id copied with an image. */
static const char *
kernel_id(void)
{
    static char id[65];
    if (!id[0]) {
        FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
        if (!f || !fgets(id, sizeof id, f)) {
            ovs_strlcpy(id, "unknown", sizeof id);
        }
        if (f) {
            fclose(f);
        }
        id[strcspn(id, "\n/")] = '\0';
    }
    return id;
}

/* Field 22 of /proc/PID/stat: the process's start time, in clock ticks
 * since boot; 0 if there is no such process, or it is dead (a zombie that
 * its parent has not reaped yet). */
static unsigned long long int
process_start(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    buf[n] = '\0';
    /* After the command's name, which may hold anything but ends at the
     * last ')': the state is field 3, the start time field 22. */
    char *p = strrchr(buf, ')');
    unsigned long long int start = 0;
    if (p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X') {
        p++;
        for (int field = 3; field < 22 && p; field++) {
            p = strchr(p + 1, ' ');
        }
        if (p) {
            start = strtoull(p + 1, NULL, 10);
        }
    }
    return start;
}

const char *
vsw_host_instance(void)
{
    static char *instance;
    if (!instance) {
        instance = xasprintf("%s/%ld/%llu", kernel_id(), (long) getpid(),
                             process_start(getpid()));
    }
    return instance;
}

bool
vsw_host_instance_alive_here(const char *instance)
{
    const char *kid = kernel_id();
    size_t n = strlen(kid);
    long pid;
    unsigned long long int start;
    return (!strncmp(instance, kid, n) && instance[n] == '/'
            && sscanf(instance + n, "/%ld/%llu", &pid, &start) == 2
            && pid > 0 && start && process_start(pid) == start);
}

enum vsw_host_claim
vsw_host_claim(const char *theirs, const char *mine, bool gone,
               bool (*alive_here)(const char *instance))
{
    if (!theirs || !theirs[0] || !strcmp(theirs, mine)) {
        return VSW_HOST_MINE;
    }
    /* Another machine's lives while its row is refreshed; this machine's
     * while its process runs, whatever its row says (a vswitchd stopped
     * with SIGSTOP, say, is not taken over behind its back). */
    const char *slash = strchr(mine, '/');
    bool here = slash && !strncmp(theirs, mine, slash - mine + 1);
    bool lives = here ? alive_here(theirs) : !gone;
    return lives ? VSW_HOST_STANDBY : VSW_HOST_TAKE;
}
