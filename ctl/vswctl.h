/* Shared between vswctl's framework (vswctl.c) and its command sets. */
#ifndef CTL_VSWCTL_H
#define CTL_VSWCTL_H 1

#include "db-ctl-base.h"
#include "table.h"

struct vswrec_root;

/* The per-invocation context handed to every command. */
struct vsw_ctx {
    struct ctl_context base;
    const struct vswrec_root *root;     /* NULL in prerequisites. */
};

static inline struct vsw_ctx *
vsw_ctx_cast(struct ctl_context *base)
{
    return CONTAINER_OF(base, struct vsw_ctx, base);
}

/* Row 'row' is inserted ('inserted') or deleted by this attempt: if its
 * answer is lost with its connection, the next attempt checks whether it
 * was committed before doing it again (a cluster's leader that went). */
struct ovsdb_idl_row;
void vswctl_note_row(const struct ovsdb_idl_row *row, bool inserted);

/* This host's switch named 'name' (see Switch.host), or NULL. */
struct vswrec_switch;
const struct vswrec_switch *vswctl_find_switch(struct ctl_context *,
                                               const char *name);
const struct vswrec_switch *vswctl_switch_named(struct ovsdb_idl *,
                                                const char *name);

/* This host's port named 'name', or NULL; its switch into '*swp' if
 * 'swp' is nonnull. */
struct vswrec_port;
const struct vswrec_port *vswctl_find_port(struct ctl_context *,
                                           const char *name,
                                           const struct vswrec_switch **swp);

/* vsw's own listings serve people (a table) and programs (--format=json:
 * a list of objects, one per row, keyed by the column headings with '-'
 * as '_', values typed as ip -j does).  Each cell has its text ("" if
 * NULL) and its JSON value: a string, or null for NULL; the _int and
 * _bool forms make it a number or a boolean (null if 'text' is NULL or
 * not one). */
void vswctl_add_cell(struct table *, const char *text);
void vswctl_add_cell_int(struct table *, const char *text);
void vswctl_add_cell_bool(struct table *, const char *text);
/* A cell that shows 'shown' to people when 'text' is NULL ("-", say) and
 * is null for programs. */
void vswctl_add_cell_shown(struct table *, const char *text,
                           const char *shown);
/* Whether the listing command 'name' prints objects with --format=json. */
bool vswctl_is_listing(const char *name);
/* Prints 't' as a JSON list of objects (see above). */
void vswctl_print_objects(const struct table *, bool pretty);

/* Checks 'name' for a new switch, host port or port: a valid interface
 * name, not of the form of vsw's own, not the bridge, host port or port of
 * any object of this host (rows added earlier in this transaction
 * included) other than 'self' (the row being renamed, or NULL), not a
 * device in this kernel that vsw did not create; with 'adopt', a tap in
 * this kernel that another program made.  Returns NULL or a malloc()'d
 * reason. */
struct uuid;
char *vswctl_check_new_ifname(struct ovsdb_idl *, const char *name,
                              const struct uuid *self, bool adopt);

/* Output style chosen with --format and friends. */
extern struct table_style vswctl_table_style;

/* Names of switches that add-switch touched, so that --wait can report
 * what vswitchd found wrong with them. */
void vswctl_note_switch(const char *name);
void vswctl_note_port(const char *name);

/* "vswctl vhost-exec PORT -- COMMAND...": never returns (vhost-exec.c). */
OVS_NO_RETURN void vswctl_vhost_exec(int argc, char *argv[]);

/* Command sets. */
extern const struct ctl_command_syntax vswctl_switch_commands[];
extern const struct ctl_command_syntax vswctl_port_commands[];
extern const struct ctl_command_syntax vswctl_offload_commands[];
extern const struct ctl_command_syntax vswctl_flows_commands[];
extern const struct ctl_command_syntax vswctl_policy_commands[];
extern const struct ctl_command_syntax vswctl_stats_commands[];
extern const struct ctl_command_syntax vswctl_host_commands[];

/* NULL if offload 'feature' (and 'policy', if nonnull) are valid for switch
 * 'sw_name', else a malloc()'d error naming the valid choices. */
char *vswctl_check_offload(const char *sw_name, const char *feature,
                           const char *policy);

/* NULL if Switch.rss setting 'key'='value' is valid, else an error. */
char *vswctl_check_rss(const char *sw_name, const char *key,
                       const char *value);

/* Remembers that this run changes switch 'sw_name''s rss column (and, if
 * 'key' is nonnull, sets 'key' to 'value' in it); before
 * committing, vswctl_check_rss_limits() checks those switches' settings
 * against what vswitchd probed on the uplink (status:uplink_queues) and
 * returns an error, or NULL. */
void vswctl_note_rss(const char *sw_name, const char *key,
                     const char *value);
struct ovsdb_idl;
char *vswctl_check_rss_limits(struct ovsdb_idl *);

/* The number of ports of switch 'sw' in the database, whether or not their
 * rows are monitored (see monitor_named_ports() in vswctl.c), plus those
 * this transaction added to it (vswctl_switch_port_added()). */
struct vswrec_switch;
size_t vswctl_switch_n_ports(struct ovsdb_idl *, const struct vswrec_switch *);
void vswctl_switch_port_added(struct ovsdb_idl *,
                              const struct vswrec_switch *);

/* The ports of switch 'sw' in 'idl', sorted by name, into a malloc()'d
 * array of '*n'. */
const struct vswrec_port **vswctl_switch_ports(struct ovsdb_idl *,
                                               const struct vswrec_switch *,
                                               size_t *n);

#endif /* ctl/vswctl.h */
