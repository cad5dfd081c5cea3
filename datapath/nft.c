/* nftables through libnftnl and libmnl; see nft.h.
 *
 * Two sockets: one for requests (batches and dumps), whose replies are read
 * as soon as the request is sent (the kernel handles a batch inside
 * sendmsg()), and one that listens to the nftables group and tells apart
 * changes made through the request socket from everybody else's by the
 * notification's port id. */
#include <config.h>

#include <netinet/in.h>  /* Before the kernel's headers. */

#include "datapath/nft.h"

#include <errno.h>
#include <stdarg.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "datapath/netlink.h"
#include "hash.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "svec.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(dp_nft);

/* ---- Rules. ---- */

void
dp_nft_rule_match(struct dp_nft_rule *r, const struct dp_nft_field *f,
                  enum dp_nft_op op, const void *value, const void *hi,
                  const void *mask)
{
    ovs_assert(r->n_matches < DP_NFT_MAX_MATCHES && f->len <= 16);
    struct dp_nft_match *m = &r->matches[r->n_matches++];
    m->field = *f;
    m->op = op;
    memcpy(m->value, value, f->len);
    if (hi) {
        memcpy(m->hi, hi, f->len);
    }
    if (mask) {
        m->masked = true;
        memcpy(m->mask, mask, f->len);
        for (int i = 0; i < f->len; i++) {
            m->value[i] &= m->mask[i];
            m->hi[i] &= m->mask[i];
        }
    }
}

/* " #" and 8 hex digits. */
#define DIGEST_LEN 10

void
dp_nft_rule_init(struct dp_nft_rule *r, enum dp_nft_verdict verdict,
                 const char *fmt, ...)
{
    va_list args;
    memset(r, 0, sizeof *r);
    va_start(args, fmt);
    vsnprintf(r->comment, sizeof r->comment - DIGEST_LEN, fmt, args);
    va_end(args);
    r->verdict = verdict;
}

void
dp_nft_rule_finish(struct dp_nft_rule *r)
{
    size_t len = strnlen(r->comment, sizeof r->comment);
    /* The digest covers everything but the comment's own text. */
    uint32_t h = hash_bytes(r->matches, sizeof r->matches, 0);
    h = hash_bytes(&r->n_matches, sizeof r->n_matches, h);
    h = hash_bytes(&r->limit_rate, sizeof r->limit_rate, h);
    h = hash_bytes(&r->limit_burst, sizeof r->limit_burst, h);
    h = hash_int(r->limit_bytes | r->set_op << 1 | r->verdict << 4, h);
    h = hash_bytes(r->set, sizeof r->set, h);
    h = hash_bytes(r->keys, sizeof r->keys, h);
    h = hash_bytes(&r->n_keys, sizeof r->n_keys, h);
    h = hash_bytes(&r->timeout_ms, sizeof r->timeout_ms, h);
    h = hash_int(r->dup_ifindex, h);
    /* Fields added later count only when set: a rule without them keeps
     * the digest it had (a restart after an upgrade rewrites nothing). */
    if (r->key_masked) {
        h = hash_bytes(r->key_mask, sizeof r->key_mask, h);
    }
    if (r->set_priority) {
        h = hash_int(r->set_priority, h);
    }
    if (r->jump[0]) {
        h = hash_string(r->jump, h);
    }
    ovs_assert(len + DIGEST_LEN < sizeof r->comment);
    snprintf(r->comment + len, sizeof r->comment - len, " #%08x", h);
}

uint32_t
dp_nft_rules_digest(const struct dp_nft_rule *rules, size_t n)
{
    uint32_t h = hash_int(n, 0);
    for (size_t i = 0; i < n; i++) {
        h = hash_string(rules[i].comment, h);
    }
    return h;
}

uint32_t
dp_nft_chain_digest(const struct dp_nft_chain *c)
{
    uint32_t h = hash_int(c->n_rules, 0);
    for (size_t i = 0; i < c->n_rules; i++) {
        h = hash_string(c->comments->names[i], h);
    }
    return h;
}

size_t
dp_nft_key_len(const struct dp_nft_field *keys, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        len += ROUND_UP(keys[i].len, 4);
    }
    return len;
}

static const uint32_t payload_bases[] = {
    [DP_NFT_LL] = NFT_PAYLOAD_LL_HEADER,
    [DP_NFT_NH] = NFT_PAYLOAD_NETWORK_HEADER,
    [DP_NFT_TH] = NFT_PAYLOAD_TRANSPORT_HEADER,
};

static void
add_load(struct nftnl_rule *nr, const struct dp_nft_field *f, int reg)
{
    struct nftnl_expr *e;
    if (f->src == DP_NFT_META) {
        e = nftnl_expr_alloc("meta");
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, f->key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, reg);
    } else {
        e = nftnl_expr_alloc("payload");
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, payload_bases[f->src]);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, f->offset);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, f->len);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, reg);
    }
    nftnl_rule_add_expr(nr, e);
}

/* Register 'reg' ('len' bytes) ANDed with 'mask'. */
static void
add_mask(struct nftnl_rule *nr, int reg, size_t len, const uint8_t *mask)
{
    static const uint8_t zero[16];
    struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
    nftnl_rule_add_expr(nr, e);
}

static void
add_match(struct nftnl_rule *nr, const struct dp_nft_match *m)
{
    struct nftnl_expr *e;
    add_load(nr, &m->field, NFT_REG_1);
    if (m->masked) {
        add_mask(nr, NFT_REG_1, m->field.len, m->mask);
    }
    if (m->op == DP_NFT_RANGE) {
        e = nftnl_expr_alloc("range");
        nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ);
        nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, m->value, m->field.len);
        nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, m->hi, m->field.len);
    } else {
        e = nftnl_expr_alloc("cmp");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP,
                           m->op == DP_NFT_EQ ? NFT_CMP_EQ : NFT_CMP_NEQ);
        nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, m->value, m->field.len);
    }
    nftnl_rule_add_expr(nr, e);
}

