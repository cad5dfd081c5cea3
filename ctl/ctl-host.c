/* "vswctl list-hosts": the hosts whose vswitchd uses this database (table
 * Host), each with its state: current, or behind by how many changes, and
 * whether it is gone (not seen for three heartbeats).  One database shared
 * by many hosts is run from here: which host is late, and which is down. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "ctl/vswctl.h"
#include "db-ctl-base.h"
#include "openvswitch/dynamic-string.h"
#include "table.h"
#include "timeval.h"
#include "util.h"
#include "vsw-idl.h"
#include "vswitchd/host-row.h"

static int
compare_hosts(const void *a_, const void *b_)
{
    const struct vswrec_host *const *a = a_, *const *b = b_;
    return strcmp((*a)->name, (*b)->name);
}

static void
cmd_list_hosts(struct ctl_context *ctx)
{
    const struct vswrec_root *root = vswrec_root_first(ctx->idl);
    int beat = vsw_host_heartbeat(root);
    long long int now = time_wall_msec();

    size_t n = 0, allocated = 0;
    const struct vswrec_host **v = NULL;
    const struct vswrec_host *h;
    VSWREC_HOST_FOR_EACH (h, ctx->idl) {
        if (n >= allocated) {
            v = x2nrealloc(v, &allocated, sizeof *v);
        }
        v[n++] = h;
    }
    if (n) {
        qsort(v, n, sizeof *v, compare_hosts);
    }

    struct table *t = xmalloc(sizeof *t);
    table_init(t);
    table_add_column(t, "name");
    table_add_column(t, "hostname");
    table_add_column(t, "version");
    table_add_column(t, "state");
    table_add_column(t, "applied");
    table_add_column(t, "wanted");
    table_add_column(t, "last_seen_s");
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        h = v[i];
        table_add_row(t);
        vswctl_add_cell(t, h->name);
        vswctl_add_cell(t, h->hostname);
        vswctl_add_cell(t, h->version);
        ds_clear(&s);
        vsw_host_put_state(h, beat, now, &s);
        vswctl_add_cell(t, ds_cstr(&s));
        ds_clear(&s);
        ds_put_format(&s, "%"PRId64, h->cur_cfg);
        vswctl_add_cell_int(t, ds_cstr(&s));
        ds_clear(&s);
        ds_put_format(&s, "%"PRId64, h->next_cfg);
        vswctl_add_cell_int(t, ds_cstr(&s));
        long long int age = vsw_host_age(h, now);
        ds_clear(&s);
        if (age >= 0) {
            ds_put_format(&s, "%lld", age / 1000);
            vswctl_add_cell_int(t, ds_cstr(&s));
        } else {
            vswctl_add_cell_shown(t, NULL, "never");
        }
    }
    ds_destroy(&s);
    free(v);
    ctx->table = t;
}

const struct ctl_command_syntax vswctl_host_commands[] = {
    {"list-hosts", 0, 0, "", NULL, cmd_list_hosts, NULL, "", RO},
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, RO},
};
