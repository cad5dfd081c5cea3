/* Offload negotiation; see negotiate.h. */
#include <config.h>

#include "offload/negotiate.h"

#include <stdio.h>
#include <string.h>

#include "smap.h"
#include "util.h"

struct feature_map {
    const char *name;
    const char *kernel[6];      /* Kernel names, NULL-terminated: the
                                 * whole group, as ethtool's -K name sets
                                 * it (those the kernel lacks are
                                 * skipped). */
    size_t n_primary;           /* "auto" turning the feature on asks only
                                 * for the first this many (0: all); the
                                 * rest are variants with their own
                                 * meaning (TSO that may mangle IP ids),
                                 * left as the driver has them.  Turning
                                 * it off, and "on", take the group. */
    bool auto_on;               /* What "auto" asks for, when possible. */
    const char *auto_off_why;   /* Why "auto" keeps it off. */
};

static const struct feature_map features[OFL_N_FEATURES] = {
    { "tx-checksum", { "tx-checksum-ip-generic", "tx-checksum-ipv4",
                       "tx-checksum-ipv6" }, 0, true, NULL },
    { "rx-checksum", { "rx-checksum" }, 0, true, NULL },
    { "tso", { "tx-tcp-segmentation", "tx-tcp-ecn-segmentation",
               "tx-tcp-accecn-segmentation",
               "tx-tcp-mangleid-segmentation" }, 1, true, NULL },
    { "tso6", { "tx-tcp6-segmentation" }, 0, true, NULL },
    { "gso", { "tx-generic-segmentation" }, 0, true, NULL },
    { "gro", { "rx-gro" }, 0, true, NULL },
    { "lro", { "rx-lro", "rx-gro-hw" }, 0, false,
      "kept off on a switch uplink: coalesced frames must not be "
      "forwarded (Hyper-V turns RSC off likewise)" },
    { "rx-hashing", { "rx-hashing" }, 0, true, NULL },
    { "hw-tc-offload", { "hw-tc-offload" }, 0, true, NULL },
};

const char *const ofl_feature_names[] = {
    "tx-checksum", "rx-checksum", "tso", "tso6", "gso", "gro", "lro",
    "rx-hashing", "hw-tc-offload", NULL,
};

bool
ofl_feature_known(const char *name)
{
    for (size_t i = 0; ofl_feature_names[i]; i++) {
        if (!strcmp(name, ofl_feature_names[i])) {
            return true;
        }
    }
    return false;
}

bool
ofl_policy_known(const char *name)
{
    return ofl_feature_known(name) || !strcmp(name, "rss")
           || !strcmp(name, "vmq");
}

const char *
ofl_policy_of(const struct smap *policy, const char *key)
{
    const char *p = smap_get_def(policy, key, "auto");
    return !strcmp(p, "on") ? "on" : !strcmp(p, "off") ? "off" : "auto";
}

/* Whether the device can change any of 'm''s kernel features. */
static bool
changeable(const struct ofl_features *caps, const struct feature_map *m)
{
    for (size_t k = 0; m->kernel[k]; k++) {
        const struct ofl_feature *f = ofl_features_find(caps, m->kernel[k]);
        if (f && f->hw && !f->nochange) {
            return true;
        }
    }
    return false;
}

/* Whether any of 'm''s kernel features is on. */
static bool
active(const struct ofl_features *caps, const struct feature_map *m)
{
    for (size_t k = 0; m->kernel[k]; k++) {
        const struct ofl_feature *f = ofl_features_find(caps, m->kernel[k]);
        if (f && f->active) {
            return true;
        }
    }
    return false;
}

/* How many of 'm''s kernel bits request 'r' covers. */
static size_t
covered(const struct feature_map *m, const struct ofl_result *r)
{
    size_t n = 0;
    while (n < ARRAY_SIZE(m->kernel) && m->kernel[n]) {
        n++;
    }
    return (m->n_primary && r->requested && !strcmp(r->policy, "auto")
            ? MIN(m->n_primary, n) : n);
}

size_t
ofl_negotiate_plan(const struct ofl_features *caps, const struct smap *policy,
                   const char *names[], bool on[],
                   struct ofl_result results[OFL_N_FEATURES])
{
    size_t n = 0;

