/* The desired state: what the database asks of this host's switches and
 * ports, validated, as the reconciler's input (reconcile.h).  It reads the
 * database and vsw's table of kernel links (which device holds a name, is a
 * bridge there, can it filter VLANs), never the kernel itself.
 *
 * Every value that reaches the kernel is checked here again (any OVSDB
 * client can write anything the schema allows) with the rules vswctl uses
 * (validate.h); a bad value becomes the object's error, and a device made
 * from an earlier, valid configuration is left as it is.  Interface names
 * are one namespace per host: of several objects that want one name, the
 * one whose device holds it keeps it (or held it last: STATE/names), then
 * bridges, host ports and ports in that order.  A switch's bridge takes at
 * most VSW_BRIDGE_MAX_PORTS ports. */
#include <config.h>

#include "vswitchd/desired.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/ifname.h"
#include "datapath/link.h"
#include "offload/sriov.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "smap.h"
#include "sset.h"
#include "svec.h"
#include "util.h"
#include "uuid.h"
#include "uuidset.h"
#include "vsw-idl.h"
#include "vswitchd/paths.h"
#include "vswitchd/reconcile.h"
#include "vswitchd/validate.h"

VLOG_DEFINE_THIS_MODULE(desired);

static enum rc_switch_type
switch_type(const char *type)
{
    return (!strcmp(type, "external") ? RC_EXTERNAL
            : !strcmp(type, "internal") ? RC_INTERNAL
            : RC_PRIVATE);
}

static bool
has_host_port(const struct vswrec_switch *sw)
{
    return vsw_switch_has_host_port(sw->type, sw->allow_management_os);
}

enum vsw_port_kind
desired_port_kind(const char *kind)
{
    int k = vsw_port_kind_from_name(kind);
    return k >= 0 ? k : VSW_PORT_TAP;
}

long
desired_resolve_id(const char *name, bool user, const char **why)
{
    long id;
    *why = name ? vsw_check_owner(name, user, &id) : NULL;
    return !name ? -1 : *why ? -2 : id;
}

/* Per-object strings that live as long as one pass. */
struct port_strings {
    char *config_error;
    char *policy_error;
    struct rc_policy policy;
};

/* Sets '*error' unless it is set: the first problem found is the one
 * reported.  refuse() records why an object cannot be realized,
 * refuse_policy() why a port's policy cannot change. */
static void OVS_PRINTF_FORMAT(2, 3)
refuse_into(char **error, const char *fmt, ...)
{
    if (!*error) {
        va_list args;
        va_start(args, fmt);
        *error = xvasprintf(fmt, args);
        va_end(args);
    }
}
#define refuse(STRS, ...) refuse_into(&(STRS)->config_error, __VA_ARGS__)
#define refuse_policy(STRS, ...) \
    refuse_into(&(STRS)->policy_error, __VA_ARGS__)

/* The values of port 'p' that reach the kernel, checked the same way
 * vswctl checks them: any database client can write anything the schema
 * allows. */
static void
validate_port(const struct vswrec_switch *sw, const struct vswrec_port *p,
              const char *owner_why, const char *group_why,
              struct port_strings *strs)
{
    const char *why;

    if ((why = vsw_check_ifname(p->name))) {
        refuse(strs, "port \"%s\": invalid name: %s (it is the port's "
               "interface name; vswctl del-port, then add it with a valid "
               "name)", p->name, why);
    }
    if (strcmp(p->host, sw->host)) {
        refuse(strs, "port %s belongs to host \"%s\" but its switch %s to "
               "host \"%s\"; a port is on its switch's host (vswctl set "
               "port %s host=%s, or rename the port if another of that host "
               "has its name)", p->name, p->host, sw->name, sw->host,
               p->name, sw->host);
    }
    bool tap = vsw_port_kind_is_tap(desired_port_kind(p->kind));
    if (p->mac && (why = vsw_check_guest_mac(p->mac, tap))) {
        refuse(strs, "port %s: MAC \"%s\": %s (vswctl set port %s "
               "mac=52:54:00:xx:xx:xx)", p->name, p->mac, why, p->name);
    }
    if (owner_why) {
        refuse(strs, "port %s: owner \"%s\": %s (vswctl set port %s "
               "owner=USER, or clear it)", p->name, p->owner, owner_why,
               p->name);
    }
    if (group_why) {
        refuse(strs, "port %s: group \"%s\": %s (vswctl set port %s "
               "group=GROUP, or clear it)", p->name, p->group, group_why,
               p->name);
    }
    if (p->netns && (why = dp_netns_check(p->netns))) {
        refuse(strs, "port %s: netns \"%s\": %s", p->name, p->netns, why);
    }
    const char *peer = smap_get(&p->other_config, "peer_name");
    if (peer && (why = dp_ifname_check(peer))) {
        refuse(strs, "port %s: other_config:peer_name \"%s\": %s", p->name,
               peer, why);
    }
}

