/* Convergence of the kernel towards the desired switches.
 *
 * Pure logic over a link dump: given what every switch should be and what
 * the kernel has, it calls the kernel-changing operations in 'struct
 * rc_ops' (deletions first, then changes, then additions) and fills each
 * switch's observed status.  Only objects carrying vsw's tag (IFLA_IFALIAS
 * "vsw:<switch-uuid>[:role]") are ever changed or deleted; the uplink, which
 * is not ours, is only enslaved and released.  vswitchd/bridge.c feeds it
 * from the database; unit tests feed it hand-built dumps and record the
 * calls. */
#ifndef VSWITCHD_RECONCILE_H
#define VSWITCHD_RECONCILE_H 1

#include <stdbool.h>
#include <stdint.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/uuid.h"
#include "smap.h"
#include "vswitchd/validate.h"

struct dp_link;
struct dp_link_setup;
struct dp_links;
struct dp_htb_class;
struct dp_qdisc_root;
struct dp_tap_spec;
struct ofl_sriov_pf;

enum rc_switch_type { RC_EXTERNAL, RC_INTERNAL, RC_PRIVATE };

/* Where an SR-IOV switch's flow rules go (reconcile-flower.c). */
enum rc_flow_placement {
    RC_FLOWS_HARDWARE,          /* skip_sw, falling back to skip_hw. */
    RC_FLOWS_HARDWARE_ONLY,     /* skip_sw; a refusal is an error. */
    RC_FLOWS_SOFTWARE,          /* skip_hw. */
    RC_FLOWS_OFF,               /* None. */
};


enum rc_mirror { RC_MIRROR_NONE, RC_MIRROR_SOURCE, RC_MIRROR_DESTINATION };

struct rc_port {
    /* Desired state (inputs). */
    struct uuid uuid;
    const char *name;
    enum vsw_port_kind kind;
    bool adopted;               /* A tap another program made (libvirt,
                                 * QEMU): attached, never made or deleted. */
    int prev_ifindex;           /* Its device's ifindex last reported
                                 * (status "ifindex"), or 0. */
    const char *mac;            /* The guest's (or host end's) MAC. */
    int mtu;                    /* MTU to enforce, 0 to leave as is. */
    int queues;                 /* Queue pairs (tap, vhost-net). */
    long owner, group;          /* For taps, -1 for none. */
    const char *netns;          /* For veth. */
    const char *peer_name;      /* For veth: name inside 'netns'. */
    bool vhost_available;       /* /dev/vhost-net exists. */
    enum { RC_VLAN_NONE, RC_VLAN_ACCESS, RC_VLAN_TRUNK } vlan_mode;
    int tag;                    /* Access VLAN, or a trunk's native one. */
    const int64_t *trunks;      /* A trunk's tagged VLANs. */
    size_t n_trunks;
    const char *config_error;   /* Why the port cannot be realized, or
                                 * NULL: the device is then left alone. */
    bool dirty;                 /* Converge it in this pass; a clean port
                                 * is neither converged nor observed. */
    const struct rc_policy *policy;     /* Guards, ACLs, limits. */
    int mirror;                 /* enum rc_mirror (every port). */
    int64_t bw_weight;          /* Minimum bandwidth weight, 0: none
                                 * (every port, dirty or clean). */
    uint32_t bw_class_hint;     /* Its uplink class's minor last reported
                                 * (status "bandwidth_class"), or 0. */

