/* The status writer; see status.h. */
#include <config.h>

#include "vswitchd/status.h"

#include <string.h>

#include "datapath/link.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "ovsdb-data.h"
#include "openvswitch/vlog.h"
#include "smap.h"
#include "util.h"
#include "uuid.h"
#include "vsw-idl.h"
#include "vswitchd/desired.h"
#include "vswitchd/events.h"
#include "vswitchd/offload.h"
#include "vswitchd/reconcile.h"

VLOG_DEFINE_THIS_MODULE(status);

/* What each port's status was last found to be in the database, as a
 * 128-bit digest of the pairs it was built from: a resync that builds the
 * same pairs for a port whose status column has not changed since compares
 * nothing (at 1000 ports, comparing was a tenth of a resync, most of it
 * cache misses on the rows' maps).  status_forget_port() drops a port's
 * memo when its status column changes, whoever wrote it. */
struct status_memo {
    struct hmap_node node;      /* In 'memos', by port uuid. */
    struct uuid port;
    ovs_u128 digest;
};
static struct hmap memos = HMAP_INITIALIZER(&memos);

static struct status_memo *
memo_find(const struct uuid *port)
{
    struct status_memo *m;
    HMAP_FOR_EACH_WITH_HASH (m, node, uuid_hash(port), &memos) {
        if (uuid_equals(&m->port, port)) {
            return m;
        }
    }
    return NULL;
}

void
status_forget_port(const struct uuid *port)
{
    struct status_memo *m = memo_find(port);
    if (m) {
        hmap_remove(&memos, &m->node);
        free(m);
    }
}

static void
status_put_ifindex(struct smap *status, const char *key, int ifindex)
{
    if (ifindex) {
        smap_add_format(status, key, "%d", ifindex);
    }
}

/* The switch's flow-rule keys in 'status', replacing any there. */
static void
put_flows_status(const struct rc_switch *rc, struct smap *status)
{
    static const char *const keys[] = {
        "flows", "flows_reason", "flows_in_hw", "flows_in_sw",
        "flows_refused", "flows_hw_unhit", "flows_demoted",
    };
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        smap_remove(status, keys[i]);
    }
    if (rc->flows_effective) {
        smap_add_format(status, "flows", "%s (placement %s)",
                        rc->flows_effective,
                        rc_flow_placement_to_string(rc->flow_placement));
        if (rc->flows_reason.length) {
            smap_add(status, "flows_reason", ds_cstr_ro(&rc->flows_reason));
        }
        smap_add_format(status, "flows_in_hw", "%d", rc->flows_in_hw);
        smap_add_format(status, "flows_in_sw", "%d", rc->flows_in_sw);
        smap_add_format(status, "flows_refused", "%d", rc->flows_refused);
        smap_add_format(status, "flows_hw_unhit", "%d", rc->flows_hw_unhit);
        smap_add_format(status, "flows_demoted", "%d", rc->flows_demoted);
    }
}

static void
make_status(const struct rc_switch *rc, struct smap *status)
{
    smap_init(status);
    smap_add(status, "state", rc->ok ? "up" : rc->ifindex ? "degraded"
                                                          : "error");
    status_put_ifindex(status, "bridge_ifindex", rc->ifindex);
    status_put_ifindex(status, "uplink_ifindex", rc->uplink_ifindex);
    if (rc->uplink_ifindex) {
        smap_add(status, "uplink_link", rc->uplink_carrier ? "up" : "down");
    }
    status_put_ifindex(status, "host_port_ifindex", rc->host_ifindex);
    if (rc->host_ifindex) {
        smap_add(status, "host_port", rc->host_port_name);
    }
    if (rc->iov) {
        smap_add(status, "iov_support", rc->iov_support ? "true" : "false");
        if (rc->iov_reason.length) {
            smap_add(status, "iov_reasons", ds_cstr_ro(&rc->iov_reason));
        }
        smap_add_format(status, "vf_capacity", "%d", rc->vf_capacity);
        smap_add_format(status, "vfs_in_use", "%d", rc->vfs_in_use);
    }
    put_flows_status(rc, status);
    if (rc->error.length) {
        smap_add(status, "error", ds_cstr_ro(&rc->error));
    }
}

/* A port's status as it is built: "key\0value\0" pairs in one buffer, in
 * the order they are put; where a key is put twice, the later pair wins.
 * A resync builds every port's status again and most come out as they
 * were: pairs_equal_datum() says so with no map built, hashed or
 * compared. */
