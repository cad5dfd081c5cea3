/* Interface names and sysfs facts; see ifname.h. */
#include "datapath/ifname.h"

#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IFNAME_MAX 15

const char *
dp_ifname_check(const char *name)
{
    size_t len = strlen(name);

    if (!len) {
        return "an interface name cannot be empty";
    } else if (len > IFNAME_MAX) {
        return "an interface name has at most 15 characters";
    } else if (!strcmp(name, ".") || !strcmp(name, "..")) {
        return "\".\" and \"..\" are not interface names";
    } else if (strpbrk(name, "/:%")) {
        /* '%' too: the kernel makes "x%d" the first free "x0", "x1"... */
        return "an interface name cannot contain '/', ':' or '%'";
    }
    for (const char *p = name; *p; p++) {
        unsigned char c = *p;
        if (c <= ' ' || c == 0x7f) {
            return "an interface name cannot contain white space or "
                   "control characters";
        }
    }
    return NULL;
}

const char *
dp_netns_check(const char *name)
{
    size_t len = strlen(name);

    if (!len) {
        return "an empty network namespace name";
    } else if (len > 255) {
        return "a network namespace name has at most 255 bytes";
    } else if (!strcmp(name, ".") || !strcmp(name, "..")
               || strchr(name, '/')) {
        return "not a network namespace name: give the name of one made "
               "with \"ip netns add NAME\" (an entry of /run/netns), not a "
               "path";
    }
    for (const char *p = name; *p; p++) {
        if (iscntrl((unsigned char) *p)) {
            return "a network namespace name cannot contain control "
                   "characters";
        }
    }
    return NULL;
}

static void
read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");

    buf[0] = '\0';
    if (f) {
        if (fgets(buf, size, f)) {
            buf[strcspn(buf, "\n")] = '\0';
        }
        fclose(f);
    }
}

void
dp_ifname_lookup(const char *name, struct dp_ifname_info *info)
{
    char path[PATH_MAX], target[PATH_MAX];

    memset(info, 0, sizeof *info);
    if (dp_ifname_check(name)) {
        return;
    }
    snprintf(path, sizeof path, "/sys/class/net/%s", name);
    info->exists = !access(path, F_OK);
    if (!info->exists) {
        return;
    }
    snprintf(path, sizeof path, "/sys/class/net/%s/bridge", name);
    info->is_bridge = !access(path, F_OK);
    long flags;
    info->is_loopback = (dp_sysfs_read_long(name, "flags", 16, &flags)
                         && (flags & 0x8));          /* IFF_LOOPBACK */

    snprintf(path, sizeof path, "/sys/class/net/%s/master", name);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n > 0) {
        target[n] = '\0';
        snprintf(info->master, sizeof info->master, "%s", basename(target));
    }
    snprintf(path, sizeof path, "/sys/class/net/%s/ifalias", name);
    read_line(path, info->alias, sizeof info->alias);
}

bool
dp_sysfs_read_long(const char *ifname, const char *attr, int base,
                   long *value)
{
    char path[PATH_MAX], buf[64];

    snprintf(path, sizeof path, "/sys/class/net/%s/%s", ifname, attr);
    read_line(path, buf, sizeof buf);
    if (!buf[0]) {
        return false;
    }
    *value = strtol(buf, NULL, base);
    return true;
}
