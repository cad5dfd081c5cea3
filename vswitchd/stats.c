/* The statistics collector; see stats.h. */
#include <config.h>

#include <netinet/in.h>  /* Before the kernel's headers. */

#include "vswitchd/stats.h"

#include <limits.h>
#include <linux/netfilter.h>

#include "datapath/link.h"
#include "datapath/nft.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "smap.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"
#include "uuid.h"
#include "vsw-idl.h"
#include "vswitchd/reconcile.h"

VLOG_DEFINE_THIS_MODULE(stats);

#define DEFAULT_INTERVAL 5000
#define MIN_INTERVAL 1000
#define MAX_INTERVAL (24LL * 3600 * 1000)

static void written_clear(void);

static struct hmap snapshot = HMAP_INITIALIZER(&snapshot);
static long long int last_collect;      /* Or start. */
static long long int next_collect;      /* As of the last stats_due(). */

void
stats_init(void)
{
    last_collect = time_msec();
    next_collect = last_collect + DEFAULT_INTERVAL;
}

void
stats_exit(void)
{
    written_clear();
    dp_link_counters_clear(&snapshot);
}

/* The interval in ms for 'ms' as configured (-1 if it is not), within
 * [MIN_INTERVAL, a day]. */
static long long int
interval(long long int ms)
{
    return (ms < 0 ? DEFAULT_INTERVAL
            : ms > MAX_INTERVAL ? MAX_INTERVAL
            : MAX(ms, MIN_INTERVAL));
}

bool
stats_due(long long int interval_ms)
{
    if (!interval_ms) {
        next_collect = LLONG_MAX;       /* Off. */
        return false;
    }
    next_collect = last_collect + interval(interval_ms);
    return time_msec() >= next_collect;
}

long long int
stats_interval_config(const struct smap *other_config)
{
    const char *s = smap_get(other_config, "stats-update-interval");
    long long int ms;
    return s && str_to_llong(s, 10, &ms) && ms >= 0 ? ms : -1;
}

/* What was last written into each row's statistics, compared as numbers
 * instead of against the column's copy (the IDL cannot keep a column
 * write-only for rows that exist). */
struct written {
    struct hmap_node node;      /* In 'written', by row uuid. */
    struct uuid row;
    struct dp_link_stats stats;
    unsigned int seen;          /* Collection that last saw the row. */
};
static struct hmap written = HMAP_INITIALIZER(&written);
static unsigned int collection;

static void
written_clear(void)
{
    struct written *w;
    HMAP_FOR_EACH_POP (w, node, &written) {
        free(w);
    }
}

static struct written *
written_find(const struct uuid *row)
{
    struct written *w;
    HMAP_FOR_EACH_WITH_HASH (w, node, uuid_hash(row), &written) {
        if (uuid_equals(&w->row, row)) {
            return w;
        }
    }
    return NULL;
}

/* The statistics of row 'row' (a switch if 'sw', else a port 'p') from
 * link 'ifindex', written if they moved.  Returns true if written. */
static bool
update_row(const struct vswrec_switch *sw, const struct vswrec_port *p,
           int ifindex)
{
    const struct uuid *row = sw ? &sw->header_.uuid : &p->header_.uuid;
    const struct dp_link_stats *st = (ifindex
                                      ? dp_link_counters_find(&snapshot,
                                                              ifindex)
                                      : NULL);
    struct written *w = written_find(row);
    if (w) {
        w->seen = collection;
    }
    if (!st) {
        return false;           /* Kept as it was. */
    }
    if (w ? !memcmp(&w->stats, st, sizeof *st)
          : !(st->rx_packets | st->tx_packets | st->rx_errors
              | st->tx_errors | st->rx_dropped | st->tx_dropped)) {
        /* Unchanged, or nothing counted yet: a new switch of 1000 ports
         * costs no write of 1000 zeros. */
        return false;
    }
    if (!w) {
        w = xmalloc(sizeof *w);
        w->row = *row;
        w->seen = collection;
        hmap_insert(&written, &w->node, uuid_hash(row));
    }
    w->stats = *st;

    /* The keys of Open vSwitch's Interface statistics, sorted. */
    static const char *keys[] = {
        "rx_bytes", "rx_dropped", "rx_errors", "rx_packets",
        "tx_bytes", "tx_dropped", "tx_errors", "tx_packets",
    };
    const int64_t values[] = {
        st->rx_bytes, st->rx_dropped, st->rx_errors, st->rx_packets,
        st->tx_bytes, st->tx_dropped, st->tx_errors, st->tx_packets,
    };
    if (sw) {
        vswrec_switch_set_statistics(sw, keys, values, ARRAY_SIZE(keys));
    } else {
        vswrec_port_set_statistics(p, keys, values, ARRAY_SIZE(keys));
    }
    return true;
}