static void
pair_put(struct ds *pairs, const char *key, const char *value)
{
    ds_put_cstr(pairs, key);
    ds_put_char(pairs, '\0');
    ds_put_cstr(pairs, value);
    ds_put_char(pairs, '\0');
}

/* 'value' in decimal: printf is most of what a port's status costs. */
static void
pair_put_int(struct ds *pairs, const char *key, int value)
{
    char buf[16], *p = buf + sizeof buf;
    unsigned int u = value < 0 ? 0u - (unsigned int) value : value;

    *--p = '\0';
    do {
        *--p = '0' + u % 10;
        u /= 10;
    } while (u);
    if (value < 0) {
        *--p = '-';
    }
    pair_put(pairs, key, p);
}

static void
pairs_to_smap(const struct ds *pairs, struct smap *map)
{
    smap_init(map);
    const char *p = pairs->string, *end = p + pairs->length;
    while (p < end) {
        const char *key = p;
        const char *value = key + strlen(key) + 1;
        smap_replace(map, key, value);
        p = value + strlen(value) + 1;
    }
}

struct pair {
    const char *key, *value;
    size_t seq;                 /* Its place in the buffer. */
};

static int
compare_pairs(const void *a_, const void *b_)
{
    const struct pair *a = a_, *b = b_;
    int c = strcmp(a->key, b->key);
    return c ? c : a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Whether the map 'pairs' makes is 'datum' (a string-to-string map, kept
 * sorted by key as OVSDB keeps its maps).  False may also mean "too many
 * pairs to say": then the maps themselves are compared. */
static bool
pairs_equal_datum(const struct ds *pairs, const struct ovsdb_datum *datum)
{
    struct pair v[64];
    size_t n = 0;

    const char *p = pairs->string, *end = p + pairs->length;
    while (p < end) {
        if (n == ARRAY_SIZE(v)) {
            return false;
        }
        const char *key = p;
        const char *value = key + strlen(key) + 1;
        p = value + strlen(value) + 1;
        v[n] = (struct pair) { key, value, n };
        n++;
    }
    qsort(v, n, sizeof *v, compare_pairs);
    size_t k = 0;               /* Pairs of 'datum' matched. */
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && !strcmp(v[i].key, v[i + 1].key)) {
            continue;           /* The later one wins. */
        }
        if (k >= datum->n
            || strcmp(v[i].key, json_string(datum->keys[k].s))
            || strcmp(v[i].value, json_string(datum->values[k].s))) {
            return false;
        }
        k++;
    }
    return k == datum->n;
}

/* 'rc''s status as pairs; 'link' is its bridge port in the kernel, or
 * NULL; 'eff' the uplink's effective offloads, or NULL; 'vmq' its VMQ keys,
 * or NULL if its switch's offloads were not negotiated. */
static void
make_port_status(const struct rc_port *rc, const char *name,
                 const struct dp_link *link, const struct smap *eff,
                 const struct smap *vmq, struct ds *pairs)
{
    pair_put(pairs, "state", rc->ok ? "up" : rc->ifindex ? "degraded"
                                                         : "error");
    if (rc->ifindex) {
        pair_put_int(pairs, "ifindex", rc->ifindex);
    }
    if (rc->host_ifindex) {
        pair_put_int(pairs, "host_ifindex", rc->host_ifindex);
    }
    if (rc->kind_in_use) {
        pair_put(pairs, "kind", rc->kind_in_use);
    }
    if (rc->reason.length) {
        pair_put(pairs, "reason", ds_cstr_ro(&rc->reason));
    }
    if (rc->ifindex) {
        pair_put(pairs, "link", rc->carrier ? "up" : "down");
    }
    if (rc_port_on_tap(rc)) {
        pair_put_int(pairs, "queues_requested", rc->queues);
        if (link) {
            /* The queues a VM has attached: a multiqueue tap says how
             * many, a single-queue one has a carrier while attached. */
            pair_put_int(pairs, "queues_attached",
                         link->tun_queues >= 0 ? link->tun_queues
                         : (link->flags & 0x10000) != 0);
        }
    }
    if (rc->vf_index >= 0) {
        pair_put_int(pairs, "vf_index", rc->vf_index);
        pair_put(pairs, "representor", rc->representor);
    }
    if (rc->vf_config[0]) {
        pair_put(pairs, "vf_config", rc->vf_config);
    }
    if (rc->flows_in_hw || rc->flows_in_sw) {
        pair_put_int(pairs, "flows_in_hw", rc->flows_in_hw);
        pair_put_int(pairs, "flows_in_sw", rc->flows_in_sw);
    }
    struct smap_node *pn;
    if (rc->policy_kept) {
        SMAP_FOR_EACH (pn, rc->policy_kept) {
            pair_put(pairs, pn->key, pn->value);
        }
    }
    SMAP_FOR_EACH (pn, &rc->policy_status) {
        pair_put(pairs, pn->key, pn->value);
    }
    if (rc->error.length) {
        pair_put(pairs, "error", ds_cstr_ro(&rc->error));
    }
    if (rc->ifindex && rc_port_on_tap(rc)) {
        static struct ds offloads = DS_EMPTY_INITIALIZER;
        static struct ds mismatch = DS_EMPTY_INITIALIZER;
        ds_clear(&offloads);
        ds_clear(&mismatch);
        if (vsw_offload_vnic_status(name, rc->ifindex, eff, &offloads,
                                    &mismatch)) {
            pair_put(pairs, "vm_offloads", ds_cstr(&offloads));
            if (mismatch.length) {
                pair_put(pairs, "offload_mismatch", ds_cstr(&mismatch));
            }
        }
    }
    if (vmq) {
        SMAP_FOR_EACH (pn, vmq) {
            pair_put(pairs, pn->key, pn->value);
        }
    }
}

