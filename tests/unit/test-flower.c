/* Unit tests for flow rules (vswitchd/reconcile-flower.c, offload/flower.c):
 * rule derivation from configuration, the cookie, and convergence against
 * a fake kernel (injected rc_flower_ops that keep each device's rules in
 * memory and count the calls); no kernel.
 *
 * What is checked: the rules of VF ports by VLAN mode (access: pop from
 * the uplink and push to it; trunk: none; untagged), VF to VF only within
 * a VLAN, local non-VF MACs left to the bridge, a VF's own source MAC on
 * every rule from its representor; the cookie names vsw and the rule's
 * inputs, not how it was placed; a first pass installs everything and a
 * second makes no modifying call; another program's rule survives every
 * pass; a port that goes takes its rules with it; a device that refuses
 * hardware gets the same rules in software with the kernel's words, and
 * the next pass adopts them; hardware-only makes the refusal the port's
 * error; no cls_flower is reported, not retried; the kernel's recorded
 * messages (tests/data/flower-*.hex) read back as they were. */
#include <config.h>

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "datapath/link.h"
#include "offload/flower.h"
#include "util.h"
#include "vswitchd/reconcile.h"

/* ---- A fake kernel of flow rules ---------------------------------------- */

#define MAX_RULES 512
static struct ofl_flow_installed kernel_rules[MAX_RULES];
static size_t n_kernel;
static uint32_t next_handle = 1;
static int n_install, n_remove, n_ingress;
static bool refuse_hw;          /* skip_sw refused, as netdevsim does. */
static bool have_flower = true;
static char last_error[128];

static bool
fake_available(const char **why)
{
    *why = have_flower ? NULL : "the kernel has no cls_flower";
    return have_flower;
}

static void
fake_set_unavailable(const char *why OVS_UNUSED)
{
    have_flower = false;
}

static int
fake_dump(int ifindex, struct ofl_flow_installed **out, size_t *n)
{
    *out = xcalloc(MAX_RULES, sizeof **out);
    *n = 0;
    for (size_t i = 0; i < n_kernel; i++) {
        if (kernel_rules[i].ifindex == ifindex) {
            (*out)[(*n)++] = kernel_rules[i];
        }
    }
    return 0;
}

static bool has_qdisc[64];      /* By ifindex. */

static int
fake_ensure_ingress(int ifindex)
{
    n_ingress++;
    has_qdisc[ifindex] = true;
    return 0;
}

static int
fake_install(const struct ofl_flow_rule *r, struct ofl_flow_installed *out)
{
    n_install++;
    if (!has_qdisc[r->ifindex]) {
        snprintf(last_error, sizeof last_error, "Invalid argument: Parent "
                 "Qdisc doesn't exists");
        return EINVAL;
    }
    if (r->skip_sw && refuse_hw) {
        snprintf(last_error, sizeof last_error, "Operation not supported: "
                 "only offload of BPF classifiers supported");
        return EOPNOTSUPP;
    }
    assert_true(n_kernel < MAX_RULES);
    struct ofl_flow_installed *k = &kernel_rules[n_kernel++];
    memset(k, 0, sizeof *k);
    k->ifindex = r->ifindex;
    k->prio = ofl_flow_prio(r);
    k->handle = next_handle++;
    k->ours = true;
    memcpy(k->cookie, r->cookie, sizeof k->cookie);
    k->skip_sw = r->skip_sw;
    k->skip_hw = !r->skip_sw;
    k->in_hw = r->skip_sw;
    k->not_in_hw = !r->skip_sw;
    *out = *k;
    return 0;
}

static void
fake_install_many(const struct ofl_flow_rule *rules, size_t n,
                  struct ofl_flow_installed *out, int *errors, char **why)
{
    for (size_t i = 0; i < n; i++) {
        errors[i] = fake_install(&rules[i], &out[i]);
        why[i] = errors[i] ? xstrdup(last_error) : NULL;
    }
}

