/* The rules for configuration values; see validate.h. */
#include <config.h>

#include "vswitchd/validate.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "datapath/ifname.h"
#include "openvswitch/uuid.h"
#include "util.h"

static int
hex_digit(char c)
{
    return (c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : -1);
}

const char *
vsw_check_mac(const char *s, uint8_t mac[6])
{
    uint8_t b[6];

    if (strlen(s) != 17) {
        return "not a MAC address (expected xx:xx:xx:xx:xx:xx)";
    }
    for (int i = 0; i < 6; i++) {
        const char *p = s + 3 * i;
        int hi = hex_digit(p[0]), lo = hex_digit(p[1]);
        if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':')) {
            return "not a MAC address (expected xx:xx:xx:xx:xx:xx)";
        }
        b[i] = hi << 4 | lo;
    }
    if (b[0] & 1) {
        return "a multicast or broadcast address; a vNIC needs a unicast "
               "MAC";
    }
    if (!(b[0] | b[1] | b[2] | b[3] | b[4] | b[5])) {
        return "the all-zero address; a vNIC needs a unicast MAC";
    }
    if (mac) {
        memcpy(mac, b, 6);
    }
    return NULL;
}

const char *
vsw_check_guest_mac(const char *s, bool tap)
{
    uint8_t b[6];
    const char *why = vsw_check_mac(s, b);
    if (!why && tap && b[0] == 0xfe) {
        return "starts with fe, the first byte of the tap's own MAC (the "
               "guest's with its first byte set to fe): the bridge would "
               "keep the guest's frames for the host; choose another";
    }
    return why;
}

const char *
vsw_check_owner(const char *s, bool user, long *id)
{
    if (!*s) {
        return user ? "an empty user name" : "an empty group name";
    }
    if (strspn(s, "0123456789") == strlen(s)) {
        errno = 0;
        unsigned long long v = strtoull(s, NULL, 10);
        if (errno || v > 4294967294ULL) {
            return user ? "a user id must be in 0..4294967294"
                        : "a group id must be in 0..4294967294";
        }
        *id = v;
        return NULL;
    }
    if (user) {
        struct passwd *pw = getpwnam(s);
        if (!pw) {
            return "no such user on this host";
        }
        *id = pw->pw_uid;
    } else {
        struct group *gr = getgrnam(s);
        if (!gr) {
            return "no such group on this host";
        }
        *id = gr->gr_gid;
    }
    return NULL;
}

bool
vsw_parse_int(const char *s, long min, long max, int64_t *value)
{
    char *end;
    long v;

    /* strtol() alone would also take " 10" and "+10". */
    if (!(s[0] >= '0' && s[0] <= '9')
        && !(s[0] == '-' && s[1] >= '0' && s[1] <= '9')) {
        return false;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || !*s || *end || v < min || v > max) {
        return false;
    }
    *value = v;
    return true;
}

/* Parses --vlan: "access:TAG", "trunk:LIST[,native:TAG]" (LIST: 10-20,30
 * separated by '+' or ','), or "untagged".  Returns NULL or an error. */
char *
vsw_parse_vlan(const char *spec, const char **mode, int64_t *tag, bool *has_tag,
           int64_t **trunks, size_t *n_trunks)
{
    *mode = NULL;
    *has_tag = false;
    *trunks = NULL;
    *n_trunks = 0;

    if (!strcmp(spec, "untagged")) {
        return NULL;
    } else if (!strncmp(spec, "access:", 7)) {
        *mode = "access";
        if (!vsw_parse_int(spec + 7, 1, 4094, tag)) {
            return xasprintf("access VLAN \"%s\" is not in 1..4094",
                             spec + 7);
        }
        *has_tag = true;
        return NULL;
    } else if (!strncmp(spec, "trunk:", 6)) {
        *mode = "trunk";
        char *copy = xstrdup(spec + 6), *save = NULL, *tok;
        char *error = NULL;
        size_t allocated = 0;
        for (tok = strtok_r(copy, ",+", &save); tok && !error;
             tok = strtok_r(NULL, ",+", &save)) {
            int64_t lo, hi;
            char *dash = strchr(tok, '-');
            if (!strncmp(tok, "native:", 7)) {
                if (!vsw_parse_int(tok + 7, 1, 4094, tag)) {
                    error = xasprintf("native VLAN \"%s\" is not in 1..4094",
                                      tok + 7);
                }
                *has_tag = true;
                continue;
            }
            if (dash) {
                *dash = '\0';
            }
            if (!vsw_parse_int(tok, 1, 4094, &lo)
                || !vsw_parse_int(dash ? dash + 1 : tok, 1, 4094, &hi)
                || hi < lo) {
                error = xasprintf("trunk VLANs \"%s\": expected VLAN ids "
                                  "or ranges in 1..4094 (e.g. 10,20-29)",
                                  spec + 6);
                break;
            }
            for (int64_t v = lo; v <= hi; v++) {
                if (*n_trunks >= allocated) {
                    *trunks = x2nrealloc(*trunks, &allocated,
                                         sizeof **trunks);
                }
                (*trunks)[(*n_trunks)++] = v;
            }
        }
        free(copy);
        if (!error && !*n_trunks) {
            error = xstrdup("a trunk needs at least one VLAN");
        }
        return error;
    }
    return xasprintf("\"%s\": expected access:TAG, trunk:LIST[,native:TAG] "
                     "or untagged", spec);
}