/* What every port of a switch needs in a pass, dirty or clean: identity
 * (for ownership and name claims), MAC and VLANs (an uplink trunks the
 * VLANs of all ports; an SR-IOV switch's flow rules name every port's
 * MAC), mirroring and bandwidth weight (shared by the switch's ports). */
static void
fill_port_identity(struct rc_port *rc, const struct vswrec_port *p)
{
    rc_port_init(rc);
    rc->uuid = p->header_.uuid;
    rc->name = p->name;
    rc->kind = desired_port_kind(p->kind);
    rc->adopted = p->adopted;
    rc->prev_ifindex = atoi(smap_get_def(&p->status, "ifindex", "0"));
    rc->mac = p->mac;
    if (p->vlan_mode) {
        rc->vlan_mode = (!strcmp(p->vlan_mode, "access") ? RC_VLAN_ACCESS
                         : RC_VLAN_TRUNK);
        rc->tag = p->tag ? *p->tag : 0;
        rc->trunks = p->trunks;
        rc->n_trunks = p->n_trunks;
    }
    rc->mirror = (!p->mirror ? RC_MIRROR_NONE
                  : !strcmp(p->mirror, "source") ? RC_MIRROR_SOURCE
                  : RC_MIRROR_DESTINATION);
    const int64_t *w = p->min_bandwidth_weight;
    rc->bw_weight = w && !vsw_check_bandwidth_weight(*w) ? *w : 0;
    rc->bw_class_hint = rc_bw_class_parse(smap_get(&p->status,
                                                   RC_BW_CLASS_KEY));
}

/* A port's policy: its guards, limits and ACLs, validated whole: one bad
 * value and none of it changes what is in force. */
static void
fill_policy(struct rc_port *rc, const struct vswrec_port *p,
            struct port_strings *strs)
{
    struct rc_policy *pol = &strs->policy;
    const char *why;

    memset(pol, 0, sizeof *pol);
    pol->mac_spoofing = p->mac_spoofing;
    pol->dhcp_guard = p->dhcp_guard;
    pol->router_guard = p->router_guard;
    if (p->max_bandwidth) {
        if ((why = vsw_check_max_bandwidth(*p->max_bandwidth))) {
            refuse_policy(strs, "port %s: max_bandwidth %"PRId64": %s "
                          "(vswctl set-port %s max-bandwidth=RATE)", p->name,
                          *p->max_bandwidth, why, p->name);
        }
        pol->max_bandwidth = *p->max_bandwidth;
    }
    if (p->storm_limit) {
        if ((why = vsw_check_storm_limit(*p->storm_limit))) {
            refuse_policy(strs, "port %s: storm_limit %"PRId64": %s (vswctl "
                          "set-port %s storm-limit=PPS)", p->name,
                          *p->storm_limit, why, p->name);
        }
        pol->storm_limit = *p->storm_limit;
    }
    if (p->min_bandwidth_weight) {
        if ((why = vsw_check_bandwidth_weight(*p->min_bandwidth_weight))) {
            refuse_policy(strs, "port %s: min_bandwidth_weight %"PRId64": %s "
                          "(vswctl set-port %s min-bandwidth-weight=1..100)",
                          p->name, *p->min_bandwidth_weight, why, p->name);
        }
    }

