/* Hardware flow rules through OVS lib/tc.c; see flower.h. */
#include <config.h>

#include "offload/flower.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <net/if.h>
#include <sys/utsname.h>

#include "datapath/netlink.h"
#include "offload/sriov.h"
#include "netlink-socket.h"
#include "netlink.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "sha1.h"
#include "tc.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ofl_flower);

const uint16_t ofl_flow_eth_types[3] = { ETH_P_IP, ETH_P_IPV6, ETH_P_ARP };

/* The cookie: "vsw", the format, then the digest's first 12 bytes. */
static const uint8_t cookie_magic[4] = { 'v', 's', 'w', 1 };

/* The index of 'eth_type' in ofl_flow_eth_types, or -1. */
static int
eth_type_index(uint16_t eth_type)
{
    for (int i = 0; i < ARRAY_SIZE(ofl_flow_eth_types); i++) {
        if (ofl_flow_eth_types[i] == eth_type) {
            return i;
        }
    }
    return -1;
}

uint16_t
ofl_flow_prio(const struct ofl_flow_rule *r)
{
    int base = (r->vlan ? OFL_FLOWER_PRIO_VLAN
                : r->action == OFL_FLOW_TO_BRIDGE ? OFL_FLOWER_PRIO_LOCAL
                : OFL_FLOWER_PRIO_FORWARD);
    return base + MAX(eth_type_index(r->eth_type), 0);
}

static void
put_mac(char *buf, size_t size, const uint8_t mac[6])
{
    snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x",
             mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static bool
mac_is_zero(const uint8_t mac[6])
{
    static const uint8_t zero[6];
    return !memcmp(mac, zero, 6);
}

void
ofl_flow_describe(const struct ofl_flow_rule *r, char *buf, size_t size)
{
    static const char *const types[] = { "ipv4", "ipv6", "arp" };
    char dst[18], dmask[18], src[18], smask[18], vlan[16] = "", type[16];
    int ti = eth_type_index(r->eth_type);
    snprintf(type, sizeof type, "type 0x%04x", r->eth_type);
    put_mac(dst, sizeof dst, r->dst);
    put_mac(dmask, sizeof dmask, r->dst_mask);
    put_mac(src, sizeof src, r->src);
    put_mac(smask, sizeof smask, r->src_mask);
    if (r->vlan) {
        snprintf(vlan, sizeof vlan, "vlan %d ", r->vlan);
    }
    char act[64];
    switch (r->action) {
    case OFL_FLOW_TO_BRIDGE:
        snprintf(act, sizeof act, "to the bridge");
        break;
    case OFL_FLOW_REDIRECT:
        snprintf(act, sizeof act, "redirect to %d", r->out_ifindex);
        break;
    case OFL_FLOW_POP_REDIRECT:
        snprintf(act, sizeof act, "pop vlan, redirect to %d",
                 r->out_ifindex);
        break;
    case OFL_FLOW_PUSH_REDIRECT:
        snprintf(act, sizeof act, "push vlan %d, redirect to %d",
                 r->push_vlan, r->out_ifindex);
        break;
    }
    snprintf(buf, size, "%s%s%s%s%s%s%s%s%s%s -> %s", vlan,
             ti >= 0 ? types[ti] : type,
             mac_is_zero(r->dst_mask) ? "" : " dst ",
             mac_is_zero(r->dst_mask) ? "" : dst,
             mac_is_zero(r->dst_mask) ? "" : "/",
             mac_is_zero(r->dst_mask) ? "" : dmask,
             mac_is_zero(r->src_mask) ? "" : " src ",
             mac_is_zero(r->src_mask) ? "" : src,
             mac_is_zero(r->src_mask) ? "" : "/",
             mac_is_zero(r->src_mask) ? "" : smask, act);
}

/* Appends the 'n' bytes of 'v' to 'buf' at '*ofs'. */
static void
put_bytes(uint8_t *buf, size_t *ofs, const void *v, size_t n)
{
    memcpy(buf + *ofs, v, n);
    *ofs += n;
}

void
ofl_flow_cookie(struct ofl_flow_rule *r)
{
    /* What the rule was derived from, field by field (no padding). */
    uint8_t what[64], digest[SHA1_DIGEST_SIZE];
    size_t n = 0;
    uint32_t v[7] = {
        r->ifindex, ofl_flow_prio(r), r->eth_type, r->vlan, r->action,
        r->out_ifindex, r->push_vlan,
    };
    int32_t placement = r->placement;

    put_bytes(what, &n, v, sizeof v);
    put_bytes(what, &n, r->dst, 6);
    put_bytes(what, &n, r->dst_mask, 6);
    put_bytes(what, &n, r->src, 6);
    put_bytes(what, &n, r->src_mask, 6);
    put_bytes(what, &n, &placement, sizeof placement);
    sha1_bytes(what, n, digest);
    memcpy(r->cookie, cookie_magic, sizeof cookie_magic);
    memcpy(r->cookie + sizeof cookie_magic, digest,
           OFL_FLOW_COOKIE_LEN - sizeof cookie_magic);
}

bool
ofl_flow_cookie_is_ours(const uint8_t *cookie, size_t len)
{
    return (len == OFL_FLOW_COOKIE_LEN
            && !memcmp(cookie, cookie_magic, sizeof cookie_magic));
}

/* ---- Is there a cls_flower? ------------------------------------------ */

static int available = -1;          /* -1 not looked up yet. */
static char unavailable_why[256];

/* Whether 'path' has a line containing 'needle'. */
static int
file_mentions(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return -1;
    }
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        found = strstr(line, needle) != NULL;
    }
    fclose(f);
    return found;
}