static int
fake_remove(const struct ofl_flow_installed *r)
{
    n_remove++;
    for (size_t i = 0; i < n_kernel; i++) {
        if (kernel_rules[i].ifindex == r->ifindex
            && kernel_rules[i].handle == r->handle) {
            kernel_rules[i] = kernel_rules[--n_kernel];
            return 0;
        }
    }
    return ENOENT;
}

static bool
fake_hw_tc_offload(int ifindex OVS_UNUSED)
{
    return true;
}

static long long int fake_ms;

static long long int
fake_now(void)
{
    return fake_ms;
}

static char *kept_reason;       /* One switch: reason_get/set. */

static const char *
fake_reason_get(const struct uuid *sw OVS_UNUSED)
{
    return kept_reason;
}

static void
fake_reason_set(const struct uuid *sw OVS_UNUSED, const char *reason)
{
    free(kept_reason);
    kept_reason = reason ? xstrdup(reason) : NULL;
}

static const char *
fake_error(void)
{
    return last_error;
}

static const struct rc_flower_ops fake_flower_ops = {
    .available = fake_available,
    .set_unavailable = fake_set_unavailable,
    .dump = fake_dump,
    .ensure_ingress = fake_ensure_ingress,
    .install_many = fake_install_many,
    .remove = fake_remove,
    .hw_tc_offload = fake_hw_tc_offload,
    .reason_get = fake_reason_get,
    .reason_set = fake_reason_set,
    .now = fake_now,
};

static const struct rc_ops fake_ops = {
    .flower = &fake_flower_ops,
    .error = fake_error,
};

/* ---- A switch: uplink "pf0" (2), representors 10..12, a tap ------------- */

struct fixture {
    struct rc_switch sw;
    struct rc_port ports[4];
    struct dp_links links;
};

static void
add_link(struct dp_links *links, int ifindex, const char *name,
         const char *port_name, const char *mac)
{
    struct dp_link l = {
        .ifindex = ifindex, .name = CONST_CAST(char *, name), .kind = "",
        .alias = "", .flags = 1, .mtu = 1500, .tun_owner = -1,
        .tun_group = -1, .tun_queues = -1, .operstate = -1,
    };
    ovs_strlcpy(l.phys_port_name, port_name, sizeof l.phys_port_name);
    ovs_strlcpy(l.phys_switch_id, "aabbcc", sizeof l.phys_switch_id);
    ovs_strlcpy(l.mac, mac, sizeof l.mac);
    dp_links_add(links, &l);
}

static void
vf_port(struct rc_port *p, const char *name, const char *mac,
        const char *rep)
{
    rc_port_init(p);
    p->name = name;
    p->kind = VSW_PORT_VF;
    p->mac = mac;
    ovs_strlcpy(p->representor, rep, sizeof p->representor);
}

static struct fixture *
make_fixture(void)
{
    struct fixture *f = xzalloc(sizeof *f);
    rc_switch_init(&f->sw);
    f->sw.name = "sw0";
    f->sw.type = RC_EXTERNAL;
    f->sw.iov = true;
    f->sw.iov_support = true;
    f->sw.uplink_ifindex = 2;
    f->sw.ifindex = 3;
    f->sw.ok = true;
    dp_links_init(&f->links);
    add_link(&f->links, 2, "pf0", "p0", "02:00:00:00:00:02");
    add_link(&f->links, 3, "sw0", "", "02:00:00:00:00:03");
    add_link(&f->links, 10, "rep0", "pf0vf0", "");
    add_link(&f->links, 11, "rep1", "pf0vf1", "");
    add_link(&f->links, 12, "rep2", "pf0vf2", "");
    vf_port(&f->ports[0], "a", "52:54:00:00:00:0a", "rep0");
    vf_port(&f->ports[1], "b", "52:54:00:00:00:0b", "rep1");
    f->ports[1].vlan_mode = RC_VLAN_ACCESS;
    f->ports[1].tag = 10;
    vf_port(&f->ports[2], "c", "52:54:00:00:00:0c", "rep2");
    rc_port_init(&f->ports[3]);
    f->ports[3].name = "tap0";
    f->ports[3].kind = VSW_PORT_TAP;
    f->ports[3].mac = "52:54:00:00:00:0d";
    f->sw.ports = f->ports;
    f->sw.n_ports = 4;
    return f;
}