/* An immediate: 'v' into register 1. */
static void
add_u32_to_reg1(struct nftnl_rule *nr, uint32_t v)
{
    struct nftnl_expr *e = nftnl_expr_alloc("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DATA, v);
    nftnl_rule_add_expr(nr, e);
}

static struct nftnl_rule *
rule_to_nftnl(int family, const char *table, const char *chain,
              const struct dp_nft_rule *r)
{
    struct nftnl_rule *nr = nftnl_rule_alloc();
    struct nftnl_expr *e;

    nftnl_rule_set_u32(nr, NFTNL_RULE_FAMILY, family);
    nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, table);
    nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, chain);

    for (size_t i = 0; i < r->n_matches; i++) {
        add_match(nr, &r->matches[i]);
    }
    if (r->set_op != DP_NFT_SET_NONE) {
        /* The key, in consecutive 32-bit registers. */
        int reg = NFT_REG32_00;
        for (size_t i = 0; i < r->n_keys; i++) {
            add_load(nr, &r->keys[i], reg);
            if (!i && r->key_masked) {
                add_mask(nr, reg, r->keys[0].len, r->key_mask);
            }
            reg += DIV_ROUND_UP(r->keys[i].len, 4);
        }
        if (r->set_op != DP_NFT_SET_UPDATE) {
            e = nftnl_expr_alloc("lookup");
            nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
            nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, r->set);
            if (r->set_op == DP_NFT_SET_VMAP) {
                nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG,
                                   NFT_REG_VERDICT);
            } else if (r->set_op == DP_NFT_SET_MISSING) {
                nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS,
                                   NFT_LOOKUP_F_INV);
            }
            nftnl_rule_add_expr(nr, e);
        }
        if (r->set_op == DP_NFT_SET_UPDATE
            || r->set_op == DP_NFT_SET_REFRESH) {
            e = nftnl_expr_alloc("dynset");
            nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG32_00);
            nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
            nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, r->set);
            if (r->timeout_ms) {
                nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT,
                                   r->timeout_ms);
            }
            nftnl_rule_add_expr(nr, e);
        }
    }
    if (r->limit_rate) {
        e = nftnl_expr_alloc("limit");
        nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, r->limit_rate);
        nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, r->limit_burst);
        nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE,
                           r->limit_bytes ? NFT_LIMIT_PKT_BYTES
                                          : NFT_LIMIT_PKTS);
        nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, NFT_LIMIT_F_INV);
        nftnl_rule_add_expr(nr, e);
    }
    nftnl_rule_add_expr(nr, nftnl_expr_alloc("counter"));
    if (r->set_priority) {
        add_u32_to_reg1(nr, r->set_priority);
        e = nftnl_expr_alloc("meta");
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_PRIORITY);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
        nftnl_rule_add_expr(nr, e);
    }
    if (r->dup_ifindex) {
        add_u32_to_reg1(nr, r->dup_ifindex);
        e = nftnl_expr_alloc("dup");
        nftnl_expr_set_u32(e, NFTNL_EXPR_DUP_SREG_DEV, NFT_REG_1);
        nftnl_rule_add_expr(nr, e);
    }
    if (r->verdict != DP_NFT_CONTINUE) {
        e = nftnl_expr_alloc("immediate");
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT,
                           r->verdict == DP_NFT_ACCEPT ? NF_ACCEPT
                           : r->verdict == DP_NFT_DROP ? NF_DROP
                           : r->verdict == DP_NFT_JUMP ? (uint32_t) NFT_JUMP
                           : (uint32_t) NFT_RETURN);
        if (r->verdict == DP_NFT_JUMP) {
            nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, r->jump);
        }
        nftnl_rule_add_expr(nr, e);
    }

    struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
    nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, r->comment);
    nftnl_rule_set_data(nr, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
                        nftnl_udata_buf_len(ud));
    nftnl_udata_buf_free(ud);
    return nr;
}

/* ---- The request socket. ---- */

static struct mnl_socket *watch_sock;  /* See "Watching" below. */

static struct mnl_socket *req_sock;
static uint32_t seq;

static struct mnl_socket *
request_socket(void)
{
    if (!req_sock) {
        req_sock = mnl_socket_open(NETLINK_NETFILTER);
        if (!req_sock || mnl_socket_bind(req_sock, 0, MNL_SOCKET_AUTOPID)) {
            ovs_fatal(errno, "cannot open a netfilter netlink socket");
        }
        int one = 1;
        mnl_socket_setsockopt(req_sock, NETLINK_EXT_ACK, &one, sizeof one);
        mnl_socket_setsockopt(req_sock, NETLINK_CAP_ACK, &one, sizeof one);
        /* A batch of thousands of rules is one message. */
        int size = 64 << 20;
        setsockopt(mnl_socket_get_fd(req_sock), SOL_SOCKET, SO_SNDBUFFORCE,
                   &size, sizeof size);
        size = 4 << 20;
        setsockopt(mnl_socket_get_fd(req_sock), SOL_SOCKET, SO_RCVBUFFORCE,
                   &size, sizeof size);
        seq = time(NULL);
    }
    return req_sock;
}

/* Discards whatever is queued on the request socket: answers to an
 * earlier request that was given up on (an error stops the reading), so
 * that they are never taken for the next request's. */
static void
drain(struct mnl_socket *nl)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    while (recv(mnl_socket_get_fd(nl), buf, sizeof buf, MSG_DONTWAIT) > 0) {
        continue;
    }
}

/* Runs request 'nlh' (a dump, or a get with NLM_F_ACK), calling 'cb' for
 * each answer; answers to other requests (another sequence number) are
 * skipped. */
static int
dump(struct nlmsghdr *nlh, mnl_cb_t cb, void *aux)
{
    struct mnl_socket *nl = request_socket();
    uint32_t my_seq = nlh->nlmsg_seq;

    drain(nl);
    dp_nl_count_dump();
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        int error = errno;
        dp_nl_set_error(error, "cannot ask for nftables objects");
        return error;
    }
    size_t size = 32 * 1024;
    char *rbuf = xmalloc(size);
    int error = 0;
    bool done = false;
    while (!done) {
        int n = mnl_socket_recvfrom(nl, rbuf, size);
        if (n < 0) {
            error = errno;
            dp_nl_set_error(error, "cannot read nftables objects");
            break;
        }
        const struct nlmsghdr *h = (const struct nlmsghdr *) rbuf;
        for (; !done && mnl_nlmsg_ok(h, n); h = mnl_nlmsg_next(h, &n)) {
            if (h->nlmsg_seq != my_seq) {
                continue;               /* A stale answer. */
            }
            if (h->nlmsg_flags & NLM_F_DUMP_INTR && !error) {
                /* The objects changed while they were dumped: this view
                 * may be torn; the caller reads again later. */
                error = EAGAIN;
                dp_nl_set_error(error, "nftables objects changed while "
                                "they were read");
            }
            if (h->nlmsg_type == NLMSG_DONE) {
                done = true;
            } else if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *err = mnl_nlmsg_get_payload(h);
                error = error ? error : -err->error;
                done = true;
                if (error && error != ENOENT) {
                    const char *ext = dp_nl_parse_extack(
                        err, h->nlmsg_len - NLMSG_HDRLEN, h->nlmsg_flags);
                    dp_nl_set_error(error, "cannot read nftables objects%s%s",
                                    ext ? ": " : "", ext ? ext : "");
                }
            } else if (!error && cb(h, aux) < 0) {
                done = true;
            }
        }
    }
    free(rbuf);
    return error;
}

