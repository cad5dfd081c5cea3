/* Interface-name rules and the few read-only facts about host interfaces
 * that vswctl checks before it commits a change (sysfs, no netlink), so
 * that an obviously impossible request is refused without touching the
 * database.  vswitchd checks the same things again against its own link
 * dump: these are early answers, not the authority. */
#ifndef DATAPATH_IFNAME_H
#define DATAPATH_IFNAME_H 1

#include <stdbool.h>

/* Returns NULL if 'name' can be a Linux interface name, otherwise a static
 * string saying why not. */
const char *dp_ifname_check(const char *name);

/* Returns NULL if 'name' can name a network namespace made with "ip netns
 * add" (an entry of /run/netns: no '/', not "." or "..", at most 255
 * bytes), otherwise a static string saying why not.  Paths are refused: a
 * port's peer never moves into an arbitrary process's namespace. */
const char *dp_netns_check(const char *name);

/* Facts about interface 'name' in this network namespace. */
struct dp_ifname_info {
    bool exists;
    bool is_bridge;
    bool is_loopback;
    char master[16];            /* Name of its master, "" if none. */
    char alias[129];            /* IFLA_IFALIAS, "" if none. */
};
void dp_ifname_lookup(const char *name, struct dp_ifname_info *);

/* Reads the number in sysfs file "/sys/class/net/IFNAME/ATTR" (ATTR may
 * have a directory, e.g. "device/sriov_numvfs") in 'base'.  Returns false
 * if there is no such file. */
bool dp_sysfs_read_long(const char *ifname, const char *attr, int base,
                        long *value);

#endif /* datapath/ifname.h */