/* The status of port 'p''s ACL rows: empty, or the error of an entry that
 * keeps its port's policy from changing.  Whether the entries are in force
 * is the port's "policy" status, said once: at 10,000 entries a "state"
 * in each row was a 10,000-row write after every change. */
static bool
write_acl_status(const struct rc_port *rp, const struct vswrec_port *p)
{
    if (!rp->policy) {
        return false;
    }
    bool wrote = false;
    for (size_t i = 0; i < p->n_acls; i++) {
        const struct vswrec_acl *a = p->acls[i];
        if (strcmp(a->host, p->host)) {
            continue;   /* Not given its host yet (vswitchd does it). */
        }
        char id[UUID_LEN + 1];
        snprintf(id, sizeof id, UUID_FMT, UUID_ARGS(&a->header_.uuid));
        const char *err = smap_get(&rp->acl_status, id);
        const char *had = smap_get(&a->status, "error");
        if (err ? !had || strcmp(err, had) || smap_count(&a->status) != 1
            : !smap_is_empty(&a->status)) {
            struct smap st = SMAP_INITIALIZER(&st);
            if (err) {
                smap_add(&st, "error", err);
            }
            vswrec_acl_set_status(a, &st);
            smap_destroy(&st);
            wrote = true;
        }
    }
    return wrote;
}

/* Whether 'status' has the VMQ keys 'vmq' and no others. */
static bool
vmq_keys_equal(const struct smap *vmq, const struct smap *status)
{
    static const char *const keys[] = { "vmq_queue", "vmq_reason" };
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (!nullable_string_is_equal(smap_get(vmq, keys[i]),
                                      smap_get(status, keys[i]))) {
            return false;
        }
    }
    return true;
}

static void
merge_vmq(const struct smap *vmq, struct smap *status)
{
    if (vmq) {
        struct smap_node *node;
        SMAP_FOR_EACH (node, vmq) {
            smap_replace(status, node->key, node->value);
        }
    }
}