/* ---- Dumps. ---- */

void
dp_nft_table_init(struct dp_nft_table *t)
{
    t->exists = false;
    t->comment = NULL;
    shash_init(&t->chains);
    sset_init(&t->sets);
}

static void
chain_free(void *c_)
{
    struct dp_nft_chain *c = c_;
    if (c) {
        svec_destroy(c->comments);
        free(c->comments);
        free(c->packets);
        free(c->bytes);
        free(c);
    }
}

void
dp_nft_table_destroy(struct dp_nft_table *t)
{
    free(t->comment);
    struct shash_node *node;
    SHASH_FOR_EACH (node, &t->chains) {
        chain_free(node->data);
    }
    shash_destroy(&t->chains);
    sset_destroy(&t->sets);
    dp_nft_table_init(t);
}

struct dump_ctx {
    struct dp_nft_table *t;
    const char *table;
    size_t allocated;
};

static struct dp_nft_chain *
chain_get(struct dp_nft_table *t, const char *name)
{
    struct dp_nft_chain *c = shash_find_data(&t->chains, name);
    if (!c) {
        c = xzalloc(sizeof *c);
        c->comments = xmalloc(sizeof *c->comments);
        svec_init(c->comments);
        shash_add(&t->chains, name, c);
    }
    return c;
}

/* The comment, copied: another program's need not end in a NUL.  For a
 * rule's userdata, a set element's and a table's, whose comments have one
 * type. */
BUILD_ASSERT_DECL((int) NFTNL_UDATA_RULE_COMMENT
                  == (int) NFTNL_UDATA_SET_ELEM_COMMENT);
BUILD_ASSERT_DECL((int) NFTNL_UDATA_RULE_COMMENT
                  == (int) NFTNL_UDATA_TABLE_COMMENT);
static int
comment_cb(const struct nftnl_udata *attr, void *data)
{
    if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT) {
        char **comment = data;
        free(*comment);
        *comment = xmemdup0(nftnl_udata_get(attr), nftnl_udata_len(attr));
    }
    return MNL_CB_OK;
}

/* A table's comment: its userdata's comment attribute, or the userdata
 * itself (tables made by vsw before 2026-12, whose userdata was a plain
 * string, which "nft list" does not show). */
static int
table_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct dump_ctx *ctx = aux;
    struct nftnl_table *t = nftnl_table_alloc();
    if (!nftnl_table_nlmsg_parse(nlh, t)
        && !strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), ctx->table)) {
        ctx->t->exists = true;
        free(ctx->t->comment);
        ctx->t->comment = NULL;
        uint32_t len = 0;
        const void *ud = (nftnl_table_is_set(t, NFTNL_TABLE_USERDATA)
                          ? nftnl_table_get_data(t, NFTNL_TABLE_USERDATA,
                                                 &len)
                          : NULL);
        if (ud && (nftnl_udata_parse(ud, len, comment_cb,
                                     &ctx->t->comment) < 0
                   || !ctx->t->comment)) {
            free(ctx->t->comment);
            ctx->t->comment = xmemdup0(ud, len);
        }
    }
    nftnl_table_free(t);
    return MNL_CB_OK;
}

static int
chain_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct dump_ctx *ctx = aux;
    struct nftnl_chain *c = nftnl_chain_alloc();
    if (!nftnl_chain_nlmsg_parse(nlh, c)
        && !strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), ctx->table)) {
        struct dp_nft_chain *dc
            = chain_get(ctx->t, nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
        dc->base = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM);
        if (dc->base) {
            dc->hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
            dc->prio = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
            dc->policy = (nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY)
                          ? nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY)
                          : NF_ACCEPT);
        }
    }
    nftnl_chain_free(c);
    return MNL_CB_OK;
}

static int
set_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct dump_ctx *ctx = aux;
    struct nftnl_set *s = nftnl_set_alloc();
    if (!nftnl_set_nlmsg_parse(nlh, s)
        && !strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), ctx->table)) {
        sset_add(&ctx->t->sets, nftnl_set_get_str(s, NFTNL_SET_NAME));
    }
    nftnl_set_free(s);
    return MNL_CB_OK;
}

static int
counter_cb(struct nftnl_expr *e, void *data)
{
    uint64_t *pb = data;
    if (!strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter")) {
        pb[0] = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
        pb[1] = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
    }
    return 0;
}

static int
rule_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct dump_ctx *ctx = aux;
    struct nftnl_rule *r = nftnl_rule_alloc();
    if (!nftnl_rule_nlmsg_parse(nlh, r)
        && !strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), ctx->table)) {
        struct dp_nft_chain *c
            = chain_get(ctx->t, nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
        char *comment = NULL;
        uint32_t len = 0;
        if (nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)) {
            const void *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA,
                                                 &len);
            nftnl_udata_parse(ud, len, comment_cb, &comment);
        }
        uint64_t pb[2] = { 0, 0 };
        nftnl_expr_foreach(r, counter_cb, pb);
        svec_add_nocopy(c->comments, comment ? comment : xstrdup(""));
        c->packets = xrealloc(c->packets, c->comments->n * sizeof *c->packets);
        c->bytes = xrealloc(c->bytes, c->comments->n * sizeof *c->bytes);
        c->packets[c->n_rules] = pb[0];
        c->bytes[c->n_rules] = pb[1];
        c->n_rules++;
    }
    nftnl_rule_free(r);
    return MNL_CB_OK;
}

static int dump_table(int family, const char *name, bool rules,
                      struct dp_nft_table *);

