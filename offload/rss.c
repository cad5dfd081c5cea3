/* Receive side scaling; see rss.h. */
#include <config.h>

#include "offload/rss.h"

#include <ctype.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <string.h>

#include "datapath/netlink.h"
#include "offload/ethtool.h"
#include "util.h"

/* ETHTOOL_MSG_RSS_GET and its attributes arrived in Linux 6.2, after the
 * uapi headers of Debian 12 (6.1).  Kernel ABI: the values never change. */
#ifndef ETHTOOL_A_RSS_MAX
#define ETHTOOL_MSG_RSS_GET 38
#define ETHTOOL_A_RSS_HEADER 1
#define ETHTOOL_A_RSS_CONTEXT 2
#define ETHTOOL_A_RSS_HFUNC 3
#define ETHTOOL_A_RSS_INDIR 4
#define ETHTOOL_A_RSS_HKEY 5
#define ETHTOOL_A_RSS_MAX 5
#endif

const char *const ofl_rss_flow_names[OFL_N_FLOWS] = {
    "tcp4", "udp4", "tcp6", "udp6",
};
static const uint32_t flow_types[OFL_N_FLOWS] = {
    TCP_V4_FLOW, UDP_V4_FLOW, TCP_V6_FLOW, UDP_V6_FLOW,
};

/* ethtool's letters for the RXH_* bits ("ethtool -N DEV rx-flow-hash"). */
static const struct {
    char letter;
    uint64_t bit;
} field_letters[] = {
    { 'm', RXH_L2DA }, { 'v', RXH_VLAN }, { 't', RXH_L3_PROTO },
    { 's', RXH_IP_SRC }, { 'd', RXH_IP_DST }, { 'f', RXH_L4_B_0_1 },
    { 'n', RXH_L4_B_2_3 },
};

int
ofl_rss_parse_reply(const struct nlmsghdr *hdr, struct ofl_rss *rss)
{
    struct nlattr *tb[ETHTOOL_A_RSS_MAX + 1];

    if (genlmsg_parse(CONST_CAST(struct nlmsghdr *, hdr), 0, tb,
                      ETHTOOL_A_RSS_MAX, NULL)) {
        return EPROTO;
    }
    if (tb[ETHTOOL_A_RSS_HFUNC]) {
        rss->hfunc = nla_get_u32(tb[ETHTOOL_A_RSS_HFUNC]);
    }
    if (tb[ETHTOOL_A_RSS_INDIR]) {
        size_t n = nla_len(tb[ETHTOOL_A_RSS_INDIR]) / sizeof(uint32_t);
        n = MIN(n, OFL_RSS_MAX_INDIR);
        memcpy(rss->indir, nla_data(tb[ETHTOOL_A_RSS_INDIR]),
               n * sizeof(uint32_t));
        rss->indir_size = n;
    }
    if (tb[ETHTOOL_A_RSS_HKEY]) {
        size_t n = MIN(nla_len(tb[ETHTOOL_A_RSS_HKEY]), OFL_RSS_MAX_KEY);
        memcpy(rss->key, nla_data(tb[ETHTOOL_A_RSS_HKEY]), n);
        rss->key_size = n;
    }
    return 0;
}

static int
rss_cb(struct nl_msg *msg, void *rss)
{
    ofl_rss_parse_reply(nlmsg_hdr(msg), rss);
    return NL_OK;
}

static int
get_netlink(const char *ifname, struct ofl_rss *rss)
{
    int family = dp_nl_genl_family(ETHTOOL_GENL_NAME);
    if (family < 0) {
        return EOPNOTSUPP;
    }
    struct nl_msg *msg = nlmsg_alloc();
    genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
                ETHTOOL_MSG_RSS_GET, ETHTOOL_GENL_VERSION);
    struct nlattr *hdr = nla_nest_start(msg, ETHTOOL_A_RSS_HEADER);
    nla_put_string(msg, ETHTOOL_A_HEADER_DEV_NAME, ifname);
    nla_nest_end(msg, hdr);
    return dp_nl_transact(dp_nl_genl_sock(), msg, false, rss_cb, rss);
}

static int
get_ioctl(const char *ifname, struct ofl_rss *rss)
{
    struct ethtool_rxfh sizes = { .cmd = ETHTOOL_GRSSH };
    int error = ofl_ethtool_ioctl(ifname, &sizes, "ETHTOOL_GRSSH", false);
    if (error) {
        return error;
    }
    if (sizes.indir_size > OFL_RSS_MAX_INDIR
        || sizes.key_size > OFL_RSS_MAX_KEY) {
        dp_nl_set_error(EOVERFLOW, "%s: RSS table of %u entries / key of "
                        "%u bytes is larger than vsw handles", ifname,
                        sizes.indir_size, sizes.key_size);
        return EOVERFLOW;
    }
    size_t len = sizeof sizes + sizes.indir_size * sizeof(uint32_t)
                 + sizes.key_size;
    struct ethtool_rxfh *rxfh = xzalloc(len);
    rxfh->cmd = ETHTOOL_GRSSH;
    rxfh->indir_size = sizes.indir_size;
    rxfh->key_size = sizes.key_size;
    error = ofl_ethtool_ioctl(ifname, rxfh, "ETHTOOL_GRSSH", false);
    if (!error) {
        rss->hfunc = rxfh->hfunc;
        rss->indir_size = rxfh->indir_size;
        memcpy(rss->indir, rxfh->rss_config,
               rxfh->indir_size * sizeof(uint32_t));
        rss->key_size = rxfh->key_size;
        memcpy(rss->key, (uint8_t *) (rxfh->rss_config + rxfh->indir_size),
               rxfh->key_size);
    }
    free(rxfh);
    return error;
}

