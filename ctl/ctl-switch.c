/* vswctl's switch commands: add-switch, del-switch, list-switches, show.
 *
 * Each runs inside vswctl's single transaction.  add-switch refuses what
 * cannot work before anything is written (bad name, missing or busy
 * uplink, name taken by a device vsw does not own, SR-IOV mode mismatch on
 * --may-exist), so a refused command leaves database and kernel as they
 * were. */
#include <config.h>

#include <linux/if_tun.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/vswctl.h"
#include "datapath/ifname.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "sort.h"
#include "table.h"
#include "util.h"
#include "vsw-idl.h"
#include "vswitchd/port-row.h"
#include "uuid.h"
#include "vswitchd/paths.h"
#include "vswitchd/validate.h"

#define IOV_FIXED "SR-IOV mode is fixed when a switch is created; delete " \
                  "and recreate the switch"

const struct vswrec_switch *
vswctl_switch_named(struct ovsdb_idl *idl, const char *name)
{
    const struct vswrec_switch *sw;

    VSWREC_SWITCH_FOR_EACH (sw, idl) {
        if (!strcmp(sw->name, name) && !strcmp(sw->host, vsw_host_id())) {
            return sw;
        }
    }
    return NULL;
}

const struct vswrec_switch *
vswctl_find_switch(struct ctl_context *ctx, const char *name)
{
    return vswctl_switch_named(ctx->idl, name);
}

/* Whether 'sw' has a host port (vswitchd makes one for these). */
static bool
has_host_port(const struct vswrec_switch *sw)
{
    return vsw_switch_has_host_port(sw->type, sw->allow_management_os);
}

char *
vswctl_check_new_ifname(struct ovsdb_idl *idl, const char *name,
                        const struct uuid *self, bool adopt)
{
    const char *why = vsw_check_ifname(name);
    if (why) {
        return xasprintf("invalid name: %s", why);
    }

    const struct vswrec_switch *sw;
    VSWREC_SWITCH_FOR_EACH (sw, idl) {
        if (strcmp(sw->host, vsw_host_id())
            || (self && uuid_equals(self, &sw->header_.uuid))) {
            continue;
        }
        if (!strcmp(sw->name, name)) {
            return xasprintf("%s is the name of switch \"%s\"'s bridge; "
                             "interface names are unique on a host: choose "
                             "another", name, sw->name);
        }
        char *hp = vsw_host_port_name(sw->name, &sw->header_.uuid,
                                      sw->host_port);
        bool clash = has_host_port(sw) && !strcmp(hp, name);
        free(hp);
        if (clash) {
            return xasprintf("%s is the host port of switch \"%s\"; "
                             "interface names are unique on a host: choose "
                             "another", name, sw->name);
        }
    }
    const struct vswrec_port *p;
    VSWREC_PORT_FOR_EACH (p, idl) {
        if (!strcmp(p->name, name) && !strcmp(p->host, vsw_host_id())
            && !(self && uuid_equals(self, &p->header_.uuid))) {
            return xasprintf("%s is the name of an existing port; interface "
                             "names are unique on a host: choose another",
                             name);
        }
    }

    struct dp_ifname_info info;
    dp_ifname_lookup(name, &info);
    long tun_flags;
    if (adopt) {
        /* Only a tap that another program made and still holds. */
        if (!info.exists) {
            return xasprintf("there is no tap %s to adopt (--adopt attaches "
                             "a tap that QEMU or libvirt made)", name);
        }
        if (!dp_sysfs_read_long(name, "tun_flags", 16, &tun_flags)
            || !(tun_flags & IFF_TAP)) {
            return xasprintf("%s is not a tap: only a tap can be adopted",
                             name);
        }
        if (vsw_is_tag(info.alias)) {
            return xasprintf("%s is vsw's own device (%s)", name,
                             info.alias);
        }
    } else if (info.exists && !vsw_is_tag(info.alias)) {
        return xasprintf("a network device named %s already exists and vsw "
                         "did not create it; vsw never takes over devices it "
                         "did not create (rename or remove it, choose "
                         "another name, or add a tap that QEMU or libvirt "
                         "made with --adopt)", name);
    }
    return NULL;
}

