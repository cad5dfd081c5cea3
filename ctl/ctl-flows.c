/* "vswctl flows [SWITCH|PORT]": the hardware flow rules of this host's
 * SR-IOV switches, read from the kernel (a dump of the uplink's and the
 * representors' ingress filters; offload/flower.h), with what the switch
 * asks for (other_config:flow-placement) and what vswitchd reported
 * (status flows_reason).  Only vsw's own rules (its cookie) are listed.
 * Bytes are as TC counts them: without the Ethernet header. */
#include <config.h>

#include <inttypes.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/vswctl.h"
#include "datapath/link.h"
#include "db-ctl-base.h"
#include "offload/flower.h"
#include "offload/sriov.h"
#include "smap.h"
#include "table.h"
#include "util.h"
#include "vsw-idl.h"
#include "vswitchd/paths.h"

static void
add_u64(struct table *t, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%"PRIu64, v);
    vswctl_add_cell_int(t, buf);
}

static const char *
effective(const struct ofl_flow_installed *r, char *buf, size_t size)
{
    if (r->in_hw) {
        if (r->in_hw_count >= 0) {
            snprintf(buf, size, "hardware (%d device%s)%s", r->in_hw_count,
                     r->in_hw_count == 1 ? "" : "s",
                     r->skip_sw ? "" : " and software");
        } else {
            snprintf(buf, size, "hardware%s", r->skip_sw ? ""
                                                          : " and software");
        }
    } else {
        snprintf(buf, size, "software");
    }
    return buf;
}

/* The rules of switch 'sw' on 'dev', those about 'rep' only if nonzero. */
static void
add_rules(struct table *t, const struct vswrec_switch *sw,
          const struct dp_links *links, int dev, int rep)
{
    struct ofl_flow_installed *rules;
    size_t n;
    if (ofl_flower_dump(dev, &rules, &n)) {
        return;
    }
    const char *requested = smap_get_def(&sw->other_config,
                                         "flow-placement", "hardware");
    for (size_t i = 0; i < n; i++) {
        const struct ofl_flow_installed *r = &rules[i];
        if (!r->ours || (rep && dev != rep && r->out_ifindex != rep)) {
            continue;
        }
        char eff[64], prio[16];
        table_add_row(t);
        vswctl_add_cell(t, sw->name);
        vswctl_add_cell(t, dp_links_name_of(links, dev));
        snprintf(prio, sizeof prio, "%u", r->prio);
        vswctl_add_cell_int(t, prio);
        vswctl_add_cell(t, r->desc);
        vswctl_add_cell(t, requested);
        vswctl_add_cell(t, effective(r, eff, sizeof eff));
        vswctl_add_cell(t, r->skip_sw || r->in_hw ? NULL
                        : smap_get(&sw->status, "flows_reason"));
        add_u64(t, r->packets);
        add_u64(t, r->bytes);
        add_u64(t, r->hw_packets);
        add_u64(t, r->hw_bytes);
        add_u64(t, r->lastused_ms);
    }
    free(rules);
}

static void
cmd_flows(struct ctl_context *ctx)
{
    const char *only = ctx->argc > 1 ? ctx->argv[1] : NULL;
    const struct vswrec_port *only_port = NULL;
    const struct vswrec_switch *sw;

    if (only && !vswctl_switch_named(ctx->idl, only)) {
        only_port = vswctl_find_port(ctx, only, &sw);
        if (!only_port) {
            ctl_error(ctx, "no switch or port named \"%s\"", only);
            return;
        }
    }
    struct dp_links links;
    dp_links_init(&links);
    if (dp_links_dump(&links)) {
        ctl_error(ctx, "cannot read the kernel's links");
        dp_links_destroy(&links);
        return;
    }
    struct table *t = xmalloc(sizeof *t);
    table_init(t);
    static const char *const headings[] = {
        "switch", "device", "prio", "rule", "requested", "effective",
        "reason", "packets", "bytes", "hw_packets", "hw_bytes",
        "last_used_ms",
    };
    for (size_t i = 0; i < ARRAY_SIZE(headings); i++) {
        table_add_column(t, "%s", headings[i]);
    }
    VSWREC_SWITCH_FOR_EACH (sw, ctx->idl) {
        if (strcmp(sw->host, vsw_host_id()) || !sw->iov || !sw->uplink
            || (only && !only_port && strcmp(sw->name, only))
            || (only_port && only_port->switch_ != sw)) {
            continue;
        }
        const struct dp_link *up = dp_links_by_name(&links, sw->uplink);
        if (!up) {
            continue;
        }
        int rep = 0;
        if (only_port) {
            const char *name = smap_get(&only_port->status, "representor");
            const struct dp_link *l = name ? dp_links_by_name(&links, name)
                                           : NULL;
            rep = l ? l->ifindex : -1;
        }
        add_rules(t, sw, &links, up->ifindex, rep);
        const struct dp_link *l;
        int vf;
        HMAP_FOR_EACH (l, node, &links.by_index) {
            if (ofl_sriov_rep_of(up, l, &vf)) {
                add_rules(t, sw, &links, l->ifindex, rep);
            }
        }
    }
    dp_links_destroy(&links);
    ctx->table = t;
}

const struct ctl_command_syntax vswctl_flows_commands[] = {
    {"flows", 0, 1, "[SWITCH|PORT]", NULL, cmd_flows, NULL, "", RO},
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, RO},
};