    /* Observed state (outputs). */
    bool ok;
    int ifindex;                /* The bridge port, 0 if none. */
    int host_ifindex;           /* Internal port: the host end. */
    bool carrier;               /* IFF_LOWER_UP on the bridge port. */
    bool created;               /* Its device was made by this pass. */
    bool device_gone;           /* Adopted, and the tap it had is gone. */
    char renamed_to[16];        /* Adopted, and its tap now has this name
                                 * (its maker renamed it), or "". */
    int vf_index;               /* VF in use, or -1. */
    char representor[16];       /* Its representor's name, or "". */
    char vf_config[40];         /* VF settings applied ("MAC/VLAN"). */
    const char *kind_in_use;    /* "tap", "vhost-net", ..., or NULL. */
    int flows_in_hw, flows_in_sw;   /* Its flow rules, by placement. */
    struct ds reason;           /* Why 'kind_in_use' differs, if it does. */
    struct ds error;            /* What is wrong, for a person. */
    struct smap policy_status;  /* What of its policy is enforced, how. */
    const struct smap *policy_kept; /* Or, when its policy is in force as
                                 * the pass would build it, the policy's
                                 * memo of that (valid during the pass;
                                 * 'policy_status' then has only what
                                 * later families add), else NULL. */
    struct smap acl_status;     /* ACL uuid -> its error, if any. */
    uint32_t bw_class;          /* Its class on the uplink's transmit
                                 * (minor of DP_QDISC_MAJOR:), or 0. */
    struct ds bw_status;        /* Its minimum bandwidth weight: enforced
                                 * how, or why not ("" if it has none). */
};

struct rc_switch {
    /* Desired state (inputs). */
    struct uuid uuid;
    const char *name;
    enum rc_switch_type type;
    const char *uplink;         /* NULL if none. */
    bool host_port;             /* Wants a host vNIC. */
    const char *host_port_name; /* Its name, when 'host_port'. */
    int prev_uplink;            /* Uplink ifindex last reported, or 0. */
    int mtu;                    /* Switch MTU, 0 if not set. */
    bool iov;                   /* Created as an SR-IOV switch. */
    const struct ofl_sriov_pf *pf;  /* The uplink's SR-IOV facts, probed
                                     * for an SR-IOV switch, else NULL. */
    int want_vfs;               /* VFs to create on the uplink. */
    enum rc_flow_placement flow_placement;
    int flow_idle_demote;           /* Seconds a rule may sit in hardware
                                     * unmatched (placement "hardware"),
                                     * 0: for ever. */
    int64_t uplink_bandwidth;   /* bit/s its ports' weights share, 0: the
                                 * uplink's link speed. */
    const char *config_error;   /* Why the switch cannot be realized, or
                                 * NULL: what it has is then left alone. */
    bool iov_support;           /* Output: SR-IOV delivered. */
    struct ds iov_reason;       /* Output: why not. */
    int vf_capacity, vfs_in_use;    /* Output: representors, used ones. */
    const char *flows_effective;    /* Output: "hardware", "software",
                                     * "mixed", "none", "off",
                                     * "unavailable", or NULL (no flow
                                     * rules for this switch). */
    struct ds flows_reason;         /* Output: why not all in hardware. */
    int flows_in_hw, flows_in_sw;   /* Output. */
    int flows_hw_unhit;             /* Output: in hardware, and no hardware
                                     * hit counted yet. */
    int flows_demoted;              /* Output: in software, having sat
                                     * unmatched in hardware. */
    int flows_refused;              /* Output: asked for in hardware, in
                                     * software (or, hardware-only, not
                                     * installed). */
    struct rc_port *ports;
    size_t n_ports;
    bool dirty;                 /* Converge the switch itself (bridge,
                                 * uplink, host port) in this pass; a clean
                                 * switch is only looked up. */
    bool all_ports;             /* 'ports' are all of the switch's. */
    struct hmap *port_index;    /* Private: 'ports' by uuid, built on the
                                 * first lookup. */

    /* Observed state (outputs). */
    bool ok;                    /* Everything as desired. */
    int ifindex;                /* Bridge, 0 if none. */
    int uplink_ifindex;         /* Enslaved uplink, 0 if none. */
    bool uplink_carrier;        /* Its IFF_LOWER_UP, as dumped. */
    int host_ifindex;           /* Host vNIC, 0 if none. */
    struct ds error;            /* What is wrong, for a person. */
};

/* Kernel-changing operations, one table per family of kernel objects so
 * that no table grows with every new family; each returns 0 or a positive
 * errno and leaves its explanation to rc_ops.error(). */
