/* Port policy: guards, ACLs, storm and bandwidth limits, enforced by one
 * nftables table of vsw's ("bridge vsw"); see reconcile.h.
 *
 * Why the bridge family: its hooks see every frame a port sends into its
 * switch (prerouting, before the bridge learns the source MAC, so a
 * spoofed frame never poisons the forwarding table) and every frame the
 * switch delivers to a port (postrouting, whether forwarded, flooded or
 * sent by the host), named by the port's device; one base chain per
 * direction serves every port through a map of device names, so a port's
 * change is its own chain and one map element, whatever the number of
 * ports, and a port's device made again under the same name is covered at
 * once.  The MAC spoofing guard, on for every port by default, is shared
 * rules that look the port's device and MAC up in sets: a port guarded
 * and nothing else has no chain, and its change is set elements.  That
 * matters for the cost of a change: a rule with a verdict, or a map
 * element that jumps, makes the kernel validate every chain reachable
 * from the base chains, once per element (O(ports) per change, 2 ms at
 * 1000 ports of 10 rules), and a set element without a verdict makes it
 * validate nothing.  The netdev family would need a base chain per
 * device, deleted by the kernel with the device.  Traffic that never crosses the bridge is
 * not seen: a VF port's frames switched by the NIC itself (flow rules in
 * hardware, reconcile-flower.c) and whatever the host sends on an
 * internal port's host end to itself.  This kernel's bridge family has no
 * connection tracking (nf_conntrack_bridge), so a stateful ACL remembers
 * its connections in a set of the port's, keyed by addresses, ports and
 * protocol, whose elements expire after the ACL's idle timeout.
 *
 *   table bridge vsw
 *     chain from-ports  (prerouting)  iifname @mac-guarded jump guard-mac
 *                                     iifname vmap @from-port
 *     chain to-ports    (postrouting) oifname vmap @to-port
 *                       (each of these rules only while its set or map
 *                       has elements: see "Base chains" below)
 *     set mac-guarded   devices of the ports with the MAC spoofing guard
 *     set port-mac      device . MAC of each (commented "port <uuid>")
 *     set port-mac-nd   the same, typed as raw fields for the lookups of
 *                       neighbor discovery options (so that "nft list"
 *                       prints what "nft -f" reads back)
 *     chain guard-mac   source MAC, ARP sender, neighbor discovery options
 *                       not the port's (iifname . field not in @port-mac):
 *                       jump mac-spoofed
 *     chain mac-spoofed update @mac-spoofing-drops { iifname }; drop
 *     set mac-spoofing-drops   each device's count of spoofed frames
 *     chain from-<port uuid>   bandwidth class, other guards, storm limit,
 *                              rate limit, ACLs out (none: no chain)
 *     chain to-<port uuid>     rate limit, ACLs in (none: no chain)
 *     set st4-<port uuid>-<s>, st6-...   stateful ACLs' connections, one
 *                                        set per idle timeout <s>
 *     map m-<port uuid>-<digest>   grouped ACLs: address -> ACL chain
 *     chain a-<port uuid>-<acl uuid>-<action>   a grouped ACL's counter
 *                                               and verdict
 *
 * Order within a direction: connections of stateful ACLs (accept), meter
 * ACLs (count only; sorted like simple ones so that they group, which
 * changes nothing they count), extended ACLs by weight, highest first,
 * first match ends (allow: accept, deny: drop), then simple ACLs: MAC
 * entries (an exact MAC before any), then IP entries, longest prefix
 * first (local and remote prefix lengths added; deny before allow on a
 * tie), then entries that match any frame.  Nothing matched: accepted.
 * Runs of simple entries of one prefix length are one lookup ("Grouped
 * ACLs" below).
 *
 * Each rule's comment names what it enforces and ends with a digest of
 * the rule (datapath/nft.h): a chain whose comments are the wanted ones is
 * the wanted chain, so a restart reads the table once and changes nothing.
 * What vsw believes the table holds is kept between passes; a full pass,
 * or a change to the table by anyone else (nftables notifications), reads
 * it back first. */
#include <config.h>

#include <netinet/in.h>  /* Before the kernel's headers. */

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter_bridge.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/nft.h"
#include "datapath/qdisc.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "uuid.h"
#include "uuidset.h"
#include "vswitchd/reconcile.h"
#include "vswitchd/reconcile-private.h"

VLOG_DEFINE_THIS_MODULE(reconcile_policy);

#define TABLE_COMMENT "vsw: port policy of vswitchd; changes are undone"
#define FROM_BASE "from-ports"
#define TO_BASE "to-ports"
#define FROM_MAP "from-port"
#define TO_MAP "to-port"
#define GUARDED_SET "mac-guarded"
#define PORT_MAC_SET "port-mac"
#define PORT_MAC_ND_SET "port-mac-nd"
#define DROPS_SET "mac-spoofing-drops"
#define GUARD_CHAIN "guard-mac"
#define SPOOFED_CHAIN "mac-spoofed"

/* ---- Fields. ---- */

static const struct dp_nft_field f_protocol = {
    DP_NFT_META, 2, 0, NFT_META_PROTOCOL };
static const struct dp_nft_field f_l4proto = {
    DP_NFT_META, 1, 0, NFT_META_L4PROTO };
static const struct dp_nft_field f_eth_dst = { DP_NFT_LL, 6, 0, 0 };
static const struct dp_nft_field f_eth_src = { DP_NFT_LL, 6, 6, 0 };
static const struct dp_nft_field f_arp_sha = { DP_NFT_NH, 6, 8, 0 };
static const struct dp_nft_field f_ip4_src = { DP_NFT_NH, 4, 12, 0 };
static const struct dp_nft_field f_ip4_dst = { DP_NFT_NH, 4, 16, 0 };
static const struct dp_nft_field f_ip6_src = { DP_NFT_NH, 16, 8, 0 };
static const struct dp_nft_field f_ip6_dst = { DP_NFT_NH, 16, 24, 0 };
static const struct dp_nft_field f_sport = { DP_NFT_TH, 2, 0, 0 };
static const struct dp_nft_field f_dport = { DP_NFT_TH, 2, 2, 0 };
static const struct dp_nft_field f_icmp_type = { DP_NFT_TH, 1, 0, 0 };

static void
match_u8(struct dp_nft_rule *r, const struct dp_nft_field *f, uint8_t v)
{
    dp_nft_rule_match(r, f, DP_NFT_EQ, &v, NULL, NULL);
}

static void
match_be16(struct dp_nft_rule *r, const struct dp_nft_field *f, uint16_t v)
{
    uint8_t b[2] = { v >> 8, v & 0xff };
    dp_nft_rule_match(r, f, DP_NFT_EQ, b, NULL, NULL);
}

static void
match_ethertype(struct dp_nft_rule *r, uint16_t type)
{
    match_be16(r, &f_protocol, type);
}

/* ---- What a port wants. ---- */

struct rules {
    struct dp_nft_rule *r;
    size_t n, allocated;
};

static struct dp_nft_rule *
rules_add(struct rules *rs)
{
    if (rs->n >= rs->allocated) {
        /* Room for a port's guards and limits at once: a full pass builds
         * every port's rules, and growing one by one moved them. */
        rs->allocated = MAX(16, 2 * rs->allocated);
        rs->r = xrealloc(rs->r, rs->allocated * sizeof *rs->r);
    }
    return &rs->r[rs->n++];
}

static void
rules_finish(struct rules *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        dp_nft_rule_finish(&rs->r[i]);
    }
    if (rs->n && rs->n < rs->allocated) {
        /* Built: no more room needed (shrinking does not move them). */
        rs->r = xrealloc(rs->r, rs->n * sizeof *rs->r);
        rs->allocated = rs->n;
    }
}

/* The MAC spoofing guard's shared rules (chain guard-mac, for the ports in
 * set mac-guarded): frames, ARP senders and IPv6 neighbor discovery
 * link-layer options with another MAC than the port's, which is the one
 * its device has in set port-mac, go to chain mac-spoofed. */
static const struct dp_nft_field f_iifname = {
    DP_NFT_META, IFNAMSIZ, 0, NFT_META_IIFNAME };
/* The MAC of a neighbor discovery link-layer address option: set
 * port-mac-nd's key is described to nft with a router solicitation's
 * (other messages have theirs further in: any raw field of 6 bytes is
 * looked up alike). */
static const struct dp_nft_field f_nd_lla = { DP_NFT_TH, 6, 10, 0 };

/* 'r' looks the input device up in set 'set' ('op'). */
static void
rule_iifname_in(struct dp_nft_rule *r, enum dp_nft_set_op op,
                const char *set)
{
    r->keys[0] = f_iifname;
    r->n_keys = 1;
    r->set_op = op;
    ovs_strzcpy(r->set, set, sizeof r->set);
}

/* 'r' jumps to chain mac-spoofed if the input device and field 'f' are
 * not in set 'set': port-mac for typed fields (the source MAC, ARP's
 * sender), port-mac-nd (the same elements) for neighbor discovery's raw
 * ones, which nft reads back only against a set of that type. */
static void
spoofed_if_not_in(struct dp_nft_rule *r, const struct dp_nft_field *f,
                  const char *set)
{
    r->keys[0] = f_iifname;
    r->keys[1] = *f;
    r->n_keys = 2;
    r->set_op = DP_NFT_SET_MISSING;
    ovs_strzcpy(r->set, set, sizeof r->set);
    ovs_strzcpy(r->jump, SPOOFED_CHAIN, sizeof r->jump);
}

static void
spoof_guard_rules(struct rules *rs)
{
    struct dp_nft_rule *r = rules_add(rs);
    dp_nft_rule_init(r, DP_NFT_JUMP, "guard mac-spoofing source");
    spoofed_if_not_in(r, &f_eth_src, PORT_MAC_SET);

    r = rules_add(rs);
    dp_nft_rule_init(r, DP_NFT_JUMP, "guard mac-spoofing arp");
    match_ethertype(r, ETH_P_ARP);
    spoofed_if_not_in(r, &f_arp_sha, PORT_MAC_SET);

    /* The first option of a router solicitation (type 133, options at 8),
     * advertisement (134, at 16), neighbor solicitation (135, at 24) and
     * advertisement (136, at 24): a source (1) or target (2) link-layer
     * address option of 8 bytes (length 1) must carry the port's MAC. */
    static const struct { uint8_t type, at, opt; } nd[] = {
        {133, 8, 1}, {134, 16, 1}, {135, 24, 1}, {136, 24, 2},
    };
    /* Linux takes the first option of each type and ignores repeats:
     * a message with options whose first is not the link-layer address
     * could carry a spoofed one after it, and is dropped (but for a
     * duplicate address detection's solicitation, from ::, which has
     * none). */
    static const struct dp_nft_field f_ip6_plen = { DP_NFT_NH, 2, 4, 0 };
    static const uint8_t unspecified[16];
    for (size_t i = 0; i < ARRAY_SIZE(nd); i++) {
        struct dp_nft_field opt_type = { DP_NFT_TH, 1, nd[i].at, 0 };
        uint8_t lo[2] = { 0, nd[i].at + 1 }, hi[2] = { 0xff, 0xff };
        r = rules_add(rs);
        dp_nft_rule_init(r, DP_NFT_JUMP,
                         "guard mac-spoofing nd %d options", nd[i].type);
        match_ethertype(r, ETH_P_IPV6);
        match_u8(r, &f_l4proto, IPPROTO_ICMPV6);
        match_u8(r, &f_icmp_type, nd[i].type);
        if (nd[i].type == 135) {
            dp_nft_rule_match(r, &f_ip6_src, DP_NFT_NEQ, unspecified, NULL,
                              NULL);
        }
        dp_nft_rule_match(r, &f_ip6_plen, DP_NFT_RANGE, lo, hi, NULL);
        dp_nft_rule_match(r, &opt_type, DP_NFT_NEQ, &nd[i].opt, NULL, NULL);
        ovs_strzcpy(r->jump, SPOOFED_CHAIN, sizeof r->jump);
    }
    for (size_t i = 0; i < ARRAY_SIZE(nd); i++) {
        struct dp_nft_field opt = { DP_NFT_TH, 2, nd[i].at, 0 };
        struct dp_nft_field lla = { DP_NFT_TH, 6, nd[i].at + 2, 0 };
        uint8_t opt_hdr[2] = { nd[i].opt, 1 };
        r = rules_add(rs);
        dp_nft_rule_init(r, DP_NFT_JUMP, "guard mac-spoofing nd %d",
                         nd[i].type);
        match_ethertype(r, ETH_P_IPV6);
        match_u8(r, &f_l4proto, IPPROTO_ICMPV6);
        match_u8(r, &f_icmp_type, nd[i].type);
        dp_nft_rule_match(r, &opt, DP_NFT_EQ, opt_hdr, NULL, NULL);
        spoofed_if_not_in(r, &lla, PORT_MAC_ND_SET);
    }
}

