/* nftables through libnftnl and libmnl: one table of vsw's, changed in
 * atomic batches, read back by dumps, and watched for changes made by
 * others.
 *
 * A rule is described by 'struct dp_nft_rule' (matches on packet fields,
 * an optional set lookup or update, an optional rate limit, a counter and
 * a verdict); this file turns it into expressions.  Each rule carries a
 * comment (its userdata, shown by "nft list") that the caller uses as the
 * rule's identity: dp_nft_rule_finish() appends a digest of everything the
 * rule does, so two rules with the same comment do the same thing, and a
 * dump that shows the wanted comments in the wanted order shows the wanted
 * rules.
 *
 * Every batch is one transaction: the kernel applies all of it or none,
 * and a refusal leaves what was there before, with the kernel's words in
 * dp_nl_error().  Batches count as modifying requests (datapath/netlink.h),
 * dumps as dumps. */
#ifndef DATAPATH_NFT_H
#define DATAPATH_NFT_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/compiler.h"
#include "openvswitch/shash.h"
#include "sset.h"

/* Where a field is read from. */
enum dp_nft_src {
    DP_NFT_META,                /* 'key' is an NFT_META_* key. */
    DP_NFT_LL,                  /* Link-layer header (Ethernet). */
    DP_NFT_NH,                  /* Network header (IPv4, IPv6, ARP). */
    DP_NFT_TH,                  /* Transport header. */
};
struct dp_nft_field {
    uint8_t src;                /* enum dp_nft_src */
    uint8_t len;                /* Bytes, at most 16. */
    uint16_t offset;            /* Bytes into the header. */
    uint32_t key;               /* For DP_NFT_META. */
};

enum dp_nft_op { DP_NFT_EQ, DP_NFT_NEQ, DP_NFT_RANGE };
struct dp_nft_match {
    struct dp_nft_field field;
    uint8_t op;                 /* enum dp_nft_op */
    bool masked;                /* Compare only the bits set in 'mask'. */
    uint8_t value[16];          /* Network order; the low end of a range. */
    uint8_t mask[16];
    uint8_t hi[16];             /* The high end of a range. */
};

enum dp_nft_verdict {
    DP_NFT_CONTINUE,            /* Count only. */
    DP_NFT_ACCEPT,
    DP_NFT_DROP,
    DP_NFT_RETURN,
    DP_NFT_JUMP,                /* To chain 'jump' of the table. */
};
enum dp_nft_set_op {
    DP_NFT_SET_NONE,
    DP_NFT_SET_LOOKUP,          /* Matches if the key is in the set. */
    DP_NFT_SET_UPDATE,          /* Adds the key, or refreshes its timer. */
    DP_NFT_SET_REFRESH,         /* Matches if the key is in the set, and
                                 * refreshes its timer. */
    DP_NFT_SET_VMAP,            /* The verdict the map gives the key. */
    DP_NFT_SET_MISSING,         /* Matches if the key is not in the set. */
};

#define DP_NFT_MAX_MATCHES 8
#define DP_NFT_MAX_KEYS 5
#define DP_NFT_COMMENT_LEN 96
struct dp_nft_rule {
    char comment[DP_NFT_COMMENT_LEN];
    struct dp_nft_match matches[DP_NFT_MAX_MATCHES];
    size_t n_matches;
    /* Limit: a rule with 'limit_rate' matches only traffic over the rate
     * (per second; bytes if 'limit_bytes', else packets), after a burst of
     * 'limit_burst'. */
    uint64_t limit_rate;
    uint32_t limit_burst;
    bool limit_bytes;
    /* A set of this table keyed by 'keys' concatenated (see
     * enum dp_nft_set_op); timers are set to 'timeout_ms'. */
    uint8_t set_op;             /* enum dp_nft_set_op */
    char set[64];
    struct dp_nft_field keys[DP_NFT_MAX_KEYS];
    size_t n_keys;
    bool key_masked;            /* The first key is ANDed with 'key_mask'
                                 * (a prefix looked up by its network). */
    uint8_t key_mask[16];
    uint64_t timeout_ms;
    uint32_t dup_ifindex;       /* Nonzero: a copy goes out of this
                                 * device (netdev family). */
    uint32_t set_priority;      /* Nonzero: the packet's priority becomes
                                 * this (a qdisc class, datapath/qdisc.h). */
    uint8_t verdict;            /* enum dp_nft_verdict; all rules count. */
    char jump[32];              /* For DP_NFT_JUMP. */
};

/* Starts rule 'r': all zero (so that unused bytes are the same for equal
 * rules), verdict 'verdict', its comment from 'fmt' (cut to leave room
 * for the digest). */
