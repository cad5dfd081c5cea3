/* Convergence of the kernel towards the desired switches; see reconcile.h.
 *
 * Order per pass: delete what is ours and no longer wanted, then for each
 * switch fix what exists, then add what is missing.  A switch whose bridge
 * and ports already match causes no call at all. */
#include <config.h>

#include <netinet/in.h>  /* Before the kernel's headers. */

#include "vswitchd/reconcile.h"
#include "vswitchd/reconcile-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datapath/bridge.h"
#include "datapath/link.h"
#include "datapath/netlink.h"
#include "datapath/nft.h"
#include "datapath/qdisc.h"
#include "datapath/tap.h"
#include "datapath/veth.h"
#include "datapath/vlan.h"
#include "hmapx.h"
#include "offload/ethtool.h"
#include "offload/flower.h"
#include "offload/restore.h"
#include "offload/sriov.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"
#include "uuid.h"
#include "uuidset.h"
#include "vswitchd/paths.h"
#include "vswitchd/validate.h"

VLOG_DEFINE_THIS_MODULE(reconcile);

/* STATE/creating/NAME: see rc_ops.temp_begin. */
static char *
temp_record(const char *name)
{
    return xasprintf("%s/creating/%s", vsw_state_dir(), name);
}

static int
temp_begin(const char *name)
{
    static bool dir_made;       /* Made once; a missing one is made again. */
    char *dir = xasprintf("%s/creating", vsw_state_dir());
    char *path = temp_record(name);
    int error = dir_made ? 0 : vsw_make_dir(dir, 0700);
    dir_made = !error;
    if (!error) {
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        error = fd < 0 ? errno : 0;
        if (error == ENOENT) {
            /* The directory went away: made again. */
            error = vsw_make_dir(dir, 0700);
            fd = error ? -1 : open(path, O_WRONLY | O_CREAT | O_CLOEXEC,
                                   0600);
            error = error ? error : fd < 0 ? errno : 0;
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    if (error) {
        dp_nl_set_error(error, "cannot record the creation of %s in %s",
                        name, path);
    }
    free(dir);
    free(path);
    return error;
}

static void
temp_end(const char *name)
{
    char *path = temp_record(name);
    unlink(path);
    free(path);
}

void
rc_temp_records_sweep(void)
{
    char *dir = xasprintf("%s/creating", vsw_state_dir());
    DIR *d = opendir(dir);
    struct dirent *de;

    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.') {
            continue;
        }
        /* No device of that name: the creation never happened, or was
         * finished before a crash removed the record.  Either way the
         * record must not make a later device of that name look vsw's. */
        if (!if_nametoindex(de->d_name)) {
            char *path = xasprintf("%s/%s", dir, de->d_name);
            unlink(path);
            free(path);
        }
    }
    if (d) {
        closedir(d);
    }
    free(dir);
}

static bool
temp_ours(const char *name)
{
    char *path = temp_record(name);
    bool ours = !access(path, F_OK);
    free(path);
    return ours;
}

/* An uplink left its switch: no flow rule of vsw's stays on it or its
 * representors, and its settings go back as found (vsw's root qdisc, if
 * its ports had weights, gives way to the kernel's default). */
static void
uplink_released(const char *ifname)
{
    ofl_flower_sweep_uplink(ifname);
    ofl_restore_apply(ifname);
    int ifindex = if_nametoindex(ifname);
    struct dp_qdisc_root root = { .n_classes = 0 };
    if (ifindex && !dp_qdisc_read(ifindex, &root)
        && root.handle == DP_QDISC_HANDLE(0) && !strcmp(root.kind, "htb")
        && dp_qdisc_del_htb(ifindex)) {
        VLOG_WARN("uplink %s: cannot delete vsw's root qdisc: %s", ifname,
                  dp_nl_error());
    }
    dp_qdisc_root_destroy(&root);
}

static const struct rc_link_ops kernel_link_ops = {
    .bridge_create = dp_bridge_create,
    .veth_create = dp_veth_create,
    .tap_create = dp_tap_create,
    .tap_finish = dp_tap_finish,
    .set_up = dp_link_set_up,
    .set_master = dp_link_set_master,
    .set_alias = dp_link_set_alias,
    .set_name = dp_link_set_name,
    .set_mtu = dp_link_set_mtu,
    .set_mac = dp_link_set_mac,
    .set_netns = dp_link_set_netns,
    .setup = dp_link_setup,
    .disable_ipv6 = dp_link_disable_ipv6,
    .delete = dp_link_delete,
    .delete_many = dp_link_delete_many,
    .uplink_released = uplink_released,
};

static const struct rc_vlan_ops kernel_vlan_ops = {
    .vlan_filtering = dp_vlan_set_filtering,
    .vlan_add = dp_vlan_add,
    .vlan_del = dp_vlan_del,
};

static const struct rc_iov_ops kernel_iov_ops = {
    .set_num_vfs = ofl_sriov_set_num_vfs,
    .set_autoprobe = ofl_sriov_set_autoprobe,
    .set_eswitch_mode = ofl_sriov_set_eswitch_mode,
    .set_vf = ofl_sriov_set_vf,
    .iov_record = ofl_restore_record_iov,
};

