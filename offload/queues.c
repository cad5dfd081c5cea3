/* Receive queues of a switch uplink; see queues.h. */
#include <config.h>

#include "offload/queues.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/netlink.h"
#include "offload/negotiate.h"
#include "openvswitch/dynamic-string.h"
#include "smap.h"
#include "util.h"

const char *const ofl_rss_keys[] = {
    "queues", "spread", "hash-key", "hash-fields", NULL,
};

static const char *const row_keys[OFL_N_QROWS] = {
    "rss", "rss-queues", "rss-spread", "rss-hash-key", "rss-hash-fields",
    "vmq", "vmq-queues",
};

static bool
parse_count(const char *s, unsigned int *n)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > OFL_RSS_MAX_INDIR) {
        return false;
    }
    *n = v;
    return true;
}

/* "tcp4:sdfn,udp4:sd" -> 'set'/'bits' per flow. */
static bool
parse_fields(const char *s, bool set[OFL_N_FLOWS], uint64_t bits[OFL_N_FLOWS])
{
    char *copy = xstrdup(s), *save = NULL;
    bool ok = *s != '\0';

    memset(set, 0, OFL_N_FLOWS * sizeof *set);
    for (char *tok = strtok_r(copy, ",", &save); ok && tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *letters = strchr(tok, ':');
        ok = false;
        if (!letters) {
            break;
        }
        *letters++ = '\0';
        for (size_t i = 0; i < OFL_N_FLOWS; i++) {
            if (!strcmp(tok, ofl_rss_flow_names[i])) {
                ok = ofl_rss_fields_parse(letters, &bits[i]);
                set[i] = ok;
            }
        }
    }
    free(copy);
    return ok;
}

char *
ofl_rss_check(const char *key, const char *value)
{
    unsigned int n;
    uint8_t bytes[OFL_RSS_MAX_KEY];
    bool set[OFL_N_FLOWS];
    uint64_t bits[OFL_N_FLOWS];

    if (!strcmp(key, "queues") || !strcmp(key, "spread")) {
        return parse_count(value, &n) ? NULL
            : xasprintf("rss %s: \"%s\" is not a number of receive queues "
                        "(1-%d)", key, value, OFL_RSS_MAX_INDIR);
    } else if (!strcmp(key, "hash-key")) {
        return ofl_rss_key_parse(value, bytes) ? NULL
            : xasprintf("rss hash-key: \"%s\" is not a key (hex bytes "
                        "separated by colons, e.g. 6d:5a:56:da:...)", value);
    } else if (!strcmp(key, "hash-fields")) {
        return parse_fields(value, set, bits) ? NULL
            : xasprintf("rss hash-fields: \"%s\" is not a list of "
                        "FLOW:FIELDS (FLOW tcp4, udp4, tcp6 or udp6; FIELDS "
                        "letters of m v t s d f n as in ethtool -N "
                        "rx-flow-hash, e.g. tcp4:sdfn,udp4:sd)", value);
    }
    return xasprintf("rss: unknown setting \"%s\" (choose queues, spread, "
                     "hash-key or hash-fields)", key);
}

static void
fields_format(const bool set[OFL_N_FLOWS], const uint64_t bits[OFL_N_FLOWS],
              char *buf, size_t size)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < OFL_N_FLOWS; i++) {
        if (set[i]) {
            char letters[16];
            ofl_rss_fields_format(bits[i], letters);
            ds_put_format(&s, "%s%s:%s", s.length ? "," : "",
                          ofl_rss_flow_names[i], letters);
        }
    }
    snprintf(buf, size, "%s", ds_cstr(&s));
    ds_destroy(&s);
}

/* The vNICs that want a VMQ, by weight (highest first), then in the order
 * given. */
static int
compare_weight(const void *a_, const void *b_)
{
    const struct ofl_vnic *const *a = a_, *const *b = b_;
    if ((*a)->weight != (*b)->weight) {
        return (*b)->weight - (*a)->weight;
    }
    return *a < *b ? -1 : *a > *b;
}