int
dp_nft_dump(int family, const char *name, bool rules, struct dp_nft_table *t)
{
    /* A dump torn by a concurrent change is read again. */
    int error;
    for (int i = 0; i < 3; i++) {
        error = dump_table(family, name, rules, t);
        if (error != EAGAIN) {
            break;
        }
    }
    return error;
}

static int
dump_table(int family, const char *name, bool rules, struct dp_nft_table *t)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct dump_ctx ctx = { .t = t, .table = name };
    struct nlmsghdr *nlh;

    dp_nft_table_destroy(t);

    nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, family, NLM_F_ACK,
                                ++seq);
    struct nftnl_table *nt = nftnl_table_alloc();
    nftnl_table_set_str(nt, NFTNL_TABLE_NAME, name);
    nftnl_table_nlmsg_build_payload(nlh, nt);
    nftnl_table_free(nt);
    int error = dump(nlh, table_cb, &ctx);
    if (error || !t->exists) {
        return error == ENOENT ? 0 : error;
    }

    nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, family, NLM_F_DUMP,
                                ++seq);
    error = dump(nlh, chain_cb, &ctx);
    if (!error) {
        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, family, NLM_F_DUMP,
                                    ++seq);
        struct nftnl_set *s = nftnl_set_alloc();
        nftnl_set_set_str(s, NFTNL_SET_TABLE, name);
        nftnl_set_nlmsg_build_payload(nlh, s);
        nftnl_set_free(s);
        error = dump(nlh, set_cb, &ctx);
    }
    if (!error && rules) {
        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, family, NLM_F_DUMP,
                                    ++seq);
        struct nftnl_rule *r = nftnl_rule_alloc();
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, name);
        nftnl_rule_nlmsg_build_payload(nlh, r);
        nftnl_rule_free(r);
        error = dump(nlh, rule_cb, &ctx);
    }
    return error == ENOENT ? 0 : error;
}

/* Walks the elements of a verdict map: 'each' is called with each key and
 * the chain it jumps to ("" for another verdict). */
struct vmap_walk {
    void (*each)(const void *key, size_t key_len, const char *chain,
                 void *aux);
    void *aux;
    /* Or, for any set: each element whole. */
    void (*each_elem)(const struct dp_nft_elem *, void *aux);
};

static void
elem_parse(struct nftnl_set_elem *e, const void *key, size_t klen,
           struct dp_nft_elem *out)
{
    memset(out, 0, sizeof *out);
    out->key_len = MIN(klen, sizeof out->key);
    memcpy(out->key, key, out->key_len);
    char *comment = NULL;
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)) {
        uint32_t len = 0;
        const void *ud = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len);
        nftnl_udata_parse(ud, len, comment_cb, &comment);
    }
    out->comment = comment ? comment : xstrdup("");
    uint64_t pb[2] = { 0, 0 };
    nftnl_set_elem_expr_foreach(e, counter_cb, pb);
    out->packets = pb[0];
}

static int
vmap_walk_cb(const struct nlmsghdr *nlh, void *walk_)
{
    const struct vmap_walk *walk = walk_;
    struct nftnl_set *s = nftnl_set_alloc();
    if (!nftnl_set_elems_nlmsg_parse(nlh, s)) {
        struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
        struct nftnl_set_elem *e;
        while ((e = nftnl_set_elems_iter_next(it))) {
            uint32_t klen = 0;
            const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY,
                                                 &klen);
            if (walk->each_elem) {
                struct dp_nft_elem elem;
                elem_parse(e, key, klen, &elem);
                walk->each_elem(&elem, walk->aux);
                continue;
            }
            const char *chain = (nftnl_set_elem_is_set(e,
                                                       NFTNL_SET_ELEM_CHAIN)
                                 ? nftnl_set_elem_get_str(
                                       e, NFTNL_SET_ELEM_CHAIN)
                                 : "");
            walk->each(key, klen, chain, walk->aux);
        }
        nftnl_set_elems_iter_destroy(it);
    }
    nftnl_set_free(s);
    return MNL_CB_OK;
}

static int
vmap_walk(int family, const char *table, const char *map,
          struct vmap_walk *walk)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM,
                                                 family, NLM_F_DUMP, ++seq);
    struct nftnl_set *s = nftnl_set_alloc();
    nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
    nftnl_set_set_str(s, NFTNL_SET_NAME, map);
    nftnl_set_elems_nlmsg_build_payload(nlh, s);
    nftnl_set_free(s);
    return dump(nlh, vmap_walk_cb, walk);
}

static void
map_elem_to_shash(const void *key, size_t key_len, const char *chain,
                  void *elems)
{
    char *k = xmemdup0(key, key_len);
    free(shash_replace(elems, k, xstrdup(chain)));
    free(k);
}

struct elems_ctx {
    struct dp_nft_elem *elems;
    size_t n, allocated;
};

static void
elem_to_array(const struct dp_nft_elem *e, void *ctx_)
{
    struct elems_ctx *ctx = ctx_;
    if (ctx->n >= ctx->allocated) {
        ctx->elems = x2nrealloc(ctx->elems, &ctx->allocated,
                                sizeof *ctx->elems);
    }
    ctx->elems[ctx->n++] = *e;     /* Takes its comment. */
}

int
dp_nft_dump_elems(int family, const char *table, const char *set,
                  struct dp_nft_elem **elems, size_t *n)
{
    struct elems_ctx ctx = { NULL, 0, 0 };
    struct vmap_walk walk = { NULL, &ctx, elem_to_array };
    int error = vmap_walk(family, table, set, &walk);
    *elems = ctx.elems;
    *n = ctx.n;
    return error == ENOENT ? 0 : error;
}

void
dp_nft_elems_free(struct dp_nft_elem *elems, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(elems[i].comment);
    }
    free(elems);
}

int
dp_nft_dump_map(int family, const char *table, const char *map,
                struct shash *elems)
{
    struct vmap_walk walk = { map_elem_to_shash, elems, NULL };
    int error = vmap_walk(family, table, map, &walk);
    return error == ENOENT ? 0 : error;
}

static uint32_t
vmap_elem_digest(const void *key, size_t key_len, const char *chain)
{
    return hash_string(chain, hash_bytes(key, key_len, 0));
}

uint32_t
dp_nft_vmap_digest(const uint8_t (*keys)[16], size_t key_len,
                   char *const *chains, size_t n)
{
    uint32_t d = hash_int(n, key_len);
    for (size_t i = 0; i < n; i++) {
        d ^= vmap_elem_digest(keys[i], key_len, chains[i]);
    }
    return d;
}

