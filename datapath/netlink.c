/* rtnetlink sockets, extended ACK and the modifying-request counter; see
 * netlink.h. */
#include <config.h>

#include "datapath/netlink.h"

#include <errno.h>
#include <limits.h>
#include <linux/netlink.h>
#include <linux/if.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>

#include "netlink-socket.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
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
static bool brvlan_notify;      /* VLAN changes arrive as RTM_NEWVLAN. */
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
    /* A dump of 1000 links comes in datagrams of up to 32 kB: read each
     * with one recvmsg, not a peek and a read. */
    nl_socket_set_msg_buf_size(sk, 64 * 1024);
    nl_socket_disable_msg_peek(sk);
    /* Room for a batch's answers (dp_nl_ovs_batch_end()); libnl's default
     * is 32 kB. */
    nl_socket_set_buffer_size(sk, 1024 * 1024, 0);
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

/* ---- Open vSwitch's netlink requests -------------------------------------
 *
 * lib/tc.c (flower rules, qdiscs) calls nl_transact(), which the link
 * step (-Wl,--wrap=nl_transact) routes here: through vsw's own rtnetlink
 * socket, so that its requests count as vsw's and a refusal keeps the
 * kernel's words for status, like every other request of vsw's. */

int __real_nl_transact(int protocol, const struct ofpbuf *request,
                       struct ofpbuf **replyp);
int __wrap_nl_transact(int protocol, const struct ofpbuf *request,
                       struct ofpbuf **replyp);

static struct ofpbuf *ovs_last_reply;

/* Batches (netlink.h): the requests queued, and whether to queue. */
static bool batching;
static struct ofpbuf **batch;
static size_t n_batch, allocated_batch;

static int
batch_add(const struct ofpbuf *request, struct ofpbuf **replyp)
{
    if (n_batch >= allocated_batch) {
        batch = x2nrealloc(batch, &allocated_batch, sizeof *batch);
    }
    batch[n_batch++] = ofpbuf_clone(request);
    /* lib/tc.c reads the handle and priority from its answer and, for
     * any priority but its police one (1), compares the rule in it with
     * its request.  The kernel's echo comes at dp_nl_ovs_batch_end(),
     * which compares it: so the answer now is the request itself, priority
     * 1, and lib/tc.c takes it as it is. */
    struct ofpbuf *reply = ofpbuf_clone(request);
    struct tcmsg *tc = ofpbuf_at(reply, NLMSG_HDRLEN, sizeof *tc);
    if (tc) {
        tc->tcm_info = TC_H_MAKE(1 << 16, TC_H_MIN(tc->tcm_info));
    }
    *replyp = reply;
    return 0;
}

static int
keep_reply(struct nl_msg *msg, void *arg)
{
    struct ofpbuf **reply = arg;
    const struct nlmsghdr *h = nlmsg_hdr(msg);
    if (!*reply) {
        *reply = ofpbuf_clone_data(h, h->nlmsg_len);
    }
    return NL_OK;
}

int
__wrap_nl_transact(int protocol, const struct ofpbuf *request,
                   struct ofpbuf **replyp)
{
    if (protocol != NETLINK_ROUTE) {
        return __real_nl_transact(protocol, request, replyp);
    }
    if (replyp) {
        *replyp = NULL;
    }
    /* Open vSwitch fills in the length when it sends: so do we. */
    struct nlmsghdr *h = request->data;
    h->nlmsg_len = request->size;
    if (batching && h->nlmsg_type == RTM_NEWTFILTER
        && (h->nlmsg_flags & NLM_F_ECHO) && replyp) {
        return batch_add(request, replyp);
    }
    struct nl_msg *msg = nlmsg_convert(h);
    if (!msg) {
        return ENOMEM;
    }
    h = nlmsg_hdr(msg);
    /* RTM_NEW*, RTM_DEL* change the kernel; RTM_GET* do not. */
    int op = (h->nlmsg_type - RTM_BASE) % 4;
    bool modify = op == 0 || op == 1;
    bool echo = h->nlmsg_flags & NLM_F_ECHO;
    /* A request with NLM_F_ECHO gets its echo (or an error) as its
     * answer; any other one asks for the ACK. */
    if (!echo && !(op == 2)) {
        nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
    }
    struct ofpbuf *reply = NULL;
    int error = dp_nl_transact(dp_nl_sock(), msg, modify,
                               echo || op == 2 ? keep_reply : NULL, &reply);
    ofpbuf_delete(ovs_last_reply);
    ovs_last_reply = NULL;
    if (error) {
        ofpbuf_delete(reply);
        return error;
    }
    if (reply) {
        ovs_last_reply = ofpbuf_clone(reply);
    }
    if (replyp) {
        *replyp = reply;
    } else {
        ofpbuf_delete(reply);
    }
    return 0;
}

const struct ofpbuf *
dp_nl_ovs_last_reply(void)
{
    return ovs_last_reply;
}

void
dp_nl_ovs_batch_begin(void)
{
    ovs_assert(!batching && !n_batch);
    batching = true;
}

/* Requests in flight at once: their echoes (some hundred bytes each) must
 * fit the socket's receive buffer. */