static void
add_dhcp_guard(struct rules *rs)
{
    /* DHCP servers answer from port 67 (v4) and 547 (v6). */
    struct dp_nft_rule *r = rules_add(rs);
    dp_nft_rule_init(r, DP_NFT_DROP, "guard dhcp v4");
    match_ethertype(r, ETH_P_IP);
    match_u8(r, &f_l4proto, IPPROTO_UDP);
    match_be16(r, &f_sport, 67);

    r = rules_add(rs);
    dp_nft_rule_init(r, DP_NFT_DROP, "guard dhcp v6");
    match_ethertype(r, ETH_P_IPV6);
    match_u8(r, &f_l4proto, IPPROTO_UDP);
    match_be16(r, &f_sport, 547);
}

static void
add_router_guard(struct rules *rs)
{
    static const struct { bool v6; uint8_t type; const char *what; } m[] = {
        {true, 134, "router advertisement"},
        {true, 137, "redirect"},
        {false, 9, "router advertisement"},
        {false, 5, "redirect"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
        struct dp_nft_rule *r = rules_add(rs);
        dp_nft_rule_init(r, DP_NFT_DROP, "guard router %s %s",
                         m[i].v6 ? "icmpv6" : "icmp", m[i].what);
        match_ethertype(r, m[i].v6 ? ETH_P_IPV6 : ETH_P_IP);
        match_u8(r, &f_l4proto, m[i].v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
        match_u8(r, &f_icmp_type, m[i].type);
    }
}

static void
add_storm_limit(struct rules *rs, int64_t pps)
{
    static const uint8_t group[6] = { 1 };
    struct dp_nft_rule *r = rules_add(rs);
    dp_nft_rule_init(r, DP_NFT_DROP, "storm-limit %"PRId64"/s", pps);
    dp_nft_rule_match(r, &f_eth_dst, DP_NFT_EQ, group, NULL, group);
    r->limit_rate = pps;
    r->limit_burst = MAX(pps / 10, 5);
}

static void
add_rate_limit(struct rules *rs, int64_t bps, const char *dir)
{
    struct dp_nft_rule *r = rules_add(rs);
    dp_nft_rule_init(r, DP_NFT_DROP, "max-bandwidth %s %"PRId64" bit/s",
                     dir, bps);
    r->limit_rate = bps / 8;
    r->limit_bytes = true;
    /* 100 ms of traffic, and at least a few full frames: TCP through a
     * policer with a shallow bucket gets far less than the rate. */
    uint64_t burst = bps / 8 / 10;
    r->limit_burst = MIN(MAX(burst, 4 * 65536), UINT32_MAX);
}

/* ACLs. */

static bool
acl_has_dir(const struct vsw_acl *a, enum vsw_acl_dir d)
{
    return (a->dir & d) != 0;
}

/* Matches the address 'addr' of 'kind' family as the local ('local') or
 * remote end of traffic in direction 'd'. */
static void
match_addr(struct dp_nft_rule *r, const struct vsw_acl_addr *a, bool local,
           enum vsw_acl_dir d)
{
    /* Out of the port (from the VM), the local end is the source. */
    bool src = local == (d == VSW_ACL_OUT);
    const struct dp_nft_field *f;
    int bits;
    switch (a->kind) {
    case VSW_ACL_MAC:
        dp_nft_rule_match(r, src ? &f_eth_src : &f_eth_dst, DP_NFT_EQ,
                          a->bytes, NULL, NULL);
        return;
    case VSW_ACL_IPV4:
        f = src ? &f_ip4_src : &f_ip4_dst;
        bits = 32;
        break;
    case VSW_ACL_IPV6:
        f = src ? &f_ip6_src : &f_ip6_dst;
        bits = 128;
        break;
    case VSW_ACL_ANY:
    default:
        return;
    }
    if (!a->plen) {
        return;
    }
    if (a->plen == bits) {
        dp_nft_rule_match(r, f, DP_NFT_EQ, a->bytes, NULL, NULL);
    } else {
        uint8_t mask[16] = { 0 };
        vsw_prefix_mask(a->plen, bits / 8, mask);
        dp_nft_rule_match(r, f, DP_NFT_EQ, a->bytes, NULL, mask);
    }
}

static void
match_ports(struct dp_nft_rule *r, uint16_t lo, uint16_t hi, bool local,
            enum vsw_acl_dir d)
{
    if (lo == 0 && hi == 65535) {
        return;
    }
    bool src = local == (d == VSW_ACL_OUT);
    uint8_t l[2] = { lo >> 8, lo & 0xff }, h[2] = { hi >> 8, hi & 0xff };
    dp_nft_rule_match(r, src ? &f_sport : &f_dport,
                      lo == hi ? DP_NFT_EQ : DP_NFT_RANGE, l, h, NULL);
}

/* The set of port 'port''s stateful connections of one family whose ACLs
 * have idle timeout 'timeout' ("st4-<uuid>-<seconds>", "st6-..."): its
 * name, into 'name'.  One set per timeout: refreshing an entry sets its
 * timer to the refreshing rule's timeout. */
static void
stateful_set_name(bool v6, const struct uuid *port, int timeout,
                  char name[64])
{
    snprintf(name, 64, "st%d-"UUID_FMT"-%d", v6 ? 6 : 4, UUID_ARGS(port),
             timeout);
}

/* The key of a stateful ACL's connection, as seen in direction 'd':
 * remote address, local address, remote port, local port, protocol. */
static void
stateful_key(struct dp_nft_rule *r, bool v6, enum vsw_acl_dir d,
             const struct uuid *port, int timeout)
{
    bool out = d == VSW_ACL_OUT;
    const struct dp_nft_field *src = v6 ? &f_ip6_src : &f_ip4_src;
    const struct dp_nft_field *dst = v6 ? &f_ip6_dst : &f_ip4_dst;
    r->keys[0] = *(out ? dst : src);
    r->keys[1] = *(out ? src : dst);
    r->keys[2] = out ? f_dport : f_sport;
    r->keys[3] = out ? f_sport : f_dport;
    r->keys[4] = f_l4proto;
    r->n_keys = 5;
    BUILD_ASSERT_DECL(sizeof r->set == 64);
    stateful_set_name(v6, port, timeout, r->set);
    r->timeout_ms = timeout * 1000ULL;
}

/* nft's datatype of stateful_key()'s key: what "nft list" shows and
 * "nft -f" reads back. */
static uint32_t
stateful_key_type(bool v6)
{
    uint32_t addr = v6 ? DP_NFT_TYPE_IPV6_ADDR : DP_NFT_TYPE_IPV4_ADDR;
    return DP_NFT_TYPE_CONCAT(
        DP_NFT_TYPE_CONCAT(
            DP_NFT_TYPE_CONCAT(DP_NFT_TYPE_CONCAT(addr, addr),
                               DP_NFT_TYPE_INET_SERVICE),
            DP_NFT_TYPE_INET_SERVICE),
        DP_NFT_TYPE_INET_PROTO);
}

static const char *const action_names[] = { "allow", "deny", "meter" };

static enum dp_nft_verdict
action_verdict(enum vsw_acl_action a)
{
    return (a == VSW_ACL_ALLOW ? DP_NFT_ACCEPT
            : a == VSW_ACL_DENY ? DP_NFT_DROP
            : DP_NFT_CONTINUE);
}

#define ACL_LABEL "acl "      /* An ACL's rules: "acl <uuid> ...". */

static char *
acl_label(const struct uuid *acl)
{
    return xasprintf(ACL_LABEL UUID_FMT" ", UUID_ARGS(acl));
}

bool
rc_policy_rule_acl(const char *comment, struct uuid *acl)
{
    char id[UUID_LEN + 1];
    if (strncmp(comment, ACL_LABEL, strlen(ACL_LABEL))
        || strlen(comment) < strlen(ACL_LABEL) + UUID_LEN) {
        return false;
    }
    ovs_strzcpy(id, comment + strlen(ACL_LABEL), sizeof id);
    return uuid_from_string(acl, id);
}

/* The rules of ACL 'a' for direction 'd' (one per address family when it
 * names no address but a protocol or ports, which need IP). */
static void
add_acl(struct rules *rs, const struct rc_acl *ra, enum vsw_acl_dir d,
        const struct uuid *port)
{
    const struct vsw_acl *a = &ra->acl;
    enum vsw_acl_addr_kind kind = (a->local.kind != VSW_ACL_ANY
                                   ? a->local.kind : a->remote.kind);
    bool ip_level = a->weight > 0;    /* Extended ACLs match IP only. */
    int n_fam = kind == VSW_ACL_ANY && ip_level ? 2 : 1;
    char *label = acl_label(&ra->uuid);

    for (int fam = 0; fam < n_fam; fam++) {
        enum vsw_acl_addr_kind k = (n_fam == 2
                                    ? (fam ? VSW_ACL_IPV6 : VSW_ACL_IPV4)
                                    : kind);
        struct dp_nft_rule *r = rules_add(rs);
        dp_nft_rule_init(r, action_verdict(a->action), "%s%s %s%s", label, action_names[a->action],
                         d == VSW_ACL_OUT ? "out" : "in",
                         k == VSW_ACL_IPV4 ? " v4"
                         : k == VSW_ACL_IPV6 ? " v6" : "");
        if (k == VSW_ACL_IPV4 || k == VSW_ACL_IPV6) {
            match_ethertype(r, k == VSW_ACL_IPV4 ? ETH_P_IP : ETH_P_IPV6);
        }
        match_addr(r, &a->local, true, d);
        match_addr(r, &a->remote, false, d);
        if (a->proto >= 0) {
            match_u8(r, &f_l4proto, a->proto);
        }
        match_ports(r, a->lport_lo, a->lport_hi, true, d);
        match_ports(r, a->rport_lo, a->rport_hi, false, d);
        if (a->stateful) {
            stateful_key(r, k == VSW_ACL_IPV6, d, port, a->idle_timeout);
            r->set_op = DP_NFT_SET_UPDATE;
        }
    }
    free(label);
}

/* Sort order of simple ACLs: MAC entries, then IP entries by prefix
 * length, then any; within, deny first. */
static int
simple_rank(const struct vsw_acl *a)
{
    bool mac = a->local.kind == VSW_ACL_MAC || a->remote.kind == VSW_ACL_MAC;
    bool ip = !mac && (a->local.kind != VSW_ACL_ANY
                       || a->remote.kind != VSW_ACL_ANY);
    int plen = a->local.plen + a->remote.plen;
    int tier = mac ? 3 : ip ? 2 : 1;
    return tier << 10 | plen << 1 | (a->action == VSW_ACL_DENY);
}

static int
compare_acls(const void *a_, const void *b_)
{
    const struct rc_acl *a = *(const struct rc_acl *const *) a_;
    const struct rc_acl *b = *(const struct rc_acl *const *) b_;
    int ka = a->acl.weight ? (1 << 20) + a->acl.weight : simple_rank(&a->acl);
    int kb = b->acl.weight ? (1 << 20) + b->acl.weight : simple_rank(&b->acl);
    if (ka != kb) {
        return ka > kb ? -1 : 1;
    }
    return uuid_compare_3way(&a->uuid, &b->uuid);
}

/* What a port wants: its two chains, and the maps and ACL chains its
 * grouped ACLs use (below). */
struct wanted {
    bool guard;                 /* The MAC spoofing guard, for 'mac'. */
    uint8_t mac[6];
    struct rules from, to;      /* The port's chains' (none: no chain). */
    struct stateful_set {       /* Its stateful ACLs' sets: of one */
        bool v6;                /* family, */
        int timeout;            /* one idle timeout (seconds). */
    } *st;
    size_t n_st;
    struct sset st_names;       /* Their names. */
    struct shash acl_chains;    /* Name -> struct dp_nft_rule *. */
    struct shash maps;          /* Name -> struct acl_map *. */
};

/* Grouped ACLs.  A run of simple ACLs that, in evaluation order, each
 * match one address of one family with one prefix length on the same end
 * (and nothing else) can be one lookup: their masked addresses differ, so
 * at most one of them matches a packet, and which one is what the map
 * says.  The map sends the packet to the ACL's own chain (its counter and
 * verdict; the kernel's lookups do not count in the elements themselves
 * before Linux 6.x's later releases).  100 entries cost a packet one
 * lookup instead of 100 rules.  Runs shorter than GROUP_MIN stay rules.
 *
 * Names say what they hold: a map is "m-<port uuid>-<digest of its
 * elements>", an ACL chain "a-<port uuid>-<acl uuid>-<action>", so a name
 * that exists holds what it should, and a changed group is a new map. */
#define GROUP_MIN 4

struct acl_map {
    uint32_t key_type;          /* nft's datatype: ipv4_addr, ipv6_addr. */
    size_t key_len, n;
    uint8_t (*keys)[16];
    char **chains;
};

static void
acl_map_destroy(struct acl_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->chains[i]);
    }
    free(m->chains);
    free(m->keys);
    free(m);
}


