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
 *   "vswt" + 11 hex digits a device being created, until it is tagged and
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

#endif /* vswitchd/validate.h */
