/* Persistent taps; see tap.h. */
#include <config.h>

#include "datapath/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath/ifname.h"
#include "datapath/link.h"
#include "datapath/netlink.h"
#include "util.h"

static int
tap_open(const char *name, unsigned int flags, int *fdp)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int error = errno;
        dp_nl_set_error(error, "open /dev/net/tun (is the tun module "
                        "loaded?)");
        return error;
    }
    /* TUNSETIFF would cut a long name to the name of another device and
     * attach to that one instead. */
    const char *why = dp_ifname_check(name);
    if (why) {
        dp_nl_set_error(EINVAL, "tap \"%s\": %s", name, why);
        close(fd);
        return EINVAL;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = flags;
    ovs_strlcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int error = errno;
        dp_nl_set_error(error, "TUNSETIFF %s", name);
        close(fd);
        return error;
    }
    *fdp = fd;
    return 0;
}

/* if_nametoindex() without a socket made and closed for each tap. */
static int
name_to_index(const char *name)
{
    static int sock = -1;
    struct ifreq ifr;

    if (sock < 0) {
        sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0) {
            return if_nametoindex(name);
        }
    }
    memset(&ifr, 0, sizeof ifr);
    ovs_strlcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
    return ioctl(sock, SIOCGIFINDEX, &ifr) < 0 ? 0 : ifr.ifr_ifindex;
}

/* Tests widen the window before TUNSETOWNER, which a hostile user races
 * for, to hit it every time (VSW_TEST_TAP_WINDOW_MS). */
static void
test_widen_window(void)
{
    static int ms = -1;
    if (ms < 0) {
        const char *s = getenv("VSW_TEST_TAP_WINDOW_MS");
        ms = s ? MIN(atoi(s), 2000) : 0;
        ms = MAX(ms, 0);
    }
    if (ms) {
        xnanosleep((uint64_t) ms * 1000 * 1000);
    }
}

int
dp_tap_create(const struct dp_tap_spec *spec, int *ifindex, int *fdp)
{
    /* IFF_TUN_EXCL: a tap of that name that exists already (someone
     * else's, persistent) is refused, not attached to and taken over.
     * IFF_NO_CARRIER: the fd that holds it is no VM. */
    unsigned int flags = (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL
                          | IFF_NO_CARRIER);
    int fd, error;

    if (spec->multi_queue) {
        flags |= IFF_MULTI_QUEUE;
    }
    dp_nl_count_modify();
    error = tap_open(spec->name, flags, &fd);
    if (error) {
        dp_nl_count_failed();
        return error;
    }
    if (spec->multi_queue) {
        test_widen_window();
    }
    const char *what = NULL;
    if (spec->owner != (uid_t) -1
        && ioctl(fd, TUNSETOWNER, (unsigned long) spec->owner) < 0) {
        what = "TUNSETOWNER";
    } else if (spec->group != (gid_t) -1
               && ioctl(fd, TUNSETGROUP, (unsigned long) spec->group) < 0) {
        what = "TUNSETGROUP";
    } else if (!(*ifindex = name_to_index(spec->name))) {
        what = "SIOCGIFINDEX";
    }
    if (what) {
        error = errno ? errno : ENODEV;
        dp_nl_set_error(error, "%s %s", what, spec->name);
        dp_nl_count_failed();
        close(fd);              /* The tap goes with it. */
        return error;
    }
    /* Until TUNSETOWNER above, the kernel let anyone who can open
     * /dev/net/tun attach a queue to a multiqueue tap (a single-queue one
     * is held by 'fd' alone): a queue that is not ours now would read the
     * VM's traffic and keep the tap alive past a crash.  The device goes,
     * with every queue (closing 'fd' alone would leave it to them). */
    if (spec->multi_queue) {
        int queues = dp_link_tun_queues(*ifindex);
        if (queues != 1) {
            dp_link_delete(*ifindex);
            close(fd);
            error = EBUSY;
            dp_nl_set_error(error, "tap %s: %s while vsw made it; it was "
                            "deleted and will be made again", spec->name,
                            queues < 0 ? "its queues could not be counted"
                            : "another process attached a queue to it");
            dp_nl_count_failed();
            return error;
        }
    }
    *fdp = fd;
    return 0;
}

int
dp_tap_finish(int fd, bool keep)
{
    int error = 0;
    if (keep && ioctl(fd, TUNSETPERSIST, 1UL) < 0) {
        error = errno;
        dp_nl_set_error(error, "TUNSETPERSIST");
    }
    close(fd);
    return error;
}

int
dp_tap_open_queues(const char *name, bool multi_queue, int n, int fds[])
{
    unsigned int flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;

    if (multi_queue) {
        flags |= IFF_MULTI_QUEUE;
    }
    for (int i = 0; i < n; i++) {
        int error = tap_open(name, flags, &fds[i]);
        if (error) {
            while (i-- > 0) {
                close(fds[i]);
            }
            return error;
        }
    }
    return 0;
}
