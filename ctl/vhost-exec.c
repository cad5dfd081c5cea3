/* "vswctl vhost-exec PORT -- COMMAND [ARG...]": the client side of
 * vswitchd's vhost-net fd server (vswitchd/vhost.h).
 *
 * Asks vswitchd for PORT's tap queue fds and /dev/vhost-net fds, then
 * executes COMMAND with them open, replacing "{tapfds}" and "{vhostfds}"
 * in its arguments by the fd numbers joined with ':' (QEMU's syntax), and
 * "{queues}" by their count, e.g.
 *
 *   vswctl vhost-exec vm1-net0 -- qemu-system-x86_64 ... \
 *       -netdev tap,id=n0,fds={tapfds},vhost=on,vhostfds={vhostfds} \
 *       -device virtio-net-pci,netdev=n0,mq=on,vectors=10 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/vswctl.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"
#include "vswitchd/paths.h"
#include "vswitchd/vhost.h"

static char *
join_fds(const int *fds, int n)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    for (int i = 0; i < n; i++) {
        ds_put_format(&s, "%s%d", i ? ":" : "", fds[i]);
    }
    return ds_steal_cstr(&s);
}

/* Replaces every 'key' in 'arg' by 'value'; returns a new string. */
static char *
substitute(const char *arg, const char *key, const char *value)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    const char *p;

    while ((p = strstr(arg, key))) {
        ds_put_buffer(&s, arg, p - arg);
        ds_put_cstr(&s, value);
        arg = p + strlen(key);
    }
    ds_put_cstr(&s, arg);
    return ds_steal_cstr(&s);
}

void
vswctl_vhost_exec(int argc, char *argv[])
{
    if (argc < 3 || strcmp(argv[1], "--")) {
        fprintf(stderr, "vswctl: usage: vhost-exec PORT -- COMMAND "
                "[ARG...] (arguments may use {tapfds}, {vhostfds} and "
                "{queues})\n");
        exit(2);
    }
    const char *port = argv[0];
    char *path = xasprintf("%s/vhost-net.sock", vsw_run_dir());
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    ovs_strlcpy(sun.sun_path, path, sizeof sun.sun_path);

    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sun, sizeof sun) < 0) {
        fprintf(stderr, "vswctl: cannot reach vswitchd at %s (%s); is it "
                "running?\n", path, ovs_strerror(errno));
        exit(1);
    }
    if (send(fd, port, strlen(port), 0) < 0) {
        fprintf(stderr, "vswctl: %s: %s\n", path, ovs_strerror(errno));
        exit(1);
    }

    char text[VHOST_MSG_MAX + 1];
    union {
        char buf[CMSG_SPACE(sizeof(int) * 2 * VHOST_MAX_QUEUES)];
        struct cmsghdr align;
    } u;
    struct iovec iov = { .iov_base = text, .iov_len = VHOST_MSG_MAX };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = u.buf, .msg_controllen = sizeof u.buf,
    };
    ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0) {
        fprintf(stderr, "vswctl: vswitchd closed the connection without an "
                "answer\n");
        exit(1);
    }
    text[n] = '\0';
    if (strncmp(text, "ok ", 3)) {
        fprintf(stderr, "vswctl: port %s: %s\n", port,
                !strncmp(text, "error ", 6) ? text + 6 : text);
        exit(1);
    }
    int queues = atoi(text + 3);
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS
        || cmsg->cmsg_len != CMSG_LEN(sizeof(int) * 2 * queues)) {
        fprintf(stderr, "vswctl: vswitchd sent no fds\n");
        exit(1);
    }
    int fds[2 * VHOST_MAX_QUEUES];
    memcpy(fds, CMSG_DATA(cmsg), sizeof(int) * 2 * queues);
    close(fd);
    /* The command inherits the fds. */
    for (int i = 0; i < 2 * queues; i++) {
        fcntl(fds[i], F_SETFD, 0);
    }

    char *tapfds = join_fds(fds, queues);
    char *vhostfds = join_fds(fds + queues, queues);
    char *nq = xasprintf("%d", queues);
    char **args = xcalloc(argc - 1, sizeof *args);
    for (int i = 2; i < argc; i++) {
        char *a = substitute(argv[i], "{tapfds}", tapfds);
        char *b = substitute(a, "{vhostfds}", vhostfds);
        args[i - 2] = substitute(b, "{queues}", nq);
        free(a);
        free(b);
    }
    execvp(args[0], args);
    fprintf(stderr, "vswctl: cannot execute %s: %s\n", args[0],
            ovs_strerror(errno));
    exit(1);
}
