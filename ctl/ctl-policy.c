/* vswctl's port policy commands: set-port (guards, bandwidth, storm
 * limit, mirroring) and acl-add / acl-del / acl-list.
 *
 * Every value goes through the checks vswitchd applies when it reads the
 * row (vswitchd/validate.h), so a value vswctl takes is one vswitchd
 * enforces, and a bad one is refused here with the reason before anything
 * is written.  An ACL is a row the port lists in 'acls': deleting the port
 * deletes its ACLs with it. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/vswctl.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "util.h"
#include "uuid.h"
#include "vsw-idl.h"
#include "vswitchd/port-row.h"
#include "vswitchd/paths.h"
#include "vswitchd/validate.h"

static const struct vswrec_port *
policy_port(struct ctl_context *ctx, const char *name)
{
    const struct vswrec_port *p = vswctl_find_port(ctx, name, NULL);
    if (!p) {
        ctl_error(ctx, "no port named \"%s\"", name);
    }
    return p;
}

static bool
parse_bool(const char *s, bool *b)
{
    if (!strcmp(s, "on") || !strcmp(s, "true") || !strcmp(s, "yes")) {
        *b = true;
    } else if (!strcmp(s, "off") || !strcmp(s, "false")
               || !strcmp(s, "no")) {
        *b = false;
    } else {
        return false;
    }
    return true;
}

/* set-port PORT KEY=VALUE... */
static void
cmd_set_port(struct ctl_context *ctx)
{
    const struct vswrec_port *p = policy_port(ctx, ctx->argv[1]);
    if (!p) {
        return;
    }
    for (int i = 2; i < ctx->argc; i++) {
        const char *arg = ctx->argv[i];
        const char *eq = strchr(arg, '=');
        if (!eq) {
            ctl_error(ctx, "port %s: \"%s\" is not KEY=VALUE", p->name, arg);
            return;
        }
        char *key = xmemdup0(arg, eq - arg);
        const char *v = eq + 1;
        bool b, none = !strcmp(v, "none");
        int64_t n;
        const char *why = NULL;
        if (!strcmp(key, "mac-spoofing") || !strcmp(key, "dhcp-guard")
            || !strcmp(key, "router-guard")) {
            if (!parse_bool(v, &b)) {
                why = "wants on or off";
            } else if (key[0] == 'm') {
                vswrec_port_set_mac_spoofing(p, b);
            } else if (key[0] == 'd') {
                vswrec_port_set_dhcp_guard(p, b);
            } else {
                vswrec_port_set_router_guard(p, b);
            }
        } else if (!strcmp(key, "max-bandwidth")) {
            if (none) {
                vswrec_port_set_max_bandwidth(p, NULL, 0);
            } else if (!(why = vsw_check_rate(v, &n))
                       && !(why = vsw_check_max_bandwidth(n))) {
                vswrec_port_set_max_bandwidth(p, &n, 1);
            }
        } else if (!strcmp(key, "storm-limit")) {
            if (none) {
                vswrec_port_set_storm_limit(p, NULL, 0);
            } else if (!(why = vsw_check_rate(v, &n))
                       && !(why = vsw_check_storm_limit(n))) {
                vswrec_port_set_storm_limit(p, &n, 1);
            }
        } else if (!strcmp(key, "min-bandwidth-weight")) {
            if (none) {
                vswrec_port_set_min_bandwidth_weight(p, NULL, 0);
            } else if (!vsw_parse_int(v, 1, 100, &n)) {
                why = vsw_check_bandwidth_weight(0);
            } else {
                vswrec_port_set_min_bandwidth_weight(p, &n, 1);
            }
        } else if (!strcmp(key, "mirror")) {
            if (none) {
                vswrec_port_set_mirror(p, NULL);
            } else if (!strcmp(v, "source") || !strcmp(v, "destination")) {
                vswrec_port_set_mirror(p, v);
            } else {
                why = "wants source, destination or none";
            }
        } else {
            why = "is not a port setting (mac-spoofing, dhcp-guard, "
                  "router-guard, max-bandwidth, min-bandwidth-weight, "
                  "storm-limit, mirror)";
        }
        if (why) {
            ctl_error(ctx, "port %s: %s \"%s\": %s", p->name, key, v, why);
            free(key);
            return;
        }
        free(key);
    }
    vswctl_note_port(p->name);
}

