/* Receive queues of a switch uplink: how many (channels), how RSS spreads
 * flows over them (indirection table, hash key, hashed fields), and which
 * ones are given to vNICs as VMQs.
 *
 * Policy (Switch.offload keys "rss" and "vmq", auto|on|off, and the
 * Switch.rss settings queues / spread / hash-key / hash-fields) and the
 * device's capabilities go in; a plan comes out: what to change, in which
 * order, and for every vNIC its queue or why it has none.  Hyper-V's rule
 * applies: RSS gives way to VMQ, i.e. the VMQ queues are taken from the
 * top of the channel range and RSS spreads over the rest (at least one).
 * The whole plan is checked before anything is applied, so a bad setting
 * (a queue count above the device's maximum, a key of the wrong length)
 * changes nothing.  Planning is pure; applying a plan goes through an
 * ops table (ofl_queue_kernel_ops, or a unit test's recorder), because its
 * order is what drivers accept or refuse. */
#ifndef OFFLOAD_QUEUES_H
#define OFFLOAD_QUEUES_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "offload/ethtool.h"
#include "offload/rss.h"
#include "openvswitch/types.h"

struct smap;

/* The Switch.rss keys. */
extern const char *const ofl_rss_keys[];  /* NULL-terminated. */

/* NULL if 'key'='value' is a valid Switch.rss setting as far as can be
 * told without the device, else a malloc()'d message naming the choices. */
char *ofl_rss_check(const char *key, const char *value);

struct ofl_queue_caps {
    bool channels_ok;           /* CHANNELS_GET answered. */
    struct ofl_channels ch;
    bool rss_ok;                /* The device has RSS (ofl_rss_get()). */
    const struct ofl_rss *rss;
    bool ntuple;                /* rx-ntuple-filter available. */
    bool indir_touched;         /* vsw wrote the table before (restore
                                 * record): it may reset it to default. */
};

struct ofl_vnic {
    const char *name;           /* Port name. */
    bool has_mac;
    struct eth_addr mac;        /* The guest's MAC. */
    int weight;                 /* Port.vmq_weight: 0 = no VMQ. */
    /* Out. */
    int queue;                  /* Its VMQ, or -1. */
    char reason[160];           /* Why it has none (weight > 0). */
};

/* One line of the report (offload_requested / _effective / _reason). */
struct ofl_queue_row {
    const char *key;            /* "rss", "rss-queues", ... */
    char requested[160];
    char effective[160];
    char reason[320];
};

enum { OFL_Q_RSS, OFL_Q_QUEUES, OFL_Q_SPREAD, OFL_Q_KEY, OFL_Q_FIELDS,
       OFL_Q_VMQ, OFL_Q_VMQ_QUEUES, OFL_N_QROWS };

struct ofl_queue_plan {
    char error[256];            /* A setting the device cannot take:
                                 * nothing is applied. */
    unsigned int channels;      /* Receive queues wanted (0: leave). */
    bool set_indir;
    bool reset_indir;           /* Back to the driver's default. */
    uint32_t indir_size;
    uint32_t *indir;            /* 'indir_size' entries (malloc()'d). */
    bool set_key;
    uint32_t key_size;
    uint8_t key[OFL_RSS_MAX_KEY];
    bool want_fields[OFL_N_FLOWS];  /* Flows the settings name... */
    uint64_t fields[OFL_N_FLOWS];   /* ...and their RXH_* bits. */
    bool set_fields[OFL_N_FLOWS];   /* Those that differ: to set. */
    bool vmq;                   /* VMQ in use: ntuple on, rules as the
                                 * vNICs' 'queue' say. */
    unsigned int n_vmq;
    unsigned int spread;        /* Queues RSS spreads over. */
    struct ofl_queue_row rows[OFL_N_QROWS];
};

/* Plans the uplink's queues from 'offload' (Switch.offload), 'rss_cfg'
 * (Switch.rss), the capabilities and the vNICs (in a stable order; their
 * 'queue'/'reason' are filled). */
void ofl_queues_plan(const struct smap *offload, const struct smap *rss_cfg,
                     const struct ofl_queue_caps *,
                     struct ofl_vnic *vnics, size_t n_vnics,
                     struct ofl_queue_plan *);

/* Fills the rows' 'effective' and 'reason' from what the device reports
 * after the changes ('set_error': the first refusal, or NULL). */
void ofl_queues_report(const struct ofl_queue_caps *after,
                       size_t n_rules, const char *set_error,
                       struct ofl_queue_plan *);

void ofl_queue_plan_destroy(struct ofl_queue_plan *);

/* What applying a plan does to the device; each returns 0 or a positive
 * errno and leaves its explanation to error(). */
struct ofl_queue_ops {
    int (*set_indir)(const char *dev, const uint32_t *indir, uint32_t n);
    int (*set_channels)(const char *dev, bool combined, unsigned int n);
    int (*set_key)(const char *dev, const uint8_t *key, uint32_t n);
    int (*set_fields)(const char *dev, enum ofl_rss_flow, uint64_t fields);
    const char *(*error)(void);
};

/* The operations that act on the device (offload/ethtool.c, rss.c). */
extern const struct ofl_queue_ops ofl_queue_kernel_ops;

/* Applies 'plan' to 'dev' (currently with the channels in 'caps') in an
 * order drivers accept: when the channel count shrinks, an indirection
 * table valid for the new count goes first (the kernel refuses fewer
 * channels than the table uses); a reset to the driver's default comes
 * after the channel change (virtio-net does not re-spread its table when
 * channels change); then the key and the hashed fields.  Records the
 * first refusal in '*set_error' (malloc()'d) and returns true if it asked
 * for any change. */
bool ofl_queues_apply(const char *dev, const struct ofl_queue_caps *caps,
                      const struct ofl_queue_plan *plan,
                      const struct ofl_queue_ops *, char **set_error);

#endif /* offload/queues.h */
