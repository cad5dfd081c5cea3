/* Unit tests for the policy engine (offload/negotiate.c for features,
 * offload/queues.c for channels, RSS and VMQ) on the capability sets of
 * three real NIC drivers, kept in tests/data/nic-*.caps: virtio-net
 * (recorded in the kernel lab), mlx5 and ixgbe (derived from the Linux 6.1
 * driver sources; each file says where every value came from).  The files
 * are "ethtool -k" output plus @channels / @rss lines; argv[1] is their
 * directory.
 *
 * What is checked: Hyper-V's uplink rules under "auto" (RSC/LRO off,
 * everything else the device can change on, no request where the driver
 * already agrees), RSS giving way to VMQ (queues from the top, RSS spread
 * over the rest, highest vmq_weight first), settings the device cannot
 * take refused as a whole before anything is planned. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "offload/ethtool.h"
#include "offload/negotiate.h"
#include "offload/queues.h"
#include "offload/rss.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "smap.h"
#include "util.h"

static const char *data_dir;

struct nic {
    struct ofl_features features;
    struct ofl_channels ch;
    struct ofl_rss rss;
    struct ofl_queue_caps caps;
};

/* ethtool's display names for features whose kernel name differs
 * (ethtool's off_flag_def table); group headers are skipped, their
 * members follow indented under their kernel names. */
static const char *
kernel_name(const char *shown)
{
    static const char *const map[][2] = {
        { "rx-checksumming", "rx-checksum" },
        { "generic-segmentation-offload", "tx-generic-segmentation" },
        { "generic-receive-offload", "rx-gro" },
        { "large-receive-offload", "rx-lro" },
        { "rx-vlan-offload", "rx-vlan-hw-parse" },
        { "tx-vlan-offload", "tx-vlan-hw-insert" },
        { "ntuple-filters", "rx-ntuple-filter" },
        { "receive-hashing", "rx-hashing" },
        { "tx-checksumming", NULL },
        { "scatter-gather", NULL },
        { "tcp-segmentation-offload", NULL },
    };
    for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
        if (!strcmp(shown, map[i][0])) {
            return map[i][1];
        }
    }
    return shown;
}

static void
parse_fields(const char *s, struct ofl_rss *rss)
{
    char *copy = xstrdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        char *letters = strchr(t, ':');
        *letters++ = '\0';
        for (size_t i = 0; i < OFL_N_FLOWS; i++) {
            if (!strcmp(t, ofl_rss_flow_names[i])) {
                assert_true(ofl_rss_fields_parse(letters, &rss->fields[i]));
            }
        }
    }
    free(copy);
}

static struct nic *
load_nic(const char *file)
{
    char path[512], line[512];
    struct nic *nic = xzalloc(sizeof *nic);

    snprintf(path, sizeof path, "%s/%s", data_dir, file);
    FILE *f = fopen(path, "r");
    if (!f) {
        fail_msg("cannot open %s", path);
    }
    while (fgets(line, sizeof line, f)) {
        char name[64], value[16], fields[128];
        unsigned int a, b;
        if (line[0] == '#' || !strncmp(line, "Features for", 12)) {
            continue;
        } else if (sscanf(line, "@channels combined %u %u", &a, &b) == 2) {
            nic->ch.combined = a;
            nic->ch.combined_max = b;
        } else if (sscanf(line, "@rss %u %u %127s", &a, &b, fields) == 3) {
            nic->rss.indir_size = a;
            nic->rss.key_size = b;
            for (uint32_t i = 0; i < a; i++) {
                nic->rss.indir[i] = i % nic->ch.combined;
            }
            for (uint32_t i = 0; i < b; i++) {
                nic->rss.key[i] = i * 13;
            }
            nic->rss.supported = nic->rss.fields_supported = true;
            parse_fields(fields, &nic->rss);
        } else if (sscanf(line, " %63[^:]: %15s", name, value) == 2) {
            const char *k = kernel_name(name);
            if (k && nic->features.n < OFL_MAX_FEATURES) {
                struct ofl_feature *ft
                    = &nic->features.f[nic->features.n++];
                ovs_strlcpy(ft->name, k, sizeof ft->name);
                ft->active = ft->wanted = !strcmp(value, "on");
                ft->nochange = strstr(line, "[fixed]") != NULL;
                ft->hw = !ft->nochange;
            }
        }
    }
    fclose(f);

    nic->caps.channels_ok = nic->ch.combined_max > 0;
    nic->caps.ch = nic->ch;
    nic->caps.rss_ok = nic->rss.supported;
    nic->caps.rss = &nic->rss;
    const struct ofl_feature *nt = ofl_features_find(&nic->features,
                                                     "rx-ntuple-filter");
    nic->caps.ntuple = nt && (nt->active || nt->hw);
    return nic;
}

