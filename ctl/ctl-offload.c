/* vswctl's offload command: "offload show [SWITCH|PORT]" prints, per
 * switch and feature (and receive-queue setting), the policy, what
 * vswitchd requested, what the kernel made effective and why they differ,
 * or for a port what its VM negotiated and its VMQ; "offload set SWITCH
 * KEY=VALUE..." changes the policy (FEATURE=auto|on|off) and the receive
 * queue settings (rss-queues=N, rss-spread=N, rss-hash-key=K,
 * rss-hash-fields=F) after checking names, values and the uplink's
 * limits as vswitchd probed them. */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ctl/vswctl.h"
#include "offload/negotiate.h"
#include "offload/queues.h"
#include "openvswitch/dynamic-string.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "openvswitch/shash.h"
#include "util.h"
#include "vsw-idl.h"
#include "vswitchd/paths.h"

char *
vswctl_check_offload(const char *sw_name, const char *feature,
                     const char *policy)
{
    if (!ofl_policy_known(feature)) {
        struct ds s = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; ofl_feature_names[i]; i++) {
            ds_put_format(&s, "%s, ", ofl_feature_names[i]);
        }
        ds_put_cstr(&s, "rss, vmq");
        char *error = xasprintf("switch \"%s\": unknown offload feature "
                                "\"%s\" (choose from %s; receive queues: "
                                "rss-queues, rss-spread, rss-hash-key, "
                                "rss-hash-fields)", sw_name, feature,
                                ds_cstr(&s));
        ds_destroy(&s);
        return error;
    }
    if (policy && strcmp(policy, "auto") && strcmp(policy, "on")
        && strcmp(policy, "off")) {
        return xasprintf("switch \"%s\": offload %s: \"%s\" is not a policy "
                         "(choose auto, on or off)", sw_name, feature,
                         policy);
    }
    return NULL;
}

char *
vswctl_check_rss(const char *sw_name, const char *key, const char *value)
{
    char *error = ofl_rss_check(key, value);
    if (error) {
        char *full = xasprintf("switch \"%s\": %s", sw_name, error);
        free(error);
        return full;
    }
    return NULL;
}

/* Switches whose rss column this run changes, with the values written
 * through generic "set switch SW rss:KEY=VALUE" (partial map updates the
 * IDL does not show before the commit). */
static struct shash rss_touched = SHASH_INITIALIZER(&rss_touched);

void
vswctl_note_rss(const char *sw_name, const char *key, const char *value)
{
    struct smap *pending = shash_find_data(&rss_touched, sw_name);
    if (!pending) {
        pending = xmalloc(sizeof *pending);
        smap_init(pending);
        shash_add(&rss_touched, sw_name, pending);
    }
    if (key) {
        smap_replace(pending, key, value);
    }
}

char *
vswctl_check_rss_limits(struct ovsdb_idl *idl)
{
    const struct vswrec_switch *sw;

    VSWREC_SWITCH_FOR_EACH (sw, idl) {
        const struct smap *pending = shash_find_data(&rss_touched, sw->name);
        if (!pending || strcmp(sw->host, vsw_host_id())) {
            continue;
        }
        struct smap rss;
        smap_clone(&rss, &sw->rss);
        struct smap_node *node;
        SMAP_FOR_EACH (node, pending) {
            smap_replace(&rss, node->key, node->value);
        }
        const char *probed = smap_get(&sw->status, "uplink_queues");
        const char *queues = smap_get(&rss, "queues");
        const char *spread = smap_get(&rss, "spread");
        unsigned int cur, max, n = 0, s;
        char *error = NULL;
        if (!probed || sscanf(probed, "%u of %u", &cur, &max) != 2) {
            /* Not probed yet: vswitchd checks. */
        } else if (queues && sscanf(queues, "%u", &n) == 1 && n > max) {
            error = xasprintf("switch \"%s\": rss queues %u is above uplink "
                              "%s's maximum of %u receive queues (choose "
                              "1-%u)", sw->name, n, sw->uplink
                              ? sw->uplink : "?", max, max);
        } else if (spread && sscanf(spread, "%u", &s) == 1
                   && s > (queues ? n : cur)) {
            error = xasprintf("switch \"%s\": rss spread %u is above the %u "
                              "receive queues (choose 1-%u)", sw->name, s,
                              queues ? n : cur, queues ? n : cur);
        }
        smap_destroy(&rss);
        if (error) {
            return error;
        }
    }
    return NULL;
}

static void
add_row(struct table *t, const struct vswrec_switch *sw, const char *key,
        const char *policy)
{
    table_add_row(t);
    vswctl_add_cell(t, sw->name);
    vswctl_add_cell(t, sw->uplink);
    vswctl_add_cell(t, key);
    vswctl_add_cell(t, policy);
    vswctl_add_cell_shown(t, smap_get(&sw->offload_requested, key), "-");
    vswctl_add_cell_shown(t, smap_get(&sw->offload_effective, key), "-");
    vswctl_add_cell(t, smap_get(&sw->offload_reason, key));
}

