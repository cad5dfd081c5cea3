/* The vhost-net fd server; see vhost.h. */
#include <config.h>

#include "vswitchd/vhost.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "datapath/tap.h"
#include "fatal-signal.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"
#include "vswitchd/paths.h"

VLOG_DEFINE_THIS_MODULE(vhost);

static int listen_fd = -1;

/* Connections accepted whose request has not arrived yet.  One user may
 * hold PENDING_PER_UID of them; root's connections are always taken, in
 * the place of another user's if need be, so that no other user can keep
 * root's VM manager waiting by flooding the socket. */
#define MAX_PENDING 16
#define PENDING_PER_UID 4
#define PENDING_TIMEOUT 500     /* ms to send the request. */
static struct pending {
    int fd;
    uid_t uid;
    long long int deadline;
} pending[MAX_PENDING];
static size_t n_pending;
static char *sock_path;
static vhost_lookup_func *lookup;

void
vhost_server_init(vhost_lookup_func *lookup_)
{
    struct sockaddr_un sun;

    lookup = lookup_;
    sock_path = xasprintf("%s/vhost-net.sock", vsw_run_dir());
    if (strlen(sock_path) >= sizeof sun.sun_path) {
        VLOG_ERR("%s: path too long; vhost-net fds cannot be handed out",
                 sock_path);
        return;
    }
    unlink(sock_path);
    listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK
                                | SOCK_CLOEXEC, 0);
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, sock_path);
    if (listen_fd < 0
        || bind(listen_fd, (struct sockaddr *) &sun, sizeof sun) < 0
        || listen(listen_fd, 128) < 0) {
        VLOG_ERR("%s: %s; vhost-net fds cannot be handed out", sock_path,
                 ovs_strerror(errno));
        if (listen_fd >= 0) {
            close(listen_fd);
        }
        listen_fd = -1;
        return;
    }
    /* Anyone may ask; SO_PEERCRED decides who gets fds. */
    chmod(sock_path, 0666);
    fatal_signal_add_file_to_unlink(sock_path);
}

static void
reply(int fd, const char *text, const int *fds, int n_fds)
{
    struct iovec iov = { .iov_base = (void *) text, .iov_len = strlen(text) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int) * 2 * VHOST_MAX_QUEUES)];
        struct cmsghdr align;
    } u;

    if (n_fds) {
        msg.msg_control = u.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
    }
    if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0) {
        VLOG_WARN("vhost-net: cannot answer: %s", ovs_strerror(errno));
    }
}

static void
serve(int fd)
{
    char name[64], text[VHOST_MSG_MAX];   /* Port names are short. */
    struct ucred cred;
    socklen_t len = sizeof cred;
    struct vhost_port_info info;

    ssize_t n = recv(fd, name, sizeof name - 1, MSG_DONTWAIT);
    if (n <= 0) {
        return;
    }
    name[n] = '\0';
    name[strcspn(name, "\n")] = '\0';

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        reply(fd, "error cannot identify the caller", NULL, 0);
        return;
    }
    /* Who asks decides what the answer says: a caller that may not take
     * a port's fds learns nothing about it, not even that it exists. */
    bool found = lookup(name, &info);
    bool allowed = found && (cred.uid == 0 || (long) cred.uid == info.owner
                             || (info.group >= 0
                                 && (long) cred.gid == info.group));
    if (!allowed) {
        snprintf(text, sizeof text, "error uid %ld has no port named "
                 "\"%.15s\" that it may open (a port's owner or group is "
                 "set with vswctl set port PORT owner=USER)",
                 (long) cred.uid, name);
    } else if (!info.is_vhost) {
        snprintf(text, sizeof text, "error port %s is not a vhost-net port "
                 "(open the tap by name: -netdev tap,ifname=%s,script=no)",
                 name, name);
    } else if (!info.up) {
        snprintf(text, sizeof text, "error port %s is not up yet (see "
                 "vswctl list-ports)", name);
    } else if (access("/dev/vhost-net", F_OK)) {
        snprintf(text, sizeof text, "error /dev/vhost-net is missing (kernel "
                 "without vhost_net?); use the tap without vhost: -netdev "
                 "tap,ifname=%s,vhost=off,script=no", name);
    } else {
        int q = MIN(MAX(info.queues, 1), VHOST_MAX_QUEUES);
        int fds[2 * VHOST_MAX_QUEUES];
        int n_open = 0;
        int error = dp_tap_open_queues(name, true, q, fds);
        if (!error) {
            for (n_open = q; n_open < 2 * q; n_open++) {
                fds[n_open] = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
                if (fds[n_open] < 0) {
                    error = errno;
                    break;
                }
            }
        }
        if (!error) {
            snprintf(text, sizeof text, "ok %d", q);
            reply(fd, text, fds, 2 * q);
            VLOG_INFO("vhost-net: handed %d queue(s) of %s to pid %ld", q,
                      name, (long) cred.pid);
        } else {
            snprintf(text, sizeof text, "error cannot open the queues of "
                     "%s: %s", name, ovs_strerror(error));
        }
        for (int j = 0; j < n_open; j++) {
            close(fds[j]);      /* The client has its own copies now. */
        }
        if (!error) {
            return;
        }
    }
    reply(fd, text, NULL, 0);
}

/* Serves 'fd' if its request is there.  Returns false if it is not yet. */
static bool
try_serve(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return false;
    }
    if (n > 0) {
        serve(fd);
    }
    close(fd);
    return true;
}

/* Takes connection 'fd' from 'uid' into 'pending', if there is room for
 * it; closes it otherwise. */
static void
add_pending(int fd, uid_t uid)
{
    size_t same = 0, victim = MAX_PENDING;
    for (size_t i = 0; i < n_pending; i++) {
        same += pending[i].uid == uid;
        if (pending[i].uid != 0 && victim == MAX_PENDING) {
            victim = i;
        }
    }
    if (uid != 0 && same >= PENDING_PER_UID) {
        close(fd);
        return;
    }
    if (n_pending >= MAX_PENDING) {
        if (uid != 0 || victim == MAX_PENDING) {
            close(fd);
            return;
        }
        close(pending[victim].fd);      /* Root goes first. */
        pending[victim] = pending[--n_pending];
    }
    pending[n_pending].fd = fd;
    pending[n_pending].uid = uid;
    pending[n_pending].deadline = time_msec() + PENDING_TIMEOUT;
    n_pending++;
}

void
vhost_server_run(void)
{
    if (listen_fd < 0) {
        return;
    }
    for (size_t i = 0; i < n_pending; ) {
        if (try_serve(pending[i].fd)) {
            pending[i] = pending[--n_pending];
        } else if (time_msec() >= pending[i].deadline) {
            close(pending[i].fd);       /* Said nothing in time. */
            pending[i] = pending[--n_pending];
        } else {
            i++;
        }
    }
    /* Everything queued, so that a flood cannot hide root behind it. */
    for (int n = 0; n < 256; n++) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            break;
        }
        if (!try_serve(fd)) {
            struct ucred cred;
            socklen_t len = sizeof cred;
            if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                close(fd);
                continue;
            }
            add_pending(fd, cred.uid);
        }
    }
}

void
vhost_server_wait(void)
{
    if (listen_fd >= 0) {
        poll_fd_wait(listen_fd, POLLIN);
    }
    for (size_t i = 0; i < n_pending; i++) {
        poll_fd_wait(pending[i].fd, POLLIN);
        poll_timer_wait_until(pending[i].deadline);
    }
}

void
vhost_server_exit(void)
{
    if (listen_fd >= 0) {
        close(listen_fd);
        unlink(sock_path);
        listen_fd = -1;
    }
}
