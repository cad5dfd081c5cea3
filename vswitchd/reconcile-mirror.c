/* Port mirroring, as Hyper-V's -PortMirroring: on a switch, a copy of
 * every frame a source port sends or receives goes to each destination
 * port of the same switch; see reconcile.h.
 *
 * The bridge family of nftables cannot copy a frame (no "dup"): the
 * copies are made by the netdev family, in table "netdev vsw", on the
 * source's own device, as it leaves the VM (ingress hook) and as it goes
 * to the VM (egress hook):
 *
 *   chain in-<source port uuid>   hook ingress device <source device>
 *   chain out-<source port uuid>  hook egress device <source device>
 *     dup to <destination device>   (one rule per destination)
 *
 * A chain is bound to its device: before Linux 6.16 the kernel deletes it
 * with the device, without a notification.  Each rule's comment names the
 * devices and the source's ifindex, so a source device made again gets
 * its chains again (a change that finds a chain gone fails, and the next
 * pass reads the table back).  A chain whose
 * comments are the wanted ones is the wanted chain (a restart changes
 * nothing); what vsw believes the table holds is kept between passes and
 * read back by a full pass. */
#include <config.h>

#include <netinet/in.h>  /* Before the kernel's headers. */

#include <linux/netfilter.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/link.h"
#include "datapath/nft.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "sset.h"
#include "svec.h"
#include "util.h"
#include "uuid.h"
#include "uuidset.h"
#include "vswitchd/reconcile.h"

VLOG_DEFINE_THIS_MODULE(reconcile_mirror);

#define TABLE_COMMENT "vsw: port mirrors of vswitchd; changes are undone"

/* A chain of the table, as vsw believes it is. */
struct mirror_chain {
    uint32_t digest;            /* Of its rules' comments. */
    char dev[IFNAMSIZ];         /* Its device. */
};

static struct shash installed = SHASH_INITIALIZER(&installed);
static bool table_known;        /* 'installed' matches the kernel. */
static bool table_exists;
static bool table_foreign;

static int
read_table(const struct rc_policy_ops *po)
{
    struct dp_nft_table t;
    dp_nft_table_init(&t);
    int error = po->dump_mirrors(&t);
    shash_clear_free_data(&installed);
    table_foreign = table_exists = false;
    if (!error && t.exists) {
        table_exists = true;
        table_foreign = !t.comment || strcmp(t.comment, TABLE_COMMENT);
        struct shash_node *sn;
        SHASH_FOR_EACH (sn, &t.chains) {
            const struct dp_nft_chain *c = sn->data;
            struct mirror_chain *mc = xzalloc(sizeof *mc);
            mc->digest = dp_nft_chain_digest(c);
            /* "mirror DEV to ..." */
            if (c->n_rules) {
                sscanf(c->comments->names[0], "mirror %15s", mc->dev);
            }
            shash_add(&installed, sn->name, mc);
        }
    }
    table_known = !error;
    dp_nft_table_destroy(&t);
    return error;
}

/* The device of vsw's that carries port 'p' of switch 'sw' into its
 * bridge (a port not converged in this pass is found by its tag), or
 * NULL. */
static const struct dp_link *
port_link(const struct rc_switch *sw, const struct rc_port *p,
          const struct dp_links *links)
{
    char *tag = rc_role_tag(&sw->uuid, p->kind == VSW_PORT_VF
                            ? RC_ROLE_VF : RC_ROLE_PORT, &p->uuid);
    const struct dp_link *link = dp_links_by_alias(links, tag);
    free(tag);
    if (!link && p->ifindex) {
        link = dp_links_by_index(links, p->ifindex);
    }
    return link;
}

/* The rules of source 'src' on device 'dev' of switch 'sw'. */
static size_t
source_rules(const struct rc_switch *sw, const struct rc_port *src,
             const char *dev, int src_ifindex, const char *dir,
             const struct dp_links *links, struct dp_nft_rule **rulesp,
             struct ds *to)
{
    struct dp_nft_rule *rules = xmalloc((sw->n_ports + 1) * sizeof *rules);
    size_t n = 0;
    for (size_t j = 0; j < sw->n_ports; j++) {
        const struct rc_port *d = &sw->ports[j];
        const struct dp_link *dl;
        if (d == src || d->mirror != RC_MIRROR_DESTINATION
            || !(dl = port_link(sw, d, links))) {
            continue;
        }
        struct dp_nft_rule *r = &rules[n++];
        dp_nft_rule_init(r, DP_NFT_CONTINUE, "mirror %s to %s %s (%d)", dev,
                         dl->name, dir, src_ifindex);
        r->dup_ifindex = dl->ifindex;
        dp_nft_rule_finish(r);
        if (to) {
            ds_put_format(to, "%s%s", to->length ? "," : "", d->name);
        }
    }
    *rulesp = rules;
    return n;
}

static char *
mirror_chain_name(bool in, const struct uuid *port)
{
    return xasprintf("%s-"UUID_FMT, in ? "in" : "out", UUID_ARGS(port));
}