/* If ACL 'a' can join a group in direction 'd': its address (the end
 * that is not "any"), the field that holds it, and its bit length. */
static const struct vsw_acl_addr *
groupable(const struct vsw_acl *a, enum vsw_acl_dir d,
          const struct dp_nft_field **field, int *bits)
{
    bool local = a->local.kind != VSW_ACL_ANY;
    const struct vsw_acl_addr *addr = local ? &a->local : &a->remote;
    if (a->weight || a->stateful || a->proto >= 0
        || (local && a->remote.kind != VSW_ACL_ANY)
        || (addr->kind != VSW_ACL_IPV4 && addr->kind != VSW_ACL_IPV6)
        || !addr->plen) {
        return NULL;
    }
    bool src = local == (d == VSW_ACL_OUT);
    bool v6 = addr->kind == VSW_ACL_IPV6;
    *field = (v6 ? (src ? &f_ip6_src : &f_ip6_dst)
              : (src ? &f_ip4_src : &f_ip4_dst));
    *bits = v6 ? 128 : 32;
    return addr;
}

/* "m-<port uuid>-<digest>", into 'name'. */
static void
map_name(const struct uuid *port, uint32_t digest, char name[64])
{
    snprintf(name, 64, "m-"UUID_FMT"-%08"PRIx32, UUID_ARGS(port), digest);
}

static char *
acl_chain_name(const struct uuid *port, const struct rc_acl *ra)
{
    return xasprintf("a-"UUID_FMT"-"UUID_FMT"-%s", UUID_ARGS(port),
                     UUID_ARGS(&ra->uuid), action_names[ra->acl.action]);
}

/* The one rule of a grouped ACL's chain: its counter and verdict. */
static void
acl_chain_rule(struct dp_nft_rule *r, const struct uuid *acl,
               enum vsw_acl_action action)
{
    char *label = acl_label(acl);
    dp_nft_rule_init(r, action_verdict(action), "%s%s", label,
                     action_names[action]);
    dp_nft_rule_finish(r);
    free(label);
}

/* If 'name' is an ACL chain's (acl_chain_name()), the rule it must hold,
 * into 'r'. */
static bool
acl_chain_parse(const char *name, struct dp_nft_rule *r)
{
    size_t off = strlen("a-") + UUID_LEN + 1;
    char id[UUID_LEN + 1];
    struct uuid acl;
    if (strlen(name) < off + UUID_LEN + 2 || name[off + UUID_LEN] != '-') {
        return false;
    }
    ovs_strzcpy(id, name + off, sizeof id);
    if (!uuid_from_string(&acl, id)) {
        return false;
    }
    for (size_t i = 0; i < ARRAY_SIZE(action_names); i++) {
        if (!strcmp(name + off + UUID_LEN + 1, action_names[i])) {
            acl_chain_rule(r, &acl, i);
            return true;
        }
    }
    return false;
}

/* The lookup of the group 'g[0..n)' (ACLs in the order they would be
 * evaluated) in direction 'd', with the map and ACL chains it needs. */
static void
add_group(struct rules *rs, struct wanted *w, const struct rc_acl **g,
          size_t n, enum vsw_acl_dir d, const struct uuid *port)
{
    const struct dp_nft_field *field;
    int bits;
    const struct vsw_acl_addr *first = groupable(&g[0]->acl, d, &field,
                                                 &bits);
    struct acl_map *m = xzalloc(sizeof *m);
    m->key_type = bits == 32 ? DP_NFT_TYPE_IPV4_ADDR : DP_NFT_TYPE_IPV6_ADDR;
    m->key_len = bits / 8;
    m->keys = xcalloc(n, sizeof *m->keys);
    m->chains = xcalloc(n, sizeof *m->chains);
    for (size_t i = 0; i < n; i++) {
        const struct rc_acl *ra = g[i];
        const struct dp_nft_field *f;
        int b;
        memcpy(m->keys[i], groupable(&ra->acl, d, &f, &b)->bytes, bits / 8);
        m->chains[i] = acl_chain_name(port, ra);
        if (!shash_find(&w->acl_chains, m->chains[i])) {
            struct dp_nft_rule *r = xmalloc(sizeof *r);
            acl_chain_rule(r, &ra->uuid, ra->acl.action);
            shash_add(&w->acl_chains, m->chains[i], r);
        }
    }
    m->n = n;
    char name[64];
    map_name(port, dp_nft_vmap_digest((const uint8_t (*)[16]) m->keys,
                                      m->key_len, m->chains, n), name);
    if (shash_find(&w->maps, name)) {
        /* The same group both ways (the same map serves both). */
        acl_map_destroy(m);
    } else {
        shash_add(&w->maps, name, m);
    }

    struct dp_nft_rule *r = rules_add(rs);
    dp_nft_rule_init(r, DP_NFT_CONTINUE, "acls %"PRIuSIZE" %s/%d %s", n,
                     bits == 32 ? "v4" : "v6", first->plen,
                     d == VSW_ACL_OUT ? "out" : "in");
    match_ethertype(r, bits == 32 ? ETH_P_IP : ETH_P_IPV6);
    r->keys[0] = *field;
    r->n_keys = 1;
    if (first->plen < bits) {
        r->key_masked = true;
        vsw_prefix_mask(first->plen, bits / 8, r->key_mask);
    }
    ovs_strzcpy(r->set, name, sizeof r->set);
    r->set_op = DP_NFT_SET_VMAP;
}

/* Whether 'b' can follow 'a' in a group in direction 'd'. */
static bool
same_group(const struct rc_acl *a, const struct rc_acl *b,
           enum vsw_acl_dir d)
{
    const struct dp_nft_field *fa, *fb;
    int ba, bb;
    const struct vsw_acl_addr *x = groupable(&a->acl, d, &fa, &ba);
    const struct vsw_acl_addr *y = groupable(&b->acl, d, &fb, &bb);
    return (x && y && fa == fb && x->plen == y->plen
            && (a->acl.action == VSW_ACL_METER)
               == (b->acl.action == VSW_ACL_METER));
}

/* The rules of 'sorted[0..n)' in that order, runs grouped. */
static void
add_sorted(struct rules *rs, struct wanted *w, const struct rc_acl **sorted,
           size_t n, enum vsw_acl_dir d, const struct uuid *port)
{
    struct addr_node {
        struct hmap_node node;
        const uint8_t *bytes;
    } *nodes = xmalloc(n * sizeof *nodes);
    for (size_t i = 0; i < n; ) {
        /* The longest run from 'i' whose addresses all differ. */
        struct hmap seen = HMAP_INITIALIZER(&seen);
        size_t j = i;
        const struct dp_nft_field *f;
        int bits;
        const struct vsw_acl_addr *addr;
        while (j < n && (addr = groupable(&sorted[j]->acl, d, &f, &bits))
               && (j == i || same_group(sorted[i], sorted[j], d))) {
            uint32_t hash = hash_bytes(addr->bytes, bits / 8, 0);
            const struct addr_node *an;
            bool dup = false;
            HMAP_FOR_EACH_WITH_HASH (an, node, hash, &seen) {
                dup |= !memcmp(an->bytes, addr->bytes, bits / 8);
            }
            if (dup) {
                break;
            }
            nodes[j].bytes = addr->bytes;
            hmap_insert(&seen, &nodes[j].node, hash);
            j++;
        }
        hmap_destroy(&seen);
        j = MAX(j, i + 1);
        if (j - i >= GROUP_MIN) {
            add_group(rs, w, &sorted[i], j - i, d, port);
        } else {
            for (size_t k = i; k < j; k++) {
                add_acl(rs, sorted[k], d, port);
            }
        }
        i = j;
    }
    free(nodes);
}

/* The rules of port 'port''s ACLs for direction 'd', after those of the
 * connections of its stateful ACLs ('w->st'). */
