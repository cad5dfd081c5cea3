/* Host rows; see host-row.h. */
#include <config.h>

#include "vswitchd/host-row.h"

#include <stdlib.h>
#include <string.h>

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
