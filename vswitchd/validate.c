/* The rules for configuration values; see validate.h. */
#include <config.h>

#include "vswitchd/validate.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <arpa/inet.h>
#include <strings.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "datapath/ifname.h"
#include "openvswitch/uuid.h"
#include "socket-util.h"
#include "util.h"

static int
hex_digit(char c)
{
    return (c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : -1);
}

/* Parses exactly "xx:xx:xx:xx:xx:xx" (hex digits, any address) into 'b'.
 * (sscanf("%2x") would take " 1", "+2", "0x" too.) */
static bool
parse_mac(const char *s, uint8_t b[6])
{
    if (strlen(s) != 17) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        const char *p = s + 3 * i;
        int hi = hex_digit(p[0]), lo = hex_digit(p[1]);
        if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':')) {
            return false;
        }
        b[i] = hi << 4 | lo;
    }
    return true;
}

const char *
vsw_check_mac(const char *s, uint8_t mac[6])
{
    uint8_t b[6];

    if (!parse_mac(s, b)) {
        return "not a MAC address (expected xx:xx:xx:xx:xx:xx)";
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

const char *
vsw_check_port_mtu(enum vsw_port_kind kind, int64_t mtu)
{
    if (mtu < 68 || mtu > 65535) {
        return "is not in 68..65535";
    }
    if (vsw_port_kind_is_tap(kind) && mtu > VSW_TAP_MAX_MTU) {
        return "is above a tap's largest MTU, 65521 (65535 less the "
               "Ethernet header)";
    }
    return NULL;
}

bool
vsw_is_tag(const char *alias)
{
    return !strncmp(alias, VSW_TAG_PREFIX, strlen(VSW_TAG_PREFIX));
}

/* ---- Port policy. ---- */

const char *
vsw_check_rate(const char *s, int64_t *value)
{
    static const struct { char c; int64_t mult; } units[] = {
        {'k', 1000}, {'K', 1000}, {'M', 1000000}, {'G', 1000000000},
        {'T', 1000000000000},
    };
    char *end;

    if (!s || !s[0] || s[0] == '-' || s[0] == '+' || s[0] == ' ') {
        return "not a rate (a positive number, optionally with k, M, G or "
               "T)";
    }
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno == ERANGE) {
        return errno == ERANGE ? "beyond 2^63-1" : "not a rate (a positive "
               "number, optionally with k, M, G or T)";
    }
    int64_t mult = 1;
    if (*end) {
        size_t i;
        for (i = 0; i < ARRAY_SIZE(units); i++) {
            if (*end == units[i].c) {
                mult = units[i].mult;
                break;
            }
        }
        if (i == ARRAY_SIZE(units) || end[1]) {
            return "not a rate (a positive number, optionally with k, M, G "
                   "or T)";
        }
    }
    if (v > INT64_MAX / mult) {
        return "beyond 2^63-1";
    }
    if (!v) {
        return "a rate of 0 limits nothing (clear the setting for no "
               "limit)";
    }
    *value = v * mult;
    return NULL;
}

const char *
vsw_check_listen(const char *s, struct sockaddr_storage *ss)
{
    if (!strchr(s, ':') || s[strlen(s) - 1] == ':') {
        return "it is not IP:PORT (e.g. 127.0.0.1:9475 or [::1]:9475)";
    }
    if (!inet_parse_active(s, -1, ss, false, NULL)) {
        return "it is not IP:PORT with a numeric address (e.g. "
               "127.0.0.1:9475 or [::1]:9475)";
    }
    if (!ss_get_port(ss)) {
        return "port 0 is not a port to listen on";
    }
    return NULL;
}

const char *
vsw_check_uplink_bandwidth(int64_t bps)
{
    return (bps < VSW_MIN_BANDWIDTH ? "below 8k bit/s, less than one "
                                      "full-size frame per second"
            : bps > VSW_MAX_UPLINK_BANDWIDTH ? "above 10T bit/s"
            : NULL);
}

const char *
vsw_check_max_bandwidth(int64_t bps)
{
    /* tc's rates are 64-bit bytes per second; 8000 bit/s is the least a
     * token bucket of one full frame per second makes sense of. */
    /* The kernel's limit keeps (rate + burst) x 10^9 in 64 bits: 100G
     * leaves room (and a port that fast needs no limit). */
    return (bps <= 0 ? "the maximum bandwidth must be positive (clear it "
                       "for no limit)"
            : bps < VSW_MIN_BANDWIDTH ? "the maximum bandwidth is below "
                                        "8k bit/s, less than one "
                                        "full-size frame per second"
            : bps > VSW_MAX_BANDWIDTH ? "the maximum bandwidth is above "
                                        "100G bit/s (clear it for no limit)"
            : NULL);
}

const char *
vsw_check_storm_limit(int64_t pps)
{
    return (pps <= 0 ? "the storm limit must be positive (clear it for no "
                       "limit)"
            : pps > UINT32_MAX ? "the storm limit is beyond 2^32-1 packets "
                                 "per second"
            : NULL);
}

const char *
vsw_check_bandwidth_weight(int64_t weight)
{
    return (weight < 1 || weight > 100
            ? "the minimum bandwidth weight must be from 1 to 100 (clear it "
              "for none)"
            : NULL);
}

const char *
vsw_check_acl_addr(const char *s, struct vsw_acl_addr *a)
{
    memset(a, 0, sizeof *a);
    if (!strcmp(s, "any")) {
        a->kind = VSW_ACL_ANY;
        return NULL;
    }
    if (parse_mac(s, a->bytes)) {
        /* A MAC address: any, group addresses included. */
        a->kind = VSW_ACL_MAC;
        a->plen = 48;
        return NULL;
    }
    memset(a->bytes, 0, sizeof a->bytes);
    char buf[INET6_ADDRSTRLEN + 8];
    if (strlen(s) >= sizeof buf) {
        return "not an address (any, an IPv4 or IPv6 prefix, or a MAC "
               "address)";
    }
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
    }
    int bits;
    if (inet_pton(AF_INET, buf, a->bytes) == 1) {
        a->kind = VSW_ACL_IPV4;
        bits = 32;
    } else if (inet_pton(AF_INET6, buf, a->bytes) == 1) {
        a->kind = VSW_ACL_IPV6;
        bits = 128;
    } else {
        return "not an address (any, an IPv4 or IPv6 prefix, or a MAC "
               "address)";
    }
    int64_t plen = bits;
    if (slash && !vsw_parse_int(slash + 1, 0, bits, &plen)) {
        return a->kind == VSW_ACL_IPV4
               ? "an IPv4 prefix length must be from 0 to 32"
               : "an IPv6 prefix length must be from 0 to 128";
    }
    a->plen = plen;
    uint8_t mask[16];
    vsw_prefix_mask(plen, bits / 8, mask);
    for (int i = 0; i < bits / 8; i++) {
        a->bytes[i] &= mask[i];
    }
    return NULL;
}