static void
add_acls(struct rules *rs, struct wanted *w, const struct rc_policy *p,
         enum vsw_acl_dir d, const struct uuid *port)
{
    /* Connections of stateful ACLs (either direction): their packets in
     * both directions are accepted and refresh the idle timer, to their
     * own ACL's timeout. */
    for (size_t i = 0; i < w->n_st; i++) {
        const struct stateful_set *ss = &w->st[i];
        struct dp_nft_rule *r = rules_add(rs);
        dp_nft_rule_init(r, DP_NFT_ACCEPT, "stateful %s v%d %ds",
                         d == VSW_ACL_OUT ? "out" : "in", ss->v6 ? 6 : 4,
                         ss->timeout);
        match_ethertype(r, ss->v6 ? ETH_P_IPV6 : ETH_P_IP);
        stateful_key(r, ss->v6, d, port, ss->timeout);
        r->set_op = DP_NFT_SET_REFRESH;
    }
    /* Meters first (each counts what it matches, none ends the chain),
     * then the others in evaluation order. */
    const struct rc_acl **sorted = xmalloc((p->n_acls + 1) * sizeof *sorted);
    for (int meters = 1; meters >= 0; meters--) {
        size_t n = 0;
        for (size_t i = 0; i < p->n_acls; i++) {
            if (acl_has_dir(&p->acls[i].acl, d)
                && (p->acls[i].acl.action == VSW_ACL_METER) == meters) {
                sorted[n++] = &p->acls[i];
            }
        }
        qsort(sorted, n, sizeof *sorted, compare_acls);
        add_sorted(rs, w, sorted, n, d, port);
    }
    free(sorted);
}

/* The name of the device that carries port 'p' into its bridge. */
static void
port_device(const struct rc_port *p, char name[IFNAMSIZ])
{
    if (p->representor[0]) {
        ovs_strzcpy(name, p->representor, IFNAMSIZ);
    } else if (p->kind == VSW_PORT_INTERNAL) {
        rc_port_peer_name(&p->uuid, name);     /* Its host end has the
                                                * port's name. */
    } else {
        ovs_strzcpy(name, p->name, IFNAMSIZ);
    }
}

/* A digest of everything wanted_build() and port_device() read from
 * 'port' (keep it in step with them): equal digests build the same rules
 * and status.  Two 32-bit hashes, so that a change is not mistaken for
 * none. */
static uint64_t
wanted_inputs(const struct rc_port *port)
{
    const struct rc_policy *p = port->policy;
    uint32_t h[2] = { 0, 0x9e3779b9 };
    for (int i = 0; i < 2; i++) {
        uint32_t x = h[i];
        x = hash_bytes(&port->uuid, sizeof port->uuid, x);
        x = hash_string(port->name, x);
        x = hash_string(port->representor, x);
        x = hash_int(port->kind, x);
        x = hash_string(port->mac ? port->mac : "", x);
        x = hash_int(port->bw_class, x);
        x = hash_string(ds_cstr_ro(&port->bw_status), x);
        x = hash_int(p->mac_spoofing | p->dhcp_guard << 1
                     | p->router_guard << 2, x);
        x = hash_uint64_basis(p->max_bandwidth, x);
        x = hash_uint64_basis(p->storm_limit, x);
        x = hash_int(p->n_acls, x);
        for (size_t j = 0; j < p->n_acls; j++) {
            const struct vsw_acl *a = &p->acls[j].acl;
            x = hash_bytes(&p->acls[j].uuid, sizeof p->acls[j].uuid, x);
            x = hash_int(a->dir | a->action << 4 | a->stateful << 8, x);
            const struct vsw_acl_addr *ad[2] = { &a->local, &a->remote };
            for (int k = 0; k < 2; k++) {
                x = hash_int(ad[k]->kind, x);
                x = hash_bytes(ad[k]->bytes, sizeof ad[k]->bytes, x);
                x = hash_int(ad[k]->plen, x);
            }
            x = hash_int(a->proto, x);
            x = hash_int(a->lport_lo | (uint32_t) a->lport_hi << 16, x);
            x = hash_int(a->rport_lo | (uint32_t) a->rport_hi << 16, x);
            x = hash_int(a->weight, x);
            x = hash_int(a->idle_timeout, x);
        }
        h[i] = x;
    }
    return (uint64_t) h[0] << 32 | h[1];
}

static void
wanted_build(struct rc_port *port, struct wanted *w)
{
    const struct rc_policy *p = port->policy;
    struct smap *st = &port->policy_status;

    memset(w, 0, sizeof *w);
    shash_init(&w->acl_chains);
    shash_init(&w->maps);
    sset_init(&w->st_names);
    /* Its class on the uplink's transmit, first: an ACL's accept ends the
     * chain (reconcile-bandwidth.c). */
    if (port->bw_class) {
        struct dp_nft_rule *r = rules_add(&w->from);
        dp_nft_rule_init(r, DP_NFT_CONTINUE, "bandwidth class %x:%x",
                         DP_QDISC_MAJOR, port->bw_class);
        r->set_priority = DP_QDISC_HANDLE(port->bw_class);
        smap_add_format(st, RC_BW_CLASS_KEY, "%x:%x", DP_QDISC_MAJOR,
                        port->bw_class);
    }
    /* Guards. */
    struct ds guards = DS_EMPTY_INITIALIZER;
    if (!p->mac_spoofing) {
        if (port->mac && !vsw_check_mac(port->mac, w->mac)) {
            w->guard = true;
            ds_put_cstr(&guards, "mac-spoofing,");
        } else {
            smap_add(st, "guard_mac_spoofing", "not enforced: the port has "
                     "no MAC (set Port.mac to the guest's MAC)");
        }
    }
    if (p->dhcp_guard) {
        add_dhcp_guard(&w->from);
        ds_put_cstr(&guards, "dhcp,");
    }
    if (p->router_guard) {
        add_router_guard(&w->from);
        ds_put_cstr(&guards, "router,");
    }
    ds_chomp(&guards, ',');
    smap_add(st, "guards", guards.length ? ds_cstr(&guards) : "none");
    ds_destroy(&guards);

    if (p->storm_limit) {
        add_storm_limit(&w->from, p->storm_limit);
        smap_add_format(st, "storm_limit", "%"PRId64" packets/s of broadcast "
                        "and multicast from the port (nftables limit); "
                        "unknown unicast is not limited: the bridge finds "
                        "it unknown only after the hook", p->storm_limit);
    }
    if (p->max_bandwidth) {
        add_rate_limit(&w->from, p->max_bandwidth, "out");
        add_rate_limit(&w->to, p->max_bandwidth, "in");
        smap_add_format(st, "max_bandwidth", "%"PRId64" bit/s each way, "
                        "policed (nftables limit: traffic over the rate is "
                        "dropped)", p->max_bandwidth);
    }
    if (port->bw_status.length) {
        smap_add(st, "min_bandwidth_weight", ds_cstr(&port->bw_status));
    }

    /* ACLs: first the sets of the stateful ones' connections, one per
     * family and idle timeout. */
    for (size_t i = 0; i < p->n_acls; i++) {
        const struct vsw_acl *a = &p->acls[i].acl;
        enum vsw_acl_addr_kind k = (a->local.kind != VSW_ACL_ANY
                                    ? a->local.kind : a->remote.kind);
        for (int v6 = 0; a->stateful && v6 < 2; v6++) {
            if (k == (v6 ? VSW_ACL_IPV4 : VSW_ACL_IPV6)) {
                continue;
            }
            char name[64];
            stateful_set_name(v6, &port->uuid, a->idle_timeout, name);
            if (!sset_add(&w->st_names, name)) {
                continue;           /* Already there. */
            }
            w->st = xrealloc(w->st, (w->n_st + 1) * sizeof *w->st);
            w->st[w->n_st++] = (struct stateful_set) { v6, a->idle_timeout };
        }
    }
    add_acls(&w->from, w, p, VSW_ACL_OUT, &port->uuid);
    add_acls(&w->to, w, p, VSW_ACL_IN, &port->uuid);
    rules_finish(&w->from);
    rules_finish(&w->to);
    smap_add_format(st, "acls", "%"PRIuSIZE, p->n_acls);
}

static void
wanted_destroy(struct wanted *w)
{
    free(w->from.r);
    free(w->to.r);
    shash_destroy_free_data(&w->acl_chains);
    free(w->st);
    sset_destroy(&w->st_names);
    struct shash_node *node;
    SHASH_FOR_EACH (node, &w->maps) {
        acl_map_destroy(node->data);
    }
    shash_destroy(&w->maps);
}

/* ---- The table's own objects, which every port shares. ---- */

/* Port-mac's keys: a device name, then a MAC in a register and a half. */
#define PORT_MAC_KEY_LEN (IFNAMSIZ + 8)

static void
port_mac_key(const char *dev, const uint8_t mac[6],
             uint8_t key[PORT_MAC_KEY_LEN])
{
    memset(key, 0, PORT_MAC_KEY_LEN);
    ovs_strzcpy((char *) key, dev, IFNAMSIZ);
    memcpy(key + IFNAMSIZ, mac, 6);
}

static void
ifname_key(const char *dev, char key[IFNAMSIZ])
{
    memset(key, 0, IFNAMSIZ);
    ovs_strzcpy(key, dev, IFNAMSIZ);
}

/* Vsw's own chains: the two base chains, then those they jump to. */
enum { STATIC_FROM, STATIC_TO, STATIC_GUARD, STATIC_SPOOFED, N_STATIC };
static const char *const static_names[N_STATIC] = {
    FROM_BASE, TO_BASE, GUARD_CHAIN, SPOOFED_CHAIN,
};

/* The hook and priority of base chain 'which' (STATIC_FROM, STATIC_TO);
 * its policy is accept. */
static void
base_hook(int which, int *hook, int *prio)
{
    *hook = which == STATIC_FROM ? NF_BR_PRE_ROUTING : NF_BR_POST_ROUTING;
    *prio = which == STATIC_FROM ? -200 : 200;
}

/* Base chains read back that exist with another hook, priority or policy,
 * or as ordinary chains: build_table() deletes them before making them
 * again (the kernel changes neither in place). */
static bool base_remake[N_STATIC];

/* "iifname vmap @from-port" / "oifname vmap @to-port". */
static void
rule_dispatch(struct dp_nft_rule *r, const char *map, bool in)
{
    dp_nft_rule_init(r, DP_NFT_CONTINUE, "dispatch %s", map);
    rule_iifname_in(r, DP_NFT_SET_VMAP, map);
    if (!in) {
        static const struct dp_nft_field oif = {
            DP_NFT_META, IFNAMSIZ, 0, NFT_META_OIFNAME };
        r->keys[0] = oif;
    }
}