static const struct rc_record_ops file_record_ops = {
    .temp_begin = temp_begin,
    .temp_end = temp_end,
    .temp_ours = temp_ours,
};

static bool
hw_tc_offload(int ifindex)
{
    char name[IF_NAMESIZE];
    struct ofl_features *fs = xmalloc(sizeof *fs);
    bool on = false;
    if (if_indextoname(ifindex, name) && !ofl_ethtool_get_features(name, fs)) {
        const struct ofl_feature *f = ofl_features_find(fs, "hw-tc-offload");
        on = f && f->active;
    }
    free(fs);
    return on;
}

/* Why a switch's rules went to software: STATE/flows/<switch uuid>, one
 * line, read once and cached. */
static struct shash flow_reasons = SHASH_INITIALIZER(&flow_reasons);

static char *
flow_reason_path(const struct uuid *sw)
{
    return xasprintf("%s/flows/"UUID_FMT, vsw_state_dir(), UUID_ARGS(sw));
}

static const char *
flow_reason_get(const struct uuid *sw)
{
    char key[UUID_LEN + 1];
    snprintf(key, sizeof key, UUID_FMT, UUID_ARGS(sw));
    struct shash_node *node = shash_find(&flow_reasons, key);
    if (!node) {
        char *path = flow_reason_path(sw);
        FILE *f = fopen(path, "r");
        char line[1024] = "";
        if (f && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
        }
        if (f) {
            fclose(f);
        }
        free(path);
        node = shash_add(&flow_reasons, key, line[0] ? xstrdup(line) : NULL);
    }
    return node->data;
}

static void
flow_reason_set(const struct uuid *sw, const char *reason)
{
    char key[UUID_LEN + 1];
    snprintf(key, sizeof key, UUID_FMT, UUID_ARGS(sw));
    free(shash_replace(&flow_reasons, key,
                       reason ? xstrdup(reason) : NULL));
    char *path = flow_reason_path(sw);
    if (!reason) {
        unlink(path);
    } else {
        char *dir = xasprintf("%s/flows", vsw_state_dir());
        char *tmp = xasprintf("%s.tmp", path);
        FILE *f = vsw_make_dir(dir, 0700) ? NULL : fopen(tmp, "w");
        if (f && fprintf(f, "%s\n", reason) > 0 && !fclose(f)) {
            rename(tmp, path);
        } else {
            if (f) {
                fclose(f);
            }
            VLOG_WARN("cannot record why the flow rules of switch "UUID_FMT
                      " are in software in %s", UUID_ARGS(sw), path);
        }
        free(dir);
        free(tmp);
    }
    free(path);
}

static const struct rc_flower_ops kernel_flower_ops = {
    .available = ofl_flower_available,
    .set_unavailable = ofl_flower_set_unavailable,
    .dump = ofl_flower_dump,
    .ensure_ingress = ofl_flower_ensure_ingress,
    .install_many = ofl_flower_install_many,
    .remove = ofl_flower_delete,
    .hw_tc_offload = hw_tc_offload,
    .reason_get = flow_reason_get,
    .reason_set = flow_reason_set,
    .now = time_msec,
};

static int
policy_dump(bool rules, struct dp_nft_table *t)
{
    return dp_nft_dump(NFPROTO_BRIDGE, RC_NFT_TABLE, rules, t);
}

static int
policy_dump_map(const char *map, struct shash *elems)
{
    return dp_nft_dump_map(NFPROTO_BRIDGE, RC_NFT_TABLE, map, elems);
}

static int
policy_dump_elems(const char *set, struct dp_nft_elem **elems, size_t *n)
{
    return dp_nft_dump_elems(NFPROTO_BRIDGE, RC_NFT_TABLE, set, elems, n);
}

static int
mirror_dump(struct dp_nft_table *t)
{
    return dp_nft_dump(NFPROTO_NETDEV, RC_NFT_TABLE, true, t);
}

static int
policy_vmap_digest(const char *map, uint32_t *digest)
{
    return dp_nft_dump_vmap_digest(NFPROTO_BRIDGE, RC_NFT_TABLE, map, digest);
}

static const struct rc_qdisc_ops kernel_qdisc_ops = {
    .read = dp_qdisc_read,
    .add_htb = dp_qdisc_add_htb,
    .del_htb = dp_qdisc_del_htb,
    .set_class = dp_qdisc_set_class,
    .del_class = dp_qdisc_del_class,
    .speed = ofl_ethtool_get_speed,
};

static const struct rc_policy_ops kernel_policy_ops = {
    .dump = policy_dump,
    .dump_map = policy_dump_map,
    .dump_elems = policy_dump_elems,
    .vmap_digest = policy_vmap_digest,
    .commit = dp_nft_batch_commit,
    .dump_mirrors = mirror_dump,
};