static void
plan_vmq(const char *p_vmq, const struct ofl_queue_caps *caps,
         unsigned int target, struct ofl_vnic *vnics, size_t n_vnics,
         struct ofl_queue_plan *plan)
{
    struct ofl_vnic **want = xcalloc(n_vnics + 1, sizeof *want);
    size_t n_want = 0;

    for (size_t i = 0; i < n_vnics; i++) {
        vnics[i].queue = -1;
        vnics[i].reason[0] = '\0';
        if (vnics[i].weight > 0 && strcmp(p_vmq, "off")) {
            want[n_want++] = &vnics[i];
        } else if (vnics[i].weight > 0) {
            snprintf(vnics[i].reason, sizeof vnics[i].reason,
                     "the switch's vmq policy is off");
        }
    }
    qsort(want, n_want, sizeof *want, compare_weight);

    const char *none = (!caps->ntuple
                        ? "the uplink has no ntuple filters "
                          "(rx-ntuple-filter), which VMQ needs"
                        : target < 2 ? "the uplink has a single receive "
                                       "queue" : NULL);
    for (size_t k = 0; k < n_want; k++) {
        struct ofl_vnic *v = want[k];
        if (none) {
            snprintf(v->reason, sizeof v->reason, "%s", none);
        } else if (!v->has_mac) {
            snprintf(v->reason, sizeof v->reason, "the port has no mac: "
                     "set it (vswctl set port %s mac=...) so that frames "
                     "for the VM can be steered", v->name);
        } else if (plan->n_vmq + 1 >= target) {
            snprintf(v->reason, sizeof v->reason, "no receive queue left "
                     "(%u queues: %u to VMQ, 1 kept for RSS)", target,
                     plan->n_vmq);
        } else {
            v->queue = target - 1 - plan->n_vmq++;
        }
    }
    plan->vmq = plan->n_vmq > 0;

    struct ofl_queue_row *r = &plan->rows[OFL_Q_VMQ];
    bool is_auto = !strcmp(p_vmq, "auto");
    bool req = strcmp(p_vmq, "off") && (!is_auto || (n_want && !none));
    snprintf(r->requested, sizeof r->requested, "%s%s", req ? "on" : "off",
             is_auto ? " (auto)" : "");
    if (!strcmp(p_vmq, "off")) {
        /* Off as asked: nothing to explain. */
    } else if (!n_want) {
        snprintf(r->reason, sizeof r->reason, "no vNIC asks for a queue "
                 "(vmq_weight 0 or no tap/vhost-net ports)");
    } else if (none) {
        snprintf(r->reason, sizeof r->reason, "%s", none);
    }
    snprintf(plan->rows[OFL_Q_VMQ_QUEUES].requested,
             sizeof plan->rows[OFL_Q_VMQ_QUEUES].requested, "%u",
             plan->n_vmq);
    free(want);
}

void
ofl_queues_plan(const struct smap *offload, const struct smap *rss_cfg,
                const struct ofl_queue_caps *caps,
                struct ofl_vnic *vnics, size_t n_vnics,
                struct ofl_queue_plan *plan)
{
    const char *p_rss = ofl_policy_of(offload, "rss");
    const char *p_vmq = ofl_policy_of(offload, "vmq");
    const struct ofl_rss *rss = caps->rss;
    unsigned int cur = caps->channels_ok ? ofl_channels_rx(&caps->ch) : 0;
    unsigned int max = caps->channels_ok ? ofl_channels_rx_max(&caps->ch)
                                         : 0;

    memset(plan, 0, sizeof *plan);
    for (size_t i = 0; i < OFL_N_QROWS; i++) {
        plan->rows[i].key = row_keys[i];
    }

    /* The settings, checked against the device before anything is done. */
    const char *s_queues = smap_get(rss_cfg, "queues");
    const char *s_spread = smap_get(rss_cfg, "spread");
    const char *s_key = smap_get(rss_cfg, "hash-key");
    const char *s_fields = smap_get(rss_cfg, "hash-fields");
    unsigned int queues = 0, spread = 0;
    bool fset[OFL_N_FLOWS] = { false };
    uint64_t fbits[OFL_N_FLOWS] = { 0 };
    char *error = NULL;
    struct smap_node *node;

