/* Persistent taps (/dev/net/tun): the software vNIC of a VM.
 *
 * vsw creates each tap with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR (plus
 * IFF_MULTI_QUEUE for more than one queue pair), makes it persistent and
 * hands it to the VM manager's user/group, so that QEMU can open it by name
 * ("-netdev tap,ifname=...,script=no") without privileges.  For vhost-net
 * ports it also opens the queue fds that are passed to the VM manager. */
#ifndef DATAPATH_TAP_H
#define DATAPATH_TAP_H 1

#include <stdbool.h>
#include <sys/types.h>

struct dp_tap_spec {
    const char *name;
    bool multi_queue;
    uid_t owner;                /* (uid_t) -1: none. */
    gid_t group;                /* (gid_t) -1: none. */
};

/* Creates tap 'spec->name' (refused if a device of that name exists),
 * stores its ifindex and stores in '*fd' the fd that holds it.  Until
 * dp_tap_finish() keeps it, the tap lives only as long as that fd (and the
 * process): whatever the caller sets on it in between (its tag, bridge,
 * MAC) is either all there after a crash or the tap is gone.  Returns 0 or
 * a positive errno (dp_nl_error() says why).  Counted as a modifying
 * request. */
int dp_tap_create(const struct dp_tap_spec *, int *ifindex, int *fd);

/* Makes the tap 'fd' holds persistent if 'keep' (returns 0 or a positive
 * errno), then closes 'fd': a tap not kept goes with it. */
int dp_tap_finish(int fd, bool keep);

/* Opens 'n' queues of existing tap 'name' into 'fds' (attached, vnet-hdr).
 * Returns 0 or a positive errno; on failure no fd stays open. */
int dp_tap_open_queues(const char *name, bool multi_queue, int n, int fds[]);

#endif /* datapath/tap.h */
