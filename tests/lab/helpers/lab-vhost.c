/* lab-vhost: proves that /dev/vhost-net accepts a vnet-hdr tap as its
 * backend, the way QEMU uses the fds a VM manager hands it.  Creates tap
 * IFNAME (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR), opens /dev/vhost-net and runs
 * VHOST_SET_OWNER, VHOST_GET/SET_FEATURES, VHOST_SET_MEM_TABLE, the vring
 * setup and VHOST_NET_SET_BACKEND for both queues.  Kernel-lab helper.
 *
 *   lab-vhost IFNAME       exit 0 when every step was accepted
 *   lab-vhost --fds TAPFDS VHOSTFDS
 *                          the same on fds handed over by a VM manager
 *                          (e.g. "vswctl vhost-exec"), "3:4" "5:6": one
 *                          vhost-net fd drives one tap queue fd */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define RING 256

static void
check(int rc, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "lab-vhost: %s: %s\n", what, strerror(errno));
        exit(1);
    }
    printf("%s: ok\n", what);
}

/* Makes vhost-net fd 'vh' drive tap queue fd 'tap' (both vrings). */
static void
drive(int vh, int tap)
{
    check(ioctl(vh, VHOST_SET_OWNER, NULL), "VHOST_SET_OWNER");
    uint64_t features;
    check(ioctl(vh, VHOST_GET_FEATURES, &features), "VHOST_GET_FEATURES");
    features &= (1ULL << VHOST_NET_F_VIRTIO_NET_HDR) | (1ULL << 32);
    check(ioctl(vh, VHOST_SET_FEATURES, &features), "VHOST_SET_FEATURES");

    /* One region of "guest memory" holding both vrings. */
    size_t size = 1 << 20;
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct vhost_memory *table = calloc(1, sizeof *table
                                        + sizeof table->regions[0]);
    table->nregions = 1;
    table->regions[0].guest_phys_addr = 0;
    table->regions[0].memory_size = size;
    table->regions[0].userspace_addr = (uintptr_t) mem;
    check(ioctl(vh, VHOST_SET_MEM_TABLE, table), "VHOST_SET_MEM_TABLE");

    for (unsigned int q = 0; q < 2; q++) {
        char *base = (char *) mem + q * (size / 2);
        struct vhost_vring_state num = { .index = q, .num = RING };
        struct vhost_vring_state vbase = { .index = q, .num = 0 };
        struct vhost_vring_addr addr = {
            .index = q,
            .desc_user_addr = (uintptr_t) base,
            .avail_user_addr = (uintptr_t) base + 16 * RING,
            .used_user_addr = (uintptr_t) base + 32 * RING,
        };
        struct vhost_vring_file kick = { .index = q, .fd = eventfd(0, 0) };
        struct vhost_vring_file call = { .index = q, .fd = eventfd(0, 0) };
        struct vhost_vring_file backend = { .index = q, .fd = tap };

        check(ioctl(vh, VHOST_SET_VRING_NUM, &num), "VHOST_SET_VRING_NUM");
        check(ioctl(vh, VHOST_SET_VRING_BASE, &vbase),
              "VHOST_SET_VRING_BASE");
        check(ioctl(vh, VHOST_SET_VRING_ADDR, &addr),
              "VHOST_SET_VRING_ADDR");
        check(ioctl(vh, VHOST_SET_VRING_KICK, &kick),
              "VHOST_SET_VRING_KICK");
        check(ioctl(vh, VHOST_SET_VRING_CALL, &call),
              "VHOST_SET_VRING_CALL");
        check(ioctl(vh, VHOST_NET_SET_BACKEND, &backend),
              q ? "VHOST_NET_SET_BACKEND (tx)" : "VHOST_NET_SET_BACKEND (rx)");
    }
}

int
main(int argc, char *argv[])
{
    if (argc == 4 && !strcmp(argv[1], "--fds")) {
        char *t = argv[2], *v = argv[3];
        int n = 0;
        for (;;) {
            int tap = (int) strtol(t, &t, 10);
            int vh = (int) strtol(v, &v, 10);
            printf("queue %d: tap fd %d, vhost fd %d\n", n++, tap, vh);
            int hdr = sizeof(struct virtio_net_hdr_mrg_rxbuf);
            check(ioctl(tap, TUNSETVNETHDRSZ, &hdr), "TUNSETVNETHDRSZ");
            drive(vh, tap);
            if (*t != ':' || *v != ':') {
                break;
            }
            t++;
            v++;
        }
        printf("%d queue(s) accepted\n", n);
        return 0;
    }

    if (argc != 2) {
        fprintf(stderr, "usage: lab-vhost IFNAME\n");
        return 2;
    }

    int tap = open("/dev/net/tun", O_RDWR);
    check(tap, "open /dev/net/tun");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", argv[1]);
    check(ioctl(tap, TUNSETIFF, &ifr), "TUNSETIFF (vnet-hdr tap)");
    int hdr = sizeof(struct virtio_net_hdr_mrg_rxbuf);
    check(ioctl(tap, TUNSETVNETHDRSZ, &hdr), "TUNSETVNETHDRSZ");

    int vh = open("/dev/vhost-net", O_RDWR);
    check(vh, "open /dev/vhost-net");
    drive(vh, tap);
    return 0;
}