    /* Entries the port lists that this host does not see: their host is
     * another's (vswitchd monitors its own hosts' entries only).  (Rows
     * made by unit tests have no table and list only what they have.) */
    const struct ovsdb_datum *listed = (p->header_.table
        ? vswrec_port_get_acls(p, OVSDB_TYPE_UUID) : NULL);
    if (listed && listed->n > p->n_acls) {
        refuse_policy(strs, "port %s: %"PRIuSIZE" of its ACL entries are "
                      "another host's (their host column is not \"%s\"): "
                      "set it (vswctl set acl ID host=%s), or delete them",
                      p->name, listed->n - p->n_acls, p->host, p->host);
    }
    pol->acls = p->n_acls ? xcalloc(p->n_acls, sizeof *pol->acls) : NULL;
    for (size_t i = 0; i < p->n_acls; i++) {
        const struct vswrec_acl *a = p->acls[i];
        struct rc_acl *ra = &pol->acls[pol->n_acls++];
        struct vsw_acl_spec spec = {
            .direction = a->direction, .action = a->action,
            .local = a->local_address, .remote = a->remote_address,
            .protocol = a->protocol, .local_ports = a->local_ports,
            .remote_ports = a->remote_ports,
            /* -1 says "not given": a stored negative one is given, and
             * wrong. */
            .weight = a->weight ? MAX(*a->weight, 0) : -1,
            .idle_timeout = a->idle_timeout ? MAX(*a->idle_timeout, 0) : -1,
            .stateful = a->stateful,
        };
        ra->uuid = a->header_.uuid;
        char *err = vsw_check_acl(&spec, &ra->acl);
        if (err) {
            char *id = xasprintf(UUID_FMT, UUID_ARGS(&ra->uuid));
            smap_add_nocopy(&rc->acl_status, id, xstrdup(err));
            refuse_policy(strs, "port %s: ACL %08"PRIx32": %s (vswctl "
                          "acl-del %s %08"PRIx32", and add it again)",
                          p->name, ra->uuid.parts[0], err, p->name,
                          ra->uuid.parts[0]);
            free(err);
        }
    }
    {
        /* A weight says which extended ACL goes first: two of one
         * direction cannot share it.  (By weight, not pair by pair: a
         * port may have 10,000 entries.) */
        struct weighted {
            struct hmap_node node;
            size_t i;
        } *nodes = xmalloc((pol->n_acls + 1) * sizeof *nodes);
        struct hmap by_weight = HMAP_INITIALIZER(&by_weight);
        for (size_t j = 0; j < pol->n_acls; j++) {
            const struct vsw_acl *y = &pol->acls[j].acl;
            if (!y->weight) {
                continue;
            }
            const struct weighted *w;
            HMAP_FOR_EACH_WITH_HASH (w, node, hash_int(y->weight, 0),
                                     &by_weight) {
                const struct vsw_acl *x = &pol->acls[w->i].acl;
                if (vsw_acl_weights_clash(x->weight, x->dir, y->weight,
                                          y->dir)) {
                    const struct rc_acl *pair[] = { &pol->acls[w->i],
                                                    &pol->acls[j] };
                    for (int k = 0; k < 2; k++) {
                        char *id = xasprintf(UUID_FMT,
                                             UUID_ARGS(&pair[k]->uuid));
                        if (!smap_get(&rc->acl_status, id)) {
                            smap_add_format(&rc->acl_status, id,
                                            "weight %d is also ACL %08"PRIx32
                                            "'s, for the same direction",
                                            x->weight,
                                            pair[!k]->uuid.parts[0]);
                        }
                        free(id);
                    }
                    refuse_policy(strs, "port %s: ACLs %08"PRIx32" and "
                                  "%08"PRIx32" both have weight %d for the "
                                  "same direction (give one another "
                                  "weight)", p->name,
                                  pol->acls[w->i].uuid.parts[0],
                                  pol->acls[j].uuid.parts[0], x->weight);
                }
            }
            nodes[j].i = j;
            hmap_insert(&by_weight, &nodes[j].node, hash_int(y->weight, 0));
        }
        hmap_destroy(&by_weight);
        free(nodes);
    }
    pol->error = strs->policy_error;
    rc->policy = pol;
}

/* A dirty port: everything, validated.  'br' is its switch's bridge in the
 * kernel, or NULL. */