struct rc_link_ops {                /* Links: bridges, taps, veths, ports. */
    int (*bridge_create)(const char *name, int *ifindex);
    int (*veth_create)(const char *name, const char *peer,
                       int *ifindex, int *peer_ifindex);
    /* A tap held by '*fd' until tap_finish() keeps it (or lets it go). */
    int (*tap_create)(const struct dp_tap_spec *, int *ifindex, int *fd);
    int (*tap_finish)(int fd, bool keep);
    int (*set_up)(int ifindex, bool up);
    int (*set_master)(int ifindex, int master);
    int (*set_alias)(int ifindex, const char *alias);
    int (*set_name)(int ifindex, const char *name);
    int (*set_mtu)(int ifindex, int mtu);
    int (*set_mac)(int ifindex, const char *mac);
    int (*set_netns)(int ifindex, const char *netns, const char *name);
    int (*setup)(int ifindex, const struct dp_link_setup *);
    int (*disable_ipv6)(const char *name);
    int (*delete)(int ifindex);
    /* Deletes links 'ifindexes' in one request (may be NULL): 0, or a
     * positive errno and nothing deleted. */
    int (*delete_many)(const int *ifindexes, size_t n);
    void (*uplink_released)(const char *ifname);  /* Restore its offloads. */
};

struct rc_vlan_ops {                /* Bridge VLAN filtering. */
    int (*vlan_filtering)(int bridge_ifindex, bool on);
    int (*vlan_add)(int ifindex, int lo, int hi, unsigned int flags);
    int (*vlan_del)(int ifindex, int lo, int hi);
};

struct rc_iov_ops {                 /* SR-IOV on an uplink (PF). */
    int (*set_num_vfs)(const char *pf, int n);
    int (*set_autoprobe)(const char *pf, bool on);
    int (*set_eswitch_mode)(const struct ofl_sriov_pf *, int mode);
    int (*set_vf)(int pf_ifindex, int vf, const char *mac, int vlan,
                  bool spoofchk);
    /* Records the PF's SR-IOV state before its first change, so that
     * uplink_released() can put it back (may be NULL). */
    void (*iov_record)(const char *pf, const struct ofl_sriov_pf *);
};

/* Devices under temporary names (see rc_tag_and_name()): the record that
 * vsw is making one, written before it is created and removed once it has
 * its tag and name, so that only a device vsw can show it made is ever
 * deleted as a leftover. */
/* TC flower rules (offload/flower.h). */
struct ofl_flow_rule;
struct ofl_flow_installed;
struct rc_flower_ops {
    bool (*available)(const char **why);
    void (*set_unavailable)(const char *why);
    int (*dump)(int ifindex, struct ofl_flow_installed **, size_t *n);
    int (*ensure_ingress)(int ifindex);
    /* Installs 'n' rules in one batch (offload/flower.h). */
    void (*install_many)(const struct ofl_flow_rule *, size_t n,
                         struct ofl_flow_installed *, int *errors,
                         char **why);
    int (*remove)(const struct ofl_flow_installed *);
    /* Whether device 'ifindex' has hw-tc-offload on. */
    bool (*hw_tc_offload)(int ifindex);
    /* Why switch 'sw''s rules went to software when they were placed
     * (NULL if not known), kept across passes and restarts (a rule placed
     * earlier is adopted as it is: the pass that adopts it cannot see
     * why); reason_set(sw, NULL) forgets it. */
    const char *(*reason_get)(const struct uuid *sw);
    void (*reason_set)(const struct uuid *sw, const char *reason);
    long long int (*now)(void);     /* Monotonic ms. */
};

