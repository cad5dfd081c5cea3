/* ethtool netlink; see ethtool.h. */
#include <config.h>

#include "offload/ethtool.h"

#include <errno.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "datapath/netlink.h"
#include "util.h"

static int
ethtool_family(void)
{
    return dp_nl_genl_family(ETHTOOL_GENL_NAME);
}

/* A request 'cmd' for 'ifname' with its header ('hdr_flags':
 * ETHTOOL_FLAG_*); 'nl_flags' NLM_F_ACK for requests without a reply. */
static struct nl_msg *
request(const char *ifname, int cmd, int hdr_attr, int nl_flags,
        uint32_t hdr_flags)
{
    struct nl_msg *msg = nlmsg_alloc();
    genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, ethtool_family(), 0,
                nl_flags, cmd, ETHTOOL_GENL_VERSION);
    struct nlattr *hdr = nla_nest_start(msg, hdr_attr);
    nla_put_string(msg, ETHTOOL_A_HEADER_DEV_NAME, ifname);
    if (hdr_flags) {
        nla_put_u32(msg, ETHTOOL_A_HEADER_FLAGS, hdr_flags);
    }
    nla_nest_end(msg, hdr);
    return msg;
}

static int
no_ethtool(const char *ifname)
{
    dp_nl_set_error(EOPNOTSUPP, "%s: the kernel has no ethtool netlink "
                    "interface", ifname);
    return EOPNOTSUPP;
}

const struct ofl_feature *
ofl_features_find(const struct ofl_features *fs, const char *name)
{
    for (size_t i = 0; i < fs->n; i++) {
        if (!strcmp(fs->f[i].name, name)) {
            return &fs->f[i];
        }
    }
    return NULL;
}

static struct ofl_feature *
feature_add(struct ofl_features *fs, const char *name)
{
    struct ofl_feature *f = CONST_CAST(struct ofl_feature *,
                                       ofl_features_find(fs, name));
    if (!f && fs->n < OFL_MAX_FEATURES) {
        f = &fs->f[fs->n++];
        memset(f, 0, sizeof *f);
        ovs_strlcpy(f->name, name, sizeof f->name);
    }
    return f;
}

/* Marks the features a verbose bitset lists.  In list form (NOMASK) every
 * listed bit is set; otherwise a bit is set when it carries VALUE. */
static void
parse_bitset(const struct nlattr *set, struct ofl_features *fs,
             size_t field)
{
    struct nlattr *tb[ETHTOOL_A_BITSET_MAX + 1];

    if (nla_parse_nested(tb, ETHTOOL_A_BITSET_MAX,
                         CONST_CAST(struct nlattr *, set), NULL)
        || !tb[ETHTOOL_A_BITSET_BITS]) {
        return;
    }
    bool list = tb[ETHTOOL_A_BITSET_NOMASK] != NULL;
    struct nlattr *bit;
    int rem;
    nla_for_each_nested (bit, tb[ETHTOOL_A_BITSET_BITS], rem) {
        struct nlattr *b[ETHTOOL_A_BITSET_BIT_MAX + 1];
        /* The policy makes libnl refuse a name without its NUL. */
        static struct nla_policy policy[ETHTOOL_A_BITSET_BIT_MAX + 1] = {
            [ETHTOOL_A_BITSET_BIT_NAME] = { .type = NLA_STRING },
        };
        if (nla_type(bit) != ETHTOOL_A_BITSET_BITS_BIT
            || nla_parse_nested(b, ETHTOOL_A_BITSET_BIT_MAX, bit, policy)
            || !b[ETHTOOL_A_BITSET_BIT_NAME]
            || !nla_get_string(b[ETHTOOL_A_BITSET_BIT_NAME])[0]) {
            continue;
        }
        struct ofl_feature *f = feature_add(
            fs, nla_get_string(b[ETHTOOL_A_BITSET_BIT_NAME]));
        if (f) {
            *(bool *) ((char *) f + field)
                = list || b[ETHTOOL_A_BITSET_BIT_VALUE];
        }
    }
}

int
ofl_ethtool_parse_features(const struct nlmsghdr *hdr,
                           struct ofl_features *fs)
{
    struct nlattr *tb[ETHTOOL_A_FEATURES_MAX + 1];