bool
ofl_flower_available(const char **why)
{
    if (available < 0) {
        /* Loaded or built in: its classify function is in kallsyms. */
        int in_kernel = file_mentions("/proc/kallsyms", " fl_classify");
        struct utsname u;
        int loadable = 0;
        if (!uname(&u)) {
            char *path = xasprintf("/lib/modules/%s/modules.dep", u.release);
            loadable = file_mentions(path, "/cls_flower.ko") > 0;
            free(path);
        }
        /* No kallsyms to read: let the first rule tell. */
        available = in_kernel != 0 || loadable;
        if (!available) {
            snprintf(unavailable_why, sizeof unavailable_why,
                     "the kernel has no cls_flower");
        }
    }
    *why = available ? NULL : unavailable_why;
    return available;
}

void
ofl_flower_set_unavailable(const char *why)
{
    available = 0;
    snprintf(unavailable_why, sizeof unavailable_why, "%s", why);
}

/* ---- Reading rules ----------------------------------------------------- */

/* TCA_FLOWER_FLAGS and TCA_FLOWER_IN_HW_COUNT, which lib/tc.c does not
 * keep, from the raw message. */
static void
parse_flags(const struct ofpbuf *msg, struct ofl_flow_installed *out)
{
    const struct nlattr *options = nl_attr_find(msg, NLMSG_HDRLEN
                                                + sizeof(struct tcmsg),
                                                TCA_OPTIONS);
    out->in_hw_count = -1;
    if (!options) {
        return;
    }
    const struct nlattr *a = nl_attr_find_nested(options, TCA_FLOWER_FLAGS);
    if (a && nl_attr_get_size(a) >= 4) {
        uint32_t flags = nl_attr_get_u32(a);
        out->skip_sw = flags & TCA_CLS_FLAGS_SKIP_SW;
        out->skip_hw = flags & TCA_CLS_FLAGS_SKIP_HW;
        out->in_hw = flags & TCA_CLS_FLAGS_IN_HW;
        out->not_in_hw = flags & TCA_CLS_FLAGS_NOT_IN_HW;
    }
    a = nl_attr_find_nested(options, TCA_FLOWER_IN_HW_COUNT);
    if (a && nl_attr_get_size(a) >= 4) {
        out->in_hw_count = nl_attr_get_u32(a);
    }
}

/* Fills '*out' from filter message 'msg', and '*rule' (if nonnull) with
 * what it matches and does, in ofl_flow_rule's terms; 'describe' fills
 * out->desc too. */
static int
parse_reply(struct ofpbuf *msg, struct ofl_flow_installed *out,
            struct ofl_flow_rule *rule, bool describe)
{
    const struct tcmsg *tc = ofpbuf_at(msg, NLMSG_HDRLEN, sizeof *tc);
    if (!tc) {
        return EPROTO;
    }
    memset(out, 0, sizeof *out);
    out->ifindex = tc->tcm_ifindex;
    out->prio = TC_H_MAJ(tc->tcm_info) >> 16;
    out->protocol = ntohs(TC_H_MIN(tc->tcm_info));
    out->handle = tc->tcm_handle;
    parse_flags(msg, out);
    const struct nlattr *chain = nl_attr_find(msg, NLMSG_HDRLEN + sizeof *tc,
                                              TCA_CHAIN);
    out->chain = chain ? nl_attr_get_u32(chain) : 0;

