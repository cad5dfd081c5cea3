/* The vhost-net fd server.
 *
 * A VM manager asks for a vhost-net port's fds over RUN/vhost-net.sock: it
 * sends the port's name, and vswitchd answers with one tap queue fd and one
 * /dev/vhost-net fd per queue pair (SCM_RIGHTS), as libvirt hands them to
 * QEMU ("-netdev tap,fds=...,vhost=on,vhostfds=...").  Only root, or the
 * port's owner or group, gets them.  "vswctl vhost-exec" is the client.
 * Called by vswitchd/main.c. */
#ifndef VSWITCHD_VHOST_H
#define VSWITCHD_VHOST_H 1

#include <stdbool.h>
#include <sys/types.h>

/* What the server needs to know of a port; filled by bridge.c. */
struct vhost_port_info {
    bool is_vhost;              /* kind vhost-net. */
    int queues;
    long owner, group;          /* -1: none. */
    bool up;                    /* vswitchd has made the tap. */
};
typedef bool vhost_lookup_func(const char *port, struct vhost_port_info *);

void vhost_server_init(vhost_lookup_func *);
void vhost_server_run(void);
void vhost_server_wait(void);
void vhost_server_exit(void);

/* The wire format, shared with the client: a request is the port name; an
 * answer is "ok QUEUES" with 2*QUEUES fds, or "error TEXT". */
#define VHOST_MSG_MAX 1024
#define VHOST_MAX_QUEUES 256

#endif /* vswitchd/vhost.h */