static void
fill_port(struct rc_port *rc, const struct vswrec_switch *sw,
          const struct vswrec_port *p, struct port_strings *strs,
          const struct dp_link *br, bool vhost_available)
{
    fill_port_identity(rc, p);
    rc->mac = p->mac;
    rc->queues = p->queues > 0 ? p->queues : 1;
    const char *owner_why, *group_why;
    rc->owner = desired_resolve_id(p->owner, true, &owner_why);
    rc->group = desired_resolve_id(p->group, false, &group_why);
    if (rc->owner == -1 && rc->group == -1) {
        /* The kernel lets anyone attach to a tap with neither owner nor
         * group: make it root's, so no other user can sniff a VM. */
        rc->owner = 0;
    }
    rc->netns = p->netns;
    rc->peer_name = smap_get_def(&p->other_config, "peer_name", p->name);
    rc->vhost_available = vhost_available;

    validate_port(sw, p, owner_why, group_why, strs);
    /* The switch MTU is enforced on every port. */
    if (strs->config_error) {
        /* Reported as it is. */
    } else if (sw->mtu && p->mtu && *p->mtu != *sw->mtu) {
        refuse(strs,
            "MTU mismatch: port %s asks for MTU %"PRId64", switch %s "
            "enforces %"PRId64" (vswctl set port %s mtu=%"PRId64", or clear "
            "it)", p->name, *p->mtu, sw->name, *sw->mtu, p->name, *sw->mtu);
    } else if ((sw->mtu || p->mtu)
               && vsw_check_port_mtu(rc->kind, sw->mtu ? *sw->mtu : *p->mtu)) {
        int64_t mtu = sw->mtu ? *sw->mtu : *p->mtu;
        const char *why = vsw_check_port_mtu(rc->kind, mtu);
        if (sw->mtu) {
            refuse(strs, "port %s: switch %s's MTU %"PRId64" %s (vswctl set "
                   "switch %s mtu=N with a smaller N)", p->name, sw->name,
                   mtu, why, sw->name);
        } else {
            refuse(strs, "port %s: MTU %"PRId64" %s (vswctl set port %s "
                   "mtu=N with a smaller N, or clear it)", p->name, mtu, why,
                   p->name);
        }
    } else if (p->adopted && rc->kind != VSW_PORT_TAP) {
        refuse(strs,
            "port %s: only a tap can be adopted, not a %s port (vswctl set "
            "port %s kind=tap, or adopted=false)", p->name, p->kind, p->name);
    } else if (rc->kind == VSW_PORT_VETH && !p->netns) {
        refuse(strs,
            "port %s: a veth port needs a network namespace (vswctl set "
            "port %s netns=NAME)", p->name, p->name);
    } else if (p->vlan_mode && (!br || br->vlan_filtering < 0)) {
        /* Never attach a VLAN port untagged, not even for one pass. */
        refuse(strs,
            !br
            ? "port %s: waiting for the switch's bridge"
            : "port %s: VLAN settings need bridge VLAN filtering, which "
              "this kernel lacks (CONFIG_BRIDGE_VLAN_FILTERING); the port "
              "stays off the switch rather than join it untagged", p->name);
    } else if (p->vlan_mode && !strcmp(p->vlan_mode, "access") && !p->tag) {
        refuse(strs,
            "port %s: an access port needs a VLAN (vswctl set port %s "
            "tag=N)", p->name, p->name);
    } else if (p->vlan_mode && !strcmp(p->vlan_mode, "trunk")
               && !p->n_trunks) {
        refuse(strs,
            "port %s: a trunk needs VLANs (vswctl set port %s "
            "trunks=10,20)", p->name, p->name);
    }
    rc->config_error = strs->config_error;
    rc->mtu = sw->mtu ? *sw->mtu : p->mtu ? *p->mtu : 0;
    fill_policy(rc, p, strs);
}

/* The switch's own values that reach the kernel. */
static void
validate_switch(const struct vswrec_switch *sw, const char *host_port_name,
                struct port_strings *strs)
{
    const char *why;