const struct rc_ops rc_kernel_ops = {
    .link = &kernel_link_ops,
    .vlan = &kernel_vlan_ops,
    .iov = &kernel_iov_ops,
    .record = &file_record_ops,
    .flower = &kernel_flower_ops,
    .policy = &kernel_policy_ops,
    .qdisc = &kernel_qdisc_ops,
    .error = dp_nl_error,
};


void
rc_switch_init(struct rc_switch *sw)
{
    memset(sw, 0, sizeof *sw);
    sw->dirty = true;
    ds_init(&sw->error);
    ds_init(&sw->iov_reason);
    ds_init(&sw->flows_reason);
}

void
rc_switch_destroy(struct rc_switch *sw)
{
    if (sw) {
        ds_destroy(&sw->error);
        ds_destroy(&sw->iov_reason);
        ds_destroy(&sw->flows_reason);
        rc_port_index_destroy(sw);
    }
}

void
rc_port_init(struct rc_port *port)
{
    memset(port, 0, sizeof *port);
    port->dirty = true;
    port->owner = port->group = -1;
    port->queues = 1;
    port->vf_index = -1;
    ds_init(&port->reason);
    ds_init(&port->error);
    smap_init(&port->policy_status);
    smap_init(&port->acl_status);
    ds_init(&port->bw_status);
}

void
rc_port_destroy(struct rc_port *port)
{
    if (port) {
        ds_destroy(&port->reason);
        ds_destroy(&port->error);
        smap_destroy(&port->policy_status);
        smap_destroy(&port->acl_status);
        ds_destroy(&port->bw_status);
    }
}

const char *
rc_port_policy_get(const struct rc_port *port, const char *key)
{
    const char *value = smap_get(&port->policy_status, key);
    return (value || !port->policy_kept ? value
            : smap_get(port->policy_kept, key));
}

/* Writes 'u' as UUID_FMT does (36 characters, no NUL) at 'p'; returns the
 * end.  Tags are made for every port in a full pass: printf is too slow
 * for that. */
static char *
put_uuid(char *p, const struct uuid *u)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 4; i++) {
        for (int shift = 28; shift >= 0; shift -= 4) {
            *p++ = hex[(u->parts[i] >> shift) & 15];
            if ((i == 0 && shift == 0) || (i == 1 && (shift == 16
                                                      || shift == 0))
                || (i == 2 && shift == 16)) {
                *p++ = '-';
            }
        }
    }
    return p;
}

/* "vsw:<sw>", "vsw:<sw>:<role>" or "vsw:<sw>:<role><port>". */
static char *
make_tag(const struct uuid *sw, const char *role, const struct uuid *port)
{
    size_t role_len = role ? strlen(role) : 0;
    char *tag = xmalloc(strlen(VSW_TAG_PREFIX) + UUID_LEN + 1 + role_len
                        + UUID_LEN + 1);
    char *p = stpcpy(tag, VSW_TAG_PREFIX);
    p = put_uuid(p, sw);
    if (role) {
        *p++ = ':';
        p = stpcpy(p, role);
    }
    if (port) {
        p = put_uuid(p, port);
    }
    *p = '\0';
    return tag;
}

char *
rc_tag(const struct uuid *uuid, const char *role)
{
    return make_tag(uuid, role, NULL);
}

char *
rc_role_tag(const struct uuid *sw, const char *role, const struct uuid *port)
{
    return make_tag(sw, role, port);
}

bool
rc_parse_tag(const char *alias, struct uuid *uuid, const char **role)
{
    size_t plen = strlen(VSW_TAG_PREFIX);

    if (!vsw_is_tag(alias) || strlen(alias) < plen + UUID_LEN) {
        return false;
    }
    char buf[UUID_LEN + 1];
    memcpy(buf, alias + plen, UUID_LEN);
    buf[UUID_LEN] = '\0';
    if (!uuid_from_string(uuid, buf)) {
        return false;
    }
    const char *rest = alias + plen + UUID_LEN;
    if (*rest == '\0') {
        *role = NULL;
    } else if (*rest == ':' && rest[1]) {
        *role = rest + 1;
    } else {
        return false;
    }
    return true;
}

void
rc_host_peer_name(const struct uuid *uuid, char buf[16])
{
    vsw_internal_ifname(VSW_NAME_HOST_PEER, uuid, buf);
}

void
rc_port_peer_name(const struct uuid *uuid, char buf[16])
{
    vsw_internal_ifname(VSW_NAME_PORT_PEER, uuid, buf);
}

void
rc_err(bool *ok, struct ds *error, const char *fmt, ...)
{
    va_list args;

    if (error->length) {
        ds_put_cstr(error, "; ");
    }
    va_start(args, fmt);
    ds_put_format_valist(error, fmt, args);
    va_end(args);
    *ok = false;
}

/* Appends one sentence to 'sw''s error text. */
#define sw_error(SW, ...) rc_err(&(SW)->ok, &(SW)->error, __VA_ARGS__)

static struct rc_switch *
find_switch(struct rc_switch *switches, size_t n, const struct uuid *uuid)
{
    for (size_t i = 0; i < n; i++) {
        if (uuid_equals(&switches[i].uuid, uuid)) {
            return &switches[i];
        }
    }
    return NULL;
}