int
ofl_rss_get(const char *ifname, struct ofl_rss *rss)
{
    memset(rss, 0, sizeof *rss);

    rss->fields_supported = true;
    for (size_t i = 0; i < OFL_N_FLOWS; i++) {
        struct ethtool_rxnfc nfc = { .cmd = ETHTOOL_GRXFH,
                                     .flow_type = flow_types[i] };
        if (ofl_ethtool_ioctl(ifname, &nfc, "ETHTOOL_GRXFH", false)) {
            rss->fields_supported = false;
            break;
        }
        rss->fields[i] = nfc.data;
    }
    /* Netlink first: an unknown command (kernel before 6.2) and a device
     * without RSS both answer EOPNOTSUPP; the ioctl then tells which. */
    int error = get_netlink(ifname, rss);
    if (error || !rss->indir_size) {
        memset(rss->indir, 0, sizeof rss->indir);
        error = get_ioctl(ifname, rss);
    }
    rss->supported = !error && rss->indir_size > 0;

    if (!rss->supported && !error) {
        error = EOPNOTSUPP;
        dp_nl_set_error(error, "%s has an empty RSS indirection table",
                        ifname);
    }
    return error;
}

/* ETHTOOL_SRSSH with 'n_indir' table entries (or a reset with
 * ETH_RXFH_INDIR_NO_CHANGE meaning "keep") and 'n_key' key bytes. */
static int
set_rxfh(const char *ifname, const uint32_t *indir, uint32_t n_indir,
         const uint8_t *key, uint32_t n_key, const char *what)
{
    size_t n_tab = n_indir == ETH_RXFH_INDIR_NO_CHANGE ? 0 : n_indir;
    size_t len = sizeof(struct ethtool_rxfh) + n_tab * sizeof(uint32_t)
                 + n_key;
    struct ethtool_rxfh *rxfh = xzalloc(len);
    rxfh->cmd = ETHTOOL_SRSSH;
    rxfh->indir_size = n_indir;
    rxfh->key_size = n_key;
    if (n_tab) {
        memcpy(rxfh->rss_config, indir, n_tab * sizeof(uint32_t));
    }
    if (n_key) {
        memcpy((uint8_t *) (rxfh->rss_config + n_tab), key, n_key);
    }
    int error = ofl_ethtool_ioctl(ifname, rxfh, what, true);
    free(rxfh);
    return error;
}

int
ofl_rss_set_indir(const char *ifname, const uint32_t *indir, uint32_t n)
{
    return set_rxfh(ifname, indir, n, NULL, 0,
                    n ? "ETHTOOL_SRSSH (the RSS indirection table)"
                      : "ETHTOOL_SRSSH (reset the RSS indirection table)");
}

int
ofl_rss_set_key(const char *ifname, const uint8_t *key, uint32_t n)
{
    return set_rxfh(ifname, NULL, ETH_RXFH_INDIR_NO_CHANGE, key, n,
                    "ETHTOOL_SRSSH (the RSS hash key)");
}

int
ofl_rss_set_fields(const char *ifname, enum ofl_rss_flow flow, uint64_t bits)
{
    struct ethtool_rxnfc nfc = { .cmd = ETHTOOL_SRXFH,
                                 .flow_type = flow_types[flow],
                                 .data = bits };
    char what[64];
    snprintf(what, sizeof what, "ETHTOOL_SRXFH (the %s hash fields)",
             ofl_rss_flow_names[flow]);
    return ofl_ethtool_ioctl(ifname, &nfc, what, true);
}

void
ofl_rss_fields_format(uint64_t bits, char buf[16])
{
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(field_letters); i++) {
        if (bits & field_letters[i].bit) {
            buf[n++] = field_letters[i].letter;
        }
    }
    buf[n] = '\0';
}

bool
ofl_rss_fields_parse(const char *s, uint64_t *bits)
{
    *bits = 0;
    for (; *s; s++) {
        size_t i;
        for (i = 0; i < ARRAY_SIZE(field_letters); i++) {
            if (*s == field_letters[i].letter) {
                *bits |= field_letters[i].bit;
                break;
            }
        }
        if (i == ARRAY_SIZE(field_letters)) {
            return false;
        }
    }
    return true;
}

char *
ofl_rss_key_format(const uint8_t *key, uint32_t n)
{
    char *s = xmalloc(3 * n + 1);
    char *p = s;

    *p = '\0';
    for (uint32_t i = 0; i < n; i++) {
        p += sprintf(p, "%s%02x", i ? ":" : "", key[i]);
    }
    return s;
}

uint32_t
ofl_rss_key_parse(const char *s, uint8_t *key)
{
    uint32_t n = 0;
    while (*s && n < OFL_RSS_MAX_KEY) {
        /* Two hex digits exactly: sscanf("%2x") would also take " a" or
         * "+a". */
        if (!isxdigit((unsigned char) s[0])
            || !isxdigit((unsigned char) s[1])) {
            return 0;
        }
        char pair[3] = { s[0], s[1], '\0' };
        key[n++] = strtoul(pair, NULL, 16);
        s += 2;
        if (*s == ':') {
            s++;
            if (!*s) {
                return 0;
            }
        } else if (*s) {
            return 0;
        }
    }
    return *s ? 0 : n;
}