struct vmap_digest_ctx {
    uint32_t xor;
    size_t n, key_len;
};

static void
vmap_elem_to_digest(const void *key, size_t key_len, const char *chain,
                    void *ctx_)
{
    struct vmap_digest_ctx *ctx = ctx_;
    ctx->xor ^= vmap_elem_digest(key, key_len, chain);
    ctx->key_len = key_len;
    ctx->n++;
}

int
dp_nft_dump_vmap_digest(int family, const char *table, const char *map,
                        uint32_t *digest)
{
    struct vmap_digest_ctx ctx = { 0, 0, 0 };
    struct vmap_walk walk = { vmap_elem_to_digest, &ctx, NULL };
    int error = vmap_walk(family, table, map, &walk);
    *digest = hash_int(ctx.n, ctx.key_len) ^ ctx.xor;
    return error;
}

/* ---- Batches. ---- */

/* Pages of 256 kB for a large batch: 1000 ports' rules fill 26 of them,
 * sent as they are (8 kB pages, each allocated twice as big for a message
 * that overruns it, took 13.6 MB for 6.4 MB of messages, and more pages
 * than sendmsg() takes, so a copy of it all too).  32 kB for the others:
 * one port's change fits, and a buffer that small is taken from and given
 * back to malloc's heap cheaply (freeing 264 kB made malloc consolidate
 * its whole heap, a tenth of a port's change at 1000 ports). */
#define BATCH_PAGE_LARGE (256 * 1024)
#define BATCH_PAGE_SMALL (32 * 1024)

struct dp_nft_batch {
    int family;
    char *table;
    struct nftnl_batch *b;
    size_t n;
    struct svec what;           /* Each operation, for error messages. */
    uint32_t first_seq;
    uint32_t set_id;
};

struct dp_nft_batch *
dp_nft_batch_create(int family, const char *table, bool large)
{
    struct dp_nft_batch *b = xzalloc(sizeof *b);
    request_socket();
    b->family = family;
    b->table = xstrdup(table);
    b->b = nftnl_batch_alloc(large ? BATCH_PAGE_LARGE : BATCH_PAGE_SMALL,
                             MNL_SOCKET_BUFFER_SIZE);
    svec_init(&b->what);
    nftnl_batch_begin(nftnl_batch_buffer(b->b), seq++);
    nftnl_batch_update(b->b);
    b->first_seq = seq;
    return b;
}

void
dp_nft_batch_destroy(struct dp_nft_batch *b)
{
    if (b) {
        nftnl_batch_free(b->b);
        svec_destroy(&b->what);
        free(b->table);
        free(b);
    }
}

size_t
dp_nft_batch_size(const struct dp_nft_batch *b)
{
    return b->n;
}

const struct svec *
dp_nft_batch_ops(const struct dp_nft_batch *b)
{
    return &b->what;
}

static struct nlmsghdr *
batch_msg(struct dp_nft_batch *b, int type, uint16_t flags, char *what)
{
    svec_add_nocopy(&b->what, what);
    b->n++;
    return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b->b), type, b->family,
                                 flags, seq++);
}

static void
batch_next(struct dp_nft_batch *b)
{
    nftnl_batch_update(b->b);
}

void
dp_nft_add_table(struct dp_nft_batch *b, const char *comment)
{
    struct nftnl_table *t = nftnl_table_alloc();
    nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, b->family);
    nftnl_table_set_str(t, NFTNL_TABLE_NAME, b->table);
    if (comment) {
        struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(
            NFT_USERDATA_MAXLEN);
        nftnl_udata_put_strz(ud, NFTNL_UDATA_TABLE_COMMENT, comment);
        nftnl_table_set_data(t, NFTNL_TABLE_USERDATA,
                             nftnl_udata_buf_data(ud),
                             nftnl_udata_buf_len(ud));
        nftnl_udata_buf_free(ud);
    }
    nftnl_table_nlmsg_build_payload(
        batch_msg(b, NFT_MSG_NEWTABLE, NLM_F_CREATE,
                  xasprintf("adding table %s", b->table)), t);
    nftnl_table_free(t);
    batch_next(b);
}

static struct nftnl_chain *
chain_new(const struct dp_nft_batch *b, const char *name)
{
    struct nftnl_chain *c = nftnl_chain_alloc();
    nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, b->family);
    nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, b->table);
    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
    return c;
}

void
dp_nft_add_base_chain(struct dp_nft_batch *b, const char *name, int hook,
                      int prio, const char *dev)
{
    struct nftnl_chain *c = chain_new(b, name);
    nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
    nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
    nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
    if (dev) {
        nftnl_chain_set_str(c, NFTNL_CHAIN_DEV, dev);
    }
    nftnl_chain_nlmsg_build_payload(
        batch_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE,
                  xasprintf("adding base chain %s", name)), c);
    nftnl_chain_free(c);
    batch_next(b);
}

void
dp_nft_add_chain(struct dp_nft_batch *b, const char *name)
{
    struct nftnl_chain *c = chain_new(b, name);
    nftnl_chain_nlmsg_build_payload(
        batch_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE,
                  xasprintf("adding chain %s", name)), c);
    nftnl_chain_free(c);
    batch_next(b);
}

void
dp_nft_flush_chain(struct dp_nft_batch *b, const char *name)
{
    struct nftnl_rule *r = nftnl_rule_alloc();
    nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, b->family);
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, b->table);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, name);
    nftnl_rule_nlmsg_build_payload(
        batch_msg(b, NFT_MSG_DELRULE, 0,
                  xasprintf("flushing chain %s", name)), r);
    nftnl_rule_free(r);
    batch_next(b);
}

void
dp_nft_del_chain(struct dp_nft_batch *b, const char *name)
{
    dp_nft_flush_chain(b, name);
    struct nftnl_chain *c = chain_new(b, name);
    nftnl_chain_nlmsg_build_payload(
        batch_msg(b, NFT_MSG_DELCHAIN, 0,
                  xasprintf("deleting chain %s", name)), c);
    nftnl_chain_free(c);
    batch_next(b);
}

void
dp_nft_add_rule(struct dp_nft_batch *b, const char *chain,
                const struct dp_nft_rule *r)
{
    struct nftnl_rule *nr = rule_to_nftnl(b->family, b->table, chain, r);
    nftnl_rule_nlmsg_build_payload(
        batch_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
                  xasprintf("adding rule \"%s\" to chain %s", r->comment,
                            chain)), nr);
    nftnl_rule_free(nr);
    batch_next(b);
}