static bool
wants_role(const struct rc_switch *sw, const char *role)
{
    if (!role) {
        return true;
    }
    if (!strcmp(role, RC_ROLE_HOST) || !strcmp(role, RC_ROLE_HOST_PEER)) {
        return sw->host_port;
    }
    return rc_port_wants_role(sw, role);
}

/* Appends to 'out' the links of 'links' tagged for object 'uuid' as a
 * switch's port (any port role) of one of 'switches', or as a switch. */
static void
scope_links(const struct rc_switch *switches, size_t n,
            const struct dp_links *links, const struct uuid *uuid,
            const struct dp_link **out, size_t *n_out)
{
    static const char *const port_roles[] = {
        RC_ROLE_PORT, RC_ROLE_PORT_HOST, RC_ROLE_VF, RC_ROLE_ADOPTED,
    };
    static const char *const sw_roles[] = { NULL, RC_ROLE_HOST,
                                            RC_ROLE_HOST_PEER };
    for (size_t r = 0; r < ARRAY_SIZE(sw_roles); r++) {
        char *tag = rc_tag(uuid, sw_roles[r]);
        const struct dp_link *l = dp_links_by_alias(links, tag);
        if (l) {
            out[(*n_out)++] = l;
        }
        free(tag);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t r = 0; r < ARRAY_SIZE(port_roles); r++) {
            char *tag = rc_role_tag(&switches[i].uuid, port_roles[r], uuid);
            const struct dp_link *l = dp_links_by_alias(links, tag);
            if (l) {
                out[(*n_out)++] = l;
            }
            free(tag);
        }
    }
}

/* The links delete_unwanted() deleted in this pass (see
 * rc_deleted_in_pass()). */
static struct hmapx deleted_in_pass = HMAPX_INITIALIZER(&deleted_in_pass);

bool
rc_deleted_in_pass(const struct dp_link *link)
{
    return hmapx_contains(&deleted_in_pass, CONST_CAST(void *, link));
}

/* Deletes every link tagged as ours that no desired switch wants: of the
 * objects 'scope' names, or (NULL) of every tagged link. */