/* Checks that 'uplink' can be bound to new switch 'name'.  Returns NULL or
 * a malloc()'d error. */
static char *
check_uplink(struct ctl_context *ctx, const char *name, const char *uplink)
{
    const struct vswrec_switch *other;
    const char *why = dp_ifname_check(uplink);

    if (why) {
        return xasprintf("switch \"%s\": invalid uplink \"%s\": %s",
                         name, uplink, why);
    }
    VSWREC_SWITCH_FOR_EACH (other, ctx->idl) {
        if (other->uplink && !strcmp(other->uplink, uplink)
            && !strcmp(other->host, vsw_host_id())) {
            return xasprintf("switch \"%s\": uplink %s is already the "
                             "uplink of switch \"%s\"; a NIC can serve one "
                             "switch (vswctl del-switch %s, or choose "
                             "another uplink)", name, uplink, other->name,
                             other->name);
        }
    }

    struct dp_ifname_info info;
    dp_ifname_lookup(uplink, &info);
    if (info.exists && info.is_loopback) {
        return xasprintf("switch \"%s\": uplink %s is the loopback device; "
                         "an uplink is a network interface with a wire (or "
                         "a veth) behind it", name, uplink);
    } else if (!info.exists) {
        return xasprintf("switch \"%s\": uplink %s: no such network device "
                         "(\"ip link show\" lists this host's interfaces)",
                         name, uplink);
    } else if (info.is_bridge) {
        return xasprintf("switch \"%s\": uplink %s is a bridge; an uplink "
                         "must be a network interface", name, uplink);
    } else if (vsw_is_tag(info.alias)) {
        return xasprintf("switch \"%s\": uplink %s is a device vsw created "
                         "(%s), not a network interface of the host",
                         name, uplink, info.alias);
    } else if (info.master[0]) {
        return xasprintf("switch \"%s\": uplink %s is already a port of %s; "
                         "release it first (ip link set %s nomaster) or "
                         "choose another uplink", name, uplink, info.master,
                         uplink);
    }
    return NULL;
}

