/* lab-rss: reads and sets a NIC's RSS indirection table through the
 * ETHTOOL_GRSSH / ETHTOOL_SRSSH ioctls (the interface vsw uses on kernels
 * without netlink RSS).  Kernel-lab helper.
 *
 *   lab-rss IFNAME get            prints "size N key K: q0 q1 ..."
 *   lab-rss IFNAME set Q0 Q1 ...  sets the table, repeating the list
 *                                 over its whole size */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int
ethtool_ioctl(int fd, const char *ifname, void *cmd)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    ifr.ifr_data = cmd;
    return ioctl(fd, SIOCETHTOOL, &ifr);
}

/* Returns the RSS state with 'indir_size' entries, or NULL. */
static struct ethtool_rxfh *
get_rxfh(int fd, const char *ifname)
{
    struct ethtool_rxfh probe = { .cmd = ETHTOOL_GRSSH };

    if (ethtool_ioctl(fd, ifname, &probe)) {
        fprintf(stderr, "lab-rss: %s: ETHTOOL_GRSSH: %s\n", ifname,
                strerror(errno));
        return NULL;
    }
    size_t len = sizeof probe + probe.indir_size * sizeof(__u32)
                 + probe.key_size;
    struct ethtool_rxfh *rxfh = calloc(1, len);
    rxfh->cmd = ETHTOOL_GRSSH;
    rxfh->indir_size = probe.indir_size;
    rxfh->key_size = probe.key_size;
    if (ethtool_ioctl(fd, ifname, rxfh)) {
        fprintf(stderr, "lab-rss: %s: ETHTOOL_GRSSH: %s\n", ifname,
                strerror(errno));
        free(rxfh);
        return NULL;
    }
    return rxfh;
}

int
main(int argc, char *argv[])
{
    if (argc < 3) {
        fprintf(stderr, "usage: lab-rss IFNAME get | set Q...\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct ethtool_rxfh *rxfh = get_rxfh(fd, argv[1]);
    if (!rxfh) {
        return 1;
    }

    if (!strcmp(argv[2], "get")) {
        printf("size %u key %u:", rxfh->indir_size, rxfh->key_size);
        for (__u32 i = 0; i < rxfh->indir_size; i++) {
            printf(" %u", rxfh->rss_config[i]);
        }
        printf("\n");
        return 0;
    } else if (!strcmp(argv[2], "set") && argc > 3) {
        int n = argc - 3;
        size_t len = sizeof *rxfh + rxfh->indir_size * sizeof(__u32);
        struct ethtool_rxfh *set = calloc(1, len);
        set->cmd = ETHTOOL_SRSSH;
        set->indir_size = rxfh->indir_size;
        set->key_size = 0;              /* Keep the key. */
        for (__u32 i = 0; i < rxfh->indir_size; i++) {
            set->rss_config[i] = atoi(argv[3 + i % n]);
        }
        if (ethtool_ioctl(fd, argv[1], set)) {
            fprintf(stderr, "lab-rss: %s: ETHTOOL_SRSSH: %s\n", argv[1],
                    strerror(errno));
            return 1;
        }
        return 0;
    }
    fprintf(stderr, "usage: lab-rss IFNAME get | set Q...\n");
    return 2;
}