    /* lib/tc.c reads what it can encode; another program's rule may hold
     * more (it is then only known as not vsw's). */
    struct tc_flower flower;
    struct tcf_id id;
    memset(&flower, 0, sizeof flower);
    if (parse_netlink_to_tc_flower(msg, &id, &flower, false)) {
        return 0;
    }
    if (ofl_flow_cookie_is_ours(flower.act_cookie.data,
                                flower.act_cookie.len)) {
        out->ours = true;
        memcpy(out->cookie, flower.act_cookie.data, OFL_FLOW_COOKIE_LEN);
    }
    out->packets = get_32aligned_u64(&flower.stats_sw.n_packets)
                   + get_32aligned_u64(&flower.stats_hw.n_packets);
    out->bytes = get_32aligned_u64(&flower.stats_sw.n_bytes)
                 + get_32aligned_u64(&flower.stats_hw.n_bytes);
    out->hw_packets = get_32aligned_u64(&flower.stats_hw.n_packets);
    out->hw_bytes = get_32aligned_u64(&flower.stats_hw.n_bytes);
    out->lastused_ms = flower.lastused;

    /* What it matches and does. */
    struct ofl_flow_rule r;
    memset(&r, 0, sizeof r);
    r.ifindex = out->ifindex;
    if (eth_type_vlan(flower.key.eth_type)) {
        r.vlan = flower.key.vlan_id[0];
        r.eth_type = ntohs(flower.key.encap_eth_type[0]);
    } else {
        r.eth_type = ntohs(flower.key.eth_type);
    }
    memcpy(r.dst, flower.key.dst_mac.ea, 6);
    memcpy(r.dst_mask, flower.mask.dst_mac.ea, 6);
    memcpy(r.src, flower.key.src_mac.ea, 6);
    memcpy(r.src_mask, flower.mask.src_mac.ea, 6);
    r.action = OFL_FLOW_TO_BRIDGE;
    for (int i = 0; i < flower.action_count; i++) {
        const struct tc_action *a = &flower.actions[i];
        if (a->type == TC_ACT_OUTPUT) {
            r.out_ifindex = out->out_ifindex = a->out.ifindex_out;
            r.action = (r.action == OFL_FLOW_POP_REDIRECT
                        || r.action == OFL_FLOW_PUSH_REDIRECT
                        ? r.action : OFL_FLOW_REDIRECT);
        } else if (a->type == TC_ACT_VLAN_POP) {
            r.action = OFL_FLOW_POP_REDIRECT;
        } else if (a->type == TC_ACT_VLAN_PUSH) {
            r.action = OFL_FLOW_PUSH_REDIRECT;
            r.push_vlan = a->vlan.vlan_push_id;
        }
    }
    if (describe) {
        ofl_flow_describe(&r, out->desc, sizeof out->desc);
    }
    if (rule) {
        *rule = r;
    }
    return 0;
}

int
ofl_flower_parse(const void *msg, size_t len, struct ofl_flow_installed *out)
{
    struct ofpbuf b;
    ofpbuf_use_const(&b, msg, len);
    const struct nlmsghdr *h = ofpbuf_at(&b, 0, NLMSG_HDRLEN);
    if (!h || h->nlmsg_type != RTM_NEWTFILTER) {
        return EPROTO;
    }
    return parse_reply(&b, out, NULL, true);
}

int
ofl_flower_dump(int ifindex, struct ofl_flow_installed **rules, size_t *n)
{
    struct tcf_id id = tc_make_tcf_id(ifindex, 0, 0, TC_INGRESS);
    struct nl_dump dump;
    uint64_t stub[NL_DUMP_BUFSIZE / 8];
    struct ofpbuf buf, reply;
    size_t allocated = 0;

    *rules = NULL;
    *n = 0;
    dp_nl_count_dump();
    int error = tc_dump_flower_start(&id, &dump, false);
    if (error) {
        return error;
    }
    ofpbuf_use_stub(&buf, stub, sizeof stub);
    while (nl_dump_next(&dump, &reply, &buf)) {
        struct ofl_flow_installed r;
        const struct nlmsghdr *h = ofpbuf_at(&reply, 0, NLMSG_HDRLEN);
        if (!h || h->nlmsg_type != RTM_NEWTFILTER || parse_reply(&reply, &r, NULL, true)
            || !r.handle) {
            continue;       /* A flower instance's own entry has no handle. */
        }
        if (*n >= allocated) {
            *rules = x2nrealloc(*rules, &allocated, sizeof **rules);
        }
        (*rules)[(*n)++] = r;
    }
    ofpbuf_uninit(&buf);
    error = nl_dump_done(&dump);
    if (error == ENOENT || error == EINVAL || error == ENODEV) {
        error = 0;      /* No ingress qdisc: no rules. */
    }
    if (error) {
        free(*rules);
        *rules = NULL;
        *n = 0;
        dp_nl_set_error(error, "cannot read the rules of ifindex %d",
                        ifindex);
    }
    return error;
}