/* The rules of vsw's chain 'which', made once. */
static const struct rules *
static_rules(int which)
{
    static struct rules rules[N_STATIC];
    struct rules *rs = &rules[which];
    if (rs->n) {
        return rs;
    }
    struct dp_nft_rule *r;
    switch (which) {
    case STATIC_FROM:
        /* "iifname @mac-guarded jump guard-mac", then the dispatch. */
        r = rules_add(rs);
        dp_nft_rule_init(r, DP_NFT_JUMP, "guard mac-spoofing ports");
        rule_iifname_in(r, DP_NFT_SET_LOOKUP, GUARDED_SET);
        ovs_strzcpy(r->jump, GUARD_CHAIN, sizeof r->jump);
        rule_dispatch(rules_add(rs), FROM_MAP, true);
        break;
    case STATIC_TO:
        rule_dispatch(rules_add(rs), TO_MAP, false);
        break;
    case STATIC_GUARD:
        spoof_guard_rules(rs);
        break;
    case STATIC_SPOOFED:
        /* "update @mac-spoofing-drops { iifname }": each device's spoofed
         * frames counted in its element; then "drop", in a rule of its
         * own, as an update that fails (the set full) ends its rule. */
        r = rules_add(rs);
        dp_nft_rule_init(r, DP_NFT_CONTINUE, "guard mac-spoofing count");
        rule_iifname_in(r, DP_NFT_SET_UPDATE, DROPS_SET);
        dp_nft_rule_init(rules_add(rs), DP_NFT_DROP,
                         "guard mac-spoofing drop");
        break;
    default:
        OVS_NOT_REACHED();
    }
    rules_finish(rs);
    return rs;
}

/* Makes the table, its maps, sets and chains, and their rules (after a
 * flush of the ruleset, on the first start, or when someone changed
 * them); the base chains look nothing up (base_changes() adds what the
 * elements want). */
static void
build_table(struct dp_nft_batch *b)
{
    dp_nft_add_table(b, TABLE_COMMENT);
    dp_nft_add_ifname_vmap(b, FROM_MAP);
    dp_nft_add_ifname_vmap(b, TO_MAP);
    dp_nft_add_set(b, GUARDED_SET, DP_NFT_TYPE_IFNAME, IFNAMSIZ, false);
    dp_nft_add_set(b, PORT_MAC_SET,
                   DP_NFT_TYPE_CONCAT(DP_NFT_TYPE_IFNAME, DP_NFT_TYPE_ETHER),
                   PORT_MAC_KEY_LEN, false);
    const struct dp_nft_field nd_key[2] = { f_iifname, f_nd_lla };
    dp_nft_add_typeof_set(b, PORT_MAC_ND_SET, nd_key, 2);
    dp_nft_add_set(b, DROPS_SET, DP_NFT_TYPE_IFNAME, IFNAMSIZ, true);
    /* Those jumped to before those that jump. */
    for (int i = N_STATIC; i-- > 0;) {
        if (i == STATIC_FROM || i == STATIC_TO) {
            if (base_remake[i]) {
                dp_nft_flush_chain(b, static_names[i]);
                dp_nft_del_chain(b, static_names[i]);
            }
            int hook, prio;
            base_hook(i, &hook, &prio);
            dp_nft_add_base_chain(b, static_names[i], hook, prio, NULL);
        } else {
            dp_nft_add_chain(b, static_names[i]);
        }
        dp_nft_flush_chain(b, static_names[i]);
        if (i == STATIC_FROM || i == STATIC_TO) {
            continue;
        }
        const struct rules *rs = static_rules(i);
        for (size_t k = 0; k < rs->n; k++) {
            dp_nft_add_rule(b, static_names[i], &rs->r[k]);
        }
    }
}

/* ---- What vsw believes the table holds. ---- */

/* A port's elements, by where they are: in map from-port, in map to-port
 * (as ELEM_FROM is 1 and ELEM_TO 0, a 'from' flag picks one of them), in
 * set mac-guarded (and, with its MAC, in set port-mac). */
enum elem { ELEM_TO, ELEM_FROM, ELEM_GUARD, N_ELEMS };

struct installed {
    struct hmap_node node;
    struct uuid port;
    struct uuid sw;             /* Its switch, when known. */
    char key[N_ELEMS][IFNAMSIZ];    /* Its elements ("" if none). */
    uint8_t guard_mac[6];           /* With key[ELEM_GUARD]. */
    bool from_chain, to_chain;  /* Chains that exist. */
    uint32_t from_digest, to_digest;
    struct sset objs;           /* Its maps, ACL chains (by name: see
                                 * "Grouped ACLs") and stateful sets. */
    /* The port's policy as last put in force: wanted_inputs() of what it
     * was built from, and the status it was given.  A pass finding the
     * same inputs reuses them instead of building 1000 ports' rules again
     * (NULL 'status': not known, built). */
    uint64_t inputs;
    struct smap *status;
    unsigned int pass;          /* The last pass whose ports had it. */
};

static struct hmap installed = HMAP_INITIALIZER(&installed);
static bool table_known;        /* 'installed' matches the kernel. */
static bool table_ok;           /* The table and its base chains exist. */
static bool table_foreign;      /* A table of that name is not vsw's. */
static struct sset stale = SSET_INITIALIZER(&stale);
                                /* Maps and ACL chains whose contents are
                                 * not what their names say (changed by
                                 * someone else). */
/* Elements of mac-guarded and port-mac that no port of vsw's has (made
 * by someone else): deleted by the next pass. */
struct stray {
    const char *set;
    struct dp_nft_elem elem;
};
static struct stray *strays;
static size_t n_strays;

static void
strays_clear(void)
{
    for (size_t i = 0; i < n_strays; i++) {
        free(strays[i].elem.comment);
    }
    free(strays);
    strays = NULL;
    n_strays = 0;
}

static void
stray_add(const char *set, const struct dp_nft_elem *e)
{
    strays = xrealloc(strays, (n_strays + 1) * sizeof *strays);
    strays[n_strays].set = set;
    strays[n_strays].elem = *e;
    strays[n_strays].elem.comment = xstrdup(e->comment);
    n_strays++;
}

/* Who holds each element, by device name, in each of enum elem's places,
 * as the kernel's maps and sets have one element per name: kept by
 * key_set(), so that finding whether a new port's name is another's costs
 * no walk of every port. */
static struct shash holders[N_ELEMS] = {
    SHASH_INITIALIZER(&holders[0]), SHASH_INITIALIZER(&holders[1]),
    SHASH_INITIALIZER(&holders[2]),
};

/* Sets 'in''s element in place 'e' to 'dev' ("" for none), in 'holders'
 * too. */
static void
key_set(struct installed *in, enum elem e, const char *dev)
{
    char *key = in->key[e];
    if (key[0] && shash_find_data(&holders[e], key) == in) {
        shash_find_and_delete(&holders[e], key);
    }
    ovs_strzcpy(key, dev, IFNAMSIZ);
    if (key[0]) {
        shash_replace(&holders[e], key, in);
    }
}

static struct installed *
installed_find(const struct uuid *port, bool create)
{
    struct installed *in;
    HMAP_FOR_EACH_WITH_HASH (in, node, uuid_hash(port), &installed) {
        if (uuid_equals(&in->port, port)) {
            return in;
        }
    }
    if (!create) {
        return NULL;
    }
    in = xzalloc(sizeof *in);
    in->port = *port;
    sset_init(&in->objs);
    hmap_insert(&installed, &in->node, uuid_hash(port));
    return in;
}

/* Forgets what 'in''s port was last put in force with: its next pass
 * builds its policy again. */
static void
memo_forget(struct installed *in)
{
    if (in->status) {
        smap_destroy(in->status);
        free(in->status);
        in->status = NULL;
    }
}

static void
installed_free(struct installed *in)
{
    for (int e = 0; e < N_ELEMS; e++) {
        key_set(in, e, "");
    }
    sset_destroy(&in->objs);
    memo_forget(in);
    free(in);
}

static void
installed_clear(void)
{
    struct installed *in;
    HMAP_FOR_EACH_POP (in, node, &installed) {
        installed_free(in);
    }
}

/* If 'name' is a map, ACL chain or stateful set of a port ('prefix' "m-",
 * "a-", "st4-" or "st6-", then the port's uuid, then the end or a "-"),
 * that port's uuid into 'port'. */
static bool
obj_port(const char *name, const char *prefix, struct uuid *port)
{
    char id[UUID_LEN + 1];
    size_t len = strlen(prefix);
    if (strncmp(name, prefix, len) || strlen(name) < len + UUID_LEN
        || (name[len + UUID_LEN] && name[len + UUID_LEN] != '-')) {
        return false;
    }
    ovs_strzcpy(id, name + len, sizeof id);
    return uuid_from_string(port, id);
}

/* The device named by element 'e' of set mac-guarded into 'dev', if 'e'
 * is one vsw makes (its key exactly ifname_key()'s: no bytes after the
 * name's NUL), else "". */
static void
guarded_dev(const struct dp_nft_elem *e, char dev[IFNAMSIZ])
{
    char key[IFNAMSIZ];
    ovs_strzcpy(dev, (const char *) e->key, MIN(IFNAMSIZ, e->key_len + 1));
    ifname_key(dev, key);
    if (e->key_len != IFNAMSIZ || memcmp(e->key, key, IFNAMSIZ)) {
        dev[0] = '\0';
    }
}

/* Whether element 'e' of set port-mac or port-mac-nd is one vsw makes for
 * a port (its key exactly port_mac_key()'s for a device and a MAC, its
 * comment "port <uuid>"); if so, that port's uuid into 'port', the device
 * into 'dev'. */
static bool
port_mac_elem(const struct dp_nft_elem *e, struct uuid *port,
              char dev[IFNAMSIZ])
{
    uint8_t key[PORT_MAC_KEY_LEN];
    if (e->key_len != PORT_MAC_KEY_LEN) {
        return false;
    }
    ovs_strzcpy(dev, (const char *) e->key, IFNAMSIZ);
    port_mac_key(dev, e->key + IFNAMSIZ, key);
    return (dev[0] && !memcmp(e->key, key, sizeof key)
            && !strncmp(e->comment, "port ", 5)
            && uuid_from_string(port, e->comment + 5));
}

/* What identifies port-mac (or port-mac-nd) element 'e' of device 'dev':
 * the device, the MAC and the comment.  The caller frees it. */
static char *
port_mac_id(const struct dp_nft_elem *e, const char *dev)
{
    const uint8_t *m = e->key + IFNAMSIZ;
    return xasprintf("%s %02x:%02x:%02x:%02x:%02x:%02x %s", dev,
                     m[0], m[1], m[2], m[3], m[4], m[5], e->comment);
}

/* Reads the MAC spoofing guard's elements back from those of its sets
 * that exist ('sets'): a port's, by the port named in its elements'
 * comments, when it has all three (mac-guarded, port-mac and port-mac-nd,
 * the last two of one device and MAC); anything else is a stray.
 * Returns 0 or an errno. */