/* nftables (datapath/nft.h): the port policy table. */
struct dp_nft_batch;
struct dp_nft_elem;
struct dp_nft_table;
struct shash;
struct rc_policy_ops {
    /* Reads vsw's table, with its rules ('rules') or without. */
    int (*dump)(bool rules, struct dp_nft_table *);
    int (*dump_map)(const char *map, struct shash *elems);
    /* The elements of set 'set' (dp_nft_dump_elems()). */
    int (*dump_elems)(const char *set, struct dp_nft_elem **, size_t *n);
    /* The digest of verdict map 'map''s elements (dp_nft_vmap_digest()). */
    int (*vmap_digest)(const char *map, uint32_t *digest);
    int (*commit)(struct dp_nft_batch *);
    /* The netdev family's table of vsw's (mirrors). */
    int (*dump_mirrors)(struct dp_nft_table *);
};

struct rc_qdisc_ops {               /* Transmit scheduling on an uplink. */
    int (*read)(int ifindex, struct dp_qdisc_root *);
    int (*add_htb)(int ifindex, uint32_t default_minor);
    int (*del_htb)(int ifindex);
    int (*set_class)(int ifindex, const struct dp_htb_class *);
    int (*del_class)(int ifindex, uint32_t classid);
    int (*speed)(const char *ifname, int64_t *mbps);   /* -1: unknown. */
};

struct rc_record_ops {
    int (*temp_begin)(const char *name);
    void (*temp_end)(const char *name);
    bool (*temp_ours)(const char *name);
};

struct rc_ops {
    const struct rc_link_ops *link;
    const struct rc_vlan_ops *vlan;
    const struct rc_iov_ops *iov;
    const struct rc_record_ops *record;
    const struct rc_flower_ops *flower;     /* NULL: no flow rules. */
    const struct rc_policy_ops *policy;     /* NULL: no port policy. */
    const struct rc_qdisc_ops *qdisc;       /* NULL: no bandwidth weights. */
    const char *(*error)(void);
};

/* The operations that act on the kernel (datapath/). */
extern const struct rc_ops rc_kernel_ops;

/* At start: forgets the records of devices being made (rc_ops.temp_begin)
 * whose device does not exist, so that they never make a later device of
 * that name look like a leftover of vsw's. */
void rc_temp_records_sweep(void);

void rc_switch_init(struct rc_switch *);
void rc_switch_destroy(struct rc_switch *);
void rc_port_init(struct rc_port *);
void rc_port_destroy(struct rc_port *);

/* The MAC libvirt gives a VM's tap: the guest's with the first byte 0xfe,
 * so the bridge never takes the guest's address as its own.  Writes at
 * most 18 bytes into 'buf'. */
void rc_tap_mac(const char *guest_mac, char buf[18]);

/* Converges the kernel described by 'links' towards 'switches': the
 * switches and ports marked dirty are converged and observed, the others
 * only looked up (their ifindexes).  Returns true if it changed anything
 * (the caller runs again once the kernel's notifications are in, to
 * confirm).  Without RC_MAY_DELETE (a damaged database, whose lost rows
 * may be the ones that wanted them), objects tagged as vsw's that no
 * switch wants are kept and logged instead of deleted.  RC_INCREMENTAL
 * skips the look at untagged links for leftovers of a crash (a full pass
 * at start and on each resync does it).  With 'scope', only the devices
 * of the ports and switches it names (by row uuid) may be deleted as
 * unwanted, found by their tags, not by a look at every device; NULL looks
 * at every tagged device (a switch was deleted, or a full pass).
 * RC_DISTRUST (with a full pass: another program changed vsw's nftables
 * tables) reads back what a full pass
 * otherwise takes on trust: vsw's policy table, its rules and the
 * elements of its ACL maps. */
enum {
    RC_MAY_DELETE = 1 << 0,
    RC_INCREMENTAL = 1 << 1,
    RC_DISTRUST = 1 << 2,
};
struct uuidset;
bool rc_reconcile(struct rc_switch *switches, size_t n,
                  const struct dp_links *links, const struct rc_ops *,
                  unsigned int flags, const struct uuidset *scope);