static bool
delete_unwanted(struct rc_switch *switches, size_t n,
                const struct dp_links *links, const struct rc_ops *ops,
                bool may_delete, bool incremental,
                const struct uuidset *scope)
{
    const struct dp_link *link;
    bool changed = false;

    /* An incremental pass looks at tagged links only (no lookup of the
     * untagged), a full one also for leftovers under temporary names.  A
     * scope's object may have 3 switch roles and 4 port roles on each
     * switch (scope_links()). */
    size_t n_scope = scope ? uuidset_count(scope) * (3 + 4 * n) : 0;
    const struct dp_link **unwanted = xmalloc(
        (scope ? n_scope
         : incremental ? hmap_count(&links->by_alias)
         : hmap_count(&links->by_index)) * sizeof *unwanted + 1);
    size_t n_unwanted = 0;
    int *doomed = xmalloc((hmap_count(&links->by_index) + 1) * sizeof *doomed);
    struct rc_switch **doomed_sw = xmalloc((hmap_count(&links->by_index) + 1)
                                           * sizeof *doomed_sw);
    size_t n_doomed = 0;
    if (scope) {
        const struct uuidset_node *node;
        UUIDSET_FOR_EACH (node, scope) {
            scope_links(switches, n, links, &node->uuid, unwanted,
                        &n_unwanted);
        }
    } else if (incremental) {
        HMAP_FOR_EACH (link, alias_node, &links->by_alias) {
            unwanted[n_unwanted++] = link;
        }
    } else {
        HMAP_FOR_EACH (link, node, &links->by_index) {
            unwanted[n_unwanted++] = link;
        }
    }
    for (size_t k = 0; k < n_unwanted; k++) {
        struct uuid uuid;
        const char *role;

        link = unwanted[k];
        if (!rc_parse_tag(link->alias, &uuid, &role)) {
            if (!link->alias[0] && vsw_ifname_is_temp(link->name)
                && ops->record->temp_ours(link->name)) {
                /* Created, then a crash before it was tagged. */
                changed = true;
                if (!ops->link->delete(link->ifindex)) {
                    VLOG_INFO("deleted %s: left half-made by an earlier "
                              "run", link->name);
                    ops->record->temp_end(link->name);
                }
            }
            continue;
        }
        struct rc_switch *sw = find_switch(switches, n, &uuid);
        if (sw && wants_role(sw, role)) {
            continue;
        }
        if (sw && !scope && role && !sw->all_ports
            && strcmp(role, RC_ROLE_HOST) && strcmp(role, RC_ROLE_HOST_PEER)) {
            /* A port of a switch whose ports are not all in this pass (a
             * look at every link, after another switch went): not known
             * to be unwanted.  A pass that names it, or has all of its
             * switch's ports, decides. */
            continue;
        }
        if (!may_delete) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 60);
            VLOG_WARN_RL(&rl, "keeping %s (%s), which no switch wants: the "
                         "database is damaged", link->name, link->alias);
            continue;
        }
        int vf;
        changed = true;
        if (role && !strncmp(role, RC_ROLE_ADOPTED, strlen(RC_ROLE_ADOPTED))) {
            /* Another program's tap (a VM's NIC): out of its switch's
             * bridge, and left to its maker; never taken out of a bridge
             * that is not that switch's (its maker moved it there). */
            char *br_tag = rc_tag(&uuid, NULL);
            const struct dp_link *br = dp_links_by_alias(links, br_tag);
            free(br_tag);
            if (br && link->master == br->ifindex) {
                ops->link->set_master(link->ifindex, 0);
            }
            ops->link->set_alias(link->ifindex, "");
            VLOG_INFO("released tap %s: its port is gone; the tap stays, "
                      "it belongs to the program that made it", link->name);
            continue;
        }
        if (ofl_sriov_parse_rep_name(link->phys_port_name, &vf)) {
            /* A VF's representor cannot be deleted: release it, and leave
             * the VF clean for whoever gets it next. */
            const struct dp_link *pf = rc_iov_pf_of(links, link);
            ops->link->set_master(link->ifindex, 0);
            ops->link->set_alias(link->ifindex, "");
            if (pf) {
                ops->iov->set_vf(pf->ifindex, vf, "00:00:00:00:00:00", 0, true);
            }
            VLOG_INFO("released VF %d (representor %s)", vf, link->name);
            continue;
        }
        if (!role && !strcmp(link->kind, "bridge")) {
            /* The uplink leaves with the bridge: put it back as found. */
            const struct dp_link *port;
            HMAP_FOR_EACH (port, node, &links->by_index) {
                if (port->master == link->ifindex
                    && !vsw_is_tag(port->alias)) {
                    ops->link->uplink_released(port->name);
                }
            }
        }
        doomed[n_doomed] = link->ifindex;
        doomed_sw[n_doomed++] = sw;
    }

    /* Many devices go in one request: the kernel then pays its
     * network-wide synchronisation once, not once per device. */
    int error = (n_doomed > 1 && ops->link->delete_many
                 ? ops->link->delete_many(doomed, n_doomed) : -1);
    if (error > 0) {
        VLOG_INFO("cannot delete %"PRIuSIZE" devices in one batch (%s): "
                  "deleting them one by one", n_doomed, ops->error());
    }
    if (!error) {
        VLOG_INFO("deleted %"PRIuSIZE" devices that no switch wants any "
                  "more, in one batch", n_doomed);
        for (size_t i = 0; i < n_doomed; i++) {
            link = dp_links_by_index(links, doomed[i]);
            VLOG_DBG("deleted %s (%s)", link->name, link->alias);
            hmapx_add(&deleted_in_pass, CONST_CAST(struct dp_link *, link));
        }
    }
    for (size_t i = 0; error && i < n_doomed; i++) {
        link = dp_links_by_index(links, doomed[i]);
        int err = ops->link->delete(link->ifindex);
        if (!err || err == ENODEV) {
            /* ENODEV: the other end of a veth pair, already gone. */
            VLOG_INFO("deleted %s (%s): no switch wants it any more",
                      link->name, link->alias);
            hmapx_add(&deleted_in_pass, CONST_CAST(struct dp_link *, link));
        } else {
            VLOG_WARN("cannot delete %s (%s): %s", link->name, link->alias,
                      ops->error());
            if (doomed_sw[i]) {
                sw_error(doomed_sw[i], "cannot delete %s: %s", link->name,
                         ops->error());
            }
        }
    }
    free(doomed);
    free(doomed_sw);
    free(unwanted);
    return changed;
}

bool
rc_ensure_up(bool *ok, struct ds *error, const struct dp_link *link,
             int ifindex, const char *what, const struct rc_ops *ops)
{
    if (link && dp_link_is_up(link)) {
        return false;
    }
    if (ops->link->set_up(ifindex, true)) {
        rc_err(ok, error, "cannot bring %s up: %s", what, ops->error());
    }
    return true;
}

#define ensure_up(SW, ...) rc_ensure_up(&(SW)->ok, &(SW)->error, __VA_ARGS__)

/* Devices (by ifindex) whose IPv6 vsw turned off and that the kernel
 * still showed on at the next look: not asked again (a pass never repeats
 * the same change forever). */
static struct sset ipv6_tried = SSET_INITIALIZER(&ipv6_tried);

bool
rc_ensure_no_ipv6(bool *ok, struct ds *error, const struct dp_link *link,
                  const char *name, const struct rc_ops *ops)
{
    char key[16];
    if (link) {
        snprintf(key, sizeof key, "%d", link->ifindex);
        if (link->ipv6 != 1) {
            sset_find_and_delete(&ipv6_tried, key);
            return false;       /* Off, or a kernel without IPv6. */
        }
        if (sset_contains(&ipv6_tried, key)) {
            rc_err(ok, error, "the kernel keeps the host's IPv6 on on %s "
                   "after vsw turned it off; vsw leaves it as it is", name);
            return false;
        }
        sset_add(&ipv6_tried, key);
    }
    if (ops->link->disable_ipv6(name)) {
        rc_err(ok, error, "cannot turn the host's IPv6 off on %s: %s", name,
               ops->error());
    }
    return true;
}