    if (genlmsg_parse(CONST_CAST(struct nlmsghdr *, hdr), 0, tb,
                      ETHTOOL_A_FEATURES_MAX, NULL)) {
        return EPROTO;
    }
    static const struct {
        int attr;
        size_t field;
    } sets[] = {
        { ETHTOOL_A_FEATURES_HW, offsetof(struct ofl_feature, hw) },
        { ETHTOOL_A_FEATURES_WANTED, offsetof(struct ofl_feature, wanted) },
        { ETHTOOL_A_FEATURES_ACTIVE, offsetof(struct ofl_feature, active) },
        { ETHTOOL_A_FEATURES_NOCHANGE,
          offsetof(struct ofl_feature, nochange) },
    };
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        if (tb[sets[i].attr]) {
            parse_bitset(tb[sets[i].attr], fs, sets[i].field);
        }
    }
    return 0;
}

static int
features_cb(struct nl_msg *msg, void *fs)
{
    ofl_ethtool_parse_features(nlmsg_hdr(msg), fs);
    return NL_OK;
}

int
ofl_ethtool_get_features(const char *ifname, struct ofl_features *fs)
{
    memset(fs, 0, sizeof *fs);
    if (ethtool_family() < 0) {
        return no_ethtool(ifname);
    }
    return dp_nl_transact(dp_nl_genl_sock(),
                          request(ifname, ETHTOOL_MSG_FEATURES_GET,
                                  ETHTOOL_A_FEATURES_HEADER, 0, 0),
                          false, features_cb, fs);
}

int
ofl_ethtool_set_features(const char *ifname, const char *const names[],
                         const bool on[], size_t n)
{
    if (ethtool_family() < 0) {
        return no_ethtool(ifname);
    }
    /* No reply: the caller reads the truth back with a GET. */
    struct nl_msg *msg = request(ifname, ETHTOOL_MSG_FEATURES_SET,
                                 ETHTOOL_A_FEATURES_HEADER, NLM_F_ACK,
                                 ETHTOOL_FLAG_OMIT_REPLY);
    struct nlattr *set = nla_nest_start(msg, ETHTOOL_A_FEATURES_WANTED);
    struct nlattr *bits = nla_nest_start(msg, ETHTOOL_A_BITSET_BITS);
    for (size_t i = 0; i < n; i++) {
        struct nlattr *bit = nla_nest_start(msg, ETHTOOL_A_BITSET_BITS_BIT);
        nla_put_string(msg, ETHTOOL_A_BITSET_BIT_NAME, names[i]);
        if (on[i]) {
            nla_put_flag(msg, ETHTOOL_A_BITSET_BIT_VALUE);
        }
        nla_nest_end(msg, bit);
    }
    nla_nest_end(msg, bits);
    nla_nest_end(msg, set);
    return dp_nl_transact(dp_nl_genl_sock(), msg, true, NULL, NULL);
}

static int
channels_cb(struct nl_msg *msg, void *ch_)
{
    struct ofl_channels *ch = ch_;
    struct nlattr *tb[ETHTOOL_A_CHANNELS_MAX + 1];

    if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ETHTOOL_A_CHANNELS_MAX, NULL)) {
        return NL_OK;
    }
#define GET(ATTR, FIELD) \
    if (tb[ATTR]) { ch->FIELD = nla_get_u32(tb[ATTR]); }
    GET(ETHTOOL_A_CHANNELS_RX_MAX, rx_max);
    GET(ETHTOOL_A_CHANNELS_TX_MAX, tx_max);
    GET(ETHTOOL_A_CHANNELS_OTHER_MAX, other_max);
    GET(ETHTOOL_A_CHANNELS_COMBINED_MAX, combined_max);
    GET(ETHTOOL_A_CHANNELS_RX_COUNT, rx);
    GET(ETHTOOL_A_CHANNELS_TX_COUNT, tx);
    GET(ETHTOOL_A_CHANNELS_OTHER_COUNT, other);
    GET(ETHTOOL_A_CHANNELS_COMBINED_COUNT, combined);
#undef GET
    return NL_OK;
}

int
ofl_ethtool_get_channels(const char *ifname, struct ofl_channels *ch)
{
    memset(ch, 0, sizeof *ch);
    if (ethtool_family() < 0) {
        return no_ethtool(ifname);
    }
    return dp_nl_transact(dp_nl_genl_sock(),
                          request(ifname, ETHTOOL_MSG_CHANNELS_GET,
                                  ETHTOOL_A_CHANNELS_HEADER, 0, 0),
                          false, channels_cb, ch);
}