/* acl-add PORT ACTION DIRECTION [KEY=VALUE...] */
static void
cmd_acl_add(struct ctl_context *ctx)
{
    const struct vswrec_port *p = policy_port(ctx, ctx->argv[1]);
    if (!p) {
        return;
    }
    struct vsw_acl_spec s = {
        .action = ctx->argv[2], .direction = ctx->argv[3],
        .weight = -1, .idle_timeout = -1,
    };
    for (int i = 4; i < ctx->argc; i++) {
        const char *arg = ctx->argv[i];
        const char *eq = strchr(arg, '=');
        size_t len = eq ? eq - arg : 0;
        const char *v = eq ? eq + 1 : NULL;
        int64_t n;
        if (!eq) {
            ctl_error(ctx, "port %s: ACL \"%s\" is not KEY=VALUE", p->name,
                      arg);
            return;
        }
#define KEY(K) (len == strlen(K) && !strncmp(arg, K, len))
        if (KEY("local")) {
            s.local = v;
        } else if (KEY("remote")) {
            s.remote = v;
        } else if (KEY("protocol")) {
            s.protocol = v;
        } else if (KEY("local-ports")) {
            s.local_ports = v;
        } else if (KEY("remote-ports")) {
            s.remote_ports = v;
        } else if (KEY("weight") || KEY("idle-timeout")) {
            if (!vsw_parse_int(v, 0, INT32_MAX, &n)) {
                ctl_error(ctx, "port %s: ACL %.*s \"%s\" is not a whole "
                          "number from 1 (weight up to 65535, idle-timeout "
                          "seconds up to 86400)", p->name, (int) len, arg, v);
                return;
            }
            *(KEY("weight") ? &s.weight : &s.idle_timeout) = n;
        } else if (KEY("stateful")) {
            if (!parse_bool(v, &s.stateful)) {
                ctl_error(ctx, "port %s: ACL stateful wants on or off",
                          p->name);
                return;
            }
        } else {
            ctl_error(ctx, "port %s: ACL key \"%.*s\" is unknown (local, "
                      "remote, protocol, local-ports, remote-ports, weight, "
                      "stateful, idle-timeout)", p->name, (int) len, arg);
            return;
        }
#undef KEY
    }
    struct vsw_acl acl;
    char *why = vsw_check_acl(&s, &acl);
    if (why) {
        ctl_error(ctx, "port %s: ACL refused: %s", p->name, why);
        free(why);
        return;
    }
    /* A weight orders the extended ACLs of a direction: no two share it,
     * among those committed and those this transaction adds (which the
     * port's row does not list before the commit). */
    static struct added { struct uuid port; int weight; int dir; } *added;
    static size_t n_added;
    for (size_t i = 0; i < n_added; i++) {
        if (uuid_equals(&added[i].port, &p->header_.uuid)
            && vsw_acl_weights_clash(acl.weight, acl.dir, added[i].weight,
                                     added[i].dir)) {
            ctl_error(ctx, "port %s: ACL refused: weight %d is taken by "
                      "another ACL of the same direction in this command "
                      "(give it another weight)", p->name, acl.weight);
            return;
        }
    }
    if (acl.weight) {
        added = xrealloc(added, (n_added + 1) * sizeof *added);
        added[n_added++] = (struct added) { p->header_.uuid, acl.weight,
                                            acl.dir };
    }
    for (size_t i = 0; i < p->n_acls; i++) {
        const struct vswrec_acl *o = p->acls[i];
        if (o->weight
            && vsw_acl_weights_clash(acl.weight, acl.dir, *o->weight,
                                     vsw_acl_dir_from_string(o->direction))) {
            ctl_error(ctx, "port %s: ACL refused: weight %d is taken by ACL "
                      "%08"PRIx32" of the same direction (give it another "
                      "weight)", p->name, acl.weight,
                      o->header_.uuid.parts[0]);
            return;
        }
    }
    struct vswrec_acl *a = VSW_ROW_INSERT(ctx->txn, acl);
    vswctl_note_row(&a->header_, true);
    vswrec_acl_set_host(a, p->host);
    vswrec_acl_set_direction(a, s.direction);
    vswrec_acl_set_action(a, s.action);
    /* Only what was given: a column left out is its default, and 10,000
     * entries in one transaction are then 10,000 short rows. */
    const char *strs[] = { s.local, s.remote, s.protocol, s.local_ports,
                           s.remote_ports };
    void (*const setters[])(const struct vswrec_acl *, const char *) = {
        vswrec_acl_set_local_address, vswrec_acl_set_remote_address,
        vswrec_acl_set_protocol, vswrec_acl_set_local_ports,
        vswrec_acl_set_remote_ports,
    };
    for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
        if (strs[i]) {
            setters[i](a, strs[i]);
        }
    }
    int64_t w = s.weight, t = s.idle_timeout;
    if (w >= 0) {
        vswrec_acl_set_weight(a, &w, 1);
    }
    if (t >= 0) {
        vswrec_acl_set_idle_timeout(a, &t, 1);
    }
    if (s.stateful) {
        vswrec_acl_set_stateful(a, true);
    }
    vswrec_port_update_acls_addvalue(p, a);
    vswctl_note_port(p->name);
    /* Its id is known once committed (post_acl_add()). */
    ds_put_format(&ctx->output, UUID_FMT, UUID_ARGS(&a->header_.uuid));
}