#define BATCH_WINDOW 32

void
dp_nl_ovs_batch_end(void (*cb)(size_t i, int error, const char *why,
                               const struct ofpbuf *echo, void *aux),
                    void *aux)
{
    static char buf[64 * 1024];
    int fd = nl_socket_get_fd(dp_nl_sock());
    static uint32_t seq = 0x40000000;   /* Apart from libnl's. */
    uint32_t base = seq;

    batching = false;
    for (size_t sent = 0, done = 0; done < n_batch; ) {
        /* Several requests, then their answers. */
        for (; sent < n_batch && sent - done < BATCH_WINDOW; sent++) {
            struct nlmsghdr *h = batch[sent]->data;
            h->nlmsg_seq = base + sent;
            h->nlmsg_pid = 0;
            counters.modify++;
            if (send(fd, h, h->nlmsg_len, 0) < 0) {
                int error = errno;
                counters.modify_failed++;
                char why[128];
                snprintf(why, sizeof why, "%s", ovs_strerror(error));
                cb(sent, error, why, NULL, aux);
                /* Never answered: count it done when its turn comes. */
                h->nlmsg_seq = 0;
            }
        }
        while (done < sent) {
            if (!((struct nlmsghdr *) batch[done]->data)->nlmsg_seq) {
                done++;
                continue;
            }
            /* An echo the kernel could not queue is lost, not late: wait
             * a bounded time (what was installed is found by the next
             * dump, by its cookie). */
            struct pollfd pfd = { .fd = fd, .events = POLLIN };
            int ready = poll(&pfd, 1, 5000);
            ssize_t n = ready > 0 ? recv(fd, buf, sizeof buf, 0) : -1;
            if (ready == 0) {
                errno = ETIMEDOUT;
            }
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                int error = errno;
                for (; done < sent; done++) {
                    counters.modify_failed++;
                    cb(done, error, ovs_strerror(error), NULL, aux);
                }
                break;
            }
            int len = n;
            for (const struct nlmsghdr *h = (const void *) buf;
                 NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
                if (h->nlmsg_seq < base + done || h->nlmsg_seq >= base + sent) {
                    continue;       /* Not one of ours, or answered. */
                }
                size_t i = h->nlmsg_seq - base;
                if (h->nlmsg_type == NLMSG_ERROR) {
                    const struct nlmsgerr *err = NLMSG_DATA(h);
                    if (!err->error) {
                        continue;   /* An ACK (the echo came or comes). */
                    }
                    const char *msg = dp_nl_parse_extack(
                        err, h->nlmsg_len - NLMSG_HDRLEN, h->nlmsg_flags);
                    char why[512];
                    snprintf(why, sizeof why, "%s%s%s",
                             ovs_strerror(-err->error), msg ? ": " : "",
                             msg ? msg : "");
                    counters.modify_failed++;
                    cb(i, -err->error, why, NULL, aux);
                } else {
                    struct ofpbuf echo;
                    ofpbuf_use_const(&echo, h, h->nlmsg_len);
                    cb(i, 0, NULL, &echo, aux);
                }
                /* Answers come in order: everything before is done. */
                done = i + 1;
            }
        }
    }
    /* An echo that came after its wait would be taken by the next request
     * for its own answer: none is left. */
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        continue;
    }
    seq = base + n_batch;
    for (size_t i = 0; i < n_batch; i++) {
        ofpbuf_delete(batch[i]);
    }
    n_batch = 0;
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

/* A non-blocking socket of 'protocol' in multicast group 'group'. */
static struct nl_sock *
notify_socket(int protocol, int group)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk) {
        ovs_fatal(0, "cannot allocate a netlink socket");
    }
    nl_socket_disable_seq_check(sk);
    nl_socket_disable_auto_ack(sk);
    if (nl_connect(sk, protocol) < 0
        || nl_socket_add_membership(sk, group) < 0
        || nl_socket_set_nonblocking(sk) < 0) {
        nl_socket_free(sk);
        return NULL;
    }
    /* A burst (e.g. a host creating many taps) must not overrun us.  Tests
     * make it overrun on purpose with a tiny buffer (VSW_TEST_RCVBUF). */
    const char *test_size = getenv("VSW_TEST_RCVBUF");
    int size = test_size ? atoi(test_size) : 32 * 1024 * 1024;
    nl_socket_set_buffer_size(sk, size, 0);
    /* Beyond net.core.rmem_max, as CAP_NET_ADMIN may: a pass that makes
     * 1000 ports queues some 6000 notifications before it reads them. */
    setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVBUFFORCE, &size,
               sizeof size);
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
    brvlan_notify = !nl_socket_add_membership(notify_sock, RTNLGRP_BRVLAN);

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

/* Feeds the link messages of datagram 'buf' to 'l'.  A bridge port's
 * AF_BRIDGE messages (its port state, which follows its carrier) are
 * dropped where VLAN changes come as RTM_NEWVLAN of their own. */