void dp_nft_rule_init(struct dp_nft_rule *r, enum dp_nft_verdict verdict,
                      const char *fmt, ...) OVS_PRINTF_FORMAT(3, 4);
/* Appends " #<digest of the rule>" to 'r''s comment; call once the rule
 * is complete. */
void dp_nft_rule_finish(struct dp_nft_rule *);
/* Adds match 'field' op 'value' (and 'hi' for a range; 'mask', if
 * nonnull, masks both sides). */
void dp_nft_rule_match(struct dp_nft_rule *, const struct dp_nft_field *,
                       enum dp_nft_op, const void *value, const void *hi,
                       const void *mask);

/* The length in bytes of a key made of 'keys' (each field takes whole
 * 32-bit registers). */
size_t dp_nft_key_len(const struct dp_nft_field *keys, size_t n);

/* The digest of a chain by its rules' comments, in order: of 'n' finished
 * rules as wanted, or of a chain as dumped (dp_nft_dump()).  Equal digests
 * mean the chain holds the wanted rules. */
uint32_t dp_nft_rules_digest(const struct dp_nft_rule *, size_t n);
struct dp_nft_chain;
uint32_t dp_nft_chain_digest(const struct dp_nft_chain *);

/* ---- What the kernel has. ---- */

struct dp_nft_chain {
    struct svec *comments;      /* Of its rules, in order. */
    uint64_t *packets, *bytes;  /* Their counters. */
    size_t n_rules;
    bool base;                  /* A base chain (with a hook): */
    int hook, prio;             /* its hook (NF_*) and priority, */
    uint32_t policy;            /* and its policy (NF_ACCEPT, NF_DROP). */
};
struct dp_nft_table {
    bool exists;
    char *comment;              /* The table's comment (NULL if none). */
    struct shash chains;        /* Name -> struct dp_nft_chain. */
    struct sset sets;           /* Names of its sets and maps. */
};
void dp_nft_table_init(struct dp_nft_table *);
void dp_nft_table_destroy(struct dp_nft_table *);
/* Reads table 'name' of 'family' (NFPROTO_*): its chains, their rules'
 * comments and counters, its sets; with 'rules' false, only the table and
 * its chains and sets.  Returns 0 (also when the table does not exist:
 * then 'exists' is false) or a positive errno. */
int dp_nft_dump(int family, const char *name, bool rules,
                struct dp_nft_table *);
/* The elements of map 'map' whose data is a verdict, key (a string) ->
 * target chain, into 'elems' (values are malloc()'d chain names). */
int dp_nft_dump_map(int family, const char *table, const char *map,
                    struct shash *elems);

/* ---- Changes. ---- */

struct dp_nft_batch;
/* 'large': the batch may hold many objects' changes (a full pass), and is
 * built on pages sized for that; else for one object's. */
struct dp_nft_batch *dp_nft_batch_create(int family, const char *table,
                                         bool large);
void dp_nft_batch_destroy(struct dp_nft_batch *);
size_t dp_nft_batch_size(const struct dp_nft_batch *);   /* Operations. */
/* Each operation of the batch described ("add rule chain from-...": what
 * messages name and tests count). */
struct svec;
const struct svec *dp_nft_batch_ops(const struct dp_nft_batch *);

/* Creates the table (with 'comment', which "nft list" shows and "nft -f"
 * makes again) unless it exists. */
void dp_nft_add_table(struct dp_nft_batch *, const char *comment);
/* A base chain on 'hook' (NF_*), priority 'prio', policy accept; 'dev'
 * for the netdev family. */
void dp_nft_add_base_chain(struct dp_nft_batch *, const char *name,
                           int hook, int prio, const char *dev);
void dp_nft_add_chain(struct dp_nft_batch *, const char *name);
void dp_nft_flush_chain(struct dp_nft_batch *, const char *name);
void dp_nft_del_chain(struct dp_nft_batch *, const char *name);
void dp_nft_add_rule(struct dp_nft_batch *, const char *chain,
                     const struct dp_nft_rule *);
/* nft's datatype numbers, so that "nft list" shows keys as what they are
 * and "nft -f" reads them back: integers, addresses, protocols, ports,
 * interface names, and a concatenation of types (A first). */
#define DP_NFT_TYPE_INTEGER 4
#define DP_NFT_TYPE_IPV4_ADDR 7
#define DP_NFT_TYPE_IPV6_ADDR 8
#define DP_NFT_TYPE_ETHER 9
#define DP_NFT_TYPE_INET_PROTO 12
#define DP_NFT_TYPE_INET_SERVICE 13
#define DP_NFT_TYPE_IFNAME 41
#define DP_NFT_TYPE_CONCAT(A, B) ((A) << 6 | (B))
/* A set of keys of 'key_len' bytes of nft's datatype 'key_type', whose
 * elements time out (dynamic), holding at most DP_NFT_TIMEOUT_SET_SIZE of
 * them (once full, an update fails: the rule does not match). */