/* The ownership tags (VSW_TAG_PREFIX, vswitchd/validate.h). */
#define RC_ROLE_HOST "host"             /* Host end of a switch's host vNIC. */
#define RC_ROLE_HOST_PEER "host-peer"   /* Its bridge end. */
/* Port roles: "vsw:<sw>:<role><port uuid>" (rc_role_tag()). */
#define RC_ROLE_PORT "port:"            /* A port's bridge-side device. */
#define RC_ROLE_PORT_HOST "port-host:"  /* An internal port's host end. */
#define RC_ROLE_VF "vf:"                /* A VF port's representor. */
#define RC_ROLE_ADOPTED "adopted:"      /* A tap another program made:
                                         * released, never deleted. */
char *rc_tag(const struct uuid *, const char *role);  /* Caller frees. */
/* "vsw:<sw>:<role><port>", a port's tag (role "port:", ...).  Caller
 * frees. */
char *rc_role_tag(const struct uuid *sw, const char *role,
                  const struct uuid *port);

/* The tag of the device that carries port 'port''s name on switch 'sw':
 * an internal port's host end, the bridge end of any other.  Caller
 * frees. */
char *rc_port_name_tag(const struct uuid *sw, const struct uuid *port,
                       bool internal, bool adopted);
bool rc_parse_tag(const char *alias, struct uuid *, const char **role);

/* Name of the bridge end of a switch's host vNIC ("vsp" + 8 hex digits of
 * the switch's uuid), or of an internal port ("vpb" + 8 hex digits of the
 * port's uuid).  Writes at most 16 bytes into 'buf'. */
void rc_host_peer_name(const struct uuid *, char buf[16]);
void rc_port_peer_name(const struct uuid *, char buf[16]);

/* Ports (reconcile-port.c): converges 'sw''s ports on bridge 'br_ifindex'.
 * Sets '*changed' if it changed the kernel. */
void rc_converge_ports(struct rc_switch *sw, int br_ifindex,
                       const struct dp_links *, const struct rc_ops *,
                       bool *changed);
/* SR-IOV (reconcile-iov.c): for an SR-IOV switch, runs the safe order on
 * the uplink (VFs to 0, eswitch switchdev, driver autoprobe off, VFs) and
 * reports iov_support, its reasons and the VF counts. */
void rc_converge_iov(struct rc_switch *sw, const struct dp_links *,
                     const struct rc_ops *, bool *changed);
/* The free VF representors of 'sw''s uplink: returns the lowest VF index
 * whose representor is not vsw's, and that representor, or -1. */
int rc_iov_free_vf(const struct rc_switch *sw, const struct dp_links *,
                   const struct dp_link **rep);
/* The PF of representor 'rep' (same phys_switch_id, not a VF's), or NULL. */
const struct dp_link *rc_iov_pf_of(const struct dp_links *,
                                   const struct dp_link *rep);

/* VLANs (reconcile-port.c): once any port of 'sw' has VLAN settings, turns
 * on the bridge's VLAN filtering and gives each port, the uplink and the
 * host port their VLANs.  Needs 'links' with VLANs dumped. */
void rc_converge_vlans(struct rc_switch *sw, int br_ifindex,
                       const struct dp_links *, const struct rc_ops *,
                       bool *changed);

/* Flow rules (reconcile-flower.c). */
int rc_flow_placement_from_string(const char *);    /* -1 if unknown;
                                                     * NULL: the default. */
const char *rc_flow_placement_to_string(enum rc_flow_placement);

/* The rules an SR-IOV switch wants, once its ports are converged (their
 * representors known): 'rules[i]' for port 'ports[i]' (an index into
 * 'sw->ports'); 'local_macs' are the host port's MAC, if any. */
struct rc_flow_rules {
    struct ofl_flow_rule *rules;
    int *ports;
    size_t n, allocated;
};
void rc_flow_rules_init(struct rc_flow_rules *);
void rc_flow_rules_destroy(struct rc_flow_rules *);
void rc_flows_derive(const struct rc_switch *, const struct dp_links *,
                     const uint8_t (*local_macs)[6], size_t n_local,
                     struct rc_flow_rules *);