void
vsw_prefix_mask(int plen, size_t len, uint8_t *mask)
{
    for (size_t i = 0; i < len; i++) {
        int keep = plen - 8 * (int) i;
        mask[i] = keep >= 8 ? 0xff : keep <= 0 ? 0 : 0xff << (8 - keep);
    }
}

const char *
vsw_check_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
    int64_t a, b;
    const char *dash = strchr(s, '-');
    if (!dash) {
        if (!vsw_parse_int(s, 0, 65535, &a)) {
            return "not a port or port range (N or LO-HI, 0 to 65535)";
        }
        *lo = *hi = a;
        return NULL;
    }
    char *first = xmemdup0(s, dash - s);
    bool ok = (vsw_parse_int(first, 0, 65535, &a)
               && vsw_parse_int(dash + 1, 0, 65535, &b));
    free(first);
    if (!ok) {
        return "not a port or port range (N or LO-HI, 0 to 65535)";
    }
    if (a > b) {
        return "the port range is upside down (LO-HI with LO <= HI)";
    }
    *lo = a;
    *hi = b;
    return NULL;
}

const char *
vsw_check_protocol(const char *s, int *proto)
{
    static const struct { const char *name; int proto; } names[] = {
        {"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmpv6", 58},
    };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (!strcasecmp(s, names[i].name)) {
            *proto = names[i].proto;
            return NULL;
        }
    }
    int64_t v;
    if (!vsw_parse_int(s, 0, 255, &v)) {
        return "an unknown protocol (tcp, udp, icmp, icmpv6, or a number "
               "from 0 to 255)";
    }
    *proto = v;
    return NULL;
}

enum vsw_acl_dir
vsw_acl_dir_from_string(const char *s)
{
    return (!s ? 0
            : !strcmp(s, "inbound") ? VSW_ACL_IN
            : !strcmp(s, "outbound") ? VSW_ACL_OUT
            : !strcmp(s, "both") ? VSW_ACL_BOTH : 0);
}

bool
vsw_acl_weights_clash(int64_t w1, enum vsw_acl_dir d1, int64_t w2,
                      enum vsw_acl_dir d2)
{
    return w1 > 0 && w1 == w2 && (d1 & d2);
}