#define DP_NFT_TIMEOUT_SET_SIZE 65536
void dp_nft_add_timeout_set(struct dp_nft_batch *, const char *name,
                            uint32_t key_type, size_t key_len);
/* A set of keys of 'key_len' bytes of nft's datatype 'key_type', whose
 * elements are added and deleted by vsw; 'counted': a dynamic set, whose
 * elements are added by rules ("update @set") and each count the packets
 * that added or updated them. */
void dp_nft_add_set(struct dp_nft_batch *, const char *name,
                    uint32_t key_type, size_t key_len, bool counted);
/* A set keyed by the concatenation of meta interface names and raw
 * payload fields 'keys' (integers to nft), described as nft describes
 * "typeof" sets, so that "nft list" shows a set and lookups that "nft -f"
 * reads back (a raw field has no type of its own to match a typed
 * set's). */
void dp_nft_add_typeof_set(struct dp_nft_batch *, const char *name,
                           const struct dp_nft_field *keys, size_t n_keys);
/* Element 'key' of set 'name', with comment 'comment' (nullable: a
 * string "nft list" shows and dp_nft_dump_elems() returns); 'what' says
 * which it is, for messages. */
void dp_nft_elem_add(struct dp_nft_batch *, const char *set,
                     const void *key, size_t key_len, const char *comment,
                     const char *what);
void dp_nft_elem_del(struct dp_nft_batch *, const char *set,
                     const void *key, size_t key_len, const char *what);
/* Deletes element 'key' of a counted set if it is there (its count starts
 * again from zero), without failing the batch if it is not. */
void dp_nft_elem_reset(struct dp_nft_batch *, const char *set,
                       const void *key, size_t key_len, const char *what);
struct dp_nft_elem {
    uint8_t key[32];
    size_t key_len;
    char *comment;              /* "" if none. */
    uint64_t packets;           /* Of a counted set. */
};
/* The elements of set 'set' into '*elems' and '*n' (free with
 * dp_nft_elems_free()).  Returns 0 (no elements if the set does not
 * exist) or a positive errno. */
int dp_nft_dump_elems(int family, const char *table, const char *set,
                      struct dp_nft_elem **elems, size_t *n);
void dp_nft_elems_free(struct dp_nft_elem *, size_t n);
/* A map of interface names to verdicts. */
void dp_nft_add_ifname_vmap(struct dp_nft_batch *, const char *name);
/* A map of 'key_len'-byte keys (nft's datatype 'key_type', for "nft
 * list") to verdicts, with its elements: 'keys[i]' -> jump to 'chains[i]',
 * for 'i' < 'n'. */
void dp_nft_add_vmap(struct dp_nft_batch *, const char *name,
                     uint32_t key_type, size_t key_len,
                     const uint8_t (*keys)[16], char *const *chains,
                     size_t n);
/* Empties map 'name' and adds those elements again (a map whose elements
 * someone else changed). */
void dp_nft_refill_vmap(struct dp_nft_batch *, const char *name,
                        size_t key_len, const uint8_t (*keys)[16],
                        char *const *chains, size_t n);
/* The digest of a verdict map's elements (key -> jump to chain), whatever
 * their order: of 'n' wanted ones, or of a map as the kernel has it. */
uint32_t dp_nft_vmap_digest(const uint8_t (*keys)[16], size_t key_len,
                            char *const *chains, size_t n);
int dp_nft_dump_vmap_digest(int family, const char *table, const char *map,
                            uint32_t *digest);
void dp_nft_del_set(struct dp_nft_batch *, const char *name);
/* Map element 'ifname' -> jump to 'chain'. */
void dp_nft_map_add(struct dp_nft_batch *, const char *map,
                    const char *ifname, const char *chain);
void dp_nft_map_del(struct dp_nft_batch *, const char *map,
                    const char *ifname);
/* Sends the batch, if it holds anything.  Returns 0, or a positive errno
 * with dp_nl_error() saying which operation the kernel refused and why;
 * nothing of the batch is then applied. */
int dp_nft_batch_commit(struct dp_nft_batch *);

/* ---- Changes made by others. ---- */

/* Watches nftables notifications; returns the socket's fd, or -1. */
int dp_nft_watch_open(void);
/* Reads what is queued; returns true if a program other than this one (or
 * the kernel, deleting a device's chains) changed a table called 'name',
 * of any family (or notifications were lost). */
bool dp_nft_watch_run(const char *name);
void dp_nft_watch_wait(void);

#endif /* datapath/nft.h */