static void
show_switches(struct ctl_context *ctx, const char *only)
{
    const struct vswrec_switch *sw;
    struct table *t = xmalloc(sizeof *t);

    table_init(t);
    table_add_column(t, "switch");
    table_add_column(t, "uplink");
    table_add_column(t, "feature");
    table_add_column(t, "policy");
    table_add_column(t, "requested");
    table_add_column(t, "effective");
    table_add_column(t, "reason");
    VSWREC_SWITCH_FOR_EACH (sw, ctx->idl) {
        if (strcmp(sw->host, vsw_host_id())
            || (only && strcmp(sw->name, only)) || !sw->uplink) {
            continue;
        }
        for (size_t i = 0; ofl_feature_names[i]; i++) {
            const char *f = ofl_feature_names[i];
            add_row(t, sw, f, smap_get_def(&sw->offload, f, "auto"));
        }
        add_row(t, sw, "rss", smap_get_def(&sw->offload, "rss", "auto"));
        for (size_t i = 0; ofl_rss_keys[i]; i++) {
            char *key = xasprintf("rss-%s", ofl_rss_keys[i]);
            add_row(t, sw, key, smap_get_def(&sw->rss, ofl_rss_keys[i],
                                             "auto"));
            free(key);
        }
        add_row(t, sw, "vmq", smap_get_def(&sw->offload, "vmq", "auto"));
        add_row(t, sw, "vmq-queues", "-");
    }
    ctx->table = t;
}

static void
show_port(struct ctl_context *ctx, const struct vswrec_port *p)
{
    static const char *const keys[] = {
        "kind", "vm_offloads", "offload_mismatch", "vmq_queue",
        "vmq_reason", NULL,
    };
    struct table *t = xmalloc(sizeof *t);
    char weight[16];

    table_init(t);
    table_add_column(t, "port");
    table_add_column(t, "key");
    table_add_column(t, "value");
    snprintf(weight, sizeof weight, "%"PRId64, p->vmq_weight);
    table_add_row(t);
    vswctl_add_cell(t, p->name);
    vswctl_add_cell(t, "vmq_weight");
    vswctl_add_cell(t, weight);
    for (size_t i = 0; keys[i]; i++) {
        const char *v = smap_get(&p->status, keys[i]);
        if (v) {
            table_add_row(t);
            vswctl_add_cell(t, p->name);
            vswctl_add_cell(t, keys[i]);
            vswctl_add_cell(t, v);
        }
    }
    ctx->table = t;
}

static void
offload_set(struct ctl_context *ctx, const struct vswrec_switch *sw)
{
    struct smap policy, rss;
    char *error = NULL;

    smap_clone(&policy, &sw->offload);
    smap_clone(&rss, &sw->rss);
    for (int i = 3; i < ctx->argc && !error; i++) {
        char *key = xstrdup(ctx->argv[i]);
        char *value = strchr(key, '=');
        if (value) {
            *value++ = '\0';
        }
        if (!strncmp(key, "rss-", 4)) {
            const char *setting = key + 4;
            bool known = false;
            for (size_t k = 0; ofl_rss_keys[k]; k++) {
                known |= !strcmp(setting, ofl_rss_keys[k]);
            }
            if (!known) {
                error = vswctl_check_rss(sw->name, setting, "");
            } else if (!value || !*value || !strcmp(value, "auto")) {
                smap_remove(&rss, setting);     /* The device's. */
            } else if (!(error = vswctl_check_rss(sw->name, setting,
                                                  value))) {
                smap_replace(&rss, setting, value);
            }
        } else if (!(error = vswctl_check_offload(sw->name, key,
                                                  value ? value : ""))) {
            smap_replace(&policy, key, value);
        }
        free(key);
    }
    if (error) {
        ctx->error = error;
    } else {
        vswrec_switch_set_offload(sw, &policy);
        vswrec_switch_set_rss(sw, &rss);
        vswctl_note_switch(sw->name);
        vswctl_note_rss(sw->name, NULL, NULL);
    }
    smap_destroy(&policy);
    smap_destroy(&rss);
}

static void
cmd_offload(struct ctl_context *ctx)
{
    const char *verb = ctx->argv[1];

    if (!strcmp(verb, "show")) {
        const struct vswrec_port *p = NULL;
        if (ctx->argc > 3) {
            ctl_error(ctx, "offload show takes at most one switch or port");
        } else if (ctx->argc == 3 && !vswctl_find_switch(ctx, ctx->argv[2])
                   && !(p = vswctl_find_port(ctx, ctx->argv[2], NULL))) {
            ctl_error(ctx, "no switch or port named \"%s\"", ctx->argv[2]);
        } else if (p) {
            show_port(ctx, p);
        } else {
            show_switches(ctx, ctx->argc == 3 ? ctx->argv[2] : NULL);
        }
        return;
    } else if (strcmp(verb, "set") || ctx->argc < 4) {
        ctl_error(ctx, "usage: offload show [SWITCH|PORT] | offload set "
                  "SWITCH FEATURE=auto|on|off... rss-queues=N "
                  "rss-spread=N rss-hash-key=K rss-hash-fields=F "
                  "(rss-...=auto: the device's)");
        return;
    }

    const struct vswrec_switch *sw = vswctl_find_switch(ctx, ctx->argv[2]);
    if (!sw) {
        ctl_error(ctx, "no switch named \"%s\"", ctx->argv[2]);
        return;
    }
    offload_set(ctx, sw);
}

const struct ctl_command_syntax vswctl_offload_commands[] = {
    {"offload", 1, INT_MAX, "show [SWITCH|PORT] | set SWITCH KEY=VALUE...",
     NULL, cmd_offload, NULL, "", RW},
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, RO},
};