/* Converges an SR-IOV switch's flow rules on its uplink and representors:
 * adopts the wanted ones, deletes vsw's unwanted ones, installs the
 * missing ones, and reports placement and counts. */
void rc_converge_flows(struct rc_switch *sw, const struct dp_links *,
                       const struct rc_ops *, bool *changed);

/* Port policy (reconcile-policy.c): a port's guards, ACLs and limits as
 * the database asks (validated by desired.c), enforced by one nftables
 * table of vsw's. */
struct rc_acl {
    struct uuid uuid;
    struct vsw_acl acl;
};
struct rc_policy {
    bool mac_spoofing;          /* Allowed (the guard is off). */
    bool dhcp_guard, router_guard;
    int64_t max_bandwidth;      /* bit/s, 0: none. */
    int64_t storm_limit;        /* Packets/s, 0: none. */
    struct rc_acl *acls;
    size_t n_acls;
    const char *error;          /* A bad setting: the port's policy is
                                 * left as it is, and this is reported. */
};
#define RC_NFT_TABLE "vsw"         /* Of the bridge family (policy) and
                                     * of the netdev family (mirrors). */

/* Converges the policy of the dirty ports of 'switches' (and deletes that
 * of the ports in 'scope' that no longer exist; of every port not in
 * 'switches' when 'scope' is NULL), in one nftables batch; with
 * RC_INCREMENTAL unset (a full pass) it first reads the table back and
 * rebuilds whatever differs. */
void rc_converge_policy(struct rc_switch *switches, size_t n,
                        const struct rc_ops *, unsigned int flags,
                        const struct uuidset *scope, bool *changed);
/* Minimum bandwidth weights (reconcile-bandwidth.c): on each external
 * switch whose ports have weights, an htb of vsw's on the uplink shares
 * its transmit bandwidth among them by weight; each weighted port's
 * 'bw_class' and 'bw_status' are set (the policy's rules classify its
 * traffic).  Runs before rc_converge_policy(). */
void rc_converge_bandwidth(struct rc_switch *switches, size_t n,
                           const struct rc_ops *, unsigned int flags,
                           bool *changed);
/* A weighted port's class, in its status under this key ("7673:2", as tc
 * writes it), read back as its 'bw_class_hint' so that a restart keeps
 * every port in its class; rc_bw_class_parse() returns 0 for anything
 * that is not one of vsw's classes. */
#define RC_BW_CLASS_KEY "bandwidth_class"
uint32_t rc_bw_class_parse(const char *);
/* Mirroring (reconcile-mirror.c): on each switch whose ports are all in
 * the pass, a copy of what each source port sends and receives goes to
 * every destination port of that switch. */
void rc_converge_mirrors(struct rc_switch *switches, size_t n,
                         const struct dp_links *, const struct rc_ops *,
                         unsigned int flags, const struct uuidset *scope,
                         bool *changed);

/* Whether a rule of vsw's table, by its comment, enforces an ACL: then
 * stores the ACL row's uuid in '*acl' (its counters are the ACL's). */
bool rc_policy_rule_acl(const char *comment, struct uuid *acl);

/* Key 'key' of 'port''s policy status ('policy_status', else
 * 'policy_kept'), or NULL. */
const char *rc_port_policy_get(const struct rc_port *port, const char *key);

/* Whether 'port' runs on a tap in this pass (kind in use tap or
 * vhost-net): a VM's vNIC whose offloads and queues are reported. */
bool rc_port_on_tap(const struct rc_port *port);

/* Whether 'sw' wants the object tagged with port role 'role' (e.g.
 * "port:<uuid>"). */
bool rc_port_wants_role(const struct rc_switch *sw, const char *role);

/* The port of a port role ("port:<uuid>", "port-host:<uuid>",
 * "vf:<uuid>"): stores its uuid and returns true, or false for any other
 * role.  '*bridge_side' says whether the device is the port's bridge port
 * (whose carrier is the port's link). */
bool rc_parse_port_role(const char *role, struct uuid *port,
                        bool *bridge_side);

#endif /* vswitchd/reconcile.h */
