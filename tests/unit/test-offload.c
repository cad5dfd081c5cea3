/* Unit tests for offload/ethtool.c (parsing a recorded FEATURES_GET reply)
 * and offload/negotiate.c (the policy engine on that capability set): the
 * plan asks only for what differs, auto follows the uplink rules, and the
 * report explains every difference. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "offload/ethtool.h"
#include "offload/negotiate.h"
#include "offload/rss.h"
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include "smap.h"
#include "util.h"

static struct ofl_features veth;

/* Loads tests/data/ethtool-features-veth-6.18.bin (path in argv[1]). */
static const char *data_path;

static int
load_veth(void **state)
{
    static char buf[16384];
    FILE *f = fopen(data_path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", data_path);
        return -1;
    }
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n < 16) {
        return -1;
    }
    memset(&veth, 0, sizeof veth);
    return ofl_ethtool_parse_features((const struct nlmsghdr *) buf, &veth);
}

static void
test_parse_recorded(void **state)
{
    const struct ofl_feature *f;

    assert_true(veth.n > 50);
    f = ofl_features_find(&veth, "tx-tcp-segmentation");
    assert_non_null(f);
    assert_true(f->hw && f->wanted && f->active && !f->nochange);
    f = ofl_features_find(&veth, "rx-gro");        /* veth: off by default */
    assert_true(f->hw && !f->wanted && !f->active);
    f = ofl_features_find(&veth, "rx-lro");
    assert_true(!f->hw && !f->active);
    f = ofl_features_find(&veth, "vlan-challenged");
    assert_true(f->nochange);
    assert_null(ofl_features_find(&veth, "no-such-feature"));
}

static size_t
plan(const struct smap *policy, const char *names[], bool on[],
     struct ofl_result r[OFL_N_FEATURES])
{
    return ofl_negotiate_plan(&veth, policy, names, on, r);
}

static const struct ofl_result *
result(const struct ofl_result r[OFL_N_FEATURES], const char *feature)
{
    for (size_t i = 0; i < OFL_N_FEATURES; i++) {
        if (!strcmp(r[i].feature, feature)) {
            return &r[i];
        }
    }
    fail_msg("no result for %s", feature);
    return NULL;
}

static void
test_auto_plan(void **state)
{
    struct smap policy = SMAP_INITIALIZER(&policy);
    const char *names[OFL_MAX_FEATURES];
    bool on[OFL_MAX_FEATURES];
    struct ofl_result r[OFL_N_FEATURES];

    /* On a fresh veth, "auto" only has GRO to turn on: everything else it
     * wants on already is, and LRO / hw-tc-offload the device lacks. */
    size_t n = plan(&policy, names, on, r);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "rx-gro");
    assert_true(on[0]);
    assert_false(result(r, "lro")->requested);
    assert_false(result(r, "hw-tc-offload")->requested);
    assert_true(result(r, "tso")->requested);
}

static void
test_policy_and_report(void **state)
{
    struct smap policy = SMAP_INITIALIZER(&policy);
    const char *names[OFL_MAX_FEATURES];
    bool on[OFL_MAX_FEATURES];
    struct ofl_result r[OFL_N_FEATURES];

    smap_add(&policy, "tso", "off");
    smap_add(&policy, "lro", "on");
    smap_add(&policy, "gro", "off");
    size_t n = plan(&policy, names, on, r);
    /* tso off: the whole IPv4 group this 6.18 veth has (plain, ECN, AccECN,
     * mangleid); lro cannot be asked of this device; gro already off. */
    static const char *const group[] = {
        "tx-tcp-segmentation", "tx-tcp-ecn-segmentation",
        "tx-tcp-accecn-segmentation", "tx-tcp-mangleid-segmentation",
    };
    assert_int_equal(n, ARRAY_SIZE(group));
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(names[i], group[i]);
        assert_false(on[i]);
    }

    /* The kernel's answer: TSO went off, every bit of it. */
    struct ofl_features after = veth;
    struct ofl_feature *bits[ARRAY_SIZE(group)];
    for (size_t i = 0; i < ARRAY_SIZE(group); i++) {
        bits[i] = (struct ofl_feature *) ofl_features_find(&after, group[i]);
        bits[i]->wanted = bits[i]->active = false;
    }
    ofl_negotiate_report(&after, NULL, r);
    assert_false(result(r, "tso")->effective);
    assert_string_equal(result(r, "tso")->reason, "");
    assert_true(result(r, "lro")->requested);
    assert_false(result(r, "lro")->effective);
    assert_non_null(strstr(result(r, "lro")->reason,
                           "not supported by the device"));

    /* Had the kernel refused, its words are the reason. */
    for (size_t i = 0; i < ARRAY_SIZE(group); i++) {
        bits[i]->wanted = bits[i]->active = true;
    }
    ofl_negotiate_report(&after, "Operation not supported: no way", r);
    assert_string_equal(result(r, "tso")->reason,
                        "refused: Operation not supported: no way");
    smap_destroy(&policy);
}

static void
test_converged_plans_nothing(void **state)
{
    struct smap policy = SMAP_INITIALIZER(&policy);
    const char *names[OFL_MAX_FEATURES];
    bool on[OFL_MAX_FEATURES];
    struct ofl_result r[OFL_N_FEATURES];

    smap_add(&policy, "gro", "off");        /* What the veth already has. */
    assert_int_equal(plan(&policy, names, on, r), 0);
    smap_destroy(&policy);
}