bool
status_write(const struct rc_switch *rcs,
             const struct switch_rows *rows, size_t n,
             const struct vsw_offload *offs, const bool *offload_ran,
             const struct dp_links *kernel)
{
    static struct ds pairs = DS_EMPTY_INITIALIZER;
    bool wrote = false;

    for (size_t i = 0; i < n; i++) {
        const struct vswrec_switch *sw = rows[i].row;
        struct smap status;
        if (rcs[i].dirty || offload_ran[i]) {
            make_status(&rcs[i], &status);
            struct smap_node *probe;
            SMAP_FOR_EACH (probe, &offs[i].probe) {
                smap_replace(&status, probe->key, probe->value);
            }
            if (!smap_equal(&status, &sw->status)) {
                events_switch_status(sw->name, &sw->status, &status);
                if (rcs[i].error.length) {
                    static struct vlog_rate_limit rl
                        = VLOG_RATE_LIMIT_INIT(5, 5);
                    VLOG_WARN_RL(&rl, "switch %s: %s", sw->name,
                                 ds_cstr_ro(&rcs[i].error));
                }
                vswrec_switch_set_status(sw, &status);
                wrote = true;
            }
            smap_destroy(&status);
        } else if (rcs[i].flows_effective) {
            /* A clean SR-IOV switch whose ports' rules were converged:
             * only its flow-rule keys change. */
            smap_clone(&status, &sw->status);
            put_flows_status(&rcs[i], &status);
            if (!smap_equal(&status, &sw->status)) {
                events_switch_status(sw->name, &sw->status, &status);
                vswrec_switch_set_status(sw, &status);
                wrote = true;
            }
            smap_destroy(&status);
        }
        if (offload_ran[i]) {
            if (!smap_equal(&offs[i].req, &sw->offload_requested)) {
                vswrec_switch_set_offload_requested(sw, &offs[i].req);
                wrote = true;
            }
            if (!smap_equal(&offs[i].eff, &sw->offload_effective)) {
                events_offload(sw->name, &sw->offload_effective,
                               &offs[i].eff);
                vswrec_switch_set_offload_effective(sw, &offs[i].eff);
                wrote = true;
            }
            if (!smap_equal(&offs[i].why, &sw->offload_reason)) {
                vswrec_switch_set_offload_reason(sw, &offs[i].why);
                wrote = true;
            }
        }

        for (size_t j = 0; j < rcs[i].n_ports; j++) {
            const struct vswrec_port *p = rows[i].ports[j];
            const struct rc_port *rp = &rcs[i].ports[j];
            const struct smap *vmq = (offload_ran[i] && j < offs[i].n_ports
                                      ? &offs[i].port_vmq[j] : NULL);
            if (rp->dirty) {
                wrote |= write_acl_status(rp, p);
                const struct dp_link *link = (rp->ifindex
                    ? dp_links_by_index(kernel, rp->ifindex) : NULL);
                ds_clear(&pairs);
                make_port_status(rp, p->name, link,
                                 sw->uplink ? &offs[i].eff : NULL, vmq,
                                 &pairs);
                ovs_u128 digest;
                hash_bytes128(pairs.string, pairs.length, 0, &digest);
                struct status_memo *m = memo_find(&p->header_.uuid);
                if (m && ovs_u128_equals(m->digest, digest)) {
                    continue;       /* As the database had it, and has. */
                }
                if (pairs_equal_datum(&pairs, vswrec_port_get_status(
                                          p, OVSDB_TYPE_STRING,
                                          OVSDB_TYPE_STRING))) {
                    if (!m) {
                        m = xmalloc(sizeof *m);
                        m->port = p->header_.uuid;
                        hmap_insert(&memos, &m->node,
                                    uuid_hash(&m->port));
                    }
                    m->digest = digest;
                    continue;       /* As the database has it. */
                }
                if (m) {
                    hmap_remove(&memos, &m->node);
                    free(m);
                }
                pairs_to_smap(&pairs, &status);
            } else if (smap_get(&rp->policy_status, "mirror")
                       && !nullable_string_is_equal(
                           smap_get(&rp->policy_status, "mirror"),
                           smap_get(&p->status, "mirror"))) {
                /* Not converged: only its mirroring changed (a
                 * destination came or went). */
                smap_clone(&status, &p->status);
                smap_replace(&status, "mirror",
                             smap_get(&rp->policy_status, "mirror"));
                merge_vmq(vmq, &status);
            } else if (vmq && !vmq_keys_equal(vmq, &p->status)) {
                /* Not converged: only its VMQ keys are new. */
                smap_clone(&status, &p->status);
                smap_remove(&status, "vmq_queue");
                smap_remove(&status, "vmq_reason");
                merge_vmq(vmq, &status);
            } else {
                continue;
            }
            if (!smap_equal(&status, &p->status)) {
                events_port_status(sw->name, p, &p->status, &status);
                if (rp->dirty && rp->error.length) {
                    static struct vlog_rate_limit rl
                        = VLOG_RATE_LIMIT_INIT(5, 5);
                    const char *e = ds_cstr_ro(&rp->error);
                    if (strstr(e, p->name)) {
                        VLOG_WARN_RL(&rl, "%s", e);  /* It names the port. */
                    } else {
                        VLOG_WARN_RL(&rl, "port %s: %s", p->name, e);
                    }
                }
                vswrec_port_set_status(p, &status);
                wrote = true;
            }
            smap_destroy(&status);
        }
    }
    return wrote;
}
