/* The rules for configuration values, one place for every door.
 *
 * vswctl checks a value before it writes it; vswitchd checks the same
 * value again when it reads a row, because any OVSDB client can write
 * anything the schema allows.  Both call these functions, so the two can
 * never disagree.  Each check returns NULL when the value is good, or a
 * static string saying what is wrong, to be put after the object's name
 * ("port vm1: <why>").  Interface and namespace names: dp_ifname_check()
 * and dp_netns_check() (datapath/ifname.h). */
#ifndef VSWITCHD_VALIDATE_H
#define VSWITCHD_VALIDATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uuid;

/* A vNIC's MAC: exactly "xx:xx:xx:xx:xx:xx" in hex digits, unicast, not
 * all-zero.  On success stores the bytes in 'mac' (if nonnull). */
const char *vsw_check_mac(const char *s, uint8_t mac[6]);

/* A vNIC's MAC as vsw_check_mac(), and for a port behind a tap ('tap':
 * tap, vhost-net, vf) not starting with fe: the tap gets the guest's MAC
 * with its first byte set to fe, and the two must differ. */
const char *vsw_check_guest_mac(const char *s, bool tap);

/* A tap's owner (user) or group: a name that exists on this host, or a
 * number from 0 to 4294967294 ((uid_t) -1 means "none" to the kernel).
 * On success stores the id in '*id'. */
const char *vsw_check_owner(const char *s, bool user, long *id);

/* Parses decimal 's' (the whole of it) into '*value' if it is in
 * [min, max]; returns false otherwise. */
bool vsw_parse_int(const char *s, long min, long max, int64_t *value);

/* Parses a port's VLAN setting as vswctl takes it: "access:TAG",
 * "trunk:LIST[,native:TAG]" (LIST: VLAN ids and ranges such as 10-20,30,
 * separated by ',' or '+'), or "untagged".  Stores the mode ("access",
 * "trunk" or NULL), the tag, and a malloc()'d list of the trunk's VLANs
 * (the caller frees '*trunks').  Returns NULL or a malloc()'d error. */
char *vsw_parse_vlan(const char *spec, const char **mode, int64_t *tag,
                     bool *has_tag, int64_t **trunks, size_t *n_trunks);

/* A Linux bridge takes ports numbered 1..1023 (port 0 is reserved). */
#define VSW_BRIDGE_MAX_PORTS 1023

/* Whether a switch of type 'type' ("external", "internal", "private") has
 * a host port: an internal switch always, an external one when it allows
 * the management OS. */
bool vsw_switch_has_host_port(const char *type, bool allow_management_os);

/* How many VM ports a switch can hold: the bridge's limit less the uplink
 * and the host port it has. */
int vsw_switch_port_capacity(bool has_uplink, bool has_host_port);

/* vsw's own interface names, derived from a uuid's first 32 (or 44) bits:
 *   "vsp" + 8 hex digits   bridge end of a switch's host port;
 *   "vpb" + 8 hex digits   bridge end of an internal or veth port;
 *   "vswt" + 11 hex digits a veth being created, until it is tagged and
 *                          renamed (one left by a crash is removed).
 * Writes at most 16 bytes into 'buf'. */
enum vsw_internal_name {
    VSW_NAME_HOST_PEER,
    VSW_NAME_PORT_PEER,
    VSW_NAME_TEMP,
};
void vsw_internal_ifname(enum vsw_internal_name, const struct uuid *,
                         char buf[16]);

/* Whether 'name' has the form of one of vsw's own names above (then no
 * switch or port may be called so), and of a temporary one. */
bool vsw_ifname_is_internal(const char *name);
bool vsw_ifname_is_temp(const char *name);

/* A name for a switch's bridge, a host port or a port: an interface name
 * (dp_ifname_check()) not of the form of vsw's own. */
const char *vsw_check_ifname(const char *name);

/* The kinds of port, in Port.kind's spelling (the schema's enum): one
 * table for vswitchd, vswctl and the status they show. */
enum vsw_port_kind {
    VSW_PORT_TAP,               /* Persistent tap for a VM. */
    VSW_PORT_VHOST_NET,         /* Multiqueue vnet-hdr tap, fds handed out. */
    VSW_PORT_INTERNAL,          /* Host vNIC: veth, host end named 'name'. */
    VSW_PORT_VETH,              /* veth, peer end moved into 'netns'. */
    VSW_PORT_VF,                /* SR-IOV VF through its representor. */
    VSW_N_PORT_KINDS
};
extern const char *const vsw_port_kind_names[VSW_N_PORT_KINDS];

/* The kind called 'name', or -1. */
int vsw_port_kind_from_name(const char *name);

/* Whether a port of kind 'kind' is a VM's tap (tap, vhost-net, or a VF
 * port on its fallback tap): owner, group, queues and the tap MAC apply. */
bool vsw_port_kind_is_tap(enum vsw_port_kind);

/* A port's MTU (the switch's when it has one, else the port's own) for a
 * port of kind 'kind': the schema allows 68..65535, which a veth takes,
 * but the kernel's tun driver takes at most 65535 less the Ethernet header
 * on a tap.  Returns NULL if 'mtu' fits, or why not. */
#define VSW_TAP_MAX_MTU 65521
const char *vsw_check_port_mtu(enum vsw_port_kind, int64_t mtu);