static void
cmd_add_switch(struct ctl_context *ctx)
{
    const char *name = ctx->argv[1];
    bool may_exist = shash_find(&ctx->options, "--may-exist") != NULL;
    const char *type = shash_find_data(&ctx->options, "--type");
    const char *uplink = shash_find_data(&ctx->options, "--uplink");
    const char *host_port = shash_find_data(&ctx->options, "--host-port");
    bool iov = shash_find(&ctx->options, "--iov") != NULL;
    bool no_mgmt = shash_find(&ctx->options, "--no-management-os") != NULL;
    bool iov_fallback = shash_find(&ctx->options, "--iov-fallback") != NULL;
    const char *why;

    if ((why = dp_ifname_check(name))) {
        ctl_error(ctx, "invalid switch name \"%s\": %s (the switch's bridge "
                  "carries its name)", name, why);
        return;
    }

    if (!type) {
        type = uplink ? "external" : "internal";
    }
    bool external = !strcmp(type, "external");
    if (!external && strcmp(type, "internal") && strcmp(type, "private")) {
        ctl_error(ctx, "switch \"%s\": unknown type \"%s\" (choose external, "
                  "internal or private)", name, type);
        return;
    } else if (external && !uplink) {
        ctl_error(ctx, "switch \"%s\": an external switch needs an uplink "
                  "(--uplink IFNAME)", name);
        return;
    } else if (!external && uplink) {
        ctl_error(ctx, "switch \"%s\": --uplink is for external switches; "
                  "a %s switch has no uplink", name, type);
        return;
    } else if (no_mgmt && !external) {
        ctl_error(ctx, "switch \"%s\": --no-management-os is for external "
                  "switches (an internal switch always has a host port, a "
                  "private switch never has one)", name);
        return;
    }
    if (host_port) {
        if ((why = dp_ifname_check(host_port))) {
            ctl_error(ctx, "switch \"%s\": invalid host port name \"%s\": "
                      "%s", name, host_port, why);
            return;
        } else if (!strcmp(type, "private") || no_mgmt) {
            ctl_error(ctx, "switch \"%s\": --host-port given, but this "
                      "switch has no host port", name);
            return;
        }
    }

    const struct vswrec_switch *sw = vswctl_find_switch(ctx, name);
    if (sw) {
        if (!may_exist) {
            ctl_error(ctx, "switch \"%s\" already exists (--may-exist "
                      "accepts an existing switch)", name);
        } else if (sw->iov != iov) {
            ctl_error(ctx, "switch \"%s\" exists with SR-IOV %s: "
                      IOV_FIXED, name, sw->iov ? "on" : "off");
        } else if (strcmp(sw->type, type)) {
            ctl_error(ctx, "switch \"%s\" exists as an %s switch, not %s "
                      "(vswctl set switch %s type=%s changes it)", name,
                      sw->type, type, name, type);
        } else if (external && (!sw->uplink || strcmp(sw->uplink, uplink))) {
            ctl_error(ctx, "switch \"%s\" exists with uplink %s, not %s",
                      name, sw->uplink ? sw->uplink : "(none)", uplink);
        }
        vswctl_note_switch(name);
        return;
    }

    if (uplink) {
        char *error = check_uplink(ctx, name, uplink);
        if (error) {
            ctx->error = error;
            return;
        }
    }
    if (iov && !external) {
        ctl_error(ctx, "switch \"%s\": SR-IOV needs an external switch "
                  "whose uplink is the NIC's PF (--uplink IFNAME)", name);
        return;
    }
    if (iov && !iov_fallback) {
        char *path = xasprintf("/sys/class/net/%s/device/sriov_numvfs",
                               uplink);
        int missing = access(path, F_OK);
        free(path);
        if (missing) {
            ctl_error(ctx, "switch \"%s\": uplink %s has no SR-IOV "
                      "capability (no sriov_numvfs: not a PF, or its driver "
                      "lacks SR-IOV); create the switch without --iov, or "
                      "add --iov-fallback to run it in software until "
                      "SR-IOV can be delivered", name, uplink);
            return;
        }
    }
    /* The bridge's and the host port's names against every other name
     * on this host and in its kernel. */
    char *error = vswctl_check_new_ifname(ctx->idl, name, NULL, false);
    if (error) {
        ctl_error(ctx, "switch \"%s\": %s", name, error);
        free(error);
        return;
    }
    bool host_port_wanted = !strcmp(type, "internal")
                            || (external && !no_mgmt);
    if (host_port_wanted) {
        struct uuid zero = UUID_ZERO;
        char *hp = vsw_host_port_name(name, &zero, host_port);
        if (!host_port && strlen(name) + 3 > 15) {
            hp[0] = '\0';      /* Named after the new row's uuid: free. */
        }
        error = hp[0] ? vswctl_check_new_ifname(ctx->idl, hp, NULL, false) : NULL;
        if (error) {
            ctl_error(ctx, "switch \"%s\": host port %s: %s%s", name, hp,
                      error, host_port ? "" : " (or give --host-port NAME)");
            free(error);
            free(hp);
            return;
        }
        free(hp);
    }

    sw = VSW_ROW_INSERT(ctx->txn, switch);
    vswctl_note_row(&sw->header_, true);
    vswrec_switch_set_name(sw, name);
    vswrec_switch_set_host(sw, vsw_host_id());
    vswrec_switch_set_type(sw, type);
    vswrec_switch_set_uplink(sw, uplink);
    vswrec_switch_set_iov(sw, iov);
    vswrec_switch_set_allow_management_os(sw, external ? !no_mgmt : true);
    vswrec_switch_set_host_port(sw, host_port);
    vswctl_note_switch(name);
}