static int
read_guards(const struct rc_policy_ops *po, const struct sset *sets)
{
    static const char *const names[3] = {
        GUARDED_SET, PORT_MAC_SET, PORT_MAC_ND_SET,
    };
    struct dp_nft_elem *el[3] = { NULL, NULL, NULL };
    size_t n_el[3] = { 0, 0, 0 };
    int error = 0;
    for (int k = 0; k < 3 && !error; k++) {
        if (sset_contains(sets, names[k])) {
            error = po->dump_elems(names[k], &el[k], &n_el[k]);
        }
    }
    if (error) {
        goto out;
    }

    /* Devices in mac-guarded; port-mac-nd's elements by key. */
    struct sset guarded = SSET_INITIALIZER(&guarded);
    for (size_t i = 0; i < n_el[0]; i++) {
        char dev[IFNAMSIZ];
        guarded_dev(&el[0][i], dev);
        if (!dev[0]) {
            stray_add(GUARDED_SET, &el[0][i]);
        } else {
            sset_add(&guarded, dev);
        }
    }
    struct shash nd = SHASH_INITIALIZER(&nd);
    for (size_t i = 0; i < n_el[2]; i++) {
        const struct dp_nft_elem *e = &el[2][i];
        char dev[IFNAMSIZ];
        struct uuid u;
        if (port_mac_elem(e, &u, dev)) {
            char *key = port_mac_id(e, dev);
            shash_add_nocopy(&nd, key, CONST_CAST(struct dp_nft_elem *, e));
        } else {
            stray_add(PORT_MAC_ND_SET, e);
        }
    }
    for (size_t i = 0; i < n_el[1]; i++) {
        const struct dp_nft_elem *e = &el[1][i];
        char dev[IFNAMSIZ];
        struct uuid u;
        struct installed *in = NULL;
        if (port_mac_elem(e, &u, dev) && sset_contains(&guarded, dev)
            && !shash_find(&holders[ELEM_GUARD], dev)) {
            char *key = port_mac_id(e, dev);
            if (shash_find_and_delete(&nd, key)) {
                in = installed_find(&u, true);
            }
            free(key);
        }
        if (in && !in->key[ELEM_GUARD][0]) {
            key_set(in, ELEM_GUARD, dev);
            memcpy(in->guard_mac, e->key + IFNAMSIZ, 6);
        } else {
            stray_add(PORT_MAC_SET, e);
            if (in) {
                /* Its port-mac-nd element, taken from 'nd' above. */
                struct dp_nft_elem nde = *e;
                stray_add(PORT_MAC_ND_SET, &nde);
            }
        }
    }
    struct shash_node *sn;
    SHASH_FOR_EACH (sn, &nd) {
        stray_add(PORT_MAC_ND_SET, sn->data);   /* No port-mac element. */
    }
    shash_destroy(&nd);
    for (size_t i = 0; i < n_el[0]; i++) {
        char dev[IFNAMSIZ];
        guarded_dev(&el[0][i], dev);
        if (dev[0] && !shash_find(&holders[ELEM_GUARD], dev)) {
            stray_add(GUARDED_SET, &el[0][i]);  /* No port-mac element. */
        }
    }
    sset_destroy(&guarded);
    if (n_strays) {
        VLOG_INFO("%"PRIuSIZE" elements of sets %s, %s and %s were not made "
                  "by vsw (or are incomplete); deleting them", n_strays,
                  GUARDED_SET, PORT_MAC_SET, PORT_MAC_ND_SET);
    }

out:
    for (int k = 0; k < 3; k++) {
        dp_nft_elems_free(el[k], n_el[k]);
    }
    return error;
}

/* ---- Base chains. ----
 *
 * A base chain runs for every frame that crosses any bridge of the host,
 * and each lookup in it costs that frame even when its set or map is
 * empty: three empty lookups took 10 % of a 64-byte UDP rate through a
 * bridge here, which a port with no policy (the common case) must not
 * pay.  So each rule of from-ports and to-ports is in its chain only
 * while its set or map has elements (enum elem: the guard's rule while
 * mac-guarded has any, each dispatch while its map has any): a batch
 * that adds the first element or deletes the last rewrites the chain in
 * the same transaction. */

/* The place (enum elem) whose elements rule 'k' of base chain 'which'
 * looks up. */
static int
base_rule_elem(int which, size_t k)
{
    return (which == STATIC_TO ? ELEM_TO
            : k == 0 ? ELEM_GUARD : ELEM_FROM);
}

/* What the kernel's base chains have: base_has[e] if the rule that looks
 * up place 'e' is in its chain. */
static bool base_has[N_ELEMS];

/* Copies into 'out' the rules of base chain 'which' that form 'form'
 * wants; returns how many. */
static size_t
base_rules(int which, const bool form[N_ELEMS], struct dp_nft_rule out[2])
{
    const struct rules *rs = static_rules(which);
    size_t n = 0;
    for (size_t k = 0; k < rs->n; k++) {
        if (form[base_rule_elem(which, k)]) {
            out[n++] = rs->r[k];
        }
    }
    return n;
}

/* Adds to 'b' base chain 'which' rewritten for form 'form'. */
static void
base_rewrite(struct dp_nft_batch *b, int which, const bool form[N_ELEMS])
{
    struct dp_nft_rule r[2];
    size_t n = base_rules(which, form, r);
    dp_nft_flush_chain(b, static_names[which]);
    for (size_t k = 0; k < n; k++) {
        dp_nft_add_rule(b, static_names[which], &r[k]);
    }
}

/* Whether chain 'c' read back is base chain 'which' in one of its forms;
 * if so, sets that form's places in 'base_has'. */
static bool
base_read(int which, const struct dp_nft_chain *c)
{
    int hook, prio;
    base_hook(which, &hook, &prio);
    if (c && (!c->base || c->hook != hook || c->prio != prio
              || c->policy != NF_ACCEPT)) {
        VLOG_INFO("chain %s of table bridge %s is not the base chain vsw "
                  "makes (hook, priority, policy); making it again",
                  static_names[which], RC_NFT_TABLE);
        base_remake[which] = true;
        return false;
    }
    if (!c) {
        return false;
    }
    uint32_t digest = dp_nft_chain_digest(c);
    size_t n_rules = static_rules(which)->n;
    for (unsigned int bits = 0; bits < 1u << n_rules; bits++) {
        bool form[N_ELEMS] = { false };
        for (size_t k = 0; k < n_rules; k++) {
            form[base_rule_elem(which, k)] = bits & (1u << k);
        }
        struct dp_nft_rule r[2];
        size_t n = base_rules(which, form, r);
        if (dp_nft_rules_digest(r, n) == digest) {
            for (size_t k = 0; k < n_rules; k++) {
                int e = base_rule_elem(which, k);
                base_has[e] = form[e];
            }
            return true;
        }
    }
    return false;
}

/* Adds to 'b' what gives the base chains, which have form 'cur', the
 * form 'holders' will say once 'b' is applied (the ports 'gone', whose
 * removal 'b' has, hold theirs until then), and puts that form in
 * 'form'. */
static void
base_changes(struct dp_nft_batch *b, const bool cur[N_ELEMS],
             struct installed **gone, size_t n_gone, bool form[N_ELEMS])
{
    for (int e = 0; e < N_ELEMS; e++) {
        size_t n = shash_count(&holders[e]);
        for (size_t g = 0; g < n_gone; g++) {
            const char *key = gone[g]->key[e];
            n -= key[0] && shash_find_data(&holders[e], key) == gone[g];
        }
        form[e] = n > 0;
    }
    if (form[ELEM_GUARD] != cur[ELEM_GUARD]
        || form[ELEM_FROM] != cur[ELEM_FROM]) {
        base_rewrite(b, STATIC_FROM, form);
    }
    if (form[ELEM_TO] != cur[ELEM_TO]) {
        base_rewrite(b, STATIC_TO, form);
    }
}

/* Reads the table back into 'installed'.  Returns 0 or an errno. */
static int
read_table(const struct rc_policy_ops *po, bool distrust)
{
    struct dp_nft_table t;
    dp_nft_table_init(&t);
    int error = po->dump(true, &t);
    installed_clear();
    sset_clear(&stale);
    strays_clear();
    table_ok = table_foreign = false;
    if (error) {
        dp_nft_table_destroy(&t);
        return error;
    }
    if (t.exists && (!t.comment || strcmp(t.comment, TABLE_COMMENT))) {
        table_foreign = true;
        dp_nft_table_destroy(&t);
        table_known = true;
        return 0;
    }
    struct shash_node *sn;
    SHASH_FOR_EACH (sn, &t.chains) {
        const struct dp_nft_chain *c = sn->data;
        struct uuid u;
        if (obj_port(sn->name, "a-", &u)) {
            sset_add(&installed_find(&u, true)->objs, sn->name);
            struct dp_nft_rule r;
            if (!acl_chain_parse(sn->name, &r)
                || dp_nft_rules_digest(&r, 1) != dp_nft_chain_digest(c)) {
                VLOG_INFO("chain %s: its rules were changed by another "
                          "program; writing them again", sn->name);
                sset_add(&stale, sn->name);
            }
            continue;
        }
        bool from = !strncmp(sn->name, "from-", 5);
        if ((from || !strncmp(sn->name, "to-", 3))
            && uuid_from_string(&u, sn->name + (from ? 5 : 3))) {
            struct installed *in = installed_find(&u, true);
            if (from) {
                in->from_chain = true;
                in->from_digest = dp_nft_chain_digest(c);
            } else {
                in->to_chain = true;
                in->to_digest = dp_nft_chain_digest(c);
            }
        }
    }
    const char *set;
    SSET_FOR_EACH (set, &t.sets) {
        struct uuid u;
        if (obj_port(set, "m-", &u)) {
            sset_add(&installed_find(&u, true)->objs, set);
            uint32_t digest;
            char name[64];
            if (distrust && !po->vmap_digest(set, &digest)) {
                map_name(&u, digest, name);
                if (strcmp(name, set)) {
                    VLOG_INFO("map %s: its elements were changed by "
                              "another program; filling it again", set);
                    sset_add(&stale, set);
                }
            }
            continue;
        }
        if (obj_port(set, "st4-", &u) || obj_port(set, "st6-", &u)) {
            sset_add(&installed_find(&u, true)->objs, set);
        }
    }
    /* Vsw's own objects as they should be, or all made again. */
    bool bases = t.exists;
    memset(base_has, 0, sizeof base_has);
    memset(base_remake, 0, sizeof base_remake);
    for (int i = 0; bases && i < N_STATIC; i++) {
        const struct dp_nft_chain *c = shash_find_data(&t.chains,
                                                       static_names[i]);
        const struct rules *rs = static_rules(i);
        bases = (i == STATIC_FROM || i == STATIC_TO ? base_read(i, c)
                 : (c && !c->base
                    && dp_nft_chain_digest(c) == dp_nft_rules_digest(
                        rs->r, rs->n)));
    }
    static const char *const shared_sets[] = {
        FROM_MAP, TO_MAP, GUARDED_SET, PORT_MAC_SET, PORT_MAC_ND_SET,
        DROPS_SET,
    };
    for (size_t i = 0; bases && i < ARRAY_SIZE(shared_sets); i++) {
        bases = sset_contains(&t.sets, shared_sets[i]);
    }
    /* The elements, whatever the state of the chains (made again if they
     * are not as they should be, by a table of an older vsw or by someone
     * else): a port's chain goes only once its element is gone. */
    for (int m = 0; !error && m < 2; m++) {
        const char *map = m ? TO_MAP : FROM_MAP;
        if (!sset_contains(&t.sets, map)) {
            continue;
        }
        struct shash elems = SHASH_INITIALIZER(&elems);
        error = po->dump_map(map, &elems);
        SHASH_FOR_EACH (sn, &elems) {
            const char *chain = sn->data;
            struct uuid u;
            const char *prefix = m ? "to-" : "from-";
            if (!strncmp(chain, prefix, strlen(prefix))
                && uuid_from_string(&u, chain + strlen(prefix))) {
                struct installed *in = installed_find(&u, true);
                key_set(in, !m, sn->name);
            }
        }
        shash_destroy_free_data(&elems);
    }
    if (!error) {
        error = read_guards(po, &t.sets);
    }
    table_ok = bases && !error;
    table_known = !error;
    dp_nft_table_destroy(&t);
    return error;
}