int
ofl_flower_ensure_ingress(int ifindex)
{
    /* TC_EGRESS makes lib/tc.c add clsact, which has an ingress hook (and
     * an egress one for port policy). */
    int error = tc_add_del_qdisc(ifindex, true, 0, TC_EGRESS);
    return error == EEXIST ? 0 : error;
}

static void
fill_flower(const struct ofl_flow_rule *r, struct tc_flower *f)
{
    memset(f, 0, sizeof *f);
    if (r->vlan) {
        f->key.eth_type = htons(ETH_P_8021Q);
        f->key.vlan_id[0] = r->vlan;
        f->mask.vlan_id[0] = 0xfff;
        f->key.encap_eth_type[0] = htons(r->eth_type);
    } else {
        f->key.eth_type = htons(r->eth_type);
    }
    f->mask.eth_type = OVS_BE16_MAX;
    memcpy(f->key.dst_mac.ea, r->dst, 6);
    memcpy(f->mask.dst_mac.ea, r->dst_mask, 6);
    memcpy(f->key.src_mac.ea, r->src, 6);
    memcpy(f->mask.src_mac.ea, r->src_mask, 6);

    struct tc_action *a = f->actions;
    switch (r->action) {
    case OFL_FLOW_TO_BRIDGE:
        a->type = TC_ACT_GOTO;
        a->chain = OFL_FLOWER_BRIDGE_CHAIN;
        a++;
        break;
    case OFL_FLOW_POP_REDIRECT:
        a->type = TC_ACT_VLAN_POP;
        a++;
        /* Fall through. */
    case OFL_FLOW_REDIRECT:
        a->type = TC_ACT_OUTPUT;
        a->out.ifindex_out = r->out_ifindex;
        a++;
        break;
    case OFL_FLOW_PUSH_REDIRECT:
        a->type = TC_ACT_VLAN_PUSH;
        a->vlan.vlan_push_tpid = htons(ETH_P_8021Q);
        a->vlan.vlan_push_id = r->push_vlan;
        a++;
        a->type = TC_ACT_OUTPUT;
        a->out.ifindex_out = r->out_ifindex;
        a++;
        break;
    }
    f->action_count = a - f->actions;
    f->act_cookie.data = r->cookie;
    f->act_cookie.len = OFL_FLOW_COOKIE_LEN;
    f->tc_policy = r->skip_sw ? TC_POLICY_SKIP_SW : TC_POLICY_SKIP_HW;
}

/* Whether 'a' and 'b' match and do the same. */
static bool
same_rule(const struct ofl_flow_rule *a, const struct ofl_flow_rule *b)
{
    return (a->eth_type == b->eth_type && a->vlan == b->vlan
            && !memcmp(a->dst, b->dst, 6)
            && !memcmp(a->dst_mask, b->dst_mask, 6)
            && !memcmp(a->src, b->src, 6)
            && !memcmp(a->src_mask, b->src_mask, 6)
            && a->action == b->action
            && (a->action == OFL_FLOW_TO_BRIDGE
                || a->out_ifindex == b->out_ifindex)
            && (a->action != OFL_FLOW_PUSH_REDIRECT
                || a->push_vlan == b->push_vlan));
}

/* Reads /sys/class/net/IFNAME/ATTR into 'buf' (one line, no newline). */
static bool
read_sysfs(const char *ifname, const char *attr, char *buf, size_t size)
{
    char *path = xasprintf("/sys/class/net/%s/%s", ifname, attr);
    FILE *f = fopen(path, "r");
    free(path);
    bool ok = f && fgets(buf, size, f);
    if (f) {
        fclose(f);
    }
    if (ok) {
        buf[strcspn(buf, "\n")] = '\0';
    }
    return ok;
}

static int
sweep(int ifindex)
{
    struct ofl_flow_installed *rules;
    size_t n;
    int deleted = 0;
    if (!ifindex || ofl_flower_dump(ifindex, &rules, &n)) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (rules[i].ours) {
            if (ofl_flower_delete(&rules[i])) {
                VLOG_WARN("cannot delete a flow rule of vsw's on ifindex %d: "
                          "%s", ifindex, dp_nl_error());
            } else {
                deleted++;
            }
        }
    }
    free(rules);
    return deleted;
}