    for (size_t i = 0; i < OFL_N_FEATURES; i++) {
        const struct feature_map *m = &features[i];
        struct ofl_result *r = &results[i];
        memset(r, 0, sizeof *r);
        r->feature = m->name;
        r->policy = ofl_policy_of(policy, m->name);
        r->rule = m->auto_on;
        if (!strcmp(r->policy, "auto")) {
            /* "auto" does not fight what the device fixes. */
            r->requested = changeable(caps, m) ? m->auto_on
                                               : active(caps, m);
        } else {
            r->requested = !strcmp(r->policy, "on");
        }

        size_t n_bits = covered(m, r);
        for (size_t k = 0; k < n_bits; k++) {
            const struct ofl_feature *f = ofl_features_find(caps,
                                                            m->kernel[k]);
            if (f && f->hw && !f->nochange && f->wanted != r->requested
                && n < OFL_MAX_FEATURES) {
                names[n] = m->kernel[k];
                on[n] = r->requested;
                n++;
            }
        }
    }
    return n;
}

size_t
ofl_negotiate_kernel_names(const char *names[], size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < OFL_N_FEATURES; i++) {
        for (size_t k = 0; features[i].kernel[k] && n < max; k++) {
            names[n++] = features[i].kernel[k];
        }
    }
    return n;
}

/* For a feature whose kernel bits are not all alike: "partly on: <bits
 * that are on>" into 'reason' (appended after what it has).  Returns true
 * if the bits differ. */
static bool
report_partial(const struct ofl_features *after, const struct feature_map *m,
               size_t n_bits, char *reason, size_t size)
{
    char on[160] = "", off[160] = "";
    for (size_t k = 0; k < n_bits; k++) {
        const struct ofl_feature *f = ofl_features_find(after, m->kernel[k]);
        if (f && (f->hw || f->active)) {
            char *list = f->active ? on : off;
            size_t len = strlen(list);
            snprintf(list + len, sizeof on - len, "%s%s", len ? ", " : "",
                     m->kernel[k]);
        }
    }
    if (!on[0] || !off[0]) {
        return false;
    }
    size_t len = strlen(reason);
    snprintf(reason + len, size - len, "%spartly on: %s on, %s off",
             len ? "; " : "", on, off);
    return true;
}

void
ofl_negotiate_report(const struct ofl_features *after, const char *set_error,
                     struct ofl_result results[OFL_N_FEATURES])
{
    for (size_t i = 0; i < OFL_N_FEATURES; i++) {
        const struct feature_map *m = &features[i];
        struct ofl_result *r = &results[i];
        bool known = false, hw = false, fixed = true;

        r->effective = false;
        for (size_t k = 0; m->kernel[k]; k++) {
            const struct ofl_feature *f = ofl_features_find(after,
                                                            m->kernel[k]);
            if (f) {
                known = true;
                r->effective |= f->active;
                hw |= f->hw;
                fixed &= f->nochange || !f->hw;
            }
        }

        r->reason[0] = '\0';
        bool is_auto = !strcmp(r->policy, "auto");
        if (report_partial(after, m, covered(m, r), r->reason,
                           sizeof r->reason)) {
            /* Some bits of the group stayed as they were (fixed, or refused
             * by the driver): say which, whatever was asked. */
            if (set_error) {
                size_t len = strlen(r->reason);
                snprintf(r->reason + len, sizeof r->reason - len,
                         " (refused: %s)", set_error);
            }
            continue;
        }
        if (r->requested == r->effective) {
            if (!is_auto && r->effective && m->auto_off_why) {
                /* The one combination known to break forwarding. */
                snprintf(r->reason, sizeof r->reason, "on as the policy "
                         "asks, against the uplink rule: coalesced frames "
                         "are forwarded to VMs and out of other ports as "
                         "they are (set it to auto)");
            } else if (is_auto && !r->effective && m->auto_off_why) {
                snprintf(r->reason, sizeof r->reason, "%s", m->auto_off_why);
            } else if (is_auto && r->rule != r->effective) {
                /* The rule wanted otherwise; the device decides. */
                if (!hw && !r->effective) {
                    snprintf(r->reason, sizeof r->reason,
                             "not supported by the device");
                } else {
                    snprintf(r->reason, sizeof r->reason,
                             "fixed %s by the device",
                             r->effective ? "on" : "off");
                }
            }
            continue;
        }
        if (!known) {
            snprintf(r->reason, sizeof r->reason, "the driver does not "
                     "know this feature");
        } else if (!hw) {
            snprintf(r->reason, sizeof r->reason, "not supported by the "
                     "device (%s is not among its hw features)",
                     m->kernel[0]);
        } else if (fixed) {
            snprintf(r->reason, sizeof r->reason, "fixed by the device");
        } else if (set_error) {
            snprintf(r->reason, sizeof r->reason, "refused: %s", set_error);
        } else {
            snprintf(r->reason, sizeof r->reason, "the kernel kept it %s "
                     "(it depends on, or was changed with, another "
                     "feature)", r->effective ? "on" : "off");
        }
    }
}
