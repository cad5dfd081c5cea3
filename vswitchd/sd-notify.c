/* systemd's readiness protocol; see sd-notify.h.
 *
 * With Type=notify, systemd starts the units ordered after vswitchd once
 * it says READY=1, which vswitchd does after its first reconcile pass:
 * the switches of the database then exist in the kernel (libvirtd, say,
 * finds its bridges).  $NOTIFY_SOCKET names a unix datagram socket, in
 * the file system or, with a leading '@', in the abstract namespace. */
#include <config.h>

#include "vswitchd/sd-notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(sd_notify);

void
vsw_sd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (!path || !path[0] || strlen(path) >= sizeof sun.sun_path
        || (path[0] != '/' && path[0] != '@')) {
        return;
    }
    memcpy(sun.sun_path, path, strlen(path));
    if (path[0] == '@') {
        sun.sun_path[0] = '\0';     /* Abstract. */
    }
    socklen_t len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || sendto(fd, state, strlen(state), MSG_NOSIGNAL,
                         (struct sockaddr *) &sun, len) < 0) {
        VLOG_WARN("cannot tell the service manager \"%s\" through %s: %s",
                  state, path, ovs_strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
}