#define ensure_no_ipv6(SW, ...) \
    rc_ensure_no_ipv6(&(SW)->ok, &(SW)->error, __VA_ARGS__)

bool
rc_ensure_name(bool *ok, struct ds *error, const struct dp_links *links,
               const struct dp_link *link, const char *name,
               const struct rc_ops *ops)
{
    if (!strcmp(link->name, name)) {
        return false;
    }
    const struct dp_link *other = dp_links_by_name(links, name);
    if (other) {
        bool ours = vsw_is_tag(other->alias);
        rc_err(ok, error, "cannot rename %s to %s: a network device of "
               "that name exists (ifindex %d%s%s); %s", link->name, name,
               other->ifindex, ours ? ", vsw's own, tagged " : "",
               ours ? other->alias : "", ours
               ? "another switch or port of vsw has the name: rename one "
                 "of the two"
               : "rename or remove it");
        return false;
    }
    /* The kernel renames only links that are down. */
    bool was_up = dp_link_is_up(link);
    if ((was_up && ops->link->set_up(link->ifindex, false))
        || ops->link->set_name(link->ifindex, name)) {
        rc_err(ok, error, "cannot rename %s to %s: %s", link->name, name,
               ops->error());
    } else {
        VLOG_INFO("renamed %s to %s", link->name, name);
        if (vsw_ifname_is_temp(link->name)) {
            ops->record->temp_end(link->name);      /* Tagged before a crash. */
        }
    }
    if (was_up && ops->link->set_up(link->ifindex, true)) {
        rc_err(ok, error, "cannot bring %s up: %s", name, ops->error());
    }
    return true;
}

bool
rc_tag_and_name(bool *ok, struct ds *error, int ifindex, const char *tmp,
                const char *tag, int extra_ifindex, const char *extra_tag,
                const char *name, const char *what, const struct rc_ops *ops)
{
    bool made = false;
    if (ops->link->set_alias(ifindex, tag)
        || (extra_ifindex && ops->link->set_alias(extra_ifindex, extra_tag))) {
        rc_err(ok, error, "cannot tag %s %s as vsw's: %s", what, name,
               ops->error());
    } else if (ops->link->set_name(ifindex, name)) {
        rc_err(ok, error, "cannot name the new %s %s: %s", what, name,
               ops->error());
    } else {
        made = true;
    }
    if (!made) {
        ops->link->delete(ifindex);
    }
    ops->record->temp_end(tmp);
    return made;
}

#define ensure_name(SW, ...) \
    rc_ensure_name(&(SW)->ok, &(SW)->error, __VA_ARGS__)

/* The bridge itself.  Returns its ifindex, or 0 if there is none. */
static int
converge_bridge(struct rc_switch *sw, const struct dp_links *links,
                const struct rc_ops *ops, bool *changed)
{
    char *tag = rc_tag(&sw->uuid, NULL);
    const struct dp_link *br = dp_links_by_alias(links, tag);
    int ifindex = 0;

    if (br) {
        ifindex = br->ifindex;
        *changed |= ensure_name(sw, links, br, sw->name, ops);
        /* The host reaches a switch through its host port, never through
         * the bridge itself: no host IPv6 there to chatter into VMs. */
        *changed |= ensure_no_ipv6(sw, br, br->name, ops);
        *changed |= ensure_up(sw, br, ifindex, "the bridge", ops);
    } else if ((br = dp_links_by_name(links, sw->name))) {
        sw_error(sw, "a network device named %s already exists (ifindex "
                 "%d, %s) and vsw does not own it; vsw never changes "
                 "devices it did not create: rename or remove it, or give "
                 "the switch another name", sw->name, br->ifindex,
                 br->kind[0] ? br->kind : "no kind");
    } else {
        char tmp[16];
        vsw_internal_ifname(VSW_NAME_TEMP, &sw->uuid, tmp);
        *changed = true;
        if (ops->record->temp_begin(tmp) || ops->link->bridge_create(tmp, &ifindex)) {
            sw_error(sw, "cannot create bridge %s: %s", sw->name,
                     ops->error());
            ops->record->temp_end(tmp);
            ifindex = 0;
        } else if (ensure_no_ipv6(sw, NULL, tmp, ops),
                   !rc_tag_and_name(&sw->ok, &sw->error, ifindex, tmp, tag,
                                    0, NULL, sw->name, "bridge", ops)) {
            ifindex = 0;
        } else {
            VLOG_INFO("switch %s: created bridge (ifindex %d)", sw->name,
                      ifindex);
            ensure_up(sw, NULL, ifindex, "the bridge", ops);
        }
    }
    free(tag);
    return ifindex;
}

/* Enslaves the uplink of an external switch, and releases the previous
 * uplink if it changed. */