/* The kernel features the auto plan changes, as "name=0|1 ..." sorted as
 * planned. */
static char *
auto_plan(const struct nic *nic)
{
    struct smap policy = SMAP_INITIALIZER(&policy);
    struct ofl_result results[OFL_N_FEATURES];
    const char *names[OFL_MAX_FEATURES];
    bool on[OFL_MAX_FEATURES];
    size_t n = ofl_negotiate_plan(&nic->features, &policy, names, on,
                                  results);
    char *s = xzalloc(1024);
    for (size_t i = 0; i < n; i++) {
        snprintf(s + strlen(s), 1024 - strlen(s), "%s%s=%d", i ? " " : "",
                 names[i], on[i]);
    }
    return s;
}

static void
test_virtio_recorded(void **state OVS_UNUSED)
{
    struct nic *nic = load_nic("nic-virtio-net-qemu.caps");
    const struct ofl_feature *f = ofl_features_find(&nic->features,
                                                    "rx-checksum");
    assert_true(f && f->active && f->nochange);   /* "on [fixed]" */

    /* Hyper-V's rules: RSC (rx-gro-hw) off, RSS hashing on; the rest the
     * driver already has. */
    char *plan = auto_plan(nic);
    assert_string_equal(plan, "rx-gro-hw=0 rx-hashing=1");
    free(plan);

    /* Queues: nothing to do by default; VMQ impossible without ntuple. */
    struct smap off = SMAP_INITIALIZER(&off), rss = SMAP_INITIALIZER(&rss);
    struct ofl_vnic vnic = { .name = "vm0", .has_mac = true, .weight = 100 };
    struct ofl_queue_plan qp;
    ofl_queues_plan(&off, &rss, &nic->caps, &vnic, 1, &qp);
    assert_string_equal(qp.error, "");
    assert_int_equal(qp.channels, 0);
    assert_false(qp.set_indir || qp.reset_indir || qp.set_key);
    assert_int_equal(vnic.queue, -1);
    assert_non_null(strstr(vnic.reason, "no ntuple filters"));
    assert_string_equal(qp.rows[OFL_Q_RSS].requested, "on (auto)");
    ofl_queue_plan_destroy(&qp);

    /* 4 queues: the channels change and the table follows (reset after
     * the change: virtio-net does not re-spread by itself). */
    smap_add(&rss, "queues", "4");
    ofl_queues_plan(&off, &rss, &nic->caps, NULL, 0, &qp);
    assert_int_equal(qp.channels, 4);
    assert_true(qp.reset_indir);
    ofl_queue_plan_destroy(&qp);

    /* Above the device's maximum: refused, nothing planned. */
    smap_replace(&rss, "queues", "5");
    smap_add(&rss, "hash-fields", "udp4:sd");
    ofl_queues_plan(&off, &rss, &nic->caps, NULL, 0, &qp);
    assert_string_equal(qp.error, "rss queues 5 is above the uplink's "
                        "maximum of 4 receive queues");
    assert_int_equal(qp.channels, 0);
    assert_false(qp.set_fields[OFL_FLOW_UDP4]);
    ofl_queue_plan_destroy(&qp);
    smap_destroy(&rss);
    free(nic);
}

