/* ethtool netlink (generic netlink family "ethtool"): a device's features
 * as the kernel reports them (hw / wanted / active / nochange, by the
 * kernel's feature names), changing them, its channels and rings; and the
 * SIOCETHTOOL ioctl for what netlink lacks.
 *
 * Every request carries the extended-ACK socket option (datapath/netlink.c),
 * so a refusal comes back with the kernel's words.  Called by
 * offload/negotiate.c. */
#ifndef OFFLOAD_ETHTOOL_H
#define OFFLOAD_ETHTOOL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFL_FEATURE_NAME_LEN 32
#define OFL_MAX_FEATURES 128

struct ofl_feature {
    char name[OFL_FEATURE_NAME_LEN];    /* e.g. "tx-tcp-segmentation". */
    bool hw;                    /* The device can change it... */
    bool wanted;                /* ...the configuration asks for it... */
    bool active;                /* ...it is on... */
    bool nochange;              /* ...and it is fixed ("[fixed]"). */
};

struct ofl_features {
    size_t n;
    struct ofl_feature f[OFL_MAX_FEATURES];
};

/* Finds feature 'name' in 'fs', or NULL if the kernel never named it (the
 * driver does not know it). */
const struct ofl_feature *ofl_features_find(const struct ofl_features *,
                                            const char *name);

/* Reads 'ifname''s features.  Returns 0 or a positive errno. */
int ofl_ethtool_get_features(const char *ifname, struct ofl_features *);

/* Asks for features 'names[i]' to be 'on[i]' (one request, as
 * "ethtool -K" does).  Returns 0 or a positive errno (dp_nl_error() has
 * the kernel's words). */
int ofl_ethtool_set_features(const char *ifname, const char *const names[],
                             const bool on[], size_t n);

struct ofl_channels {
    unsigned int rx_max, tx_max, other_max, combined_max;
    unsigned int rx, tx, other, combined;
};
int ofl_ethtool_get_channels(const char *ifname, struct ofl_channels *);
/* Sets the number of combined channels ('combined') or, for devices with
 * separate ones (veth), of receive channels. */
int ofl_ethtool_set_queues(const char *ifname, bool combined,
                           unsigned int n);

/* Receive queues a device offers: combined channels where it has them,
 * else receive channels. */
static inline bool
ofl_channels_combined(const struct ofl_channels *ch)
{
    return ch->combined_max > 0;
}
static inline unsigned int
ofl_channels_rx(const struct ofl_channels *ch)
{
    return ch->combined_max ? ch->combined : ch->rx;
}
static inline unsigned int
ofl_channels_rx_max(const struct ofl_channels *ch)
{
    return ch->combined_max ? ch->combined_max : ch->rx_max;
}

struct ofl_rings {
    unsigned int rx_max, tx_max, rx, tx;
};
int ofl_ethtool_get_rings(const char *ifname, struct ofl_rings *);

/* 'ifname''s link speed in Mbit/s, -1 if the device does not know it. */
int ofl_ethtool_get_speed(const char *ifname, int64_t *mbps);

/* The SIOCETHTOOL ioctl on 'ifname' with command block 'data', for what
 * ethtool netlink does not offer on every kernel (RSS, ntuple rules).
 * 'what' names the request in the error; 'modify' counts it as a change
 * (dp_nl_get_counters()).  Returns 0 or a positive errno with
 * dp_nl_error() set. */
int ofl_ethtool_ioctl(const char *ifname, void *data, const char *what,
                      bool modify);

/* Unit tests only: when set, ofl_ethtool_ioctl() hands the command block
 * to this function (returning 0 or a positive errno) instead of the
 * kernel, to stand in for a device no machine here has (ntuple rules). */
extern int (*ofl_ethtool_ioctl_fn)(const char *ifname, void *data);

/* Parses an ETHTOOL_MSG_FEATURES_GET_REPLY message (genetlink header
 * included) into 'fs'; exposed for unit tests on recorded replies.
 * Returns 0 or a positive errno. */
struct nlmsghdr;
int ofl_ethtool_parse_features(const struct nlmsghdr *, struct ofl_features *);

#endif /* offload/ethtool.h */