/* The ownership tag: vsw changes or deletes only devices whose
 * IFLA_IFALIAS starts with it ("vsw:<switch uuid>[:role]",
 * vswitchd/reconcile.h makes and reads the rest). */
#define VSW_TAG_PREFIX "vsw:"
bool vsw_is_tag(const char *alias);

/* The name of switch 'name''s host vNIC: 'explicit' if nonnull, else
 * "vh-" + the switch name, or "vh" + 8 hex digits of its uuid when that is
 * too long.  The caller frees it. */
char *vsw_host_port_name(const char *name, const struct uuid *,
                         const char *explicit);

/* ---- Port policy (vswitchd/reconcile-policy.c enforces it). ---- */

/* A rate: decimal, with an optional suffix k, M, G or T (powers of 1000),
 * from 1 to 2^63-1 in the unit 'unit' ("bit/s", "packets/s").  Stores it
 * in '*value'.  Returns NULL or why not. */
const char *vsw_check_rate(const char *s, int64_t *value);

/* The numeric policy columns of a port, as stored: bits per second,
 * packets per second, and a weight from 1 to 100.  Each returns NULL or
 * why the value is not usable. */
const char *vsw_check_max_bandwidth(int64_t bps);
#define VSW_MIN_BANDWIDTH 8000              /* bit/s: one full frame/s. */
#define VSW_MAX_BANDWIDTH 100000000000LL    /* 100G bit/s. */
/* A TCP address to listen on, "IP:PORT" or "[IPv6]:PORT" (no names to
 * resolve, a port from 1).  Stores it in '*ss'.  Returns NULL or why not. */
struct sockaddr_storage;
const char *vsw_check_listen(const char *s, struct sockaddr_storage *ss);

/* What a switch's ports' bandwidth weights share (its
 * other_config:uplink-bandwidth), in bit/s. */
const char *vsw_check_uplink_bandwidth(int64_t bps);
#define VSW_MAX_UPLINK_BANDWIDTH 10000000000000LL   /* 10T bit/s. */
const char *vsw_check_storm_limit(int64_t pps);
const char *vsw_check_bandwidth_weight(int64_t weight);

/* An ACL's address: "any", an IPv4 or IPv6 address with an optional
 * prefix length ("10.0.0.0/8", "fd00::/64"), or a MAC address (any MAC,
 * multicast included). */
enum vsw_acl_addr_kind {
    VSW_ACL_ANY,
    VSW_ACL_IPV4,
    VSW_ACL_IPV6,
    VSW_ACL_MAC,
};
struct vsw_acl_addr {
    enum vsw_acl_addr_kind kind;
    uint8_t bytes[16];          /* Network order, masked to 'plen'. */
    int plen;                   /* Prefix length (48 for a MAC, 0: any). */
};
const char *vsw_check_acl_addr(const char *s, struct vsw_acl_addr *);
/* The netmask of a prefix of 'plen' bits, 'len' bytes, into 'mask'. */
void vsw_prefix_mask(int plen, size_t len, uint8_t *mask);

/* A port range "N" or "LO-HI", 0..65535, LO <= HI. */
const char *vsw_check_port_range(const char *s, uint16_t *lo, uint16_t *hi);

/* A protocol: "tcp", "udp", "icmp", "icmpv6", or a number 0..255. */
const char *vsw_check_protocol(const char *s, int *proto);

/* An ACL row, parsed and checked as a whole (ACL table, schema doc).
 * Strings may be NULL (column empty); 'weight' < 0 means none (a simple
 * ACL), 'idle_timeout' < 0 the default. */
enum vsw_acl_dir { VSW_ACL_IN = 1, VSW_ACL_OUT = 2, VSW_ACL_BOTH = 3 };
enum vsw_acl_action { VSW_ACL_ALLOW, VSW_ACL_DENY, VSW_ACL_METER };
struct vsw_acl_spec {
    const char *direction, *action;
    const char *local, *remote, *protocol, *local_ports, *remote_ports;
    int64_t weight, idle_timeout;
    bool stateful;
};
struct vsw_acl {
    enum vsw_acl_dir dir;
    enum vsw_acl_action action;
    struct vsw_acl_addr local, remote;
    int proto;                  /* -1: any. */
    uint16_t lport_lo, lport_hi, rport_lo, rport_hi;   /* 0-65535: any. */
    int weight;                 /* 0: a simple ACL. */
    bool stateful;
    int idle_timeout;           /* Seconds, for a stateful one. */
};
#define VSW_ACL_MAX_WEIGHT 65535
#define VSW_ACL_DEFAULT_IDLE_TIMEOUT 300
/* Returns NULL, or a malloc()'d sentence saying what is wrong. */
char *vsw_check_acl(const struct vsw_acl_spec *, struct vsw_acl *);
/* "inbound", "outbound" or "both" as a direction; 0 for anything else. */
enum vsw_acl_dir vsw_acl_dir_from_string(const char *);
/* Whether two ACLs of one port cannot both be: extended (a weight above
 * 0) with the same weight and a direction in common (the weight orders
 * the extended ACLs of a direction). */
bool vsw_acl_weights_clash(int64_t w1, enum vsw_acl_dir d1, int64_t w2,
                           enum vsw_acl_dir d2);

#endif /* vswitchd/validate.h */