    if ((why = vsw_check_ifname(sw->name))) {
        refuse(strs, "invalid switch name \"%s\": %s (it is the bridge's "
               "interface name; delete the switch and add it with a valid "
               "name)", sw->name, why);
    }
    if ((why = vsw_check_ifname(host_port_name))) {
        refuse(strs, "host port \"%s\": %s (vswctl set switch %s "
               "host_port=NAME, or clear it)", host_port_name, why,
               sw->name);
    }
    if (sw->uplink && (why = dp_ifname_check(sw->uplink))) {
        refuse(strs, "uplink \"%s\": %s (vswctl set switch %s "
               "uplink=IFNAME)", sw->uplink, why, sw->name);
    }
    const char *vfs = smap_get(&sw->other_config, "sriov_vfs");
    int n;
    if (vfs && (!str_to_int(vfs, 10, &n) || n < 0 || n > 4096)) {
        refuse(strs, "other_config:sriov_vfs \"%s\" is not a number of VFs "
               "in 0..4096", vfs);
    }
    const char *idle = smap_get(&sw->other_config, "flow-idle-demote");
    if (idle && (!str_to_int(idle, 10, &n) || n < 0 || n > 86400)) {
        refuse(strs, "other_config:flow-idle-demote \"%s\" is not a number "
               "of seconds in 0..86400 (0: never)", idle);
    }
    const char *ub = smap_get(&sw->other_config, "uplink-bandwidth");
    int64_t bps;
    if (ub && ((why = vsw_check_rate(ub, &bps))
               || (why = vsw_check_uplink_bandwidth(bps)))) {
        refuse(strs, "other_config:uplink-bandwidth \"%s\": %s (bit/s "
               "the ports' bandwidth weights share, e.g. 10G; clear it for "
               "the uplink's link speed)", ub, why);
    }
    const char *fp = smap_get(&sw->other_config, "flow-placement");
    if (fp && rc_flow_placement_from_string(fp) < 0) {
        refuse(strs, "other_config:flow-placement \"%s\" is not hardware, "
               "hardware-only, software or off (vswctl set switch %s "
               "other_config:flow-placement=hardware)", fp, sw->name);
    }
}

static void
fill_desired(struct rc_switch *rc, const struct switch_rows *in,
             char **host_port_name, struct port_strings *strs)
{
    const struct vswrec_switch *sw = in->row;
    rc_switch_init(rc);
    rc->uuid = sw->header_.uuid;
    rc->name = sw->name;
    rc->type = switch_type(sw->type);
    rc->uplink = sw->uplink;
    rc->host_port = has_host_port(sw);
    *host_port_name = vsw_host_port_name(sw->name, &sw->header_.uuid,
                                         sw->host_port);
    rc->host_port_name = *host_port_name;
    validate_switch(sw, *host_port_name, strs);
    rc->config_error = strs->config_error;
    rc->prev_uplink = smap_get_int(&sw->status, "uplink_ifindex", 0);
    rc->mtu = sw->mtu ? *sw->mtu : 0;
    rc->iov = sw->iov;
    int fp = rc_flow_placement_from_string(
        smap_get(&sw->other_config, "flow-placement"));
    rc->flow_placement = fp < 0 ? RC_FLOWS_HARDWARE : fp;
    rc->flow_idle_demote = smap_get_int(&sw->other_config,
                                        "flow-idle-demote", 600);
    const char *ub = smap_get(&sw->other_config, "uplink-bandwidth");
    if (!ub || vsw_check_rate(ub, &rc->uplink_bandwidth)
        || vsw_check_uplink_bandwidth(rc->uplink_bandwidth)) {
        rc->uplink_bandwidth = 0;
    }
    if (sw->iov && sw->uplink && !rc->config_error) {
        /* Read-only: sysfs and a devlink GET. */
        struct ofl_sriov_pf *pf = xzalloc(sizeof *pf);
        ofl_sriov_probe(sw->uplink, pf);
        rc->pf = pf;
        rc->want_vfs = smap_get_int(&sw->other_config, "sriov_vfs",
                                    pf->total_vfs > 0 ? pf->total_vfs : 4);
    }
    rc->n_ports = in->n_ports;
    rc->ports = xcalloc(in->n_ports + 1, sizeof *rc->ports);
    rc->all_ports = in->n_ports == in->n_in_db;
}

/* One kernel name wanted by one object. */
struct claim {
    const char *name;
    int rank;                   /* Who keeps a contested name: lowest. */
    size_t seq;                 /* Then the first one seen. */
    const char *what;           /* "bridge", "host port", "port". */
    const char *owner;          /* The switch. */
    struct port_strings *strs;  /* Where a refusal goes. */
};

static int
compare_claims(const void *a_, const void *b_)
{
    const struct claim *a = a_, *b = b_;
    int c = strcmp(a->name, b->name);
    return (c ? c
            : a->rank != b->rank ? a->rank - b->rank
            : a->seq < b->seq ? -1 : a->seq > b->seq);
}