/* The ACLs' counters: the sum of their rules' in vsw's nftables table
 * (one read of the table), into ACL.statistics where they moved. */
static bool
collect_acls(struct ovsdb_idl *idl, const char *host)
{
    if (!vswrec_acl_first(idl)) {
        return false;
    }
    struct dp_nft_table t;
    dp_nft_table_init(&t);
    if (dp_nft_dump(NFPROTO_BRIDGE, RC_NFT_TABLE, true, &t)) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
        VLOG_WARN_RL(&rl, "cannot read the ACLs' counters");
        dp_nft_table_destroy(&t);
        return false;
    }
    struct acl_sum {
        struct hmap_node node;
        struct uuid acl;
        int64_t packets, bytes;
    };
    struct hmap sums = HMAP_INITIALIZER(&sums);
    struct shash_node *sn;
    SHASH_FOR_EACH (sn, &t.chains) {
        const struct dp_nft_chain *c = sn->data;
        for (size_t i = 0; i < c->n_rules; i++) {
            struct uuid u;
            if (!rc_policy_rule_acl(c->comments->names[i], &u)) {
                continue;
            }
            struct acl_sum *s = NULL, *x;
            HMAP_FOR_EACH_WITH_HASH (x, node, uuid_hash(&u), &sums) {
                if (uuid_equals(&x->acl, &u)) {
                    s = x;
                    break;
                }
            }
            if (!s) {
                s = xzalloc(sizeof *s);
                s->acl = u;
                hmap_insert(&sums, &s->node, uuid_hash(&u));
            }
            s->packets += c->packets[i];
            s->bytes += c->bytes[i];
        }
    }
    bool wrote = false;
    struct acl_sum *s;
    HMAP_FOR_EACH_POP (s, node, &sums) {
        const struct vswrec_acl *a = vswrec_acl_get_for_uuid(idl, &s->acl);
        static const char *keys[] = { "bytes", "packets" };
        const int64_t values[] = { s->bytes, s->packets };
        bool same = a && a->n_statistics == 2;
        for (size_t i = 0; same && i < 2; i++) {
            same = (!strcmp(a->key_statistics[i], keys[i])
                    && a->value_statistics[i] == values[i]);
        }
        if (a && !same && (s->packets || a->n_statistics)
            && !strcmp(a->host, host)) {    /* Another host's: not ours. */
            vswrec_acl_set_statistics(a, keys, values, 2);
            wrote = true;
        }
        free(s);
    }
    hmap_destroy(&sums);
    dp_nft_table_destroy(&t);
    return wrote;
}

bool
stats_collect(struct ovsdb_idl *idl, const char *host)
{
    last_collect = time_msec();

    if (dp_link_counters_dump(&snapshot)) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
        VLOG_WARN_RL(&rl, "cannot read the links' counters");
        return false;
    }

    bool wrote = false;
    collection++;
    const struct vswrec_switch *sw;
    VSWREC_SWITCH_FOR_EACH (sw, idl) {
        if (!strcmp(sw->host, host)) {
            wrote |= update_row(sw, NULL, smap_get_int(&sw->status,
                                                       "bridge_ifindex", 0));
        }
    }
    const struct vswrec_port *p;
    VSWREC_PORT_FOR_EACH (p, idl) {
        if (p->switch_ && !strcmp(p->switch_->host, host)) {
            wrote |= update_row(NULL, p,
                                smap_get_int(&p->status, "ifindex", 0));
        }
    }
    wrote |= collect_acls(idl, host);
    /* Rows gone since. */
    struct written *w;
    HMAP_FOR_EACH_SAFE (w, node, &written) {
        if (w->seen != collection) {
            hmap_remove(&written, &w->node);
            free(w);
        }
    }
    return wrote;
}

void
stats_wait(void)
{
    if (next_collect != LLONG_MAX) {
        poll_timer_wait_until(next_collect);
    }
}
