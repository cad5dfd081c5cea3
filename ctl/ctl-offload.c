/* vswctl's offload command: "offload show [SWITCH]" prints, per switch
 * and feature, the policy, what vswitchd requested, what the kernel made
 * effective and why they differ; "offload set SWITCH FEATURE=POLICY..."
 * changes the policy after checking the names and values. */
#include <config.h>

#include <limits.h>
#include <string.h>

#include "ctl/vswctl.h"
#include "offload/negotiate.h"
#include "openvswitch/dynamic-string.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "util.h"
#include "vsw-idl.h"
#include "vswitchd/paths.h"

/* NULL if 'feature' and 'policy' are valid, else a malloc()'d error. */
char *
vswctl_check_offload(const char *sw_name, const char *feature,
                     const char *policy)
{
    if (!ofl_feature_known(feature)) {
        struct ds s = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; ofl_feature_names[i]; i++) {
            ds_put_format(&s, "%s%s", i ? ", " : "", ofl_feature_names[i]);
        }
        char *error = xasprintf("switch \"%s\": unknown offload feature "
                                "\"%s\" (choose from %s)", sw_name, feature,
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

static void
offload_show(struct ctl_context *ctx, const char *only)
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
            table_add_row(t);
            vswctl_add_cell(t, sw->name);
            vswctl_add_cell(t, sw->uplink);
            vswctl_add_cell(t, f);
            vswctl_add_cell(t, smap_get_def(&sw->offload, f, "auto"));
            vswctl_add_cell(t, smap_get_def(&sw->offload_requested, f, "-"));
            vswctl_add_cell(t, smap_get_def(&sw->offload_effective, f, "-"));
            vswctl_add_cell(t, smap_get(&sw->offload_reason, f));
        }
    }
    ctx->table = t;
}

static void
cmd_offload(struct ctl_context *ctx)
{
    const char *verb = ctx->argv[1];

    if (!strcmp(verb, "show")) {
        if (ctx->argc > 3) {
            ctl_error(ctx, "offload show takes at most one switch");
        } else if (ctx->argc == 3 && !vswctl_find_switch(ctx, ctx->argv[2])) {
            ctl_error(ctx, "no switch named \"%s\"", ctx->argv[2]);
        } else {
            offload_show(ctx, ctx->argc == 3 ? ctx->argv[2] : NULL);
        }
        return;
    } else if (strcmp(verb, "set") || ctx->argc < 4) {
        ctl_error(ctx, "usage: offload show [SWITCH] | offload set SWITCH "
                  "FEATURE=auto|on|off...");
        return;
    }

    const struct vswrec_switch *sw = vswctl_find_switch(ctx, ctx->argv[2]);
    if (!sw) {
        ctl_error(ctx, "no switch named \"%s\"", ctx->argv[2]);
        return;
    }
    struct smap policy;
    smap_clone(&policy, &sw->offload);
    for (int i = 3; i < ctx->argc; i++) {
        char *key = xstrdup(ctx->argv[i]);
        char *value = strchr(key, '=');
        if (value) {
            *value++ = '\0';
        }
        char *error = vswctl_check_offload(sw->name, key,
                                           value ? value : "");
        if (error) {
            ctx->error = error;
            free(key);
            smap_destroy(&policy);
            return;
        }
        smap_replace(&policy, key, value);
        free(key);
    }
    vswrec_switch_set_offload(sw, &policy);
    vswctl_note_switch(sw->name);
    smap_destroy(&policy);
}

const struct ctl_command_syntax vswctl_offload_commands[] = {
    {"offload", 1, INT_MAX, "show [SWITCH] | set SWITCH FEATURE=POLICY...",
     NULL, cmd_offload, NULL, "", RW},
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, RO},
};
