/* The one place that owns vsw's rtnetlink sockets.
 *
 * Every request asks for extended ACK; when the kernel refuses one, the
 * errno and the kernel's own message (extack) are kept so that the caller
 * can put them in front of a person.  Requests that modify the kernel are
 * counted: a reconcile pass over an unchanged configuration must make none,
 * and tests read the counter through vswitchd's control socket.
 *
 * Callers: datapath/link.c, bridge.c, veth.c (requests); vswitchd (the
 * notification sockets that keep its table of links current and say which
 * objects need converging). */
#ifndef DATAPATH_NETLINK_H
#define DATAPATH_NETLINK_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nl_msg;
struct nl_sock;

/* The request socket, created on first use; aborts if netlink is missing. */
struct nl_sock *dp_nl_sock(void);

/* Sends 'msg' (a request that modifies the kernel) and waits for the ACK.
 * Takes ownership of 'msg'.  Returns 0 or a positive errno; on failure
 * dp_nl_error() describes it. */
int dp_nl_modify(struct nl_msg *msg);

/* The generic-netlink socket (devlink, ethtool), created on first use with
 * extended ACK; NULL if the kernel has no generic netlink. */
struct nl_sock *dp_nl_genl_sock(void);

/* The id of generic netlink family 'name' ("ethtool", "devlink"), looked
 * up once per name; -1 if the kernel does not have it. */
int dp_nl_genl_family(const char *name);

/* Sends 'msg' on 'sk' and feeds each reply message to 'cb' (may be NULL),
 * then waits for the ACK.  'modify' says whether the request changes the
 * kernel (it is then counted).  Takes ownership of 'msg'.  Returns 0 or a
 * positive errno; on failure dp_nl_error() has the kernel's words. */
int dp_nl_transact(struct nl_sock *sk, struct nl_msg *msg, bool modify,
                   int (*cb)(struct nl_msg *, void *), void *arg);

/* The reply to Open vSwitch's last netlink request (lib/tc.c's requests
 * go through vsw's socket: netlink.c says how), or NULL. */
struct ofpbuf;
const struct ofpbuf *dp_nl_ovs_last_reply(void);

/* Batches of Open vSwitch's flower installs (lib/tc.c's
 * tc_replace_flower()): between dp_nl_ovs_batch_begin() and
 * dp_nl_ovs_batch_end(), each one is queued and answered at once with a
 * copy of itself (netlink.c says why lib/tc.c takes it); batch_end() sends
 * them all, up to a window of them before reading any answer, and calls
 * 'cb' once for each, in order: with its echo from the kernel (error 0),
 * or with the kernel's refusal (an errno, and 'why' with the kernel's
 * words).  Each counts as a modifying request. */
void dp_nl_ovs_batch_begin(void);
void dp_nl_ovs_batch_end(void (*cb)(size_t i, int error, const char *why,
                                    const struct ofpbuf *echo, void *aux),
                         void *aux);

/* Counts a dump (read-only request) made through the request socket. */
void dp_nl_count_dump(void);

/* For changes made by other means than netlink (tap ioctls): counts one
 * modifying request, and one refused. */
void dp_nl_count_modify(void);
void dp_nl_count_failed(void);

/* "<strerror>: <kernel extack message>" for the last failed request, or
 * just the strerror text when the kernel gave no message.  Valid until the
 * next request. */
const char *dp_nl_error(void);

/* Records 'error' (a positive errno) as the last failure, without a kernel
 * message; for failures found before anything was sent. */
void dp_nl_set_error(int error, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct dp_nl_counters {
    uint64_t modify;        /* Modifying requests sent. */
    uint64_t modify_failed; /* ... of which the kernel refused. */
    uint64_t dump;          /* Dumps. */
    uint64_t notify;        /* Notifications received. */
    uint64_t resync;        /* Notification overruns (ENOBUFS). */
};
void dp_nl_get_counters(struct dp_nl_counters *);

/* Link notifications (RTNLGRP_LINK, RTNLGRP_BRVLAN), and ethtool's (its
 * "monitor" group: features, channels, rings) where the kernel has them.
 *
 * dp_nl_notify_run() drains the sockets (everything queued, not one message
 * per call) and hands each link message to the listener (which applies it
 * to its table of links: dp_links_update()), each ethtool notification as
 * the ifindex it is about, and an overrun (notifications lost: everything
 * must be dumped again) once.  Returns true if it read anything; after
 * that the sockets are polled again only some ms later, so that a kernel
 * announcing many links one message at a time costs a wake-up per batch. */
struct nlmsghdr;
struct dp_nl_listener {
    void (*link_msg)(const struct nlmsghdr *, void *aux);
    void (*ethtool)(int ifindex, void *aux);    /* 0 if not known. */
    void (*overrun)(void *aux);
    void *aux;
};
void dp_nl_notify_open(void);
/* Whether ethtool notifications arrive (ethtool netlink, Linux 5.6+):
 * then a device's feature changes come as ETHTOOL_MSG_FEATURES_NTF. */
bool dp_nl_have_ethtool_notifications(void);
bool dp_nl_notify_run(const struct dp_nl_listener *);
/* Drains now, whenever the sockets were last read: the kernel queues the
 * notifications of a change before it acknowledges the change, so after a
 * flush the listener's table shows every change vsw made. */
bool dp_nl_notify_flush(const struct dp_nl_listener *);

/* Leaves the link notification groups, and joins them again: the kernel
 * builds every notification for every listener (half the cost of making
 * a tap), so a pass that makes many devices does it unheard and then
 * reads the links in full; resume before that dump, so that nothing done
 * after the dump goes unheard. */
void dp_nl_notify_pause(void);
void dp_nl_notify_resume(void);
void dp_nl_notify_wait(void);

/* Hands the link messages in datagram 'buf' ('size' bytes) to 'l' as
 * dp_nl_notify_run() does.  Exposed for unit tests and fuzzing. */
void dp_nl_parse_link_notifications(const void *buf, size_t size,
                                    const struct dp_nl_listener *l);

/* Parses the TLVs of an NLMSG_ERROR payload 'err' ('len' bytes, starting at
 * the struct nlmsgerr) with header flags 'flags' and returns the kernel's
 * extack message, or NULL.  Exposed for unit tests. */
struct nlmsgerr;
const char *dp_nl_parse_extack(const struct nlmsgerr *err, size_t len,
                               uint16_t flags);

#endif /* datapath/netlink.h */