/* Which object (by tag) held each name in the kernel at the last pass
 * that saw it held: a device deleted behind vsw's back does not hand its
 * name to another object that wants it too, also across a restart
 * (STATE/names, one "NAME TAG" a line, the last line of a name winning).
 * New holders are appended; the file is written anew only once it holds
 * twice as many lines as names, so one new port costs one short write. */
static struct shash last_holders = SHASH_INITIALIZER(&last_holders);
static struct svec new_holders = SVEC_EMPTY_INITIALIZER;    /* "NAME TAG" */
static size_t n_holder_lines;       /* Lines in the file. */

static char *
names_path(void)
{
    return xasprintf("%s/names", vsw_state_dir());
}

void
desired_init(void)
{
    char *path = names_path();
    FILE *f = fopen(path, "r");
    char name[64], tag[256];

    while (f && fscanf(f, "%63s %255s", name, tag) == 2) {
        free(shash_replace(&last_holders, name, xstrdup(tag)));
        n_holder_lines++;
    }
    if (f) {
        fclose(f);
    }
    free(path);
}

static void
last_holders_save(void)
{
    if (!new_holders.n) {
        return;
    }
    char *path = names_path();
    bool rewrite = (n_holder_lines + new_holders.n
                    > 2 * shash_count(&last_holders) + 16);
    char *tmp = rewrite ? xasprintf("%s.tmp", path) : NULL;
    FILE *f = fopen(rewrite ? tmp : path, rewrite ? "w" : "a");
    size_t lines = 0;

    if (rewrite) {
        const struct shash_node *node;
        SHASH_FOR_EACH (node, &last_holders) {
            if (f) {
                fprintf(f, "%s %s\n", node->name, (char *) node->data);
            }
            lines++;
        }
    } else {
        for (size_t i = 0; i < new_holders.n; i++) {
            if (f) {
                fprintf(f, "%s\n", new_holders.names[i]);
            }
        }
        lines = n_holder_lines + new_holders.n;
    }
    if (!f || fclose(f) || (rewrite && rename(tmp, path))) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
        VLOG_WARN_RL(&rl, "cannot write %s: %s", path, ovs_strerror(errno));
    } else {
        svec_clear(&new_holders);
        n_holder_lines = lines;
    }
    free(tmp);
    free(path);
}

/* Ranks claim 'name' of the object tagged 'tag': 0 if its device holds
 * the name in the kernel, 1 if it did when last seen, 'otherwise'. */
static int
holder_rank(const struct dp_links *links, const char *name, const char *tag,
            int otherwise)
{
    const struct dp_link *link = dp_links_by_name(links, name);
    if (link && !strcmp(link->alias, tag)) {
        const char *last = shash_find_data(&last_holders, name);
        if (!last || strcmp(last, tag)) {
            free(shash_replace(&last_holders, name, xstrdup(tag)));
            svec_add_nocopy(&new_holders, xasprintf("%s %s", name, tag));
        }
        return 0;
    }
    const char *last = shash_find_data(&last_holders, name);
    return last && !strcmp(last, tag) ? 1 : otherwise;
}

/* Interface names are one namespace per host: every name a switch's
 * bridge, host port or port wants may be wanted once.  Of several claims
 * the object whose device holds the name in the kernel keeps it (so
 * neither a new row nor a renamed switch takes a running VM's tap), then
 * the one that held it last (its device deleted behind vsw's back), then
 * bridges, host ports and ports in that order; the others are refused. */
static void
refuse_contested_names(struct claim *claims, size_t n)
{
    qsort(claims, n, sizeof *claims, compare_claims);
    for (size_t i = 0; i < n; ) {
        size_t j = i + 1;
        while (j < n && !strcmp(claims[j].name, claims[i].name)) {
            j++;
        }
        const struct claim *keep = &claims[i];
        for (size_t k = i + 1; k < j; k++) {
            const struct claim *c = &claims[k];
            refuse(c->strs, "%s %s: the name is already used by the %s of "
                   "switch %s; interface names are unique on a host: choose "
                   "another", c->what, c->name, keep->what, keep->owner);
        }
        i = j;
    }
}

/* A switch's bridge takes at most VSW_BRIDGE_MAX_PORTS ports.  Ports in
 * place keep theirs; the others are taken in order while there is room and
 * refused after. */
