/* The statistics collector; see stats.h. */
#include <config.h>

#include "vswitchd/stats.h"

#include "datapath/link.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"
#include "vsw-idl.h"

VLOG_DEFINE_THIS_MODULE(stats);

#define DEFAULT_INTERVAL 5000
#define MIN_INTERVAL 1000

static struct dp_links snapshot;
static bool have_snapshot;
static long long int snapshot_time;
static long long int next_collect;

void
stats_init(void)
{
    dp_links_init(&snapshot);
    next_collect = time_msec() + DEFAULT_INTERVAL;
}

void
stats_exit(void)
{
    dp_links_destroy(&snapshot);
    have_snapshot = false;
}

static long long int
interval(long long int ms)
{
    return !ms ? DEFAULT_INTERVAL : MAX(ms, MIN_INTERVAL);
}

bool
stats_due(long long int interval_ms)
{
    /* A shorter interval set since the last collection takes effect now. */
    next_collect = MIN(next_collect, snapshot_time + interval(interval_ms));
    return time_msec() >= next_collect;
}

/* The counters of 'link' as a statistics column, with the keys Open
 * vSwitch's Interface table uses. */
static void
link_statistics(const struct dp_link *link, struct smap *out)
{
    const struct dp_link_stats *s = &link->stats;
    smap_add_format(out, "rx_packets", "%"PRIu64, s->rx_packets);
    smap_add_format(out, "rx_bytes", "%"PRIu64, s->rx_bytes);
    smap_add_format(out, "rx_errors", "%"PRIu64, s->rx_errors);
    smap_add_format(out, "rx_dropped", "%"PRIu64, s->rx_dropped);
    smap_add_format(out, "tx_packets", "%"PRIu64, s->tx_packets);
    smap_add_format(out, "tx_bytes", "%"PRIu64, s->tx_bytes);
    smap_add_format(out, "tx_errors", "%"PRIu64, s->tx_errors);
    smap_add_format(out, "tx_dropped", "%"PRIu64, s->tx_dropped);
}

/* The statistics column 'cur' ('keys' and 'values', as the IDL has them)
 * for link 'ifindex': returns true and fills 'keys'/'values' if they
 * differ. */
static bool
statistics_for(int ifindex, const char **cur_keys, const int64_t *cur_values,
               size_t n_cur, struct smap *want)
{
    const struct dp_link *link = (ifindex
                                  ? dp_links_by_index(&snapshot, ifindex)
                                  : NULL);
    smap_init(want);
    if (link && link->has_stats) {
        link_statistics(link, want);
    }
    if (smap_count(want) != n_cur) {
        return true;
    }
    for (size_t i = 0; i < n_cur; i++) {
        const char *v = smap_get(want, cur_keys[i]);
        long long int n;
        if (!v || !str_to_llong(v, 10, &n) || n != cur_values[i]) {
            return true;
        }
    }
    return false;
}

/* 'smap' as the integer map the statistics columns are. */
static void
smap_to_counters(const struct smap *smap, const char ***keys,
                 int64_t **values, size_t *n)
{
    const struct smap_node **nodes = smap_sort(smap);
    *n = smap_count(smap);
    *keys = xmalloc((*n + 1) * sizeof **keys);
    *values = xmalloc((*n + 1) * sizeof **values);
    for (size_t i = 0; i < *n; i++) {
        long long int v = 0;
        str_to_llong(nodes[i]->value, 10, &v);
        (*keys)[i] = nodes[i]->key;
        (*values)[i] = v;
    }
    free(nodes);
}

bool
stats_collect(struct ovsdb_idl *idl, const char *host)
{
    const struct vswrec_root *root = vswrec_root_first(idl);
    long long int ms = root ? smap_get_ullong(&root->other_config,
                                              "stats-update-interval", 0)
                            : 0;
    next_collect = time_msec() + interval(ms);

    if (dp_links_dump(&snapshot, true)) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
        VLOG_WARN_RL(&rl, "cannot read the links' counters");
        have_snapshot = false;
        return false;
    }
    have_snapshot = true;
    snapshot_time = time_msec();

    bool wrote = false;
    const struct vswrec_switch *sw;
    VSWREC_SWITCH_FOR_EACH (sw, idl) {
        if (strcmp(sw->host, host)) {
            continue;
        }
        struct smap want;
        if (statistics_for(smap_get_int(&sw->status, "bridge_ifindex", 0),
                           (const char **) sw->key_statistics,
                           sw->value_statistics, sw->n_statistics, &want)) {
            const char **keys;
            int64_t *values;
            size_t n;
            smap_to_counters(&want, &keys, &values, &n);
            vswrec_switch_set_statistics(sw, keys, values, n);
            free(keys);
            free(values);
            wrote = true;
        }
        smap_destroy(&want);
        for (size_t i = 0; i < sw->n_ports; i++) {
            const struct vswrec_port *p = sw->ports[i];
            if (statistics_for(smap_get_int(&p->status, "ifindex", 0),
                               (const char **) p->key_statistics,
                               p->value_statistics, p->n_statistics,
                               &want)) {
                const char **keys;
                int64_t *values;
                size_t n;
                smap_to_counters(&want, &keys, &values, &n);
                vswrec_port_set_statistics(p, keys, values, n);
                free(keys);
                free(values);
                wrote = true;
            }
            smap_destroy(&want);
        }
    }
    return wrote;
}

void
stats_wait(void)
{
    poll_timer_wait_until(next_collect);
}

const struct dp_links *
stats_snapshot(long long int *when)
{
    if (when) {
        *when = snapshot_time;
    }
    return have_snapshot ? &snapshot : NULL;
}