static void
test_mlx5_derived(void **state OVS_UNUSED)
{
    struct nic *nic = load_nic("nic-mlx5-connectx5.caps");

    /* The driver's defaults already are the uplink rules: no request. */
    char *plan = auto_plan(nic);
    assert_string_equal(plan, "");
    free(plan);

    /* VMQ: three vNICs, the top queues by weight; RSS spreads over the
     * rest. */
    struct smap off = SMAP_INITIALIZER(&off), rss = SMAP_INITIALIZER(&rss);
    struct ofl_vnic v[4] = {
        { .name = "a", .has_mac = true, .weight = 50 },
        { .name = "b", .has_mac = true, .weight = 100 },
        { .name = "c", .has_mac = false, .weight = 100 },
        { .name = "d", .has_mac = true, .weight = 0 },
    };
    struct ofl_queue_plan qp;
    ofl_queues_plan(&off, &rss, &nic->caps, v, 4, &qp);
    assert_string_equal(qp.error, "");
    assert_true(qp.vmq);
    assert_int_equal(qp.n_vmq, 2);
    assert_int_equal(v[1].queue, 15);       /* Weight 100 first. */
    assert_int_equal(v[0].queue, 14);
    assert_int_equal(v[2].queue, -1);
    assert_non_null(strstr(v[2].reason, "the port has no mac"));
    assert_int_equal(v[3].queue, -1);
    assert_string_equal(v[3].reason, "");   /* Did not ask. */
    assert_int_equal(qp.spread, 14);
    assert_true(qp.set_indir);
    for (uint32_t i = 0; i < qp.indir_size; i++) {
        assert_true(qp.indir[i] < 14);
    }
    assert_int_equal(qp.indir[13], 13);
    assert_int_equal(qp.indir[14], 0);
    ofl_queue_plan_destroy(&qp);

    /* vmq=off gives the queues back to RSS. */
    smap_add(&off, "vmq", "off");
    ofl_queues_plan(&off, &rss, &nic->caps, v, 4, &qp);
    assert_false(qp.vmq);
    assert_int_equal(qp.spread, 16);
    assert_false(qp.set_indir);             /* Already i % 16. */
    assert_string_equal(v[1].reason, "the switch's vmq policy is off");
    ofl_queue_plan_destroy(&qp);
    smap_destroy(&off);
    free(nic);
}

static void
test_ixgbe_derived(void **state OVS_UNUSED)
{
    struct nic *nic = load_nic("nic-ixgbe-82599.caps");

    /* 82599 turns RSC (LRO) on by itself: the rule turns it off; TC
     * offload the device offers goes on. */
    char *plan = auto_plan(nic);
    assert_string_equal(plan, "rx-lro=0 hw-tc-offload=1");
    free(plan);

    struct smap off = SMAP_INITIALIZER(&off), rss = SMAP_INITIALIZER(&rss);
    struct ofl_queue_plan qp;

    /* A 40-byte key and UDP port hashing are planned... */
    char key[200] = "";
    for (int i = 0; i < 40; i++) {
        snprintf(key + strlen(key), sizeof key - strlen(key), "%s%02x",
                 i ? ":" : "", i);
    }
    smap_add(&rss, "hash-key", key);
    smap_add(&rss, "hash-fields", "udp4:sdfn,tcp4:sdfn");
    smap_add(&rss, "spread", "8");
    ofl_queues_plan(&off, &rss, &nic->caps, NULL, 0, &qp);
    assert_string_equal(qp.error, "");
    assert_true(qp.set_key);
    assert_int_equal(qp.key_size, 40);
    assert_true(qp.set_fields[OFL_FLOW_UDP4]);
    assert_false(qp.set_fields[OFL_FLOW_TCP4]);     /* Already so. */
    assert_int_equal(qp.spread, 8);
    assert_true(qp.set_indir);
    ofl_queue_plan_destroy(&qp);

    /* ...a 20-byte key is refused with both lengths, and then nothing of
     * the set is planned. */
    smap_replace(&rss, "hash-key", "00:01:02:03:04:05:06:07:08:09:0a:0b:0c:"
                 "0d:0e:0f:10:11:12:13");
    ofl_queues_plan(&off, &rss, &nic->caps, NULL, 0, &qp);
    assert_string_equal(qp.error, "rss hash-key has 20 bytes; the uplink's "
                        "key has 40");
    assert_false(qp.set_key || qp.set_indir || qp.set_fields[OFL_FLOW_UDP4]);
    ofl_queue_plan_destroy(&qp);

    /* rss=off: every flow to queue 0. */
    smap_clear(&rss);
    smap_add(&off, "rss", "off");
    ofl_queues_plan(&off, &rss, &nic->caps, NULL, 0, &qp);
    assert_int_equal(qp.spread, 1);
    assert_true(qp.set_indir);
    assert_int_equal(qp.indir[5], 0);
    ofl_queue_plan_destroy(&qp);
    smap_destroy(&off);
    smap_destroy(&rss);
    free(nic);
}