static void
refuse_ports_beyond_capacity(const struct switch_rows *in,
                             const struct rc_switch *rc,
                             struct port_strings *strs)
{
    const struct vswrec_switch *sw = in->row;
    int capacity = vsw_switch_port_capacity(sw->uplink != NULL,
                                            rc->host_port);
    int used = 0;

    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t j = 0; j < in->n_ports; j++) {
            bool placed = smap_get_int(&in->ports[j]->status, "ifindex", 0);
            if (strs[j].config_error || placed != !pass) {
                continue;
            }
            if (used < capacity) {
                used++;
            } else {
                refuse(&strs[j], "port %s: switch %s is full: a Linux bridge "
                       "takes at most %d ports, so with its %s this switch "
                       "holds %d VM ports; delete a port, or put this one "
                       "on another switch", in->ports[j]->name, sw->name,
                       VSW_BRIDGE_MAX_PORTS,
                       sw->uplink && rc->host_port ? "uplink and host port"
                       : sw->uplink ? "uplink" : rc->host_port ? "host port"
                       : "ports", capacity);
            }
        }
    }
}


bool
desired_switch_in_scope(const struct vswrec_switch *sw,
                        const struct desired_scope *scope)
{
    if (scope->full || uuidset_contains(scope->objects, &sw->header_.uuid)
        || sset_contains(scope->names, sw->name)
        || (sw->uplink && (scope->uplinks
                           || sset_contains(scope->names, sw->uplink)))
        || (scope->iov && sw->iov)) {
        return true;
    }
    if (!has_host_port(sw)) {
        return false;
    }
    char *host_port = vsw_host_port_name(sw->name, &sw->header_.uuid,
                                         sw->host_port);
    bool in = sset_contains(scope->names, host_port);
    free(host_port);
    return in;
}

bool
desired_needs_all_ports(const struct vswrec_switch *sw,
                        const struct desired_scope *scope, size_t n_ports,
                        size_t n_switch_wide, bool vmq_port)
{
    return (scope->full
            || uuidset_contains(scope->all_ports, &sw->header_.uuid)
            || sw->iov || n_switch_wide
            || n_ports > (size_t) vsw_switch_port_capacity(sw->uplink != NULL,
                                                           has_host_port(sw))
            || (sw->uplink
                && (vmq_port || desired_switch_in_scope(sw, scope))));
}

