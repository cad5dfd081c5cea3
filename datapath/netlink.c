/* rtnetlink sockets, extended ACK and the modifying-request counter; see
 * netlink.h. */
#include <config.h>

#include "datapath/netlink.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(dp_netlink);

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static struct nl_sock *req_sock;
static struct nl_sock *genl_sock;
static bool genl_tried;
static struct nl_sock *notify_sock;
static struct nl_sock *ethtool_notify_sock;   /* NULL without ethtool. */
static struct dp_nl_counters counters;

/* The last failure. */
static int last_errno;
static char last_extack[256];
static char last_error[512];

const char *
dp_nl_parse_extack(const struct nlmsgerr *err, size_t len, uint16_t flags)
{
    if (!(flags & NLM_F_ACK_TLVS) || len < sizeof *err) {
        return NULL;
    }
    /* Without NLM_F_CAPPED the original request follows the header. */
    size_t ofs = sizeof *err;
    if (!(flags & NLM_F_CAPPED)) {
        ofs += NLMSG_ALIGN(err->msg.nlmsg_len) - NLMSG_HDRLEN;
    }
    const char *p = (const char *) err;
    while (ofs + NLA_HDRLEN <= len) {
        const struct nlattr *nla = (const struct nlattr *) (p + ofs);
        if (nla->nla_len < NLA_HDRLEN || ofs + nla->nla_len > len) {
            break;
        }
        if ((nla->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
            const char *s = p + ofs + NLA_HDRLEN;
            size_t n = nla->nla_len - NLA_HDRLEN;
            return n && memchr(s, '\0', n) ? s : NULL;
        }
        ofs += NLA_ALIGN(nla->nla_len);
    }
    return NULL;
}

static int
error_cb(struct sockaddr_nl *nla OVS_UNUSED, struct nlmsgerr *err,
         void *arg OVS_UNUSED)
{
    const struct nlmsghdr *hdr
        = (const struct nlmsghdr *) ((char *) err - NLMSG_HDRLEN);
    const char *msg = dp_nl_parse_extack(err, hdr->nlmsg_len - NLMSG_HDRLEN,
                                         hdr->nlmsg_flags);

    last_errno = -err->error;
    ovs_strlcpy(last_extack, msg ? msg : "", sizeof last_extack);
    return NL_STOP;
}

static void
format_error(void)
{
    if (last_extack[0]) {
        snprintf(last_error, sizeof last_error, "%s: %s",
                 ovs_strerror(last_errno), last_extack);
    } else {
        snprintf(last_error, sizeof last_error, "%s",
                 ovs_strerror(last_errno));
    }
}

static struct nl_sock *
open_socket_proto(int protocol)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk || nl_connect(sk, protocol) < 0) {
        if (sk) {
            nl_socket_free(sk);
        }
        return NULL;
    }
    int one = 1;
    setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK,
               &one, sizeof one);
    setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK,
               &one, sizeof one);
    nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, error_cb, NULL);
    nl_socket_disable_auto_ack(sk);
    return sk;
}

static struct nl_sock *
open_socket(void)
{
    struct nl_sock *sk = open_socket_proto(NETLINK_ROUTE);
    if (!sk) {
        ovs_fatal(0, "cannot open an rtnetlink socket");
    }
    return sk;
}

struct nl_sock *
dp_nl_genl_sock(void)
{
    if (!genl_tried) {
        genl_tried = true;
        genl_sock = open_socket_proto(NETLINK_GENERIC);
    }
    return genl_sock;
}

int
dp_nl_genl_family(const char *name)
{
    static struct {
        const char *name;
        int id;
    } cache[8];
    static size_t n;

    for (size_t i = 0; i < n; i++) {
        if (!strcmp(cache[i].name, name)) {
            return cache[i].id;
        }
    }
    struct nl_sock *sk = dp_nl_genl_sock();
    int id = sk ? genl_ctrl_resolve(sk, name) : -1;
    if (n < ARRAY_SIZE(cache)) {
        cache[n].name = name;       /* Callers pass string constants. */
        cache[n].id = id < 0 ? -1 : id;
        n++;
    }
    return id < 0 ? -1 : id;
}

int
dp_nl_transact(struct nl_sock *sk, struct nl_msg *msg, bool modify,
               int (*cb)(struct nl_msg *, void *), void *arg)
{
    if (modify) {
        counters.modify++;
    }
    last_errno = 0;
    last_extack[0] = '\0';

    /* Our sockets do not let libnl add NLM_F_ACK by itself: a request
     * that wants an ACK says so (every modifying one), a request with
     * replies is read to its end, and no stray ACK is left for the next
     * request to mistake for its own. */
    int rc = nl_send_auto(sk, msg);
    nlmsg_free(msg);
    if (rc >= 0 && cb) {
        struct nl_cb *c = nl_cb_clone(nl_socket_get_cb(sk));
        nl_cb_set(c, NL_CB_VALID, NL_CB_CUSTOM, cb, arg);
        rc = nl_recvmsgs(sk, c);
        nl_cb_put(c);
    } else if (rc >= 0) {
        rc = nl_wait_for_ack(sk);
    }
    if (rc < 0) {
        if (!last_errno) {
            last_errno = EPROTO;
            snprintf(last_extack, sizeof last_extack, "netlink: %s",
                     nl_geterror(rc));
        }
        if (modify) {
            counters.modify_failed++;
        }
        format_error();
        return last_errno;
    }
    return 0;
}