    SMAP_FOR_EACH (node, rss_cfg) {
        if (!error) {
            error = ofl_rss_check(node->key, node->value);
        }
    }
    if (!error && s_queues) {
        parse_count(s_queues, &queues);
        if (!max) {
            error = xasprintf("rss queues %u: the uplink has no receive "
                              "channels that can be set", queues);
        } else if (queues > max) {
            error = xasprintf("rss queues %u is above the uplink's maximum "
                              "of %u receive queues", queues, max);
        }
    }
    unsigned int target = queues ? queues : cur;
    if (!error && s_spread) {
        parse_count(s_spread, &spread);
        if (target && spread > target) {
            error = xasprintf("rss spread %u is above the uplink's %u "
                              "receive queues", spread, target);
        }
    }
    if (!error && s_key) {
        plan->key_size = ofl_rss_key_parse(s_key, plan->key);
        if (!caps->rss_ok || !rss->key_size) {
            error = xasprintf("rss hash-key: the uplink has no RSS hash key "
                              "to set");
        } else if (plan->key_size != rss->key_size) {
            error = xasprintf("rss hash-key has %u bytes; the uplink's key "
                              "has %u", plan->key_size, rss->key_size);
        }
    }
    if (!error && s_fields) {
        parse_fields(s_fields, fset, fbits);
        if (!caps->rss_ok || !rss->fields_supported) {
            error = xasprintf("rss hash-fields: the uplink does not let its "
                              "hashed fields be read or set (ETHTOOL_GRXFH)");
        }
    }

    /* What is asked, shown whether or not it can be done. */
    bool rss_on = strcmp(p_rss, "off") && (strcmp(p_rss, "auto")
                                           || caps->rss_ok);
    snprintf(plan->rows[OFL_Q_RSS].requested, sizeof plan->rows[0].requested,
             "%s%s", rss_on ? "on" : "off",
             strcmp(p_rss, "auto") ? "" : " (auto)");
    snprintf(plan->rows[OFL_Q_QUEUES].requested,
             sizeof plan->rows[0].requested, "%u%s", target,
             queues ? "" : " (the device's)");
    snprintf(plan->rows[OFL_Q_KEY].requested, sizeof plan->rows[0].requested,
             "%s", s_key ? s_key : "the device's");
    if (s_fields) {
        fields_format(fset, fbits, plan->rows[OFL_Q_FIELDS].requested,
                      sizeof plan->rows[0].requested);
    } else {
        snprintf(plan->rows[OFL_Q_FIELDS].requested,
                 sizeof plan->rows[0].requested, "the device's");
    }

    if (error) {
        snprintf(plan->error, sizeof plan->error, "%s", error);
        snprintf(plan->rows[OFL_Q_SPREAD].requested,
                 sizeof plan->rows[0].requested, "%s",
                 s_spread ? s_spread : "-");
        for (size_t i = 0; i < n_vnics; i++) {
            vnics[i].queue = -1;
            snprintf(vnics[i].reason, sizeof vnics[i].reason, "the uplink's "
                     "queue settings are not applied: %s", error);
        }
        snprintf(plan->rows[OFL_Q_VMQ].requested,
                 sizeof plan->rows[0].requested, "-");
        free(error);
        return;
    }

    plan_vmq(p_vmq, caps, target, vnics, n_vnics, plan);

    /* RSS gives way to VMQ: it spreads over the queues left. */
    unsigned int rss_queues = target > plan->n_vmq ? target - plan->n_vmq
                                                   : 1;
    plan->spread = (!strcmp(p_rss, "off") ? 1
                    : spread ? MIN(spread, rss_queues) : rss_queues);
    snprintf(plan->rows[OFL_Q_SPREAD].requested,
             sizeof plan->rows[0].requested, "%u%s", plan->spread,
             spread || plan->n_vmq || !strcmp(p_rss, "off")
             ? "" : " (all queues)");