void
rc_converge_mirrors(struct rc_switch *switches, size_t n,
                    const struct dp_links *links, const struct rc_ops *ops,
                    unsigned int flags, const struct uuidset *scope,
                    bool *changed)
{
    const struct rc_policy_ops *po = ops->policy;
    if (!po || !po->dump_mirrors) {
        return;
    }
    if (!(flags & RC_INCREMENTAL)) {
        table_known = false;
    }
    if (!table_known && read_table(po)) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "cannot read nftables table netdev %s: %s",
                     RC_NFT_TABLE, ops->error());
        return;
    }

    struct dp_nft_batch *b = dp_nft_batch_create(NFPROTO_NETDEV,
                                                 RC_NFT_TABLE, false);
    struct sset wanted = SSET_INITIALIZER(&wanted);
    struct uuidset present = UUIDSET_INITIALIZER(&present);
    struct uuidset settled = UUIDSET_INITIALIZER(&settled);
    struct sset dirty_sources = SSET_INITIALIZER(&dirty_sources);
    /* 'present' and 'settled' only say which chains that were there
     * before this pass go: with none there (no mirrors, most hosts), a
     * pass builds neither (two sets of 1000 ports' uuids each pass). */
    bool had_chains = !shash_is_empty(&installed);

    for (size_t i = 0; i < n; i++) {
        struct rc_switch *sw = &switches[i];
        for (size_t j = 0; had_chains && j < sw->n_ports; j++) {
            uuidset_insert(&present, &sw->ports[j].uuid);
        }
        if (!sw->all_ports) {
            continue;       /* Its mirrors have not changed. */
        }
        for (size_t j = 0; j < sw->n_ports; j++) {
            struct rc_port *src = &sw->ports[j];
            if (had_chains) {
                uuidset_insert(&settled, &src->uuid);
            }
            if (src->mirror == RC_MIRROR_DESTINATION) {
                smap_replace(&src->policy_status, "mirror", "destination");
            }
            if (src->mirror != RC_MIRROR_SOURCE || src->config_error) {
                continue;
            }
            const struct dp_link *sl = port_link(sw, src, links);
            const char *dev = sl ? sl->name : "";
            struct ds to = DS_EMPTY_INITIALIZER;
            for (int in = 0; in < 2; in++) {
                struct dp_nft_rule *rules;
                size_t n_rules = source_rules(sw, src, dev,
                                              sl ? sl->ifindex : 0,
                                              in ? "in" : "out", links,
                                              &rules, in ? &to : NULL);
                char *name = mirror_chain_name(in, &src->uuid);
                if (n_rules && sl && !table_foreign) {
                    sset_add(&wanted, name);
                    uint32_t digest = dp_nft_rules_digest(rules, n_rules);
                    struct mirror_chain *mc = shash_find_data(&installed,
                                                              name);
                    if (mc && mc->digest == digest) {
                        /* As wanted. */
                    } else if (mc && strcmp(mc->dev, dev)) {
                        /* Another device: deleted now, made again by the
                         * pass that confirms this one. */
                        dp_nft_del_chain(b, name);
                        free(shash_find_and_delete(&installed, name));
                    } else {
                        if (!table_exists) {
                            dp_nft_add_table(b, TABLE_COMMENT);
                            table_exists = true;
                        }
                        if (mc) {
                            dp_nft_flush_chain(b, name);
                        } else {
                            dp_nft_add_base_chain(b, name, in
                                                  ? NF_NETDEV_INGRESS
                                                  : NF_NETDEV_EGRESS, 0, dev);
                            mc = xzalloc(sizeof *mc);
                            shash_add(&installed, name, mc);
                        }
                        for (size_t k = 0; k < n_rules; k++) {
                            dp_nft_add_rule(b, name, &rules[k]);
                        }
                        mc->digest = digest;
                        ovs_strzcpy(mc->dev, dev, sizeof mc->dev);
                        if (src->dirty) {
                            sset_add(&dirty_sources, src->name);
                        }
                    }
                }
                free(name);
                free(rules);
            }
            /* For a clean port too: a destination that came or went
             * changes what its sources say (status.c writes it). */
            smap_replace_nocopy(&src->policy_status, "mirror",
                                table_foreign
                                ? xasprintf("source, not mirrored: a "
                                            "table netdev %s exists that "
                                            "is not vsw's", RC_NFT_TABLE)
                                : !sl
                                ? xstrdup("source, not mirrored: the "
                                          "port has no device")
                                : to.length
                                ? xasprintf("source, copies to %s",
                                            ds_cstr(&to))
                                : xasprintf("source, not mirrored: "
                                            "switch %s has no destination "
                                            "port", sw->name));
            ds_destroy(&to);
        }
    }

    /* Chains no longer wanted: of a source of a switch seen whole, of a
     * port that went, or (a full pass) of anything. */
    struct shash_node *sn, *next;
    SHASH_FOR_EACH_SAFE (sn, next, &installed) {
        struct uuid u;
        const char *dash = strchr(sn->name, '-');
        bool ours = dash && uuid_from_string(&u, dash + 1);
        if (sset_contains(&wanted, sn->name) || table_foreign) {
            continue;
        }
        if (!(flags & RC_MAY_DELETE)) {
            continue;           /* A damaged database: kept. */
        }
        if (!ours || !(flags & RC_INCREMENTAL)
            || uuidset_contains(&settled, &u)
            || (!uuidset_contains(&present, &u)
                && (!scope || uuidset_contains(scope, &u)))) {
            dp_nft_del_chain(b, sn->name);
            free(sn->data);
            shash_delete(&installed, sn);
        }
    }

    if (dp_nft_batch_size(b)) {
        *changed = true;
        if (po->commit(b)) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_WARN_RL(&rl, "cannot change the port mirrors (read back "
                         "and tried again): %s", ops->error());
            table_known = false;
            for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < switches[i].n_ports; j++) {
                    struct rc_port *p = &switches[i].ports[j];
                    if (p->dirty && sset_contains(&dirty_sources, p->name)) {
                        smap_replace_nocopy(&p->policy_status, "mirror",
                            xasprintf("source, not mirrored: the kernel "
                                      "refused it (%s)", ops->error()));
                    }
                }
            }
        }
    }
    dp_nft_batch_destroy(b);
    sset_destroy(&wanted);
    uuidset_destroy(&present);
    uuidset_destroy(&settled);
    sset_destroy(&dirty_sources);
}