char *
vsw_check_acl(const struct vsw_acl_spec *s, struct vsw_acl *a)
{
    const char *why;

    memset(a, 0, sizeof *a);
    a->proto = -1;
    a->lport_hi = a->rport_hi = 65535;
    a->dir = vsw_acl_dir_from_string(s->direction);
    if (!a->dir) {
        return xstrdup("the direction must be inbound, outbound or both");
    }
    if (!s->action || (strcmp(s->action, "allow") && strcmp(s->action, "deny")
                       && strcmp(s->action, "meter"))) {
        return xstrdup("the action must be allow, deny or meter");
    }
    a->action = (!strcmp(s->action, "allow") ? VSW_ACL_ALLOW
                 : !strcmp(s->action, "deny") ? VSW_ACL_DENY : VSW_ACL_METER);
    if (s->local && (why = vsw_check_acl_addr(s->local, &a->local))) {
        return xasprintf("local address \"%s\": %s", s->local, why);
    }
    if (s->remote && (why = vsw_check_acl_addr(s->remote, &a->remote))) {
        return xasprintf("remote address \"%s\": %s", s->remote, why);
    }
    enum vsw_acl_addr_kind lk = a->local.kind, rk = a->remote.kind;
    if (lk != VSW_ACL_ANY && rk != VSW_ACL_ANY && lk != rk) {
        return xstrdup("the local and remote addresses are of different "
                       "kinds (both IPv4, both IPv6 or both MAC)");
    }
    bool extended = s->weight >= 0;
    if (!extended) {
        if (!s->local && !s->remote) {
            return xstrdup("a simple ACL needs a local or a remote address "
                           "(any, a prefix or a MAC)");
        }
        if (s->protocol || s->local_ports || s->remote_ports
            || s->stateful || s->idle_timeout >= 0) {
            return xstrdup("protocol, ports, stateful and idle timeout make "
                           "an extended ACL, which needs a weight");
        }
        return NULL;
    }
    if (s->weight < 1 || s->weight > VSW_ACL_MAX_WEIGHT) {
        return xasprintf("the weight must be from 1 to %d",
                         VSW_ACL_MAX_WEIGHT);
    }
    a->weight = s->weight;
    if (a->action == VSW_ACL_METER) {
        return xstrdup("an extended ACL allows or denies; meter is for "
                       "simple ACLs");
    }
    if (lk == VSW_ACL_MAC || rk == VSW_ACL_MAC) {
        return xstrdup("an extended ACL matches IP addresses, not MACs");
    }
    if (s->protocol && (why = vsw_check_protocol(s->protocol, &a->proto))) {
        return xasprintf("protocol \"%s\": %s", s->protocol, why);
    }
    bool ports = s->local_ports || s->remote_ports;
    if (ports && a->proto != 6 && a->proto != 17) {
        return xstrdup("ports need protocol tcp or udp");
    }
    if (s->local_ports && (why = vsw_check_port_range(s->local_ports,
                                                      &a->lport_lo,
                                                      &a->lport_hi))) {
        return xasprintf("local ports \"%s\": %s", s->local_ports, why);
    }
    if (s->remote_ports && (why = vsw_check_port_range(s->remote_ports,
                                                       &a->rport_lo,
                                                       &a->rport_hi))) {
        return xasprintf("remote ports \"%s\": %s", s->remote_ports, why);
    }
    if (a->proto == 1 && (lk == VSW_ACL_IPV6 || rk == VSW_ACL_IPV6)) {
        return xstrdup("protocol icmp with an IPv6 address (use icmpv6)");
    }
    if (a->proto == 58 && (lk == VSW_ACL_IPV4 || rk == VSW_ACL_IPV4)) {
        return xstrdup("protocol icmpv6 with an IPv4 address (use icmp)");
    }
    a->stateful = s->stateful;
    a->idle_timeout = VSW_ACL_DEFAULT_IDLE_TIMEOUT;
    if (s->stateful) {
        if (a->action != VSW_ACL_ALLOW) {
            return xstrdup("only an allow ACL can be stateful");
        }
        if (a->proto != 6 && a->proto != 17) {
            return xstrdup("a stateful ACL needs protocol tcp or udp");
        }
        if (a->dir == VSW_ACL_BOTH) {
            return xstrdup("a stateful ACL has one direction (inbound or "
                           "outbound): the other is its return traffic");
        }
    }
    if (s->idle_timeout >= 0) {
        if (!s->stateful) {
            return xstrdup("an idle timeout needs a stateful ACL");
        }
        if (s->idle_timeout < 1 || s->idle_timeout > 86400) {
            return xstrdup("the idle timeout must be from 1 to 86400 "
                           "seconds");
        }
        a->idle_timeout = s->idle_timeout;
    }
    return NULL;
}