int
ofl_ethtool_set_queues(const char *ifname, bool combined, unsigned int n)
{
    if (ethtool_family() < 0) {
        return no_ethtool(ifname);
    }
    struct nl_msg *msg = request(ifname, ETHTOOL_MSG_CHANNELS_SET,
                                 ETHTOOL_A_CHANNELS_HEADER, NLM_F_ACK, 0);
    nla_put_u32(msg, combined ? ETHTOOL_A_CHANNELS_COMBINED_COUNT
                              : ETHTOOL_A_CHANNELS_RX_COUNT, n);
    return dp_nl_transact(dp_nl_genl_sock(), msg, true, NULL, NULL);
}

static int
rings_cb(struct nl_msg *msg, void *r_)
{
    struct ofl_rings *r = r_;
    struct nlattr *tb[ETHTOOL_A_RINGS_MAX + 1];

    if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ETHTOOL_A_RINGS_MAX, NULL)) {
        return NL_OK;
    }
#define GET(ATTR, FIELD) \
    if (tb[ATTR]) { r->FIELD = nla_get_u32(tb[ATTR]); }
    GET(ETHTOOL_A_RINGS_RX_MAX, rx_max);
    GET(ETHTOOL_A_RINGS_TX_MAX, tx_max);
    GET(ETHTOOL_A_RINGS_RX, rx);
    GET(ETHTOOL_A_RINGS_TX, tx);
#undef GET
    return NL_OK;
}

int
ofl_ethtool_get_rings(const char *ifname, struct ofl_rings *r)
{
    memset(r, 0, sizeof *r);
    if (ethtool_family() < 0) {
        return no_ethtool(ifname);
    }
    return dp_nl_transact(dp_nl_genl_sock(),
                          request(ifname, ETHTOOL_MSG_RINGS_GET,
                                  ETHTOOL_A_RINGS_HEADER, 0, 0),
                          false, rings_cb, r);
}

static int
speed_cb(struct nl_msg *msg, void *mbps_)
{
    int64_t *mbps = mbps_;
    struct nlattr *tb[ETHTOOL_A_LINKMODES_MAX + 1];

    if (!genlmsg_parse(nlmsg_hdr(msg), 0, tb, ETHTOOL_A_LINKMODES_MAX, NULL)
        && tb[ETHTOOL_A_LINKMODES_SPEED]) {
        uint32_t s = nla_get_u32(tb[ETHTOOL_A_LINKMODES_SPEED]);
        *mbps = s == (uint32_t) SPEED_UNKNOWN ? -1 : s;
    }
    return NL_OK;
}

int
ofl_ethtool_get_speed(const char *ifname, int64_t *mbps)
{
    *mbps = -1;
    if (ethtool_family() < 0) {
        return no_ethtool(ifname);
    }
    return dp_nl_transact(dp_nl_genl_sock(),
                          request(ifname, ETHTOOL_MSG_LINKMODES_GET,
                                  ETHTOOL_A_LINKMODES_HEADER, 0, 0),
                          false, speed_cb, mbps);
}

static int
ioctl_sock(void)
{
    static int fd = -1;
    if (fd < 0) {
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    }
    return fd;
}

int (*ofl_ethtool_ioctl_fn)(const char *ifname, void *data);

int
ofl_ethtool_ioctl(const char *ifname, void *data, const char *what,
                  bool modify)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    ovs_strlcpy(ifr.ifr_name, ifname, sizeof ifr.ifr_name);
    ifr.ifr_data = data;
    if (modify) {
        dp_nl_count_modify();
    }
    int error;
    if (ofl_ethtool_ioctl_fn) {
        error = ofl_ethtool_ioctl_fn(ifname, data);
    } else {
        int fd = ioctl_sock();
        error = fd < 0 ? errno : ioctl(fd, SIOCETHTOOL, &ifr) ? errno : 0;
    }
    if (error) {
        if (modify) {
            dp_nl_count_failed();
        }
        dp_nl_set_error(error, "%s refused by %s's driver (an ioctl: the "
                        "kernel gives no further words)", what, ifname);
    }
    return error;
}
