/* Receive side scaling of a device: its indirection table, hash key,
 * hash function and the header fields hashed per flow type.
 *
 * Read through ethtool netlink (ETHTOOL_MSG_RSS_GET, Linux 6.2+) when the
 * kernel has it, else through the SIOCETHTOOL ioctls (ETHTOOL_GRSSH);
 * written through the ioctls (ETHTOOL_SRSSH, ETHTOOL_SRXFH), which every
 * kernel vsw runs on has (netlink RSS_SET is 6.16+).  The ioctls carry no
 * extack: a refusal is reported with its errno and the request named.
 * Called by vswitchd/offload.c and offload/restore.c. */
#ifndef OFFLOAD_RSS_H
#define OFFLOAD_RSS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFL_RSS_MAX_INDIR 4096
#define OFL_RSS_MAX_KEY 256

/* Flow types whose hashed fields vsw reads and sets. */
enum ofl_rss_flow { OFL_FLOW_TCP4, OFL_FLOW_UDP4, OFL_FLOW_TCP6,
                    OFL_FLOW_UDP6, OFL_N_FLOWS };
extern const char *const ofl_rss_flow_names[OFL_N_FLOWS]; /* "tcp4"... */

struct ofl_rss {
    bool supported;             /* The device has an indirection table. */
    uint32_t hfunc;             /* ETH_RSS_HASH_* bit, 0 if unknown. */
    uint32_t indir_size;
    uint32_t indir[OFL_RSS_MAX_INDIR];
    uint32_t key_size;
    uint8_t key[OFL_RSS_MAX_KEY];
    bool fields_supported;      /* ETHTOOL_GRXFH answers. */
    uint64_t fields[OFL_N_FLOWS];   /* RXH_* bits per flow type. */
};

/* Reads 'ifname''s RSS configuration.  Returns 0, or a positive errno
 * (EOPNOTSUPP: the device has no RSS) with dp_nl_error() set. */
int ofl_rss_get(const char *ifname, struct ofl_rss *);

/* Writes an indirection table of 'n' entries (the device's size), or with
 * n == 0 resets it to the driver's default (which then follows the channel
 * count again). */
int ofl_rss_set_indir(const char *ifname, const uint32_t *indir, uint32_t n);

/* Writes a hash key of 'n' bytes (the device's key size). */
int ofl_rss_set_key(const char *ifname, const uint8_t *key, uint32_t n);

/* Sets the hashed fields (RXH_* bits) of flow type 'flow'. */
int ofl_rss_set_fields(const char *ifname, enum ofl_rss_flow, uint64_t bits);

/* Writes 'bits' as ethtool's letters ("sdfn"; "" for none) into 'buf'. */
void ofl_rss_fields_format(uint64_t bits, char buf[16]);

/* Parses ethtool's letters (m v t s d f n, or "" ) into RXH_* bits.
 * Returns false on an unknown letter. */
bool ofl_rss_fields_parse(const char *, uint64_t *bits);

/* Formats 'n' key bytes as "aa:bb:..." into a malloc()'d string. */
char *ofl_rss_key_format(const uint8_t *key, uint32_t n);

/* Parses "aa:bb:..." into 'key' (room for OFL_RSS_MAX_KEY bytes); returns
 * the number of bytes, or 0 if 's' is not such a string. */
uint32_t ofl_rss_key_parse(const char *s, uint8_t *key);

/* The netlink ETHTOOL_MSG_RSS_GET reply parser, exposed for unit tests:
 * fills hfunc, indir and key of 'rss' from 'hdr'.  Returns 0 or EPROTO. */
struct nlmsghdr;
int ofl_rss_parse_reply(const struct nlmsghdr *hdr, struct ofl_rss *);

#endif /* offload/rss.h */