void
desired_build(struct desired *d, const struct switch_rows *in, size_t n_in,
              const char *host, const struct dp_links *kernel,
              const struct desired_scope *scope)
{
    const struct uuidset *cur = scope->objects;
    const struct sset *cur_names = scope->names;
    bool full = scope->full;
    size_t n = 0;
    struct rc_switch *rcs = xcalloc(n_in + 1, sizeof *rcs);
    struct switch_rows *rows = xcalloc(n_in + 1, sizeof *rows);
    char **names = xcalloc(n_in + 1, sizeof *names);
    size_t n_strs = n_in;
    for (size_t i = 0; i < n_in; i++) {
        n_strs += in[i].n_ports;
    }
    /* One per switch, then one per port of each. */
    struct port_strings *strs = xcalloc(n_strs + 1, sizeof *strs);
    struct claim *claims = xcalloc(n_strs * 2 + 1, sizeof *claims);
    size_t n_claims = 0, seq = 0, n_converged = 0;
    n_strs = 0;
    for (size_t i = 0; i < n_in; i++) {
        const struct vswrec_switch *sw = in[i].row;
        const struct vswrec_port *const *ports = in[i].ports;
        if (strcmp(sw->host, host)) {
            continue;
        }
        rows[n] = in[i];
        struct port_strings *sw_strs = &strs[n_strs++];
        fill_desired(&rcs[n], &in[i], &names[n], sw_strs);
        bool sw_dirty = desired_switch_in_scope(sw, scope);
        rcs[n].dirty = sw_dirty;
        n_converged += sw_dirty;

        char *tag = rc_tag(&sw->header_.uuid, NULL);
        const struct dp_link *br = dp_links_by_alias(kernel, tag);
        free(tag);
        struct port_strings *port_strs = &strs[n_strs];
        /* On an SR-IOV switch the ports share the VFs: a VF given back
         * goes to a port waiting on a tap, so a change to one is a change
         * to all. */
        bool all_ports = uuidset_contains(scope->all_ports,
                                          &sw->header_.uuid);
        for (size_t j = 0; sw->iov && !all_ports && j < in[i].n_ports; j++) {
            all_ports = (sw_dirty
                         || uuidset_contains(cur, &ports[j]->header_.uuid)
                         || sset_contains(cur_names, ports[j]->name));
        }
        for (size_t j = 0; j < in[i].n_ports; j++) {
            const struct vswrec_port *p = ports[j];
            if (full || all_ports
                || uuidset_contains(cur, &p->header_.uuid)
                || sset_contains(cur_names, p->name)) {
                fill_port(&rcs[n].ports[j], sw, p, &strs[n_strs],
                          br, scope->vhost_available);
                n_converged++;
            } else {
                fill_port_identity(&rcs[n].ports[j], p);
                rcs[n].ports[j].dirty = false;
            }
            n_strs++;
        }
        if (!sw_strs->config_error && sw_dirty) {
            tag = rc_tag(&sw->header_.uuid, NULL);
            claims[n_claims++] = (struct claim) {
                sw->name, holder_rank(kernel, sw->name, tag, 2), seq++,
                "bridge", sw->name, sw_strs };
            free(tag);
            if (rcs[n].host_port) {
                tag = rc_tag(&sw->header_.uuid, RC_ROLE_HOST);
                claims[n_claims++] = (struct claim) {
                    names[n], holder_rank(kernel, names[n], tag, 3),
                    seq++, "host port", sw->name, sw_strs };
                free(tag);
            }
        }
        for (size_t j = 0; j < in[i].n_ports; j++) {
            const struct vswrec_port *p = ports[j];
            if (!port_strs[j].config_error && rcs[n].ports[j].dirty) {
                tag = rc_port_name_tag(&sw->header_.uuid, &p->header_.uuid,
                                       rcs[n].ports[j].kind
                                       == VSW_PORT_INTERNAL, p->adopted);
                claims[n_claims++] = (struct claim) {
                    p->name, holder_rank(kernel, p->name, tag, 4),
                    seq++, "port", sw->name, &port_strs[j] };
                free(tag);
            }
        }
        n++;
    }
    refuse_contested_names(claims, n_claims);
    free(claims);
    last_holders_save();
    /* The refusals go into the rows being reconciled, and the ports of a
     * switch that is full get theirs. */
    for (size_t i = 0, k = 0; i < n; i++) {
        struct port_strings *sw_strs = &strs[k++];
        if (rows[i].n_in_db > (size_t) vsw_switch_port_capacity(
                rows[i].row->uplink != NULL, rcs[i].host_port)) {
            ovs_assert(rows[i].n_ports == rows[i].n_in_db);
            refuse_ports_beyond_capacity(&rows[i], &rcs[i], &strs[k]);
        }
        rcs[i].config_error = sw_strs->config_error;
        for (size_t j = 0; j < rcs[i].n_ports; j++) {
            rcs[i].ports[j].config_error = strs[k++].config_error;
        }
    }

    d->n = n;
    d->switches = rcs;
    d->rows = rows;
    d->n_converged = n_converged;
    d->host_port_names = names;
    d->strs = strs;
    d->n_strs = n_strs;
}

void
desired_destroy(struct desired *d)
{
    for (size_t i = 0; i < d->n; i++) {
        for (size_t j = 0; j < d->switches[i].n_ports; j++) {
            rc_port_destroy(&d->switches[i].ports[j]);
        }
        free(d->switches[i].ports);
        free(CONST_CAST(struct ofl_sriov_pf *, d->switches[i].pf));
        rc_switch_destroy(&d->switches[i]);
        free(d->host_port_names[i]);
    }
    for (size_t i = 0; i < d->n_strs; i++) {
        free(d->strs[i].config_error);
        free(d->strs[i].policy_error);
        free(d->strs[i].policy.acls);
    }
    free(d->strs);
    free(d->switches);
    free(d->rows);
    free(d->host_port_names);
}

void
desired_exit(void)
{
    shash_destroy_free_data(&last_holders);
    shash_init(&last_holders);
    svec_destroy(&new_holders);
    svec_init(&new_holders);
    n_holder_lines = 0;
}