static struct nftnl_set *
set_new(struct dp_nft_batch *b, const char *name)
{
    struct nftnl_set *s = nftnl_set_alloc();
    nftnl_set_set_u32(s, NFTNL_SET_FAMILY, b->family);
    nftnl_set_set_str(s, NFTNL_SET_TABLE, b->table);
    nftnl_set_set_str(s, NFTNL_SET_NAME, name);
    return s;
}

/* Set 's' (taken) added to 'b', a 'kind' ("set", "map") named 'name'. */
static void
set_add_msg(struct dp_nft_batch *b, struct nftnl_set *s, const char *kind,
            const char *name)
{
    nftnl_set_nlmsg_build_payload(
        batch_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE,
                  xasprintf("adding %s %s", kind, name)), s);
    nftnl_set_free(s);
    batch_next(b);
}

void
dp_nft_add_timeout_set(struct dp_nft_batch *b, const char *name,
                       uint32_t key_type, size_t key_len)
{
    struct nftnl_set *s = set_new(b, name);
    nftnl_set_set_u32(s, NFTNL_SET_ID, ++b->set_id);
    nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_EVAL);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
    nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, DP_NFT_TIMEOUT_SET_SIZE);
    set_add_msg(b, s, "set", name);
}

/* A verdict map of keys of 'key_len' bytes of nft's datatype 'key_type',
 * into 'b' ('ud' its userdata, if nonnull). */
static void
vmap_new(struct dp_nft_batch *b, const char *name, uint32_t key_type,
         size_t key_len, struct nftnl_udata_buf *ud)
{
    struct nftnl_set *s = set_new(b, name);
    nftnl_set_set_u32(s, NFTNL_SET_ID, ++b->set_id);
    nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
    nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
    nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
    if (ud) {
        nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
                           nftnl_udata_buf_len(ud));
    }
    set_add_msg(b, s, "map", name);
}

void
dp_nft_add_set(struct dp_nft_batch *b, const char *name, uint32_t key_type,
               size_t key_len, bool counted)
{
    struct nftnl_set *s = set_new(b, name);
    nftnl_set_set_u32(s, NFTNL_SET_ID, ++b->set_id);
    nftnl_set_set_u32(s, NFTNL_SET_FLAGS, counted ? NFT_SET_EVAL : 0);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
    if (counted) {
        nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, DP_NFT_TIMEOUT_SET_SIZE);
        nftnl_set_add_expr(s, nftnl_expr_alloc("counter"));
    }
    /* Interface names are strings, in host order for "nft list". */
    struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
    nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 1 /* host */);
    nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
                       nftnl_udata_buf_len(ud));
    nftnl_udata_buf_free(ud);
    set_add_msg(b, s, "set", name);
}

/* nft's numbers for describing a "typeof" set's key: its expression types
 * (concatenation, meta, payload) and, for a payload, protocol bases. */
enum { TYPEOF_PAYLOAD = 7, TYPEOF_META = 9, TYPEOF_CONCAT = 13 };
enum { TYPEOF_META_KEY = 0 };
enum { TYPEOF_PAYLOAD_BASE = 2, TYPEOF_PAYLOAD_OFFSET = 3,
       TYPEOF_PAYLOAD_LEN = 4 };

/* Field 'f' as nft describes it in a "typeof" set: its expression type
 * and data, nested in 'ud'. */
static void
typeof_field(struct nftnl_udata_buf *ud, const struct dp_nft_field *f)
{
    struct nftnl_udata *data;
    if (f->src == DP_NFT_META) {
        nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_TYPEOF_EXPR, TYPEOF_META);
        data = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_TYPEOF_DATA);
        nftnl_udata_put_u32(ud, TYPEOF_META_KEY, f->key);
    } else {
        nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_TYPEOF_EXPR, TYPEOF_PAYLOAD);
        data = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_TYPEOF_DATA);
        nftnl_udata_put_u32(ud, 0, 0);      /* No protocol: raw. */
        nftnl_udata_put_u32(ud, 1, 0);
        nftnl_udata_put_u32(ud, TYPEOF_PAYLOAD_BASE,
                            f->src == DP_NFT_LL ? 1 : f->src == DP_NFT_NH
                            ? 2 : 3);
        nftnl_udata_put_u32(ud, TYPEOF_PAYLOAD_OFFSET, f->offset * 8);
        nftnl_udata_put_u32(ud, TYPEOF_PAYLOAD_LEN, f->len * 8);
    }
    nftnl_udata_nest_end(ud, data);
}

void
dp_nft_add_typeof_set(struct dp_nft_batch *b, const char *name,
                      const struct dp_nft_field *keys, size_t n_keys)
{
    uint32_t key_type = 0;
    for (size_t i = 0; i < n_keys; i++) {
        const struct dp_nft_field *f = &keys[i];
        bool ifname = (f->src == DP_NFT_META
                       && (f->key == NFT_META_IIFNAME
                           || f->key == NFT_META_OIFNAME));
        key_type = key_type << 6 | (ifname ? DP_NFT_TYPE_IFNAME
                                           : DP_NFT_TYPE_INTEGER);
    }
    struct nftnl_set *s = set_new(b, name);
    nftnl_set_set_u32(s, NFTNL_SET_ID, ++b->set_id);
    nftnl_set_set_u32(s, NFTNL_SET_FLAGS, 0);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, dp_nft_key_len(keys, n_keys));

    struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
    nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 0);
    struct nftnl_udata *top = nftnl_udata_nest_start(
        ud, NFTNL_UDATA_SET_KEY_TYPEOF);
    if (n_keys == 1) {
        typeof_field(ud, &keys[0]);
    } else {
        nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_TYPEOF_EXPR, TYPEOF_CONCAT);
        struct nftnl_udata *list = nftnl_udata_nest_start(
            ud, NFTNL_UDATA_SET_TYPEOF_DATA);
        for (size_t i = 0; i < n_keys; i++) {
            struct nftnl_udata *one = nftnl_udata_nest_start(ud, i);
            typeof_field(ud, &keys[i]);
            nftnl_udata_nest_end(ud, one);
        }
        nftnl_udata_nest_end(ud, list);
    }
    nftnl_udata_nest_end(ud, top);
    nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
                       nftnl_udata_buf_len(ud));
    nftnl_udata_buf_free(ud);
    set_add_msg(b, s, "set", name);
}