static void
free_fixture(struct fixture *f)
{
    for (size_t i = 0; i < 4; i++) {
        rc_port_destroy(&f->ports[i]);
    }
    rc_switch_destroy(&f->sw);
    dp_links_destroy(&f->links);
    free(f);
}

static int
reset(void **state OVS_UNUSED)
{
    n_kernel = 0;
    n_install = n_remove = n_ingress = 0;
    refuse_hw = false;
    have_flower = true;
    memset(has_qdisc, 0, sizeof has_qdisc);
    fake_reason_set(NULL, NULL);
    fake_ms = 0;
    return 0;
}

static size_t
count_rules(const struct rc_flow_rules *rs, int ifindex,
            enum ofl_flow_action action)
{
    size_t n = 0;
    for (size_t i = 0; i < rs->n; i++) {
        n += (rs->rules[i].ifindex == ifindex
              && rs->rules[i].action == action);
    }
    return n;
}

static void
test_derive(void **state OVS_UNUSED)
{
    struct fixture *f = make_fixture();
    static const uint8_t local[1][6] = {
        { 0x02, 0, 0, 0, 0, 0x03 },
    };
    struct rc_flow_rules rs;

    rc_flows_derive(&f->sw, &f->links, local, 1, &rs);
    /* Per frame type: uplink -> a, b, c (3); a: to c (same VLAN), tap and
     * bridge to the bridge, to the uplink (4); b: no VF in VLAN 10, tap,
     * bridge, uplink (3); c: to a, tap, bridge, uplink (4). */
    assert_int_equal(rs.n, 3 * 14);
    assert_int_equal(count_rules(&rs, 2, OFL_FLOW_REDIRECT), 3 * 2);
    assert_int_equal(count_rules(&rs, 2, OFL_FLOW_POP_REDIRECT), 3);
    assert_int_equal(count_rules(&rs, 11, OFL_FLOW_PUSH_REDIRECT), 3);
    assert_int_equal(count_rules(&rs, 11, OFL_FLOW_REDIRECT), 0);
    assert_int_equal(count_rules(&rs, 10, OFL_FLOW_TO_BRIDGE), 3 * 2);
    for (size_t i = 0; i < rs.n; i++) {
        const struct ofl_flow_rule *r = &rs.rules[i];
        assert_true(ofl_flow_cookie_is_ours(r->cookie, sizeof r->cookie));
        assert_true(r->skip_sw);        /* Placement "hardware". */
        if (r->ifindex == 2 && r->action == OFL_FLOW_POP_REDIRECT) {
            assert_int_equal(r->vlan, 10);
            assert_int_equal(r->out_ifindex, 11);
        }
        if (r->ifindex != 2 && r->action != OFL_FLOW_TO_BRIDGE) {
            /* Only the VF's own source MAC: anything else meets the
             * software path. */
            static const uint8_t all[6] = { 0xff, 0xff, 0xff, 0xff, 0xff,
                                            0xff };
            assert_memory_equal(r->src_mask, all, 6);
        }
        if (r->action == OFL_FLOW_PUSH_REDIRECT) {
            assert_int_equal(r->push_vlan, 10);
            assert_int_equal(r->out_ifindex, 2);
        }
    }
    rc_flow_rules_destroy(&rs);

    /* A trunk port's traffic stays on the bridge; "off" has no rules. */
    f->ports[0].vlan_mode = RC_VLAN_TRUNK;
    rc_flows_derive(&f->sw, &f->links, local, 1, &rs);
    assert_int_equal(count_rules(&rs, 10, OFL_FLOW_REDIRECT), 0);
    assert_int_equal(count_rules(&rs, 10, OFL_FLOW_TO_BRIDGE), 0);
    rc_flow_rules_destroy(&rs);
    f->sw.flow_placement = RC_FLOWS_OFF;
    rc_flows_derive(&f->sw, &f->links, local, 1, &rs);
    assert_int_equal(rs.n, 0);
    rc_flow_rules_destroy(&rs);
    free_fixture(f);
}