static void
cmd_del_switch(struct ctl_context *ctx)
{
    const char *name = ctx->argv[1];
    const struct vswrec_switch *sw = vswctl_find_switch(ctx, name);

    if (!sw) {
        if (!shash_find(&ctx->options, "--if-exists")) {
            ctl_error(ctx, "no switch named \"%s\" (--if-exists makes that "
                      "not an error)", name);
        }
        return;
    }
    /* The database refuses to delete a switch that ports still name. */
    size_t n;
    const struct vswrec_port **ports = vswctl_switch_ports(ctx->idl, sw, &n);
    for (size_t i = 0; i < n; i++) {
        vswctl_note_row(&ports[i]->header_, false);
        vswrec_port_delete(ports[i]);
    }
    free(ports);
    vswctl_note_row(&sw->header_, false);
    vswrec_switch_delete(sw);
}

static int
compare_switches(const void *a_, const void *b_)
{
    const struct vswrec_switch *const *a = a_;
    const struct vswrec_switch *const *b = b_;
    return strcmp((*a)->name, (*b)->name);
}

/* This host's switches, sorted by name.  Caller frees. */
static const struct vswrec_switch **
sorted_switches(struct ctl_context *ctx, size_t *n)
{
    const struct vswrec_switch *sw;
    const struct vswrec_switch **v = NULL;
    size_t allocated = 0;

    *n = 0;
    VSWREC_SWITCH_FOR_EACH (sw, ctx->idl) {
        if (!strcmp(sw->host, vsw_host_id())) {
            if (*n >= allocated) {
                v = x2nrealloc(v, &allocated, sizeof *v);
            }
            v[(*n)++] = sw;
        }
    }
    if (*n) {
        qsort(v, *n, sizeof *v, compare_switches);
    }
    return v;
}

void
vswctl_add_cell(struct table *t, const char *text)
{
    struct cell *c = table_add_cell(t);
    c->text = xstrdup(text ? text : "");
    c->json = text ? json_string_create(text) : json_null_create();
}

void
vswctl_add_cell_shown(struct table *t, const char *text, const char *shown)
{
    struct cell *c = table_add_cell(t);
    c->text = xstrdup(text ? text : shown);
    c->json = text ? json_string_create(text) : json_null_create();
}

void
vswctl_add_cell_int(struct table *t, const char *text)
{
    struct cell *c = table_add_cell(t);
    long long int v;
    c->text = xstrdup(text ? text : "");
    c->json = (text && str_to_llong(text, 10, &v) ? json_integer_create(v)
               : json_null_create());
}

void
vswctl_add_cell_bool(struct table *t, const char *text)
{
    struct cell *c = table_add_cell(t);
    c->text = xstrdup(text ? text : "");
    c->json = (!text ? json_null_create()
               : (!strcmp(text, "true") || !strcmp(text, "yes")
                  || !strcmp(text, "on"))
               ? json_boolean_create(true)
               : (!strcmp(text, "false") || !strcmp(text, "no")
                  || !strcmp(text, "off"))
               ? json_boolean_create(false) : json_null_create());
}

bool
vswctl_is_listing(const char *name)
{
    static const char *const listings[] = {
        "list-switches", "show", "list-ports", "offload", "flows",
        "acl-list", "stats", "list-hosts",
    };
    for (size_t i = 0; i < ARRAY_SIZE(listings); i++) {
        if (!strcmp(name, listings[i])) {
            return true;
        }
    }
    return false;
}