/* One element 'key' of set 'set' added (with 'comment', if nonnull) or
 * deleted, described by 'desc' (taken). */
static void
set_elem(struct dp_nft_batch *b, const char *set, const void *key,
         size_t key_len, bool add, const char *comment, char *desc)
{
    struct nftnl_set *s = set_new(b, set);
    struct nftnl_set_elem *e = nftnl_set_elem_alloc();
    nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, key_len);
    if (comment) {
        struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(
            NFT_USERDATA_MAXLEN);
        nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT, comment);
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA,
                           nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
        nftnl_udata_buf_free(ud);
    }
    nftnl_set_elem_add(s, e);
    nftnl_set_elems_nlmsg_build_payload(
        batch_msg(b, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
                  add ? NLM_F_CREATE : 0, desc), s);
    nftnl_set_free(s);
    batch_next(b);
}

void
dp_nft_elem_add(struct dp_nft_batch *b, const char *set, const void *key,
                size_t key_len, const char *comment, const char *what)
{
    set_elem(b, set, key, key_len, true, comment,
             xasprintf("adding %s to set %s", what, set));
}

void
dp_nft_elem_del(struct dp_nft_batch *b, const char *set, const void *key,
                size_t key_len, const char *what)
{
    set_elem(b, set, key, key_len, false, NULL,
             xasprintf("deleting %s from set %s", what, set));
}

void
dp_nft_elem_reset(struct dp_nft_batch *b, const char *set, const void *key,
                  size_t key_len, const char *what)
{
    /* Added first (an element that is there stays as it is): the deletion
     * then cannot fail. */
    set_elem(b, set, key, key_len, true, NULL,
             xasprintf("adding %s to set %s, to delete it", what, set));
    set_elem(b, set, key, key_len, false, NULL,
             xasprintf("deleting %s from set %s", what, set));
}

void
dp_nft_add_ifname_vmap(struct dp_nft_batch *b, const char *name)
{
    /* Keys are strings: "nft list" shows them as such when told. */
    struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
    nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 1 /* host */);
    vmap_new(b, name, DP_NFT_TYPE_IFNAME, IFNAMSIZ, ud);
    nftnl_udata_buf_free(ud);
}

/* Elements per NEWSETELEM message: each one fits a page of the batch
 * (a key, a jump and a chain name of up to 128 bytes each). */
#define ELEMS_PER_MSG 24

static void
add_vmap_elems(struct dp_nft_batch *b, const char *name, size_t key_len,
               const uint8_t (*keys)[16], char *const *chains, size_t n)
{
    for (size_t i = 0; i < n; i += ELEMS_PER_MSG) {
        struct nftnl_set *s = set_new(b, name);
        for (size_t k = i; k < n && k < i + ELEMS_PER_MSG; k++) {
            struct nftnl_set_elem *e = nftnl_set_elem_alloc();
            nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, keys[k], key_len);
            nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
            nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chains[k]);
            nftnl_set_elem_add(s, e);
        }
        nftnl_set_elems_nlmsg_build_payload(
            batch_msg(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE,
                      xasprintf("adding %"PRIuSIZE" elements to map %s",
                                MIN(n - i, ELEMS_PER_MSG), name)), s);
        nftnl_set_free(s);
        batch_next(b);
    }
}

void
dp_nft_add_vmap(struct dp_nft_batch *b, const char *name, uint32_t key_type,
                size_t key_len, const uint8_t (*keys)[16],
                char *const *chains, size_t n)
{
    vmap_new(b, name, key_type, key_len, NULL);
    add_vmap_elems(b, name, key_len, keys, chains, n);
}

void
dp_nft_refill_vmap(struct dp_nft_batch *b, const char *name, size_t key_len,
                   const uint8_t (*keys)[16], char *const *chains, size_t n)
{
    /* DELSETELEM without elements empties the set. */
    struct nftnl_set *s = set_new(b, name);
    nftnl_set_elems_nlmsg_build_payload(
        batch_msg(b, NFT_MSG_DELSETELEM, 0,
                  xasprintf("emptying map %s", name)), s);
    nftnl_set_free(s);
    batch_next(b);
    add_vmap_elems(b, name, key_len, keys, chains, n);
}

void
dp_nft_del_set(struct dp_nft_batch *b, const char *name)
{
    struct nftnl_set *s = set_new(b, name);
    nftnl_set_nlmsg_build_payload(
        batch_msg(b, NFT_MSG_DELSET, 0, xasprintf("deleting set %s", name)),
        s);
    nftnl_set_free(s);
    batch_next(b);
}

static void
map_elem(struct dp_nft_batch *b, const char *map, const char *ifname,
         const char *chain)
{
    struct nftnl_set *s = set_new(b, map);
    struct nftnl_set_elem *e = nftnl_set_elem_alloc();
    char key[IFNAMSIZ] = "";
    ovs_strzcpy(key, ifname, sizeof key);
    nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof key);
    if (chain) {
        nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
        nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
    }
    nftnl_set_elem_add(s, e);
    nftnl_set_elems_nlmsg_build_payload(
        batch_msg(b, chain ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
                  chain ? NLM_F_CREATE : 0,
                  chain ? xasprintf("adding %s to map %s", ifname, map)
                        : xasprintf("deleting %s from map %s", ifname, map)),
        s);
    nftnl_set_free(s);
    batch_next(b);
}

void
dp_nft_map_add(struct dp_nft_batch *b, const char *map, const char *ifname,
               const char *chain)
{
    map_elem(b, map, ifname, chain);
}

void
dp_nft_map_del(struct dp_nft_batch *b, const char *map, const char *ifname)
{
    map_elem(b, map, ifname, NULL);
}