    plan->channels = queues && queues != cur ? queues : 0;
    if (caps->rss_ok && target && plan->spread) {
        bool custom = (!strcmp(p_rss, "off") || spread || plan->n_vmq);
        unsigned int mod = custom ? plan->spread : target;
        plan->indir_size = rss->indir_size;
        plan->indir = xcalloc(rss->indir_size + 1, sizeof *plan->indir);
        bool differs = false;
        for (uint32_t i = 0; i < rss->indir_size; i++) {
            plan->indir[i] = i % mod;
            differs |= plan->indir[i] != rss->indir[i];
        }
        if (custom) {
            plan->set_indir = differs;
        } else {
            /* Back to the driver's default where vsw changed the table
             * or the channels (not every driver re-spreads by itself);
             * never otherwise, so a driver whose default is not round
             * robin is left alone instead of being reset every pass. */
            plan->reset_indir = differs && (caps->indir_touched
                                            || plan->channels);
        }
    }
    if (s_key && memcmp(plan->key, rss->key, plan->key_size)) {
        plan->set_key = true;
    }
    for (size_t i = 0; i < OFL_N_FLOWS; i++) {
        plan->want_fields[i] = fset[i];
        plan->fields[i] = fbits[i];
        plan->set_fields[i] = fset[i] && fbits[i] != rss->fields[i];
    }
}

/* How many queues the table sends flows to. */
static unsigned int
table_spread(const struct ofl_rss *rss)
{
    unsigned int n = 0;
    uint32_t max = 0;
    for (uint32_t i = 0; i < rss->indir_size; i++) {
        max = MAX(max, rss->indir[i]);
    }
    for (uint32_t q = 0; rss->indir_size && q <= max; q++) {
        for (uint32_t i = 0; i < rss->indir_size; i++) {
            if (rss->indir[i] == q) {
                n++;
                break;
            }
        }
    }
    return n;
}

/* Sets row 'r''s reason when requested (up to the first space) and
 * effective differ. */
static void
explain(struct ofl_queue_row *r, const char *set_error, const char *why)
{
    size_t len = strcspn(r->requested, " ");
    if (r->reason[0] || (strlen(r->effective) == len
                         && !strncmp(r->requested, r->effective, len))) {
        return;
    }
    if (why) {
        snprintf(r->reason, sizeof r->reason, "%s", why);
    } else if (set_error) {
        snprintf(r->reason, sizeof r->reason, "refused: %s", set_error);
    } else {
        snprintf(r->reason, sizeof r->reason, "the device kept %s",
                 r->effective);
    }
}