static void
converge_uplink(struct rc_switch *sw, int br_ifindex,
                const struct dp_links *links, const struct rc_ops *ops,
                bool *changed)
{
    const struct dp_link *up = NULL;

    if (sw->type == RC_EXTERNAL) {
        if (!sw->uplink) {
            sw_error(sw, "an external switch needs an uplink (vswctl set "
                     "switch %s uplink=IFNAME)", sw->name);
        } else if (!(up = dp_links_by_name(links, sw->uplink))) {
            sw_error(sw, "uplink %s: no such network device; the switch "
                     "will bind it when it appears, or change it with "
                     "vswctl set switch %s uplink=IFNAME",
                     sw->uplink, sw->name);
        } else if (up->alias[0] && vsw_is_tag(up->alias)) {
            sw_error(sw, "uplink %s is a device of vsw's own (%s), not a "
                     "network interface of the host", up->name, up->alias);
            up = NULL;
        } else if (!strcmp(up->kind, "bridge")) {
            sw_error(sw, "uplink %s is a bridge; an uplink must be a "
                     "network interface", up->name);
            up = NULL;
        } else if (up->master == br_ifindex) {
            /* The switch owns its uplink's admin state while bound: one
             * set down behind vsw's back is brought back up (unbind it to
             * take it down). */
            sw->uplink_ifindex = up->ifindex;
            sw->uplink_carrier = up->flags & 0x10000;       /* LOWER_UP */
            if (!dp_link_is_up(up)) {
                VLOG_INFO("switch %s: uplink %s was set down outside vsw; "
                          "bringing it back up", sw->name, up->name);
            }
            *changed |= ensure_up(sw, up, up->ifindex, "the uplink", ops);
        } else if (up->master) {
            const struct dp_link *m = dp_links_by_index(links, up->master);
            sw_error(sw, "uplink %s is already a port of %s; release it "
                     "first (ip link set %s nomaster) or choose another "
                     "uplink", up->name, m ? m->name : "another device",
                     up->name);
            up = NULL;
        } else if (br_ifindex) {
            *changed = true;
            if (ops->link->set_master(up->ifindex, br_ifindex)) {
                sw_error(sw, "cannot add uplink %s to bridge %s: %s",
                         up->name, sw->name, ops->error());
            } else {
                VLOG_INFO("switch %s: bound uplink %s", sw->name, up->name);
                sw->uplink_ifindex = up->ifindex;
                ensure_up(sw, up, up->ifindex, "the uplink", ops);
            }
        }
    }

    /* Release the uplink we bound before, if it is not the uplink now. */
    if (sw->prev_uplink && (!up || up->ifindex != sw->prev_uplink)) {
        const struct dp_link *old = dp_links_by_index(links,
                                                      sw->prev_uplink);
        if (old && br_ifindex && old->master == br_ifindex) {
            *changed = true;
            if (ops->link->set_master(old->ifindex, 0)) {
                sw_error(sw, "cannot release former uplink %s: %s",
                         old->name, ops->error());
                sw->uplink_ifindex = old->ifindex;  /* Still bound. */
            } else {
                VLOG_INFO("switch %s: released uplink %s", sw->name,
                          old->name);
                ops->link->uplink_released(old->name);
            }
        }
    }
}

/* The host vNIC: a veth pair, its bridge end in the bridge. */
static void
converge_host_port(struct rc_switch *sw, int br_ifindex,
                   const struct dp_links *links, const struct rc_ops *ops,
                   bool *changed)
{
    if (!sw->host_port || !br_ifindex) {
        return;                 /* Unwanted ones went in delete_unwanted. */
    }

    char *host_tag = rc_tag(&sw->uuid, RC_ROLE_HOST);
    char *peer_tag = rc_tag(&sw->uuid, RC_ROLE_HOST_PEER);
    const struct dp_link *host = dp_links_by_alias(links, host_tag);
    const struct dp_link *peer = dp_links_by_alias(links, peer_tag);
    int host_ifindex = host ? host->ifindex : 0;
    int peer_ifindex = peer ? peer->ifindex : 0;

    if (host && peer && host->peer == peer->ifindex) {
        *changed |= ensure_name(sw, links, host, sw->host_port_name, ops);
    } else {
        /* Missing or half a pair: start over. */
        if (host || peer) {
            *changed = true;
            ops->link->delete(host ? host_ifindex : peer_ifindex);
        }
        char peer_name[16];
        rc_host_peer_name(&sw->uuid, peer_name);
        const struct dp_link *clash
            = dp_links_by_name(links, sw->host_port_name);
        if (clash && clash != host) {
            sw_error(sw, "host port %s: a network device of that name "
                     "exists and vsw does not own it; rename or remove it, "
                     "or set another host_port", sw->host_port_name);
            goto out;
        }
        char tmp[16];
        vsw_internal_ifname(VSW_NAME_TEMP, &sw->uuid, tmp);
        *changed = true;
        if (ops->record->temp_begin(tmp)
            || ops->link->veth_create(tmp, peer_name, &host_ifindex,
                                &peer_ifindex)) {
            sw_error(sw, "cannot create host port %s (bridge end %s): %s",
                     sw->host_port_name, peer_name, ops->error());
            ops->record->temp_end(tmp);
            goto out;
        }
        ensure_no_ipv6(sw, NULL, peer_name, ops);      /* The bridge end. */
        if (!rc_tag_and_name(&sw->ok, &sw->error, host_ifindex, tmp, host_tag,
                             peer_ifindex, peer_tag, sw->host_port_name,
                             "host port", ops)) {
            goto out;
        }
        VLOG_INFO("switch %s: created host port %s", sw->name,
                  sw->host_port_name);
        host = peer = NULL;
    }

    if (peer) {
        *changed |= ensure_no_ipv6(sw, peer, peer->name, ops);
    }
    if (!peer || peer->master != br_ifindex) {
        *changed = true;
        if (ops->link->set_master(peer_ifindex, br_ifindex)) {
            sw_error(sw, "cannot add host port %s to bridge %s: %s",
                     sw->host_port_name, sw->name, ops->error());
        }
    }
    *changed |= ensure_up(sw, peer, peer_ifindex, "the host port", ops);
    *changed |= ensure_up(sw, host, host_ifindex, "the host port", ops);
    sw->host_ifindex = host_ifindex;

out:
    free(host_tag);
    free(peer_tag);
}