void
vswctl_print_objects(const struct table *t, bool pretty)
{
    /* The headings, through the table's own JSON form (its columns are
     * private to OVS's table.c). */
    struct table_style style = TABLE_STYLE_DEFAULT;
    style.format = TF_JSON;
    struct ds form = DS_EMPTY_INITIALIZER;
    table_format(t, &style, &form);
    struct json *whole = json_from_string(ds_cstr(&form));
    ds_destroy(&form);
    const struct json *headings = (whole->type == JSON_OBJECT
                                   ? shash_find_data(json_object(whole),
                                                     "headings") : NULL);

    struct json *list = json_array_create_empty();
    for (size_t y = 0; headings && y < t->n_rows; y++) {
        struct json *o = json_object_create();
        for (size_t x = 0; x < t->n_columns; x++) {
            const struct cell *c = &t->cells[y * t->n_columns + x];
            const struct json_array *ha = json_array(headings);
            const struct json *h = x < ha->n ? ha->elems[x] : NULL;
            char *key = xstrdup(h && h->type == JSON_STRING
                                ? json_string(h) : "?");
            for (char *k = key; *k; k++) {
                *k = *k == '-' ? '_' : *k;
            }
            json_object_put_nocopy(o, key,
                                   c->json ? json_clone(c->json)
                                   : c->text && c->text[0]
                                   ? json_string_create(c->text)
                                   : json_null_create());
        }
        json_array_add(list, o);
    }
    struct ds out = DS_EMPTY_INITIALIZER;
    json_to_ds(list, JSSF_SORT | (pretty ? JSSF_PRETTY : 0), &out);
    puts(ds_cstr(&out));
    ds_destroy(&out);
    json_destroy(list);
    json_destroy(whole);
}

static const char *
switch_state(const struct vswrec_switch *sw)
{
    return smap_get_def(&sw->status, "state", "pending");
}

/* One table for both list-switches and show, so that text and JSON carry
 * the same facts. */
static void
switch_table(struct ctl_context *ctx, bool detailed)
{
    struct table *t = xmalloc(sizeof *t);
    size_t n;
    const struct vswrec_switch **v = sorted_switches(ctx, &n);

    table_init(t);
    table_add_column(t, "name");
    table_add_column(t, "type");
    table_add_column(t, "uplink");
    table_add_column(t, "iov");
    table_add_column(t, "state");
    if (detailed) {
        table_add_column(t, "bridge_ifindex");
        table_add_column(t, "host_port");
        table_add_column(t, "error");
    }
    for (size_t i = 0; i < n; i++) {
        const struct vswrec_switch *sw = v[i];
        table_add_row(t);
        vswctl_add_cell(t, sw->name);
        vswctl_add_cell(t, sw->type);
        vswctl_add_cell(t, sw->uplink);
        vswctl_add_cell_bool(t, sw->iov ? "on" : "off");
        vswctl_add_cell(t, switch_state(sw));
        if (detailed) {
            vswctl_add_cell_int(t, smap_get(&sw->status, "bridge_ifindex"));
            vswctl_add_cell(t, smap_get(&sw->status, "host_port"));
            vswctl_add_cell(t, smap_get(&sw->status, "error"));
        }
    }
    free(v);
    ctx->table = t;
}

static void
cmd_list_switches(struct ctl_context *ctx)
{
    switch_table(ctx, false);
}