bool
vsw_switch_has_host_port(const char *type, bool allow_management_os)
{
    return (!strcmp(type, "internal")
            || (!strcmp(type, "external") && allow_management_os));
}

int
vsw_switch_port_capacity(bool has_uplink, bool has_host_port)
{
    return VSW_BRIDGE_MAX_PORTS - has_uplink - has_host_port;
}

void
vsw_internal_ifname(enum vsw_internal_name kind, const struct uuid *uuid,
                    char buf[16])
{
    switch (kind) {
    case VSW_NAME_HOST_PEER:
        snprintf(buf, 16, "vsp%08x", uuid->parts[0]);
        break;
    case VSW_NAME_PORT_PEER:
        snprintf(buf, 16, "vpb%08x", uuid->parts[0]);
        break;
    case VSW_NAME_TEMP:
        snprintf(buf, 16, "vswt%08x%03x", uuid->parts[0],
                 uuid->parts[1] >> 20);
        break;
    }
}

static bool
all_hex(const char *s, size_t n)
{
    return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

bool
vsw_ifname_is_temp(const char *name)
{
    return !strncmp(name, "vswt", 4) && all_hex(name + 4, 11);
}

bool
vsw_ifname_is_internal(const char *name)
{
    return (((!strncmp(name, "vsp", 3) || !strncmp(name, "vpb", 3))
             && all_hex(name + 3, 8))
            || vsw_ifname_is_temp(name));
}

const char *
vsw_check_ifname(const char *name)
{
    const char *why = dp_ifname_check(name);
    return (why ? why
            : vsw_ifname_is_internal(name)
            ? "it has the form of vsw's own interface names (vsp/vpb + 8 "
              "hex digits, vswt + 11): choose another"
            : NULL);
}

char *
vsw_host_port_name(const char *name, const struct uuid *uuid,
                   const char *explicit)
{
    if (explicit) {
        return xstrdup(explicit);
    }
    char *s = xasprintf("vh-%s", name);
    if (strlen(s) > 15) {
        free(s);
        s = xasprintf("vh%08x", uuid->parts[0]);
    }
    return s;
}

const char *const vsw_port_kind_names[VSW_N_PORT_KINDS] = {
    [VSW_PORT_TAP] = "tap",
    [VSW_PORT_VHOST_NET] = "vhost-net",
    [VSW_PORT_INTERNAL] = "internal",
    [VSW_PORT_VETH] = "veth",
    [VSW_PORT_VF] = "vf",
};

int
vsw_port_kind_from_name(const char *name)
{
    for (int i = 0; i < VSW_N_PORT_KINDS; i++) {
        if (!strcmp(name, vsw_port_kind_names[i])) {
            return i;
        }
    }
    return -1;
}

bool
vsw_port_kind_is_tap(enum vsw_port_kind kind)
{
    return kind == VSW_PORT_TAP || kind == VSW_PORT_VHOST_NET
           || kind == VSW_PORT_VF;
}

bool
vsw_is_tag(const char *alias)
{
    return !strncmp(alias, VSW_TAG_PREFIX, strlen(VSW_TAG_PREFIX));
}