/* ---- Changes. ---- */

static char *
chain_name(bool from, const struct uuid *port)
{
    return xasprintf("%s-"UUID_FMT, from ? "from" : "to", UUID_ARGS(port));
}

/* Adds to 'b' the deletion of the maps and sets, then of the ACL chains,
 * in 'objs' that 'w' does not want (all of them if 'w' is NULL); once the
 * chains that look them up are gone or rewritten.  Returns whether it
 * added anything. */
static bool
objs_removal(struct dp_nft_batch *b, const struct sset *objs,
             const struct wanted *w)
{
    bool any = false;
    for (int sets = 1; sets >= 0; sets--) {
        const char *name;
        SSET_FOR_EACH (name, objs) {
            bool chain = !strncmp(name, "a-", 2);
            if (sets == chain
                || (w && (chain ? shash_find(&w->acl_chains, name) != NULL
                          : (shash_find(&w->maps, name)
                             || sset_contains(&w->st_names, name))))) {
                continue;
            }
            if (sets) {
                dp_nft_del_set(b, name);
            } else {
                dp_nft_del_chain(b, name);
            }
            any = true;
        }
    }
    return any;
}

/* The MAC spoofing guard's elements for 'in''s port on device 'dev' with
 * MAC 'mac', added to 'b'. */
static void
guard_add(struct dp_nft_batch *b, const struct installed *in,
          const char *dev, const uint8_t mac[6])
{
    char ifkey[IFNAMSIZ];
    uint8_t pmkey[PORT_MAC_KEY_LEN];
    ifname_key(dev, ifkey);
    port_mac_key(dev, mac, pmkey);
    char *comment = xasprintf("port "UUID_FMT, UUID_ARGS(&in->port));
    char *what = xasprintf("%s (%s)", dev, comment);
    dp_nft_elem_add(b, GUARDED_SET, ifkey, sizeof ifkey, comment, what);
    dp_nft_elem_add(b, PORT_MAC_SET, pmkey, sizeof pmkey, comment, what);
    dp_nft_elem_add(b, PORT_MAC_ND_SET, pmkey, sizeof pmkey, comment, what);
    free(what);
    free(comment);
}

/* The deletion of 'in''s MAC spoofing guard elements, added to 'b'; the
 * count of its device's spoofed frames starts again. */
static void
guard_removal(struct dp_nft_batch *b, const struct installed *in)
{
    const char *dev = in->key[ELEM_GUARD];
    char ifkey[IFNAMSIZ];
    uint8_t pmkey[PORT_MAC_KEY_LEN];
    ifname_key(dev, ifkey);
    port_mac_key(dev, in->guard_mac, pmkey);
    char *what = xasprintf("%s (port "UUID_FMT")", dev, UUID_ARGS(&in->port));
    dp_nft_elem_del(b, GUARDED_SET, ifkey, sizeof ifkey, what);
    dp_nft_elem_del(b, PORT_MAC_SET, pmkey, sizeof pmkey, what);
    dp_nft_elem_del(b, PORT_MAC_ND_SET, pmkey, sizeof pmkey, what);
    dp_nft_elem_reset(b, DROPS_SET, ifkey, sizeof ifkey, what);
    free(what);
}

/* Adds to 'b' what turns 'in' into 'w' for port 'port' on device 'dev';
 * updates 'in' to what it will be once 'b' is applied.  Returns whether
 * anything was added. */
static bool
port_changes(struct dp_nft_batch *b, struct installed *in,
             const struct wanted *w, const struct uuid *port,
             const char *dev)
{
    bool any = false;
    for (size_t i = 0; i < w->n_st; i++) {
        struct dp_nft_rule key;
        stateful_key(&key, w->st[i].v6, VSW_ACL_OUT, port, w->st[i].timeout);
        if (!sset_contains(&in->objs, key.set)) {
            dp_nft_add_timeout_set(b, key.set, stateful_key_type(w->st[i].v6),
                                   dp_nft_key_len(key.keys, key.n_keys));
            any = true;
        }
    }
    /* New ACL chains, then the maps that jump to them, then the port's
     * chains that look them up; what is no longer wanted goes after. */
    struct shash_node *sn;
    SHASH_FOR_EACH (sn, &w->acl_chains) {
        if (!sset_contains(&in->objs, sn->name)) {
            dp_nft_add_chain(b, sn->name);
            dp_nft_add_rule(b, sn->name, sn->data);
            any = true;
        } else if (sset_contains(&stale, sn->name)) {
            dp_nft_flush_chain(b, sn->name);
            dp_nft_add_rule(b, sn->name, sn->data);
            any = true;
        }
    }
    SHASH_FOR_EACH (sn, &w->maps) {
        const struct acl_map *m = sn->data;
        if (!sset_contains(&in->objs, sn->name)) {
            dp_nft_add_vmap(b, sn->name, m->key_type, m->key_len,
                            (const uint8_t (*)[16]) m->keys, m->chains,
                            m->n);
            any = true;
        } else if (sset_contains(&stale, sn->name)) {
            dp_nft_refill_vmap(b, sn->name, m->key_len,
                               (const uint8_t (*)[16]) m->keys, m->chains,
                               m->n);
            any = true;
        }
    }
    bool same_guard = (w->guard && !strcmp(in->key[ELEM_GUARD], dev)
                       && !memcmp(in->guard_mac, w->mac, 6));
    if (in->key[ELEM_GUARD][0] && !same_guard) {
        guard_removal(b, in);
        key_set(in, ELEM_GUARD, "");
        any = true;
    }
    if (w->guard && !same_guard) {
        guard_add(b, in, dev, w->mac);
        key_set(in, ELEM_GUARD, dev);
        memcpy(in->guard_mac, w->mac, 6);
        any = true;
    }
    for (int from = 0; from < 2; from++) {
        const struct rules *rs = from ? &w->from : &w->to;
        uint32_t digest = dp_nft_rules_digest(rs->r, rs->n);
        bool *exists = from ? &in->from_chain : &in->to_chain;
        uint32_t *have = from ? &in->from_digest : &in->to_digest;
        const char *key = in->key[from];
        const char *map = from ? FROM_MAP : TO_MAP;
        char *chain = chain_name(from, port);
        if (!rs->n) {
            /* Nothing to do in that direction: no chain, no element. */
            if (key[0]) {
                dp_nft_map_del(b, map, key);
                key_set(in, from, "");
                any = true;
            }
            if (*exists) {
                dp_nft_del_chain(b, chain);
                *exists = false;
                any = true;
            }
            free(chain);
            continue;
        }
        if (!*exists || *have != digest) {
            if (*exists) {
                dp_nft_flush_chain(b, chain);
            } else {
                dp_nft_add_chain(b, chain);
            }
            for (size_t i = 0; i < rs->n; i++) {
                dp_nft_add_rule(b, chain, &rs->r[i]);
            }
            *exists = true;
            *have = digest;
            any = true;
        }
        if (strcmp(key, dev)) {
            if (key[0]) {
                dp_nft_map_del(b, map, key);
            }
            dp_nft_map_add(b, map, dev, chain);
            key_set(in, from, dev);
            any = true;
        }
        free(chain);
    }
    any |= objs_removal(b, &in->objs, w);
    sset_clear(&in->objs);
    SHASH_FOR_EACH (sn, &w->acl_chains) {
        sset_add(&in->objs, sn->name);
    }
    SHASH_FOR_EACH (sn, &w->maps) {
        sset_add(&in->objs, sn->name);
    }
    const char *name;
    SSET_FOR_EACH (name, &w->st_names) {
        sset_add(&in->objs, name);
    }
    return any;
}

/* Adds to 'b' the removal of everything of 'in''s port. */
static void
port_removal(struct dp_nft_batch *b, const struct installed *in)
{
    for (int from = 0; from < 2; from++) {
        const char *key = in->key[from];
        if (key[0]) {
            dp_nft_map_del(b, from ? FROM_MAP : TO_MAP, key);
        }
    }
    if (in->key[ELEM_GUARD][0]) {
        guard_removal(b, in);
    }
    for (int from = 0; from < 2; from++) {
        if (from ? in->from_chain : in->to_chain) {
            char *chain = chain_name(from, &in->port);
            dp_nft_del_chain(b, chain);
            free(chain);
        }
    }
    objs_removal(b, &in->objs, NULL);
}

/* Whether a port that wants 'w' wants an element in place 'e'. */
static bool
wants_elem(const struct wanted *w, enum elem e)
{
    return (e == ELEM_GUARD ? w->guard
            : e == ELEM_FROM ? w->from.n > 0
            : w->to.n > 0);
}

struct pending {
    struct rc_port *port;
    uint64_t inputs;            /* wanted_inputs() of 'port'. */
    struct uuid sw;             /* Its switch. */
    struct installed before;    /* To put back if its batch fails. */
    struct wanted w;
    char dev[IFNAMSIZ];
};

static void
port_policy_error(struct rc_port *port, const char *fmt, ...)
    OVS_PRINTF_FORMAT(2, 3);
static void
port_policy_error(struct rc_port *port, const char *fmt, ...)
{
    va_list args;
    struct ds s = DS_EMPTY_INITIALIZER;
    va_start(args, fmt);
    ds_put_format_valist(&s, fmt, args);
    va_end(args);
    smap_replace(&port->policy_status, "policy", "error");
    rc_err(&port->ok, &port->error, "%s", ds_cstr(&s));
    ds_destroy(&s);
}

/* Another port's element on device name 'dev' (a port deleted and made
 * again, two ports that swapped names): the entry holding it in place
 * 'e', other than 'self' and those in 'gone', or NULL. */
static struct installed *
key_holder(const char *dev, enum elem e, const struct installed *self,
           struct installed **gone, size_t n_gone)
{
    struct installed *in = shash_find_data(&holders[e], dev);
    if (!in || in == self) {
        return NULL;
    }
    for (size_t g = 0; g < n_gone; g++) {
        if (gone[g] == in) {
            return NULL;        /* Its element goes first. */
        }
    }
    return in;
}

/* Commits, in one batch, the removal of 'gone' (first: a new port may take
 * a name one of them had) and the changes of ports 'pend[lo..hi)', with the
 * table itself if it is not there.  Returns 0 or an errno; on failure
 * 'installed' is as before. */