static void
test_vmq_exhaustion(void **state OVS_UNUSED)
{
    struct nic *nic = load_nic("nic-ixgbe-82599.caps");
    struct smap off = SMAP_INITIALIZER(&off), rss = SMAP_INITIALIZER(&rss);
    struct ofl_vnic v[5];
    struct ofl_queue_plan qp;

    /* 4 queues, 5 vNICs: 3 get one, RSS keeps one. */
    memset(v, 0, sizeof v);
    for (int i = 0; i < 5; i++) {
        v[i].name = "vm";
        v[i].has_mac = true;
        v[i].weight = 10 + i;
    }
    nic->caps.ch.combined = 4;
    smap_add(&rss, "queues", "4");
    ofl_queues_plan(&off, &rss, &nic->caps, v, 5, &qp);
    assert_int_equal(qp.n_vmq, 3);
    assert_int_equal(v[4].queue, 3);
    assert_int_equal(v[3].queue, 2);
    assert_int_equal(v[2].queue, 1);
    assert_int_equal(v[1].queue, -1);
    assert_string_equal(v[1].reason, "no receive queue left (4 queues: 3 "
                        "to VMQ, 1 kept for RSS)");
    assert_int_equal(qp.spread, 1);
    ofl_queue_plan_destroy(&qp);

    /* The report explains a refusal with the kernel's words. */
    ofl_queues_plan(&off, &rss, &nic->caps, v, 5, &qp);
    ofl_queues_report(&nic->caps, 0, "Invalid argument: ETHTOOL_SRXCLSRLINS"
                      " refused", &qp);
    assert_string_equal(qp.rows[OFL_Q_VMQ].effective, "off");
    assert_non_null(strstr(qp.rows[OFL_Q_VMQ].reason, "refused: Invalid "
                           "argument: ETHTOOL_SRXCLSRLINS"));
    ofl_queue_plan_destroy(&qp);
    smap_destroy(&rss);
    free(nic);
}

static void
test_settings_syntax(void **state OVS_UNUSED)
{
    char *e;

    assert_null(ofl_rss_check("queues", "8"));
    assert_non_null(e = ofl_rss_check("queues", "0"));
    free(e);
    assert_non_null(e = ofl_rss_check("hash-key", "6d:5a:"));
    free(e);
    assert_null(ofl_rss_check("hash-fields", "tcp4:sdfn,udp6:sd"));
    assert_non_null(e = ofl_rss_check("hash-fields", "icmp:sd"));
    free(e);
    e = ofl_rss_check("colour", "red");
    assert_non_null(strstr(e, "choose queues, spread, hash-key or "
                           "hash-fields"));
    free(e);

    uint8_t key[OFL_RSS_MAX_KEY];
    assert_int_equal(ofl_rss_key_parse("6d:5a:56", key), 3);
    char *s = ofl_rss_key_format(key, 3);
    assert_string_equal(s, "6d:5a:56");
    free(s);
    char letters[16];
    uint64_t bits;
    assert_true(ofl_rss_fields_parse("sdfn", &bits));
    ofl_rss_fields_format(bits, letters);
    assert_string_equal(letters, "sdfn");
    assert_false(ofl_rss_fields_parse("sx", &bits));
}