void
ofl_queues_report(const struct ofl_queue_caps *after, size_t n_rules,
                  const char *set_error, struct ofl_queue_plan *plan)
{
    const struct ofl_rss *rss = after->rss;
    struct ofl_queue_row *rows = plan->rows;
    unsigned int channels = after->channels_ok
                            ? ofl_channels_rx(&after->ch) : 0;
    unsigned int spread = after->rss_ok ? table_spread(rss) : 0;
    const char *no_rss = (after->rss_ok ? NULL : "not supported by the "
                          "device (no RSS indirection table)");

    snprintf(rows[OFL_Q_RSS].effective, sizeof rows[0].effective, "%s",
             spread > 1 ? "on" : "off");
    snprintf(rows[OFL_Q_QUEUES].effective, sizeof rows[0].effective, "%u",
             channels);
    snprintf(rows[OFL_Q_SPREAD].effective, sizeof rows[0].effective, "%u",
             spread);
    if (after->rss_ok && rss->key_size) {
        char *key = ofl_rss_key_format(rss->key, rss->key_size);
        snprintf(rows[OFL_Q_KEY].effective, sizeof rows[0].effective, "%s",
                 key);
        free(key);
    } else {
        snprintf(rows[OFL_Q_KEY].effective, sizeof rows[0].effective, "-");
    }
    if (after->rss_ok && rss->fields_supported) {
        bool all[OFL_N_FLOWS] = { true, true, true, true };
        fields_format(all, rss->fields, rows[OFL_Q_FIELDS].effective,
                      sizeof rows[0].effective);
    } else {
        snprintf(rows[OFL_Q_FIELDS].effective, sizeof rows[0].effective,
                 "-");
    }
    snprintf(rows[OFL_Q_VMQ].effective, sizeof rows[0].effective, "%s",
             n_rules ? "on" : "off");
    snprintf(rows[OFL_Q_VMQ_QUEUES].effective, sizeof rows[0].effective,
             "%zu", n_rules);

    if (plan->error[0]) {
        for (size_t i = 0; i < OFL_N_QROWS; i++) {
            snprintf(rows[i].reason, sizeof rows[i].reason, "not applied: "
                     "%s", plan->error);
        }
        return;
    }
    if (no_rss) {
        snprintf(rows[OFL_Q_RSS].reason, sizeof rows[0].reason, "%s",
                 no_rss);
    }
    explain(&rows[OFL_Q_RSS], set_error,
            no_rss ? no_rss
            : channels < 2 ? "the uplink has a single receive queue" : NULL);
    explain(&rows[OFL_Q_QUEUES], set_error, NULL);
    explain(&rows[OFL_Q_SPREAD], set_error, no_rss);
    if (strcmp(rows[OFL_Q_KEY].requested, "the device's")) {
        explain(&rows[OFL_Q_KEY], set_error, no_rss);
    }
    /* Only the flows asked for count. */
    bool fields_differ = false;
    for (size_t i = 0; i < OFL_N_FLOWS; i++) {
        fields_differ |= plan->want_fields[i]
                         && (!after->rss_ok || !rss->fields_supported
                             || rss->fields[i] != plan->fields[i]);
    }
    if (fields_differ) {
        snprintf(rows[OFL_Q_FIELDS].reason, sizeof rows[0].reason, "%s%s",
                 no_rss || !set_error ? "" : "refused: ",
                 no_rss ? no_rss : set_error ? set_error
                 : "the device hashes other fields");
    }
    explain(&rows[OFL_Q_VMQ], set_error, NULL);
    explain(&rows[OFL_Q_VMQ_QUEUES], set_error, NULL);
}

void
ofl_queue_plan_destroy(struct ofl_queue_plan *plan)
{
    free(plan->indir);
    plan->indir = NULL;
}

const struct ofl_queue_ops ofl_queue_kernel_ops = {
    .set_indir = ofl_rss_set_indir,
    .set_channels = ofl_ethtool_set_queues,
    .set_key = ofl_rss_set_key,
    .set_fields = ofl_rss_set_fields,
    .error = dp_nl_error,
};

bool
ofl_queues_apply(const char *dev, const struct ofl_queue_caps *caps,
                 const struct ofl_queue_plan *plan,
                 const struct ofl_queue_ops *ops, char **set_error)
{
    bool changed = false;
    unsigned int cur = ofl_channels_rx(&caps->ch);
    bool shrink = plan->channels && plan->channels < cur;
    int error;

#define TRY(CALL)                                                       \
    do {                                                                \
        changed = true;                                                 \
        if ((error = (CALL)) && !*set_error) {                          \
            *set_error = xstrdup(ops->error());                         \
        }                                                               \
    } while (0)

    if (shrink && (plan->set_indir || plan->reset_indir)) {
        /* The wanted table: valid for the new channel count. */
        TRY(ops->set_indir(dev, plan->indir, plan->indir_size));
    }
    if (plan->channels) {
        TRY(ops->set_channels(dev, ofl_channels_combined(&caps->ch),
                              plan->channels));
    }
    if (plan->reset_indir) {
        TRY(ops->set_indir(dev, NULL, 0));
    } else if (plan->set_indir && !shrink) {
        TRY(ops->set_indir(dev, plan->indir, plan->indir_size));
    }
    if (plan->set_key) {
        TRY(ops->set_key(dev, plan->key, plan->key_size));
    }
    for (size_t i = 0; i < OFL_N_FLOWS; i++) {
        if (plan->set_fields[i]) {
            TRY(ops->set_fields(dev, i, plan->fields[i]));
        }
    }
#undef TRY
    return changed;
}
