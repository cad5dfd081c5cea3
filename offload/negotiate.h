/* Offload negotiation with a switch's uplink: policy -> requests ->
 * effective + reason.
 *
 * Each vsw feature (tx-checksum, tso, lro, ...) maps to one or more kernel
 * features.  The policy per feature is auto|on|off; auto follows Hyper-V's
 * rules for a switch uplink: what the NIC can change goes on, except LRO /
 * hardware GRO (RSC), which stays off because coalesced frames must not be
 * forwarded.  The plan asks only for what differs from what the kernel
 * already wants, so a negotiated uplink costs no request.  The report reads
 * the kernel's answer as the truth and explains every difference.  Pure
 * functions: vswitchd/bridge.c does the I/O (offload/ethtool.c). */
#ifndef OFFLOAD_NEGOTIATE_H
#define OFFLOAD_NEGOTIATE_H 1

#include <stdbool.h>
#include <stddef.h>

#include "offload/ethtool.h"

struct smap;

/* The features vsw negotiates, in display order; NULL-terminated. */
extern const char *const ofl_feature_names[];

/* Returns true if 'name' is one of ofl_feature_names. */
bool ofl_feature_known(const char *name);

/* Returns true if 'name' is a Switch.offload key: a feature, or one of
 * the receive-queue policies "rss" and "vmq" (offload/queues.c). */
bool ofl_policy_known(const char *name);

/* The policy for 'key' in 'policy' (Switch.offload): "auto", "on" or
 * "off"; absent or anything else is "auto". */
const char *ofl_policy_of(const struct smap *policy, const char *key);

struct ofl_result {
    const char *feature;        /* From ofl_feature_names. */
    const char *policy;         /* "auto", "on" or "off". */
    bool rule;                  /* What the uplink rules want ("auto"). */
    bool requested;             /* Asked of the kernel: the policy, or for
                                 * "auto" the rule where the device lets it
                                 * be changed, else what the device has. */
    bool effective;
    char reason[256];           /* "" when requested == effective. */
};

#define OFL_N_FEATURES 9

/* Every kernel feature name the policy features map onto, into 'names'
 * (at most 'max'); returns how many. */
size_t ofl_negotiate_kernel_names(const char *names[], size_t max);

/* The kernel features to change: fills 'names'/'on' (at most
 * OFL_MAX_FEATURES) and returns their number; fills 'results' with the
 * policy and what is requested.  'policy' maps feature -> auto|on|off
 * (absent: auto). */
size_t ofl_negotiate_plan(const struct ofl_features *caps,
                          const struct smap *policy,
                          const char *names[], bool on[],
                          struct ofl_result results[OFL_N_FEATURES]);

/* Completes 'results' from the features read back after the change;
 * 'set_error' is the kernel's refusal, or NULL. */
void ofl_negotiate_report(const struct ofl_features *after,
                          const char *set_error,
                          struct ofl_result results[OFL_N_FEATURES]);

#endif /* offload/negotiate.h */