/* Applying a plan: the order drivers accept, recorded through injected
 * ops. */
static struct ds applied = DS_EMPTY_INITIALIZER;

static int
rec_set_indir(const char *dev, const uint32_t *indir, uint32_t n)
{
    if (indir) {
        ds_put_format(&applied, "indir %s %"PRIu32" up to %"PRIu32"\n",
                      dev, n, indir[n - 1]);
    } else {
        ds_put_format(&applied, "indir %s default\n", dev);
    }
    return 0;
}

static int
rec_set_channels(const char *dev, bool combined, unsigned int n)
{
    ds_put_format(&applied, "channels %s %s %u\n", dev,
                  combined ? "combined" : "rx", n);
    return 0;
}

static int
rec_set_key(const char *dev, const uint8_t *key OVS_UNUSED, uint32_t n)
{
    ds_put_format(&applied, "key %s %"PRIu32"\n", dev, n);
    return 0;
}

static int
rec_set_fields(const char *dev, enum ofl_rss_flow flow, uint64_t fields)
{
    ds_put_format(&applied, "fields %s %d %#"PRIx64"\n", dev, flow,
                  fields);
    return 0;
}

static const char *
rec_error(void)
{
    return "refused";
}

static const struct ofl_queue_ops rec_queue_ops = {
    .set_indir = rec_set_indir,
    .set_channels = rec_set_channels,
    .set_key = rec_set_key,
    .set_fields = rec_set_fields,
    .error = rec_error,
};

static const char *
apply(struct nic *nic, const char *key, const char *value)
{
    struct smap off = SMAP_INITIALIZER(&off), rss = SMAP_INITIALIZER(&rss);
    struct ofl_queue_plan qp;
    char *error = NULL;

    if (key) {
        smap_add(&rss, key, value);
    }
    ofl_queues_plan(&off, &rss, &nic->caps, NULL, 0, &qp);
    assert_string_equal(qp.error, "");
    ds_clear(&applied);
    bool changed = ofl_queues_apply("eth1", &nic->caps, &qp,
                                    &rec_queue_ops, &error);
    assert_true(changed == (applied.length > 0));
    assert_null(error);
    ofl_queue_plan_destroy(&qp);
    smap_destroy(&rss);
    return ds_cstr(&applied);
}

static void
test_apply_order(void **state OVS_UNUSED)
{
    /* virtio-net, 2 of 4 channels: more channels first, then the table
     * back to the driver's default (it does not re-spread by itself). */
    struct nic *nic = load_nic("nic-virtio-net-qemu.caps");
    assert_string_equal(apply(nic, "queues", "4"),
                        "channels eth1 combined 4\n"
                        "indir eth1 default\n");
    /* Nothing asked: no call. */
    assert_string_equal(apply(nic, NULL, NULL), "");
    free(nic);

    /* ixgbe, 16 channels: fewer channels, spread over all of them: the
     * table valid for 4 queues goes first, or the kernel refuses the
     * channel count. */
    nic = load_nic("nic-ixgbe-82599.caps");
    const char *calls = apply(nic, "queues", "4");
    const char *indir = strstr(calls, "indir eth1");
    const char *channels = strstr(calls, "channels eth1 combined 4");
    assert_non_null(channels);
    if (indir) {
        assert_true(indir < channels);
    }
    /* The hashed fields, after everything else. */
    calls = apply(nic, "hash-fields", "udp4:sdfn");
    assert_string_equal(calls, "fields eth1 1 0xf0\n");
    free(nic);
    ds_destroy(&applied);
}

int
main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA-DIR\n", argv[0]);
        return 2;
    }
    data_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_virtio_recorded),
        cmocka_unit_test(test_mlx5_derived),
        cmocka_unit_test(test_ixgbe_derived),
        cmocka_unit_test(test_vmq_exhaustion),
        cmocka_unit_test(test_settings_syntax),
        cmocka_unit_test(test_apply_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
