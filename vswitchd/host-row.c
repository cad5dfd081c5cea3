/* Host rows; see host-row.h. */
#include <config.h>

#include "vswitchd/host-row.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    return cfg >= 0 && cfg < (INT64_C(1) << 62);
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

/* The first line of 'path' up to 64 bytes, without '/' or white space;
 * "unknown" if it cannot be read. */
static void
read_id(const char *path, char id[65])
{
    FILE *f = fopen(path, "r");
    if (!f || !fgets(id, 65, f)) {
        ovs_strlcpy(id, "unknown", 65);
    }
    if (f) {
        fclose(f);
    }
    id[strcspn(id, "\n/ ")] = '\0';
    if (!id[0]) {
        ovs_strlcpy(id, "unknown", 65);
    }
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

/* An instance's parts. */
struct instance {
    char machine[65];           /* /etc/machine-id. */
    char boot[65];              /* The kernel's boot id. */
    unsigned long long int pidns;   /* Its pid namespace's inode. */
    long pid;
    unsigned long long int start;   /* The process's start time. */
};

static bool
parse_instance(const char *s, struct instance *in)
{
    return sscanf(s, "%64[^/]/%64[^/]/%llu/%ld/%llu", in->machine, in->boot,
                  &in->pidns, &in->pid, &in->start) == 5;
}

static unsigned long long int
own_pidns(void)
{
    struct stat st;
    return stat("/proc/self/ns/pid", &st) ? 0 : (unsigned long long) st.st_ino;
}

const char *
vsw_host_instance(void)
{
    static char *instance;
    if (!instance) {
        char machine[65], boot[65];
        read_id("/etc/machine-id", machine);
        read_id("/proc/sys/kernel/random/boot_id", boot);
        instance = xasprintf("%s/%s/%llu/%ld/%llu", machine, boot,
                             own_pidns(), (long) getpid(),
                             process_start(getpid()));
    }
    return instance;
}

bool
vsw_host_instance_alive_here(const char *s)
{
    struct instance in, me;
    return (parse_instance(s, &in) && parse_instance(vsw_host_instance(), &me)
            && !strcmp(in.boot, me.boot) && in.pidns == me.pidns
            && in.pid > 0 && in.start && process_start(in.pid) == in.start);
}

enum vsw_host_claim
vsw_host_claim(const char *theirs, const char *mine, long long int still_ms,
               int heartbeat, bool (*alive_here)(const char *instance))
{
    if (!theirs || !theirs[0] || !strcmp(theirs, mine)) {
        return VSW_HOST_MINE;
    }
    struct instance t, m;
    bool known = (parse_instance(theirs, &t) && parse_instance(mine, &m)
                  && strcmp(m.boot, "unknown") && m.pidns);
    bool same_machine = known && !strcmp(t.machine, m.machine)
                        && strcmp(m.machine, "unknown");
    long long int wait;
    if (same_machine && !strcmp(t.boot, m.boot) && t.pidns == m.pidns) {
        /* Its process is visible here: it lives while it runs, whatever
         * its row says (one stopped with SIGSTOP is not taken over behind
         * its back), and is taken over at once once it has ended. */
        return alive_here(theirs) ? VSW_HOST_STANDBY : VSW_HOST_TAKE;
    } else if (same_machine) {
        /* This machine before a reboot, most likely, or in another pid
         * namespace (or an image's copied machine id): one that lived
         * would refresh its row within a heartbeat. */
        wait = heartbeat + 1000LL;
    } else {
        wait = (long long int) heartbeat * VSW_HOST_MISSED_BEATS;
    }
    return still_ms > wait ? VSW_HOST_TAKE : VSW_HOST_STANDBY;
}