/* A clean switch: what it has, looked up without a call. */
static void
observe_switch(struct rc_switch *sw, const struct dp_links *links)
{
    char *tag = rc_tag(&sw->uuid, NULL);
    const struct dp_link *br = dp_links_by_alias(links, tag);
    free(tag);
    sw->ifindex = br ? br->ifindex : 0;

    const struct dp_link *up = (sw->type == RC_EXTERNAL && sw->uplink
                                ? dp_links_by_name(links, sw->uplink)
                                : NULL);
    if (up && br && up->master == br->ifindex) {
        sw->uplink_ifindex = up->ifindex;
        sw->uplink_carrier = up->flags & 0x10000;          /* LOWER_UP */
    }
    if (sw->host_port) {
        tag = rc_tag(&sw->uuid, RC_ROLE_HOST);
        const struct dp_link *host = dp_links_by_alias(links, tag);
        free(tag);
        sw->host_ifindex = host ? host->ifindex : 0;
    }
}

bool
rc_reconcile(struct rc_switch *switches, size_t n,
             const struct dp_links *links, const struct rc_ops *ops,
             unsigned int flags, const struct uuidset *scope)
{
    for (size_t i = 0; i < n; i++) {
        struct rc_switch *sw = &switches[i];
        ds_clear(&sw->error);
        sw->ok = true;
        sw->ifindex = sw->uplink_ifindex = sw->host_ifindex = 0;
    }

    hmapx_clear(&deleted_in_pass);
    bool changed = delete_unwanted(switches, n, links, ops,
                                   flags & RC_MAY_DELETE,
                                   flags & RC_INCREMENTAL, scope);
    for (size_t i = 0; i < n; i++) {
        struct rc_switch *sw = &switches[i];
        if (sw->config_error) {
            /* Refused, not half-applied: what it has stays as it is. */
            char *tag = rc_tag(&sw->uuid, NULL);
            const struct dp_link *br = dp_links_by_alias(links, tag);
            free(tag);
            sw->ifindex = br ? br->ifindex : 0;
            sw_error(sw, "%s", sw->config_error);
            for (size_t j = 0; j < sw->n_ports; j++) {
                struct rc_port *port = &sw->ports[j];
                ds_clear(&port->error);
                rc_err(&port->ok, &port->error, "%s",
                       port->config_error ? port->config_error
                       : "its switch is not applied (see the switch's "
                         "status)");
            }
            continue;
        }
        bool any_port = false;
        for (size_t j = 0; j < sw->n_ports; j++) {
            any_port |= sw->ports[j].dirty;
        }
        if (!sw->dirty && !any_port && !sw->iov) {
            continue;           /* Nothing to do here this pass. */
        }
        int br;
        if (sw->dirty) {
            br = converge_bridge(sw, links, ops, &changed);
            sw->ifindex = br;
            converge_uplink(sw, br, links, ops, &changed);
        } else {
            observe_switch(sw, links);
            br = sw->ifindex;
        }
        rc_converge_iov(sw, links, ops, &changed);
        if (sw->dirty) {
            converge_host_port(sw, br, links, ops, &changed);
        }
        if (br) {
            rc_converge_ports(sw, br, links, ops, &changed);
            rc_converge_vlans(sw, br, links, ops, &changed);
            rc_converge_flows(sw, links, ops, &changed);
        } else {
            for (size_t j = 0; j < sw->n_ports; j++) {
                struct rc_port *port = &sw->ports[j];
                ds_clear(&port->error);
                rc_err(&port->ok, &port->error, "switch %s has no bridge "
                       "(see the switch's status)", sw->name);
            }
        }
    }
    rc_converge_bandwidth(switches, n, ops, flags, &changed);
    rc_converge_policy(switches, n, ops, flags, scope, &changed);
    rc_converge_mirrors(switches, n, links, ops, flags, scope, &changed);
    return changed;
}
