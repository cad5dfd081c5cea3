/* Transmit scheduling: vsw's htb root qdisc and its classes; see qdisc.h. */
#include <config.h>

#include "datapath/qdisc.h"

#include <errno.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <string.h>
#include <sys/socket.h>

#include "datapath/netlink.h"
#include "util.h"

void
dp_qdisc_root_destroy(struct dp_qdisc_root *r)
{
    free(r->classes);
    memset(r, 0, sizeof *r);
}

static struct nl_msg *
tc_request(int type, int flags, int ifindex, uint32_t handle,
           uint32_t parent)
{
    struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | flags);
    struct tcmsg tc = {
        .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex,
        .tcm_handle = handle, .tcm_parent = parent,
    };
    nlmsg_append(msg, &tc, sizeof tc, NLMSG_ALIGNTO);
    return msg;
}

/* ---- Reading. ---- */

struct read_ctx {
    int ifindex;
    struct dp_qdisc_root *r;
};

static int
parse_qdisc(struct nl_msg *msg, void *ctx_)
{
    struct read_ctx *ctx = ctx_;
    struct nlmsghdr *hdr = nlmsg_hdr(msg);
    const struct tcmsg *tc = nlmsg_data(hdr);
    struct nlattr *tb[TCA_MAX + 1];
    if (hdr->nlmsg_type != RTM_NEWQDISC
        || nlmsg_parse(hdr, sizeof *tc, tb, TCA_MAX, NULL) < 0
        || tc->tcm_ifindex != ctx->ifindex || tc->tcm_parent != TC_H_ROOT
        || !tb[TCA_KIND]) {
        return NL_OK;
    }
    struct dp_qdisc_root *r = ctx->r;
    ovs_strzcpy(r->kind, nla_get_string(tb[TCA_KIND]), sizeof r->kind);
    r->handle = tc->tcm_handle;
    struct nlattr *opt[TCA_HTB_MAX + 1];
    if (!strcmp(r->kind, "htb") && tb[TCA_OPTIONS]
        && !nla_parse_nested(opt, TCA_HTB_MAX, tb[TCA_OPTIONS], NULL)
        && opt[TCA_HTB_INIT]
        && nla_len(opt[TCA_HTB_INIT]) >= (int) sizeof(struct tc_htb_glob)) {
        const struct tc_htb_glob *g = nla_data(opt[TCA_HTB_INIT]);
        r->default_minor = g->defcls;
    }
    return NL_OK;
}

static int
parse_class(struct nl_msg *msg, void *ctx_)
{
    struct read_ctx *ctx = ctx_;
    struct nlmsghdr *hdr = nlmsg_hdr(msg);
    const struct tcmsg *tc = nlmsg_data(hdr);
    struct nlattr *tb[TCA_MAX + 1], *opt[TCA_HTB_MAX + 1];
    if (hdr->nlmsg_type != RTM_NEWTCLASS
        || nlmsg_parse(hdr, sizeof *tc, tb, TCA_MAX, NULL) < 0
        || tc->tcm_ifindex != ctx->ifindex || !tb[TCA_KIND]
        || strcmp(nla_get_string(tb[TCA_KIND]), "htb") || !tb[TCA_OPTIONS]
        || nla_parse_nested(opt, TCA_HTB_MAX, tb[TCA_OPTIONS], NULL)
        || !opt[TCA_HTB_PARMS]
        || nla_len(opt[TCA_HTB_PARMS]) < (int) sizeof(struct tc_htb_opt)) {
        return NL_OK;
    }
    const struct tc_htb_opt *o = nla_data(opt[TCA_HTB_PARMS]);
    struct dp_qdisc_root *r = ctx->r;
    r->classes = xrealloc(r->classes, (r->n_classes + 1)
                                      * sizeof *r->classes);
    struct dp_htb_class *c = &r->classes[r->n_classes++];
    c->classid = tc->tcm_handle;
    c->parent = tc->tcm_parent;
    c->rate = (opt[TCA_HTB_RATE64] ? nla_get_u64(opt[TCA_HTB_RATE64])
               : o->rate.rate);
    c->ceil = (opt[TCA_HTB_CEIL64] ? nla_get_u64(opt[TCA_HTB_CEIL64])
               : o->ceil.rate);
    c->quantum = o->quantum;
    return NL_OK;
}