int
ofl_flower_sweep_uplink(const char *ifname)
{
    const char *why;
    if (!ofl_flower_available(&why)) {
        return 0;
    }
    int deleted = sweep(if_nametoindex(ifname));
    char swid[64], other[64], port[32];
    DIR *d = opendir("/sys/class/net");
    if (d && read_sysfs(ifname, "phys_switch_id", swid, sizeof swid)
        && swid[0]) {
        struct dirent *de;
        int vf;
        while ((de = readdir(d))) {
            if (de->d_name[0] != '.'
                && read_sysfs(de->d_name, "phys_switch_id", other,
                              sizeof other)
                && !strcmp(other, swid)
                && read_sysfs(de->d_name, "phys_port_name", port,
                              sizeof port)
                && ofl_sriov_parse_rep_name(port, &vf)) {
                deleted += sweep(if_nametoindex(de->d_name));
            }
        }
    }
    if (d) {
        closedir(d);
    }
    if (deleted) {
        VLOG_INFO("%s left its switch: deleted %d flow rules of vsw's on it "
                  "and its representors", ifname, deleted);
    }
    return deleted;
}

/* dp_nl_ovs_batch_end()'s callback for ofl_flower_install_many(). */
struct batch_ctx {
    const struct ofl_flow_rule *rules;
    struct ofl_flow_installed *out;
    int *errors;
    char **why;
    const size_t *index;        /* Queued request -> rule. */
};

static void
batch_answer(size_t q, int error, const char *why, const struct ofpbuf *echo,
             void *ctx_)
{
    struct batch_ctx *ctx = ctx_;
    size_t i = ctx->index[q];
    const struct ofl_flow_rule *r = &ctx->rules[i];
    struct ofl_flow_installed *out = &ctx->out[i];

    if (!error) {
        struct ofpbuf copy;
        struct ofl_flow_rule back;
        ofpbuf_use_const(&copy, echo->data, echo->size);
        error = parse_reply(&copy, out, &back, false);
        if (!error && (!out->ours
                       || memcmp(out->cookie, r->cookie, OFL_FLOW_COOKIE_LEN)
                       || !same_rule(r, &back))) {
            char want[160];
            ofl_flow_describe(r, want, sizeof want);
            ofl_flow_describe(&back, out->desc, sizeof out->desc);
            ctx->why[i] = xasprintf("the kernel's copy of the rule is not "
                                    "what was asked: asked \"%s\", got "
                                    "\"%s\"", want, out->desc);
            out->ifindex = r->ifindex;
            ofl_flower_delete(out);
            ctx->errors[i] = EPROTO;
            return;
        }
        out->ifindex = r->ifindex;
        ctx->errors[i] = error;
        if (error) {
            ctx->why[i] = xstrdup("cannot read the kernel's echo");
        }
        return;
    }
    ctx->errors[i] = error;
    ctx->why[i] = xstrdup(why);
}

void
ofl_flower_install_many(const struct ofl_flow_rule *rules, size_t n,
                        struct ofl_flow_installed *out, int *errors,
                        char **why)
{
    size_t *index = xmalloc((n + 1) * sizeof *index);
    size_t n_queued = 0;

    dp_nl_ovs_batch_begin();
    for (size_t i = 0; i < n; i++) {
        const struct ofl_flow_rule *r = &rules[i];
        struct tcf_id id = tc_make_tcf_id(r->ifindex, 0, ofl_flow_prio(r),
                                          TC_INGRESS);
        struct tc_flower f;

        fill_flower(r, &f);
        memset(&out[i], 0, sizeof out[i]);
        errors[i] = 0;
        why[i] = NULL;
        int error = tc_replace_flower(&id, &f);     /* Queued. */
        if (error) {
            errors[i] = error;
            why[i] = xasprintf("cannot encode the rule: %s",
                               ovs_strerror(error));
        } else {
            index[n_queued++] = i;
        }
    }
    struct batch_ctx ctx = { rules, out, errors, why, index };
    dp_nl_ovs_batch_end(batch_answer, &ctx);
    free(index);
}

int
ofl_flower_delete(const struct ofl_flow_installed *r)
{
    struct tcf_id id = tc_make_tcf_id(r->ifindex, 0, r->prio, TC_INGRESS);
    id.chain = r->chain;
    id.handle = r->handle;
    return tc_del_flower_filter(&id);
}