int
dp_nft_batch_commit(struct dp_nft_batch *b)
{
    if (!b->n) {
        return 0;
    }
    struct mnl_socket *nl = request_socket();
    nftnl_batch_end(nftnl_batch_buffer(b->b), seq++);
    nftnl_batch_update(b->b);

    drain(nl);
    int n_iov = nftnl_batch_iovec_len(b->b);
    struct iovec *iov = xcalloc(n_iov, sizeof *iov);
    nftnl_batch_iovec(b->b, iov, n_iov);
    char *whole = NULL;
    if (n_iov > IOV_MAX) {
        /* More pages than sendmsg() takes: one buffer. */
        size_t len = 0;
        for (int i = 0; i < n_iov; i++) {
            len += iov[i].iov_len;
        }
        whole = xmalloc(len);
        len = 0;
        for (int i = 0; i < n_iov; i++) {
            memcpy(whole + len, iov[i].iov_base, iov[i].iov_len);
            len += iov[i].iov_len;
        }
        iov[0].iov_base = whole;
        iov[0].iov_len = len;
        n_iov = 1;
    }
    struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
    struct msghdr msg = {
        .msg_name = &snl, .msg_namelen = sizeof snl,
        .msg_iov = iov, .msg_iovlen = n_iov,
    };
    dp_nl_count_modify();
    /* The kernel tells every listener of each object a big batch makes,
     * vsw's own watch too, which would overflow and take that for a
     * change by someone else: it stops listening for the batch. */
    bool unheard = watch_sock && b->n > 64;
    int group = NFNLGRP_NFTABLES;
    if (unheard) {
        setsockopt(mnl_socket_get_fd(watch_sock), SOL_NETLINK,
                   NETLINK_DROP_MEMBERSHIP, &group, sizeof group);
    }
    int error = 0;
    if (sendmsg(mnl_socket_get_fd(nl), &msg, 0) < 0) {
        error = errno;
        dp_nl_set_error(error, "cannot send %"PRIuSIZE" nftables changes",
                        b->n);
    }
    free(iov);
    free(whole);
    if (unheard) {
        setsockopt(mnl_socket_get_fd(watch_sock), SOL_NETLINK,
                   NETLINK_ADD_MEMBERSHIP, &group, sizeof group);
    }

    /* The kernel handled the batch inside sendmsg(): its answers (only
     * errors: no operation asks for an acknowledgement) are queued. */
    char buf[MNL_SOCKET_BUFFER_SIZE];
    while (!error) {
        int n = recv(mnl_socket_get_fd(nl), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                error = errno;
                dp_nl_set_error(error, "cannot read the answer to %"PRIuSIZE
                                " nftables changes", b->n);
            }
            if (errno != EINTR) {
                break;
            }
            continue;
        }
        const struct nlmsghdr *nlh = (const struct nlmsghdr *) buf;
        for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
            if (nlh->nlmsg_type != NLMSG_ERROR) {
                continue;
            }
            const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
            if (!err->error || error) {
                continue;
            }
            error = -err->error;
            const char *ext = dp_nl_parse_extack(
                err, nlh->nlmsg_len - NLMSG_HDRLEN, nlh->nlmsg_flags);
            uint32_t i = nlh->nlmsg_seq - b->first_seq;
            const char *what = (i < b->what.n ? b->what.names[i]
                                : "applying the nftables changes");
            dp_nl_set_error(error, "%s%s%s", what, ext ? ": " : "",
                            ext ? ext : "");
        }
    }
    if (error) {
        dp_nl_count_failed();
    }
    return error;
}

/* ---- Watching. ---- */

int
dp_nft_watch_open(void)
{
    if (!watch_sock) {
        watch_sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK);
        if (!watch_sock
            || mnl_socket_bind(watch_sock, 1 << (NFNLGRP_NFTABLES - 1),
                               MNL_SOCKET_AUTOPID)) {
            VLOG_WARN("cannot watch nftables changes (%s): changes made by "
                      "others are found by the periodic check only",
                      ovs_strerror(errno));
            if (watch_sock) {
                mnl_socket_close(watch_sock);
                watch_sock = NULL;
            }
            return -1;
        }
        int size = 4 << 20;
        setsockopt(mnl_socket_get_fd(watch_sock), SOL_SOCKET,
                   SO_RCVBUFFORCE, &size, sizeof size);
    }
    return mnl_socket_get_fd(watch_sock);
}

/* The table a notification is about, for the object types vsw makes. */
static const char *
notification_table(const struct nlmsghdr *nlh)
{
    const struct nlattr *attr;
    int type = NFNL_MSG_TYPE(nlh->nlmsg_type);
    int table_attr = (type == NFT_MSG_NEWTABLE || type == NFT_MSG_DELTABLE
                      ? NFTA_TABLE_NAME
                      : type == NFT_MSG_NEWCHAIN || type == NFT_MSG_DELCHAIN
                      ? NFTA_CHAIN_TABLE
                      : type == NFT_MSG_NEWRULE || type == NFT_MSG_DELRULE
                      ? NFTA_RULE_TABLE
                      : type == NFT_MSG_NEWSET || type == NFT_MSG_DELSET
                      ? NFTA_SET_TABLE
                      : type == NFT_MSG_NEWSETELEM
                        || type == NFT_MSG_DELSETELEM
                      ? NFTA_SET_ELEM_LIST_TABLE : -1);
    if (table_attr < 0) {
        return NULL;
    }
    mnl_attr_for_each (attr, nlh, sizeof(struct nfgenmsg)) {
        if (mnl_attr_get_type(attr) == table_attr) {
            return mnl_attr_get_str(attr);
        }
    }
    return NULL;
}

bool
dp_nft_watch_run(const char *name)
{
    if (!watch_sock) {
        return false;
    }
    uint32_t mine = req_sock ? mnl_socket_get_portid(req_sock) : 0;
    bool changed = false;
    static char buf[32 * 1024];
    for (int i = 0; i < 1000; i++) {
        int n = recv(mnl_socket_get_fd(watch_sock), buf, sizeof buf,
                     MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno == ENOBUFS) {
                changed = true;     /* Lost some: look. */
                continue;
            }
            break;
        }
        if (n > (int) sizeof buf) {
            changed = true;         /* Cut short: look. */
            n = sizeof buf;
        }
        const struct nlmsghdr *nlh = (const struct nlmsghdr *) buf;
        for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
            if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES
                || nlh->nlmsg_pid == mine || nlh->nlmsg_len
                   < NLMSG_HDRLEN + sizeof(struct nfgenmsg)) {
                continue;
            }
            const char *table = notification_table(nlh);
            if (table && !strcmp(table, name)) {
                changed = true;
            }
        }
    }
    return changed;
}

void
dp_nft_watch_wait(void)
{
    if (watch_sock) {
        poll_fd_wait(mnl_socket_get_fd(watch_sock), POLLIN);
    }
}