/* Prints the id of the ACL acl-add made, as acl-list and acl-del show
 * it. */
static void
post_acl_add(struct ctl_context *ctx)
{
    struct uuid tmp;
    if (!uuid_from_string(&tmp, ds_cstr(&ctx->output))) {
        return;
    }
    const struct uuid *real = ovsdb_idl_txn_get_insert_uuid(ctx->txn, &tmp);
    ds_clear(&ctx->output);
    if (real) {
        ds_put_format(&ctx->output, "%08"PRIx32"\n", real->parts[0]);
    }
}

/* The ACL of 'p' whose uuid starts with 'id' (at least 4 hex digits). */
static const struct vswrec_acl *
find_acl(struct ctl_context *ctx, const struct vswrec_port *p, const char *id)
{
    const struct vswrec_acl *found = NULL;
    size_t len = strlen(id);
    if (len < 4 || len > UUID_LEN) {
        ctl_error(ctx, "port %s: \"%s\" is not an ACL id (the first digits "
                  "of its uuid, at least 4, as acl-list shows)", p->name, id);
        return NULL;
    }
    for (size_t i = 0; i < p->n_acls; i++) {
        char s[UUID_LEN + 1];
        snprintf(s, sizeof s, UUID_FMT, UUID_ARGS(&p->acls[i]->header_.uuid));
        if (!strncasecmp(s, id, len)) {
            if (found) {
                ctl_error(ctx, "port %s: ACL id \"%s\" names more than one "
                          "ACL (give more digits)", p->name, id);
                return NULL;
            }
            found = p->acls[i];
        }
    }
    if (!found) {
        ctl_error(ctx, "port %s has no ACL \"%s\" (vswctl acl-list %s)",
                  p->name, id, p->name);
    }
    return found;
}

/* acl-del PORT ID... | --all */
static void
cmd_acl_del(struct ctl_context *ctx)
{
    const struct vswrec_port *p = policy_port(ctx, ctx->argv[1]);
    if (!p) {
        return;
    }
    if (shash_find(&ctx->options, "--all")) {
        for (size_t i = 0; i < p->n_acls; i++) {
            vswctl_note_row(&p->acls[i]->header_, false);
        }
        vswrec_port_set_acls(p, NULL, 0);
    } else if (ctx->argc < 3) {
        ctl_error(ctx, "acl-del %s: which ACL? (an id from acl-list, or "
                  "--all)", p->name);
        return;
    }
    for (int i = 2; i < ctx->argc; i++) {
        const struct vswrec_acl *a = find_acl(ctx, p, ctx->argv[i]);
        if (!a) {
            return;
        }
        vswctl_note_row(&a->header_, false);
        vswrec_port_update_acls_delvalue(p, a);
    }
    vswctl_note_port(p->name);
}

static void
add_int_cell(struct table *t, const int64_t *v, size_t n)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%"PRId64, n ? *v : 0);
    vswctl_add_cell_int(t, n ? buf : NULL);
}