struct nl_sock *
dp_nl_sock(void)
{
    if (!req_sock) {
        req_sock = open_socket();
    }
    return req_sock;
}

int
dp_nl_modify(struct nl_msg *msg)
{
    return dp_nl_transact(dp_nl_sock(), msg, true, NULL, NULL);
}

void
dp_nl_count_dump(void)
{
    counters.dump++;
}

void
dp_nl_count_modify(void)
{
    counters.modify++;
}

void
dp_nl_count_failed(void)
{
    counters.modify_failed++;
}

const char *
dp_nl_error(void)
{
    return last_error;
}

void
dp_nl_set_error(int error, const char *fmt, ...)
{
    va_list args;

    last_errno = error;
    va_start(args, fmt);
    vsnprintf(last_extack, sizeof last_extack, fmt, args);
    va_end(args);
    format_error();
}

void
dp_nl_get_counters(struct dp_nl_counters *c)
{
    *c = counters;
}

static int
notify_cb(struct nl_msg *msg OVS_UNUSED, void *changed_)
{
    bool *changed = changed_;
    *changed = true;
    counters.notify++;
    return NL_OK;
}

/* A non-blocking socket of 'protocol' in multicast group 'group'. */
static struct nl_sock *
notify_socket(int protocol, int group)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk) {
        ovs_fatal(0, "cannot allocate a netlink socket");
    }
    nl_socket_disable_seq_check(sk);
    nl_socket_enable_msg_peek(sk);
    nl_socket_disable_auto_ack(sk);
    if (nl_connect(sk, protocol) < 0
        || nl_socket_add_membership(sk, group) < 0
        || nl_socket_set_nonblocking(sk) < 0) {
        nl_socket_free(sk);
        return NULL;
    }
    /* A burst (e.g. a host creating many taps) must not overrun us. */
    nl_socket_set_buffer_size(sk, 4 * 1024 * 1024, 0);
    return sk;
}

void
dp_nl_notify_open(void)
{
    if (notify_sock) {
        return;
    }
    notify_sock = notify_socket(NETLINK_ROUTE, RTNLGRP_LINK);
    if (!notify_sock) {
        ovs_fatal(0, "cannot subscribe to rtnetlink link notifications");
    }

    /* Channel, ring and feature changes made with ethtool arrive on the
     * ethtool family's "monitor" group (feature changes also as
     * RTM_NEWLINK); kernels without ethtool netlink have neither. */
    struct nl_sock *genl = dp_nl_genl_sock();
    int group = genl ? genl_ctrl_resolve_grp(genl, "ethtool", "monitor")
                     : -1;
    if (group >= 0) {
        ethtool_notify_sock = notify_socket(NETLINK_GENERIC, group);
    }
    if (!ethtool_notify_sock) {
        VLOG_INFO("no ethtool notifications: changes of channels behind "
                  "vsw's back are seen on the periodic resync only");
    }
}

static bool
drain(struct nl_sock *sk)
{
    bool changed = false;

    nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, notify_cb, &changed);
    for (;;) {
        /* libnl returns a byte count, 0 once the socket is drained (it
         * maps EAGAIN to 0), or a negative NLE_* error. */
        int rc = nl_recvmsgs_default(sk);
        if (rc > 0) {
            continue;
        }
        if (rc == -NLE_NOMEM || rc == -NLE_MSG_OVERFLOW) {
            /* ENOBUFS: notifications were lost; the caller re-dumps. */
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_WARN_RL(&rl, "link notifications overran; resyncing");
            counters.resync++;
            changed = true;
            continue;
        }
        break;
    }
    return changed;
}

bool
dp_nl_notify_run(void)
{
    bool changed = false;

    if (notify_sock) {
        changed |= drain(notify_sock);
    }
    if (ethtool_notify_sock) {
        changed |= drain(ethtool_notify_sock);
    }
    return changed;
}

void
dp_nl_notify_wait(void)
{
    if (notify_sock) {
        poll_fd_wait(nl_socket_get_fd(notify_sock), POLLIN);
    }
    if (ethtool_notify_sock) {
        poll_fd_wait(nl_socket_get_fd(ethtool_notify_sock), POLLIN);
    }
}