static void
test_cookie(void **state OVS_UNUSED)
{
    struct ofl_flow_rule a = {
        .ifindex = 2, .eth_type = ETH_P_IP, .action = OFL_FLOW_REDIRECT,
        .out_ifindex = 10, .dst = { 0x52, 0x54, 0, 0, 0, 1 },
        .dst_mask = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
    };
    struct ofl_flow_rule b = a;

    ofl_flow_cookie(&a);
    assert_memory_equal(a.cookie, "vsw\x01", 4);
    b.skip_sw = true;           /* Placed otherwise: the same rule. */
    ofl_flow_cookie(&b);
    assert_memory_equal(a.cookie, b.cookie, OFL_FLOW_COOKIE_LEN);
    b.out_ifindex = 11;         /* Another target: another rule. */
    ofl_flow_cookie(&b);
    assert_memory_not_equal(a.cookie, b.cookie, OFL_FLOW_COOKIE_LEN);
    b = a;
    b.placement = RC_FLOWS_SOFTWARE;    /* Asked otherwise: replaced. */
    ofl_flow_cookie(&b);
    assert_memory_not_equal(a.cookie, b.cookie, OFL_FLOW_COOKIE_LEN);
    static const uint8_t theirs[16] = "ovs-cookie-12345";
    assert_false(ofl_flow_cookie_is_ours(theirs, sizeof theirs));
    assert_false(ofl_flow_cookie_is_ours(a.cookie, 8));
    assert_int_equal(ofl_flow_prio(&a), OFL_FLOWER_PRIO_FORWARD);
    a.vlan = 10;
    assert_int_equal(ofl_flow_prio(&a), OFL_FLOWER_PRIO_VLAN);
}

static void
converge(struct fixture *f)
{
    bool changed = false;
    f->sw.ok = true;
    ds_clear(&f->sw.error);
    rc_converge_flows(&f->sw, &f->links, &fake_ops, &changed);
}