static void
parse_link_messages(const void *buf, size_t size,
                    const struct dp_nl_listener *l)
{
    int len = MIN(size, INT_MAX);

    for (const struct nlmsghdr *h = buf; NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
        counters.notify++;
        if (brvlan_notify
            && (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK)
            && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg))
            && ((const struct ifinfomsg *) NLMSG_DATA(h))->ifi_family
               == AF_BRIDGE) {
            continue;
        }
        l->link_msg(h, l->aux);
    }
}

void
dp_nl_parse_link_notifications(const void *buf, size_t size,
                               const struct dp_nl_listener *l)
{
    parse_link_messages(buf, size, l);
}

/* The device of ethtool notification 'h': its header attribute (always
 * attribute 1) and in it ETHTOOL_A_HEADER_DEV_INDEX (1); 0 if absent. */
static int
ethtool_ifindex(const struct nlmsghdr *h)
{
    size_t hdr = NLMSG_HDRLEN + NLMSG_ALIGN(4);     /* struct genlmsghdr */
    if (h->nlmsg_len < hdr) {
        return 0;
    }
    const struct rtattr *rta = (const void *) ((const char *) h + hdr);
    int len = h->nlmsg_len - hdr;
    for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
        if ((rta->rta_type & 0x3fff) != 1) {
            continue;
        }
        const struct rtattr *in = RTA_DATA(rta);
        int inlen = RTA_PAYLOAD(rta);
        for (; RTA_OK(in, inlen); in = RTA_NEXT(in, inlen)) {
            if ((in->rta_type & 0x3fff) == 1 && RTA_PAYLOAD(in) >= 4) {
                uint32_t v;
                memcpy(&v, RTA_DATA(in), 4);
                return v <= INT_MAX ? v : 0;
            }
        }
    }
    return 0;
}

/* Reads every notification queued on 'sk' (non-blocking, until EAGAIN)
 * and hands each to 'l'; with 'links' they are link messages, otherwise
 * ethtool's.  Returns true if it read anything.  Reading raw datagrams,
 * not through nl_recvmsgs(), so that one call empties the socket: libnl
 * returns 0 after each message as it does on EAGAIN, and cannot tell a
 * drained socket from one more message. */
static bool
drain(struct nl_sock *sk, bool links, const struct dp_nl_listener *l)
{
    static char buf[64 * 1024];
    int fd = nl_socket_get_fd(sk);
    bool overrun = false;
    bool read = false;

    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == ENOBUFS) {
                /* Notifications were lost: the listener re-dumps, so one
                 * resync covers however many overruns there were. */
                overrun = true;
                continue;
            }
            break;              /* EAGAIN: drained. */
        }
        if (n == 0) {
            break;
        }
        read = true;
        if (links) {
            parse_link_messages(buf, n, l);
        } else {
            for (const struct nlmsghdr *h = (const struct nlmsghdr *) buf;
                 NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
                counters.notify++;
                l->ethtool(ethtool_ifindex(h), l->aux);
            }
        }
    }
    if (overrun) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "notifications overran the socket buffer; "
                     "resyncing from a full dump");
        counters.resync++;
        l->overrun(l->aux);
        read = true;
    }
    return read;
}

/* After a drain that found something, the sockets are polled again only
 * after this many ms: a kernel announcing many links one message at a
 * time (linkwatch does 100 a second) then costs a wake-up per batch, not
 * one per message. */
#define NOTIFY_BATCH_MS 20
static long long int next_notify_poll;

void
dp_nl_notify_pause(void)
{
    if (notify_sock) {
        nl_socket_drop_membership(notify_sock, RTNLGRP_LINK);
        if (brvlan_notify) {
            nl_socket_drop_membership(notify_sock, RTNLGRP_BRVLAN);
        }
    }
}

void
dp_nl_notify_resume(void)
{
    if (notify_sock
        && (nl_socket_add_membership(notify_sock, RTNLGRP_LINK) < 0
            || (brvlan_notify
                && nl_socket_add_membership(notify_sock,
                                            RTNLGRP_BRVLAN) < 0))) {
        ovs_fatal(0, "cannot subscribe to rtnetlink link notifications "
                  "again");
    }
}

bool
dp_nl_have_ethtool_notifications(void)
{
    return ethtool_notify_sock != NULL;
}

bool
dp_nl_notify_run(const struct dp_nl_listener *l)
{
    if (time_msec() < next_notify_poll) {
        return false;
    }
    return dp_nl_notify_flush(l);
}

bool
dp_nl_notify_flush(const struct dp_nl_listener *l)
{
    bool read = false;

    if (notify_sock) {
        read |= drain(notify_sock, true, l);
    }
    if (ethtool_notify_sock) {
        read |= drain(ethtool_notify_sock, false, l);
    }
    if (read) {
        next_notify_poll = time_msec() + NOTIFY_BATCH_MS;
    }
    return read;
}

void
dp_nl_notify_wait(void)
{
    if (time_msec() < next_notify_poll) {
        poll_timer_wait_until(next_notify_poll);
        return;
    }
    if (notify_sock) {
        poll_fd_wait(nl_socket_get_fd(notify_sock), POLLIN);
    }
    if (ethtool_notify_sock) {
        poll_fd_wait(nl_socket_get_fd(ethtool_notify_sock), POLLIN);
    }
}