static void
cmd_show(struct ctl_context *ctx)
{
    if (vswctl_table_style.format == TF_JSON
        || vswctl_table_style.format == TF_CSV
        || vswctl_table_style.format == TF_HTML) {
        switch_table(ctx, true);
        return;
    }

    size_t n;
    const struct vswrec_switch **v = sorted_switches(ctx, &n);
    struct ds *s = &ctx->output;
    const struct vswrec_root *root = vswrec_root_first(ctx->idl);
    const char *damaged = root ? smap_get(&root->status, "db_damaged") : NULL;
    if (damaged) {
        ds_put_format(s, "Database: DAMAGED: %s\n", damaged);
    }
    for (size_t i = 0; i < n; i++) {
        const struct vswrec_switch *sw = v[i];
        const char *err = smap_get(&sw->status, "error");
        const char *br = smap_get(&sw->status, "bridge_ifindex");
        const char *hp = smap_get(&sw->status, "host_port");

        ds_put_format(s, "Switch \"%s\"\n", sw->name);
        ds_put_format(s, "    type: %s", sw->type);
        if (sw->uplink) {
            ds_put_format(s, ", uplink %s", sw->uplink);
        }
        ds_put_format(s, ", SR-IOV %s\n", sw->iov ? "on" : "off");
        if (sw->iov) {
            const char *sup = smap_get(&sw->status, "iov_support");
            const char *why = smap_get(&sw->status, "iov_reasons");
            ds_put_format(s, "    SR-IOV: %s, VFs %s in use of %s%s%s\n",
                          sup && !strcmp(sup, "true") ? "delivered"
                          : "not delivered",
                          smap_get_def(&sw->status, "vfs_in_use", "?"),
                          smap_get_def(&sw->status, "vf_capacity", "?"),
                          why ? "; " : "", why ? why : "");
        }
        ds_put_format(s, "    state: %s", switch_state(sw));
        if (br) {
            ds_put_format(s, " (bridge %s, ifindex %s)", sw->name, br);
        }
        ds_put_char(s, '\n');
        if (hp) {
            ds_put_format(s, "    host port: %s (ifindex %s)\n", hp,
                          smap_get_def(&sw->status, "host_port_ifindex",
                                       "?"));
        }
        if (err) {
            ds_put_format(s, "    error: %s\n", err);
        }
        int capacity = vsw_switch_port_capacity(sw->uplink != NULL,
                                                has_host_port(sw));
        size_t n_ports;
        const struct vswrec_port **ports = vswctl_switch_ports(ctx->idl, sw,
                                                               &n_ports);
        ds_put_format(s, "    ports: %"PRIuSIZE" of %d (room for %d more)\n",
                      n_ports, capacity,
                      capacity > (int) n_ports ? capacity - (int) n_ports
                      : 0);
        for (size_t j = 0; j < n_ports; j++) {
            const struct vswrec_port *p = ports[j];
            const char *in_use = smap_get(&p->status, "kind");
            const char *perr = smap_get(&p->status, "error");
            const char *reason = smap_get(&p->status, "reason");
            ds_put_format(s, "    Port \"%s\"\n", p->name);
            ds_put_format(s, "        kind: %s", p->kind);
            if (in_use && strcmp(in_use, p->kind)) {
                ds_put_format(s, " (in use: %s)", in_use);
            }
            ds_put_format(s, ", mac %s, state %s", p->mac ? p->mac : "-",
                          smap_get_def(&p->status, "state", "pending"));
            const char *link = smap_get(&p->status, "link");
            if (link) {
                ds_put_format(s, ", link %s", link);
            }
            ds_put_char(s, '\n');
            if (reason) {
                ds_put_format(s, "        reason: %s\n", reason);
            }
            if (perr) {
                ds_put_format(s, "        error: %s\n", perr);
            }
        }
        free(ports);
    }
    free(v);
}

const struct ctl_command_syntax vswctl_switch_commands[] = {
    {"add-switch", 1, 1, "NAME [--type=external|internal|private] "
     "[--uplink=IF] [--iov [--iov-fallback]] [--no-management-os] "
     "[--host-port=IF]",
     NULL, cmd_add_switch, NULL,
     "--may-exist,--type=,--uplink=,--iov,--iov-fallback,--no-management-os,"
     "--host-port=",
     RW},
    {"del-switch", 1, 1, "NAME", NULL, cmd_del_switch, NULL, "--if-exists",
     RW},
    {"list-switches", 0, 0, "", NULL, cmd_list_switches, NULL, "", RO},
    {"show", 0, 0, "", NULL, cmd_show, NULL, "", RO},
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, RO},
};