static void
test_converge(void **state OVS_UNUSED)
{
    struct fixture *f = make_fixture();

    /* Another program's rule on the uplink. */
    kernel_rules[n_kernel++] = (struct ofl_flow_installed) {
        .ifindex = 2, .prio = 1, .handle = 999, .ours = false,
    };
    has_qdisc[2] = true;
    /* The rules of test_derive less the bridge's MAC (not local: the
     * switch has no host port).  The representors have no qdisc: their
     * rules (one batch) are refused for want of it, each gets one, once,
     * and those rules go again. */
    converge(f);
    assert_int_equal(n_ingress, 3);
    assert_int_equal(n_install, 3 * 11 + 3 * 8);
    assert_int_equal(n_remove, 0);
    assert_string_equal(f->sw.flows_effective, "hardware");
    assert_int_equal(f->sw.flows_in_hw, 3 * 11);
    assert_int_equal(f->sw.flows_hw_unhit, 3 * 11);     /* No hits yet. */
    assert_int_equal(f->ports[0].flows_in_hw, 3 * 4);

    /* Converged: nothing to do, and nothing done.  The hardware hits one
     * rule. */
    kernel_rules[1].hw_packets = 5;
    n_install = n_remove = 0;
    converge(f);
    assert_int_equal(f->sw.flows_hw_unhit, 3 * 11 - 1);
    assert_int_equal(n_install + n_remove, 0);
    assert_int_equal(f->sw.flows_in_hw, 3 * 11);

    /* Ports b and c go: their rules go, and the others' rules to them. */
    rc_port_destroy(&f->ports[1]);
    rc_port_destroy(&f->ports[2]);
    f->ports[1] = f->ports[3];      /* The tap, with its strings. */
    smap_init(&f->ports[1].policy_status);  /* Empty: maps do not move. */
    smap_init(&f->ports[1].acl_status);
    rc_port_init(&f->ports[2]);
    rc_port_init(&f->ports[3]);
    f->sw.n_ports = 2;
    n_install = n_remove = 0;
    converge(f);
    assert_int_equal(n_install, 0);
    assert_int_equal(f->sw.flows_in_hw, 3 * 3);     /* a: uplink, tap,
                                                     * out. */
    assert_true(n_remove > 0);
    bool foreign_left = false;
    for (size_t i = 0; i < n_kernel; i++) {
        foreign_left |= kernel_rules[i].handle == 999;
    }
    assert_true(foreign_left);

    /* Placement off: every rule of vsw's goes, the foreign one stays. */
    f->sw.flow_placement = RC_FLOWS_OFF;
    converge(f);
    assert_int_equal(n_kernel, 1);
    assert_int_equal(kernel_rules[0].handle, 999);
    free_fixture(f);
}

static void
test_refused_hardware(void **state OVS_UNUSED)
{
    struct fixture *f = make_fixture();

    refuse_hw = true;
    converge(f);
    assert_string_equal(f->sw.flows_effective, "software");
    assert_int_equal(f->sw.flows_in_sw, 3 * 11);
    assert_int_equal(f->sw.flows_refused, 3 * 11);
    assert_non_null(strstr(ds_cstr(&f->sw.flows_reason),
                           "only offload of BPF classifiers supported"));
    assert_true(f->sw.ok);

    /* The next pass adopts the software rules: no retry storm, and the
     * reason given when they were placed still stands. */
    n_install = n_remove = 0;
    converge(f);
    assert_int_equal(n_install + n_remove, 0);
    assert_int_equal(f->sw.flows_in_sw, 3 * 11);
    assert_non_null(strstr(ds_cstr(&f->sw.flows_reason),
                           "only offload of BPF classifiers supported"));

    /* Hardware-only: the refusal is the port's error, nothing in
     * software (the rules asked for hardware-only are other rules). */
    f->sw.flow_placement = RC_FLOWS_HARDWARE_ONLY;
    converge(f);
    assert_int_equal(f->sw.flows_in_sw, 0);
    assert_false(f->ports[0].ok);
    assert_non_null(strstr(ds_cstr(&f->ports[0].error), "hardware-only"));
    free_fixture(f);
}

/* A rule the hardware does not match goes to software after the idle
 * time, and back once its software counters move. */
static void
test_idle_demotion(void **state OVS_UNUSED)
{
    struct fixture *f = make_fixture();

    f->sw.flow_idle_demote = 600;
    fake_ms = 1000;
    converge(f);
    assert_int_equal(f->sw.flows_in_hw, 3 * 11);
    fake_ms += 599 * 1000;
    n_install = n_remove = 0;
    converge(f);
    assert_int_equal(n_install + n_remove, 0);      /* Not idle long yet. */
    kernel_rules[0].hw_packets = 7;                 /* One is hit. */
    fake_ms += 2 * 1000;
    converge(f);
    assert_int_equal(f->sw.flows_demoted, 3 * 11 - 1);
    assert_int_equal(f->sw.flows_in_hw, 1);
    assert_int_equal(f->sw.flows_in_sw, 3 * 11 - 1);
    assert_int_equal(f->sw.flows_refused, 0);
    assert_non_null(strstr(ds_cstr(&f->sw.flows_reason),
                           "did not match for 600 s"));
    /* Settled: nothing more moves. */
    n_install = n_remove = 0;
    converge(f);
    assert_int_equal(n_install + n_remove, 0);
    assert_int_equal(f->sw.flows_demoted, 3 * 11 - 1);

    /* Traffic in software: that rule goes back to hardware. */
    size_t sw_rule = SIZE_MAX;
    for (size_t i = 0; i < n_kernel; i++) {
        if (!kernel_rules[i].in_hw) {
            sw_rule = i;
            break;
        }
    }
    assert_true(sw_rule != SIZE_MAX);
    kernel_rules[sw_rule].packets = 3;
    converge(f);
    assert_int_equal(f->sw.flows_in_hw, 2);
    assert_int_equal(f->sw.flows_demoted, 3 * 11 - 2);
    free_fixture(f);
}