int
dp_qdisc_read(int ifindex, struct dp_qdisc_root *r)
{
    memset(r, 0, sizeof *r);
    struct read_ctx ctx = { ifindex, r };
    dp_nl_count_dump();
    int error = dp_nl_transact(dp_nl_sock(),
                               tc_request(RTM_GETQDISC, NLM_F_DUMP, ifindex,
                                          0, 0),
                               false, parse_qdisc, &ctx);
    if (!error && !strcmp(r->kind, "htb")
        && r->handle == DP_QDISC_HANDLE(0)) {
        dp_nl_count_dump();
        error = dp_nl_transact(dp_nl_sock(),
                               tc_request(RTM_GETTCLASS, NLM_F_DUMP,
                                          ifindex, 0, 0),
                               false, parse_class, &ctx);
    }
    return error;
}

/* ---- Changes. ---- */

int
dp_qdisc_add_htb(int ifindex, uint32_t default_minor)
{
    struct nl_msg *msg = tc_request(RTM_NEWQDISC,
                                    NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
                                    ifindex, DP_QDISC_HANDLE(0), TC_H_ROOT);
    nla_put_string(msg, TCA_KIND, "htb");
    struct nlattr *opts = nla_nest_start(msg, TCA_OPTIONS);
    struct tc_htb_glob g = {
        .version = 3, .rate2quantum = 10, .defcls = default_minor,
    };
    nla_put(msg, TCA_HTB_INIT, sizeof g, &g);
    nla_nest_end(msg, opts);
    return dp_nl_modify(msg);
}

int
dp_qdisc_del_htb(int ifindex)
{
    return dp_nl_modify(tc_request(RTM_DELQDISC, NLM_F_ACK, ifindex,
                                   DP_QDISC_HANDLE(0), TC_H_ROOT));
}

/* The time to send 'bytes' at 'rate' bytes/s, in the kernel's scheduler
 * ticks (64 ns: PSCHED_SHIFT). */
static uint32_t
xmit_ticks(uint64_t bytes, uint64_t rate)
{
    uint64_t ns = rate ? bytes * 1000000000ull / rate : 0;
    return MIN(ns >> 6, UINT32_MAX);
}

int
dp_qdisc_set_class(int ifindex, const struct dp_htb_class *c)
{
    struct nl_msg *msg = tc_request(RTM_NEWTCLASS,
                                    NLM_F_ACK | NLM_F_CREATE, ifindex,
                                    c->classid, c->parent);
    nla_put_string(msg, TCA_KIND, "htb");
    struct nlattr *opts = nla_nest_start(msg, TCA_OPTIONS);
    /* A burst of 10 ms at the rate (at least two full frames); rates in
     * 64 bits, the 32-bit fields saturated as tc does; the link layer
     * named, so no rate table is needed. */
    uint64_t rburst = MAX(c->rate / 100, 3028);
    uint64_t cburst = MAX(c->ceil / 100, 3028);
    struct tc_htb_opt o = {
        .rate = { .rate = MIN(c->rate, UINT32_MAX),
                  .linklayer = TC_LINKLAYER_ETHERNET },
        .ceil = { .rate = MIN(c->ceil, UINT32_MAX),
                  .linklayer = TC_LINKLAYER_ETHERNET },
        .buffer = xmit_ticks(rburst, c->rate),
        .cbuffer = xmit_ticks(cburst, c->ceil),
        .quantum = c->quantum,
    };
    nla_put(msg, TCA_HTB_PARMS, sizeof o, &o);
    nla_put_u64(msg, TCA_HTB_RATE64, c->rate);
    nla_put_u64(msg, TCA_HTB_CEIL64, c->ceil);
    nla_nest_end(msg, opts);
    return dp_nl_modify(msg);
}

int
dp_qdisc_del_class(int ifindex, uint32_t classid)
{
    return dp_nl_modify(tc_request(RTM_DELTCLASS, NLM_F_ACK, ifindex,
                                   classid, 0));
}