static int
commit_some(const struct rc_policy_ops *po, struct pending *pend,
            size_t lo, size_t hi, struct installed **gone, size_t n_gone,
            bool *changed)
{
    struct dp_nft_batch *b = dp_nft_batch_create(
        NFPROTO_BRIDGE, RC_NFT_TABLE, !table_ok || hi - lo + n_gone > 4);
    bool cur[N_ELEMS];
    memcpy(cur, base_has, sizeof cur);
    if (!table_ok) {
        build_table(b);
        memset(cur, 0, sizeof cur);
    }
    for (size_t g = 0; g < n_gone; g++) {
        port_removal(b, gone[g]);
    }
    /* Elements taken from another port: its key is cleared at once, so
     * that its own changes later in this batch do not delete the element
     * just added on that name (a port renamed while a new one takes its
     * old name); put back if the batch fails. */
    struct taken {
        struct installed *in;
        enum elem e;
        char key[IFNAMSIZ];
    } *taken = NULL;
    size_t n_taken = 0;
    for (size_t i = lo; i < hi; i++) {
        struct pending *pp = &pend[i];
        struct installed *pin = installed_find(&pp->port->uuid, true);
        pp->before = *pin;
        sset_clone(&pp->before.objs, &pin->objs);   /* Its own copy. */
        pin->sw = pp->sw;
        for (int e = 0; e < N_ELEMS; e++) {
            if (!wants_elem(&pp->w, e) || !strcmp(pin->key[e], pp->dev)) {
                continue;
            }
            struct installed *h = key_holder(pp->dev, e, pin, gone, n_gone);
            if (h) {
                if (e == ELEM_GUARD) {
                    guard_removal(b, h);
                } else {
                    dp_nft_map_del(b, e == ELEM_FROM ? FROM_MAP : TO_MAP,
                                   pp->dev);
                }
                taken = xrealloc(taken, (n_taken + 1) * sizeof *taken);
                struct taken *t = &taken[n_taken++];
                t->in = h;
                t->e = e;
                ovs_strzcpy(t->key, h->key[e], IFNAMSIZ);
                key_set(h, e, "");
            }
        }
        port_changes(b, pin, &pp->w, &pp->port->uuid, pp->dev);
    }
    bool form[N_ELEMS];
    base_changes(b, cur, gone, n_gone, form);
    int error = dp_nft_batch_size(b) ? po->commit(b) : 0;
    *changed |= dp_nft_batch_size(b) > 0;
    dp_nft_batch_destroy(b);
    if (!error) {
        table_ok = true;
        memcpy(base_has, form, sizeof base_has);
        memset(base_remake, 0, sizeof base_remake);
        for (size_t k = 0; k < n_taken; k++) {
            /* Its element went: what it has in force is no longer what
             * its memo says. */
            memo_forget(taken[k].in);
        }
        free(taken);
        for (size_t g = 0; g < n_gone; g++) {
            hmap_remove(&installed, &gone[g]->node);
            installed_free(gone[g]);
        }
        for (size_t i = lo; i < hi; i++) {
            sset_destroy(&pend[i].before.objs);
            struct shash_node *sn;
            SHASH_FOR_EACH (sn, &pend[i].w.maps) {
                sset_find_and_delete(&stale, sn->name);
            }
            SHASH_FOR_EACH (sn, &pend[i].w.acl_chains) {
                sset_find_and_delete(&stale, sn->name);
            }
        }
        return 0;
    }
    for (size_t i = lo; i < hi; i++) {
        struct installed *pin = installed_find(&pend[i].port->uuid, true);
        struct hmap_node node = pin->node;
        sset_destroy(&pin->objs);         /* What the batch would have. */
        for (int e = 0; e < N_ELEMS; e++) {
            key_set(pin, e, "");
        }
        *pin = pend[i].before;
        pin->node = node;
        sset_moved(&pin->objs);
        for (int e = 0; e < N_ELEMS; e++) {
            char key[IFNAMSIZ];
            ovs_strzcpy(key, pin->key[e], IFNAMSIZ);
            key_set(pin, e, key);
        }
    }
    /* The ports that were to go still hold their elements (a pending port
     * that took one of their names in 'holders' gave it back above). */
    for (size_t g = 0; g < n_gone; g++) {
        for (int e = 0; e < N_ELEMS; e++) {
            char key[IFNAMSIZ];
            ovs_strzcpy(key, gone[g]->key[e], IFNAMSIZ);
            key_set(gone[g], e, key);
        }
    }
    for (size_t k = n_taken; k-- > 0;) {
        key_set(taken[k].in, taken[k].e, taken[k].key);
    }
    free(taken);
    return error;
}

void
rc_converge_policy(struct rc_switch *switches, size_t n,
                   const struct rc_ops *ops, unsigned int flags,
                   const struct uuidset *scope, bool *changed)
{
    const struct rc_policy_ops *po = ops->policy;
    if (!po) {
        return;
    }
    if (flags & RC_DISTRUST) {
        /* The table is read back at start and when someone else changed
         * it (its notifications say so, or were lost): a safety resync
         * trusts what vsw made and heard, and costs no dump of 1000
         * ports' rules. */
        table_known = false;
    }
    if (!table_known && read_table(po, flags & RC_DISTRUST)) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "cannot read nftables table bridge %s: %s",
                     RC_NFT_TABLE, ops->error());
    }

    /* The ports of this pass. */
    struct pending *pend = NULL;
    size_t n_pend = 0, allocated = 0;
    static unsigned int pass;
    pass++;
    struct uuidset present_sw = UUIDSET_INITIALIZER(&present_sw);
    for (size_t i = 0; i < n; i++) {
        uuidset_insert(&present_sw, &switches[i].uuid);
        for (size_t j = 0; j < switches[i].n_ports; j++) {
            struct rc_port *port = &switches[i].ports[j];
            struct installed *in = installed_find(&port->uuid, false);
            if (in) {
                in->sw = switches[i].uuid;
                in->pass = pass;        /* Its port is in this pass. */
            }
            if (!port->dirty || !port->policy || port->config_error) {
                continue;
            }
            smap_clear(&port->policy_status);
            port->policy_kept = NULL;
            if (table_foreign) {
                port_policy_error(port, "port %s: its policy is not applied: "
                                  "a table bridge " RC_NFT_TABLE " exists "
                                  "that is not vsw's (rename or delete it)",
                                  port->name);
                continue;
            }
            if (!table_known) {
                /* A kernel without nftables (or its bridge family): the
                 * port works, unguarded, and says so. */
                smap_add_format(&port->policy_status, "policy",
                                "unavailable: cannot read nftables (%s)",
                                ops->error());
                continue;
            }
            if (port->policy->error) {
                /* Refused whole: what is in force stays. */
                port_policy_error(port, "%s", port->policy->error);
                continue;
            }
            uint64_t inputs = wanted_inputs(port);
            if (in && in->status && in->inputs == inputs) {
                /* In force as it would be built again (the table is
                 * trusted: what vsw made and heard): its status is the
                 * memo's, not copied. */
                port->policy_kept = in->status;
                continue;
            }
            if (n_pend >= allocated) {
                pend = x2nrealloc(pend, &allocated, sizeof *pend);
            }
            struct pending *pp = &pend[n_pend++];
            pp->port = port;
            pp->inputs = inputs;
            pp->sw = switches[i].uuid;
        }
    }
    /* Once 'pend' has stopped moving: a wanted's maps cannot move. */
    for (size_t i = 0; i < n_pend; i++) {
        wanted_build(pend[i].port, &pend[i].w);
        port_device(pend[i].port, pend[i].dev);
    }
    if (!table_known || table_foreign) {
        goto out;
    }

    /* The ports that went: in the scope and gone, or (a switch went) on
     * a switch that is no more; a full pass knows every port. */
    struct installed **gone = NULL;
    size_t n_gone = 0;
    /* A pass over a few ports looks at those only, not at every port's. */
    struct installed **cand;
    size_t n_cand = 0;
    if ((flags & RC_INCREMENTAL) && scope) {
        cand = xmalloc((uuidset_count(scope) + 1) * sizeof *cand);
        const struct uuidset_node *un;
        UUIDSET_FOR_EACH (un, scope) {
            struct installed *x = installed_find(&un->uuid, false);
            if (x) {
                cand[n_cand++] = x;
            }
        }
    } else {
        cand = xmalloc((hmap_count(&installed) + 1) * sizeof *cand);
        struct installed *x;
        HMAP_FOR_EACH (x, node, &installed) {
            cand[n_cand++] = x;
        }
    }
    for (size_t c = 0; c < n_cand; c++) {
        struct installed *in = cand[c];
        if (in->pass == pass) {
            continue;
        }
        if (!(flags & RC_INCREMENTAL) || scope
            || (!uuid_is_zero(&in->sw)
                && !uuidset_contains(&present_sw, &in->sw))) {
            if (!(flags & RC_MAY_DELETE)) {
                /* A damaged database may have lost the row that wants
                 * it: kept, as the devices are. */
                static struct vlog_rate_limit rl
                    = VLOG_RATE_LIMIT_INIT(1, 60);
                VLOG_WARN_RL(&rl, "keeping the policy of port "UUID_FMT
                             ", which no row wants: the database is "
                             "damaged", UUID_ARGS(&in->port));
                continue;
            }
            gone = xrealloc(gone, (n_gone + 1) * sizeof *gone);
            gone[n_gone++] = in;
        }
    }
    free(cand);

    if (n_strays) {
        /* Their own batch: it fails only if someone deleted them since
         * (the table is then read again). */
        struct dp_nft_batch *b = dp_nft_batch_create(
            NFPROTO_BRIDGE, RC_NFT_TABLE, n_strays > 32);
        for (size_t i = 0; i < n_strays; i++) {
            dp_nft_elem_del(b, strays[i].set, strays[i].elem.key,
                            strays[i].elem.key_len, "an element not vsw's");
        }
        if (po->commit(b)) {
            table_known = false;
        }
        *changed = true;
        dp_nft_batch_destroy(b);
        strays_clear();
    }

    /* One batch for all; if the kernel refuses it, one per port, so that
     * a port the kernel refuses keeps what it had and the others go on. */
    int error = commit_some(po, pend, 0, n_pend, gone, n_gone, changed);
    if (error && n_pend + n_gone > 1) {
        for (size_t i = 0; i < n_pend; i++) {
            if (commit_some(po, pend, i, i + 1, NULL, 0, changed)) {
                port_policy_error(pend[i].port, "port %s: the kernel refused "
                                  "its policy (%s); the rules in force are "
                                  "unchanged", pend[i].port->name,
                                  ops->error());
            }
        }
        error = n_gone ? commit_some(po, pend, 0, 0, gone, n_gone, changed)
                       : 0;
    } else if (error && n_pend) {
        port_policy_error(pend[0].port, "port %s: the kernel refused its "
                          "policy (%s); the rules in force are unchanged",
                          pend[0].port->name, ops->error());
        error = 0;
    }
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "cannot delete the policy of %"PRIuSIZE" ports: "
                     "%s", n_gone, ops->error());
        table_known = false;
    }
    for (size_t i = 0; i < n_pend; i++) {
        struct rc_port *port = pend[i].port;
        if (smap_get(&port->policy_status, "policy")) {
            continue;           /* Not in force as built. */
        }
        smap_add(&port->policy_status, "policy", "enforced");
        struct installed *pin = installed_find(&port->uuid, false);
        bool whole = pin != NULL;
        for (int e = 0; whole && e < N_ELEMS; e++) {
            /* An element it wants that a port later in the pass took
             * (two ports on one device): its next pass builds it again. */
            whole = !wants_elem(&pend[i].w, e)
                    || !strcmp(pin->key[e], pend[i].dev);
        }
        if (pin && !whole) {
            memo_forget(pin);
        } else if (pin) {
            memo_forget(pin);
            pin->status = xmalloc(sizeof *pin->status);
            smap_clone(pin->status, &port->policy_status);
            pin->inputs = pend[i].inputs;
        }
    }
    free(gone);

out:
    for (size_t i = 0; i < n_pend; i++) {
        wanted_destroy(&pend[i].w);
    }
    free(pend);
    uuidset_destroy(&present_sw);
}