/* Whether ACL 'a' of port 'p' is in force: its own error, else what its
 * port's policy status says of all of them. */
static const char *
acl_state(const struct vswrec_port *p, const struct vswrec_acl *a)
{
    const char *policy = smap_get(&p->status, "policy");
    return (smap_get(&a->status, "error") ? "error"
            : !policy ? "pending"
            : !strcmp(policy, "enforced") ? "enforced"
            : "not applied");
}

/* acl-list [PORT] */
static void
cmd_acl_list(struct ctl_context *ctx)
{
    const struct vswrec_port *only = NULL;
    if (ctx->argc > 1 && !(only = policy_port(ctx, ctx->argv[1]))) {
        return;
    }
    struct table *t = xmalloc(sizeof *t);
    table_init(t);
    static const char *const cols[] = {
        "port", "id", "direction", "action", "local", "remote", "protocol",
        "local_ports", "remote_ports", "weight", "stateful", "idle_timeout",
        "packets", "bytes", "state", "error",
    };
    for (size_t i = 0; i < ARRAY_SIZE(cols); i++) {
        table_add_column(t, "%s", cols[i]);
    }
    const struct vswrec_port *p;
    VSWREC_PORT_FOR_EACH (p, ctx->idl) {
        if ((only && p != only) || !p->n_acls || !p->switch_
            || strcmp(p->switch_->host, vsw_host_id())) {
            continue;
        }
        for (size_t i = 0; i < p->n_acls; i++) {
            const struct vswrec_acl *a = p->acls[i];
            char id[9];
            snprintf(id, sizeof id, "%08"PRIx32, a->header_.uuid.parts[0]);
            table_add_row(t);
            vswctl_add_cell(t, p->name);
            vswctl_add_cell(t, id);
            vswctl_add_cell(t, a->direction);
            vswctl_add_cell(t, a->action);
            vswctl_add_cell(t, a->local_address);
            vswctl_add_cell(t, a->remote_address);
            vswctl_add_cell(t, a->protocol);
            vswctl_add_cell(t, a->local_ports);
            vswctl_add_cell(t, a->remote_ports);
            add_int_cell(t, a->weight, a->n_weight);
            vswctl_add_cell_bool(t, a->stateful ? "true" : "false");
            add_int_cell(t, a->idle_timeout, a->n_idle_timeout);
            const char *pk = NULL, *by = NULL;
            char pkb[32], byb[32];
            for (size_t k = 0; k < a->n_statistics; k++) {
                if (!strcmp(a->key_statistics[k], "packets")) {
                    snprintf(pkb, sizeof pkb, "%"PRId64,
                             a->value_statistics[k]);
                    pk = pkb;
                } else if (!strcmp(a->key_statistics[k], "bytes")) {
                    snprintf(byb, sizeof byb, "%"PRId64,
                             a->value_statistics[k]);
                    by = byb;
                }
            }
            vswctl_add_cell_int(t, pk ? pk : "0");
            vswctl_add_cell_int(t, by ? by : "0");
            vswctl_add_cell(t, acl_state(p, a));
            vswctl_add_cell(t, smap_get(&a->status, "error"));
        }
    }
    ctx->table = t;
}

const struct ctl_command_syntax vswctl_policy_commands[] = {
    {"set-port", 2, INT_MAX, "PORT KEY=VALUE... (mac-spoofing=on|off, "
     "dhcp-guard=on|off, router-guard=on|off, max-bandwidth=RATE|none, "
     "min-bandwidth-weight=1..100|none, storm-limit=PPS|none, "
     "mirror=source|destination|none)",
     NULL, cmd_set_port, NULL, "", RW},
    {"acl-add", 3, INT_MAX, "PORT allow|deny|meter inbound|outbound|both "
     "[local=ADDR] [remote=ADDR] [protocol=P] [local-ports=N[-M]] "
     "[remote-ports=N[-M]] [weight=N] [stateful=on] [idle-timeout=S]",
     NULL, cmd_acl_add, post_acl_add, "", RW},
    {"acl-del", 1, INT_MAX, "PORT ID...|--all", NULL, cmd_acl_del, NULL,
     "--all", RW},
    {"acl-list", 0, 1, "[PORT]", NULL, cmd_acl_list, NULL, "", RO},
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, RO},
};