static void
test_no_flower(void **state OVS_UNUSED)
{
    struct fixture *f = make_fixture();

    have_flower = false;
    converge(f);
    assert_string_equal(f->sw.flows_effective, "unavailable");
    assert_string_equal(ds_cstr(&f->sw.flows_reason),
                        "the kernel has no cls_flower");
    assert_int_equal(n_install + n_remove + n_ingress, 0);
    free_fixture(f);
}

/* Recorded kernel messages (tests/data/README.md says where from). */
static const char *data_dir;

static size_t
read_hex(const char *name, uint8_t *buf, size_t size)
{
    char *path = xasprintf("%s/%s", data_dir, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = 0;
    unsigned int byte;
    while (n < size && fscanf(f, "%2x", &byte) == 1) {
        buf[n++] = byte;
    }
    fclose(f);
    free(path);
    return n;
}

static void
test_parse_recorded(void **state OVS_UNUSED)
{
    uint8_t msg[4096];
    struct ofl_flow_installed r;

    size_t n = read_hex("flower-veth-counters.hex", msg, sizeof msg);
    assert_int_equal(ofl_flower_parse(msg, n, &r), 0);
    assert_true(r.ours);
    assert_true(r.not_in_hw);
    assert_false(r.in_hw);
    assert_true(r.skip_hw);
    assert_int_equal(r.prio, OFL_FLOWER_PRIO_FORWARD);
    assert_int_equal(r.protocol, ETH_P_IP);
    assert_true(r.packets >= 3);            /* Three pings at least. */
    assert_true(r.bytes >= 3 * 84);         /* Without Ethernet headers. */
    assert_int_equal(r.hw_packets, 0);
    assert_non_null(strstr(r.desc, "ipv4 dst 02:00:00:00:0b:01/"
                                   "ff:ff:ff:ff:ff:ff -> redirect to"));
    assert_true(r.out_ifindex > 0);

    n = read_hex("flower-netdevsim-in-hw.hex", msg, sizeof msg);
    assert_int_equal(ofl_flower_parse(msg, n, &r), 0);
    assert_true(r.ours);
    assert_true(r.in_hw);
    assert_int_equal(r.in_hw_count, 1);
    assert_true(r.skip_sw);
    assert_false(r.not_in_hw);

    /* Not a filter message: refused. */
    msg[4] = RTM_NEWLINK;
    assert_int_not_equal(ofl_flower_parse(msg, n, &r), 0);
}

int
main(int argc, char *argv[])
{
    data_dir = argc > 1 ? argv[1] : "tests/data";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_derive, reset),
        cmocka_unit_test_setup(test_cookie, reset),
        cmocka_unit_test_setup(test_converge, reset),
        cmocka_unit_test_setup(test_refused_hardware, reset),
        cmocka_unit_test_setup(test_idle_demotion, reset),
        cmocka_unit_test_setup(test_no_flower, reset),
        cmocka_unit_test(test_parse_recorded),
    };
    return cmocka_run_group_tests_name("flower", tests, NULL, NULL);
}