static void
test_feature_names(void **state)
{
    assert_true(ofl_feature_known("tso"));
    assert_true(ofl_feature_known("hw-tc-offload"));
    assert_false(ofl_feature_known("turbo"));
    assert_false(ofl_feature_known(""));
}

static void
add_feature(struct ofl_features *fs, const char *name, bool hw, bool active,
            bool nochange)
{
    struct ofl_feature *f = &fs->f[fs->n++];
    snprintf(f->name, sizeof f->name, "%s", name);
    f->hw = hw;
    f->wanted = active;
    f->active = active;
    f->nochange = nochange;
}

/* "tso" is ethtool's whole IPv4 TCP segmentation group: tso=off asks for
 * every bit of it, and a bit the device keeps on is named. */
static void
test_tso_group(void **state)
{
    struct ofl_features caps = { .n = 0 };
    struct ofl_result results[OFL_N_FEATURES];
    const char *names[OFL_MAX_FEATURES];
    bool on[OFL_MAX_FEATURES];
    struct smap policy = SMAP_INITIALIZER(&policy);

    add_feature(&caps, "tx-tcp-segmentation", true, true, false);
    add_feature(&caps, "tx-tcp-ecn-segmentation", true, true, false);
    add_feature(&caps, "tx-tcp-mangleid-segmentation", true, true, false);
    add_feature(&caps, "tx-tcp6-segmentation", true, true, false);
    smap_add(&policy, "tso", "off");

    size_t n = ofl_negotiate_plan(&caps, &policy, names, on, results);
    size_t asked = 0;
    for (size_t i = 0; i < n; i++) {
        assert_false(on[i]);
        assert_non_null(strstr(names[i], "tx-tcp"));
        assert_null(strstr(names[i], "tcp6"));       /* That is tso6. */
        asked++;
    }
    assert_int_equal(asked, 3);

    /* The device turned two bits off and kept ECN on. */
    caps.f[0].active = caps.f[2].active = false;
    caps.f[1].nochange = true;
    ofl_negotiate_report(&caps, NULL, results);
    const struct ofl_result *tso = NULL;
    for (size_t i = 0; i < OFL_N_FEATURES; i++) {
        if (!strcmp(results[i].feature, "tso")) {
            tso = &results[i];
        }
    }
    assert_non_null(tso);
    assert_true(tso->effective);
    assert_non_null(strstr(tso->reason, "partly on: tx-tcp-ecn-segmentation "
                           "on, tx-tcp-segmentation, "
                           "tx-tcp-mangleid-segmentation off"));

    /* "auto" turning TSO on asks for the plain bit only: the variants
     * (mangleid: TSO that may rewrite IP ids) stay as the driver has them,
     * and are not reported as "partly on". */
    struct ofl_features fresh = { .n = 0 };
    add_feature(&fresh, "tx-tcp-segmentation", true, false, false);
    add_feature(&fresh, "tx-tcp-mangleid-segmentation", true, false, false);
    smap_clear(&policy);
    n = ofl_negotiate_plan(&fresh, &policy, names, on, results);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "tx-tcp-segmentation");
    assert_true(on[0]);
    fresh.f[0].active = true;
    ofl_negotiate_report(&fresh, NULL, results);
    for (size_t i = 0; i < OFL_N_FEATURES; i++) {
        if (!strcmp(results[i].feature, "tso")) {
            assert_string_equal(results[i].reason, "");
        }
    }
    smap_destroy(&policy);
}

/* An ETHTOOL_MSG_RSS_GET reply as Linux 6.2+ builds it (rss_fill_reply():
 * HFUNC u32, INDIR binary u32 array, HKEY binary), built here with libnl:
 * neither kernel in reach answers one (the development kernel's veth has
 * no RSS, the lab's 6.1 predates the message). */
static void
test_parse_rss_reply(void **state)
{
    struct nl_msg *msg = nlmsg_alloc();
    uint32_t indir[8] = { 0, 1, 2, 3, 0, 1, 2, 3 };
    uint8_t key[4] = { 0x6d, 0x5a, 0x56, 0xda };

    /* ETHTOOL_MSG_RSS_GET_REPLY: 38 in the kernel-to-user enum. */
    genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, 20, 0, 0, 38, 1);
    nla_put_u32(msg, 3, 1);                     /* ETH_RSS_HASH_TOP */
    nla_put(msg, 4, sizeof indir, indir);
    nla_put(msg, 5, sizeof key, key);

    struct ofl_rss *rss = calloc(1, sizeof *rss);
    assert_int_equal(ofl_rss_parse_reply(nlmsg_hdr(msg), rss), 0);
    assert_int_equal(rss->hfunc, 1);
    assert_int_equal(rss->indir_size, 8);
    assert_int_equal(rss->indir[6], 2);
    assert_int_equal(rss->key_size, 4);
    assert_memory_equal(rss->key, key, 4);
    free(rss);
    nlmsg_free(msg);
}

int
main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: test-offload RECORDED-REPLY\n");
        return 2;
    }
    data_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_recorded),
        cmocka_unit_test(test_auto_plan),
        cmocka_unit_test(test_policy_and_report),
        cmocka_unit_test(test_converged_plans_nothing),
        cmocka_unit_test(test_feature_names),
        cmocka_unit_test(test_parse_rss_reply),
        cmocka_unit_test(test_tso_group),
    };
    return cmocka_run_group_tests_name("offload", tests, load_veth, NULL);
}
