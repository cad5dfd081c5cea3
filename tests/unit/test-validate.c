/* Unit tests for vswitchd/validate.c, the host checks of
 * vswitchd/host-row.c and the namespace rule of
 * datapath/ifname.c: the checks vswctl and vswitchd both apply to values
 * any database client may write. */
#include <config.h>

#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "datapath/ifname.h"
#include "openvswitch/uuid.h"
#include "util.h"
#include "vswitchd/host-row.h"
#include "vswitchd/validate.h"

static void
test_mac(void **state)
{
    uint8_t b[6];

    assert_null(vsw_check_mac("52:54:00:AB:cd:0f", b));
    assert_int_equal(b[0], 0x52);
    assert_int_equal(b[3], 0xab);
    assert_int_equal(b[5], 0x0f);
    /* sscanf("%2x") would take all of these. */
    static const char *const bad[] = {
        "52:54:00: 1:02:03", "+2:54:00:01:02:03", "0x:54:00:01:02:03",
        "52:54:00:01:02", "52:54:00:01:02:03:", "52-54-00-01-02-03",
        "52:54:00:01:02:0g", "", "garbage", "52:54:00:01:02:03\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_non_null(strstr(vsw_check_mac(bad[i], NULL),
                               "not a MAC address"));
    }
    assert_non_null(strstr(vsw_check_mac("00:00:00:00:00:00", NULL),
                           "all-zero"));
    assert_non_null(strstr(vsw_check_mac("ff:ff:ff:ff:ff:ff", NULL),
                           "multicast"));
    assert_non_null(strstr(vsw_check_mac("01:00:5e:00:00:01", NULL),
                           "multicast"));
}

static void
test_guest_mac(void **state)
{
    /* The tap takes fe + the guest's last five bytes: the two must differ. */
    assert_non_null(strstr(vsw_check_guest_mac("fe:f7:37:36:fb:00", true),
                           "starts with fe"));
    assert_null(vsw_check_guest_mac("fe:f7:37:36:fb:00", false));
    assert_null(vsw_check_guest_mac("52:54:00:12:34:56", true));
    assert_non_null(vsw_check_guest_mac("garbage", false));
}

static void
test_owner(void **state)
{
    long id = 7;

    assert_null(vsw_check_owner("0", true, &id));
    assert_int_equal(id, 0);
    assert_null(vsw_check_owner("4294967294", true, &id));
    assert_int_equal(id, 4294967294L);
    assert_null(vsw_check_owner("root", true, &id));
    assert_int_equal(id, 0);
    id = 7;
    /* (uid_t) -1 means "no owner" to the kernel: never a value. */
    assert_non_null(vsw_check_owner("4294967295", true, &id));
    assert_non_null(vsw_check_owner("99999999999999999999", false, &id));
    assert_non_null(vsw_check_owner("", true, &id));
    assert_non_null(vsw_check_owner("-1", true, &id));
    assert_non_null(vsw_check_owner("no-such-user-vsw", true, &id));
    assert_non_null(vsw_check_owner("no-such-group-vsw", false, &id));
    assert_int_equal(id, 7);                /* Untouched on failure. */
}

static void
test_netns(void **state)
{
    assert_null(dp_netns_check("blue"));
    assert_null(dp_netns_check("vt123-peer"));
    assert_non_null(dp_netns_check(""));
    assert_non_null(dp_netns_check("."));
    assert_non_null(dp_netns_check(".."));
    assert_non_null(dp_netns_check("../../proc/1/ns/net"));
    assert_non_null(dp_netns_check("/proc/1/ns/net"));
    assert_non_null(dp_netns_check("a\nb"));
    char long_name[300];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_non_null(dp_netns_check(long_name));
}

static void
test_internal_names(void **state)
{
    struct uuid u = { .parts = { 0x0a0b0c0d, 0x11112222, 0, 0 } };
    char buf[16];

    vsw_internal_ifname(VSW_NAME_HOST_PEER, &u, buf);
    assert_string_equal(buf, "vsp0a0b0c0d");
    assert_true(vsw_ifname_is_internal(buf));
    assert_false(vsw_ifname_is_temp(buf));
    vsw_internal_ifname(VSW_NAME_PORT_PEER, &u, buf);
    assert_string_equal(buf, "vpb0a0b0c0d");
    assert_true(vsw_ifname_is_internal(buf));
    vsw_internal_ifname(VSW_NAME_TEMP, &u, buf);
    assert_string_equal(buf, "vswt0a0b0c0d111");
    assert_int_equal(strlen(buf), 15);
    assert_true(vsw_ifname_is_temp(buf));
    assert_null(dp_ifname_check(buf));

    assert_false(vsw_ifname_is_internal("vsp"));
    assert_false(vsw_ifname_is_internal("vspeth0"));
    assert_false(vsw_ifname_is_internal("vsp0a0b0c0d0"));
    assert_false(vsw_ifname_is_temp("vswtmine"));
    assert_false(vsw_ifname_is_internal("vm1"));
}

static void
test_host_port_name(void **state)
{
    struct uuid u = { .parts = { 0xdeadbeef, 0, 0, 0 } };
    char *s;

    s = vsw_host_port_name("lab0", &u, NULL);
    assert_string_equal(s, "vh-lab0");
    free(s);
    s = vsw_host_port_name("a-long-switch0", &u, NULL);
    assert_string_equal(s, "vhdeadbeef");
    free(s);
    s = vsw_host_port_name("lab0", &u, "mgmt0");
    assert_string_equal(s, "mgmt0");
    free(s);
}

static void
test_capacity(void **state)
{
    assert_int_equal(vsw_switch_port_capacity(false, false), 1023);
    assert_int_equal(vsw_switch_port_capacity(true, true), 1021);
    assert_int_equal(vsw_switch_port_capacity(false, true), 1022);
}


static void
test_policy_values(void **state)
{
    int64_t v;
    assert_null(vsw_check_rate("100M", &v));
    assert_int_equal(v, 100000000);
    assert_null(vsw_check_rate("9223372036854775807", &v));
    assert_non_null(vsw_check_rate("9223372036854775808", &v));
    assert_non_null(vsw_check_rate("10T0", &v));
    assert_non_null(vsw_check_rate("10000000T", &v));
    assert_non_null(vsw_check_rate("0", &v));
    assert_non_null(vsw_check_rate("-5", &v));
    assert_non_null(vsw_check_rate("", &v));
    assert_non_null(vsw_check_max_bandwidth(7999));
    struct sockaddr_storage ss;
    assert_null(vsw_check_listen("127.0.0.1:9475", &ss));
    assert_null(vsw_check_listen("[::1]:9475", &ss));
    assert_non_null(vsw_check_listen("127.0.0.1", &ss));
    assert_non_null(vsw_check_listen("127.0.0.1:", &ss));
    assert_non_null(vsw_check_listen("127.0.0.1:0", &ss));
    assert_non_null(vsw_check_listen("localhost:9475", &ss));
    assert_non_null(vsw_check_listen("bogus", &ss));
    assert_non_null(vsw_check_listen("1.2.3.4:99999", &ss));
    assert_non_null(vsw_check_uplink_bandwidth(1));
    assert_non_null(vsw_check_uplink_bandwidth(7999));
    assert_null(vsw_check_uplink_bandwidth(8000));
    assert_null(vsw_check_uplink_bandwidth(400000000000LL));
    assert_non_null(vsw_check_uplink_bandwidth(VSW_MAX_UPLINK_BANDWIDTH + 1));
    assert_non_null(vsw_check_storm_limit(0));
    assert_non_null(vsw_check_bandwidth_weight(101));

    struct vsw_acl_addr a;
    assert_null(vsw_check_acl_addr("10.1.2.3/8", &a));
    assert_int_equal(a.kind, VSW_ACL_IPV4);
    assert_int_equal(a.plen, 8);
    assert_int_equal(a.bytes[0], 10);
    assert_int_equal(a.bytes[1], 0);        /* Masked. */
    assert_null(vsw_check_acl_addr("fd00::1/64", &a));
    assert_int_equal(a.kind, VSW_ACL_IPV6);
    assert_int_equal(a.bytes[15], 0);
    assert_null(vsw_check_acl_addr("ff:ff:ff:ff:ff:ff", &a));
    assert_int_equal(a.kind, VSW_ACL_MAC);
    /* 17 characters, and IPv6: not taken for a MAC. */
    assert_null(vsw_check_acl_addr("fd::1:2:3:4:5:67a", &a));
    assert_int_equal(a.kind, VSW_ACL_IPV6);
    assert_null(vsw_check_acl_addr("any", &a));
    assert_int_equal(a.kind, VSW_ACL_ANY);
    static const char *const bad[] = {
        "10.0.0.0/33", "fd00::/129", "10.0.0.0/-1", "10.0.0.0/", "1.2.3",
        "02:00:zz:00:00:00", "", "ANY ", "10.0.0.0/8 ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_non_null(vsw_check_acl_addr(bad[i], &a));
    }

    uint16_t lo, hi;
    assert_null(vsw_check_port_range("80-90", &lo, &hi));
    assert_int_equal(lo, 80);
    assert_int_equal(hi, 90);
    assert_non_null(vsw_check_port_range("90-80", &lo, &hi));
    assert_non_null(vsw_check_port_range("65536", &lo, &hi));
    int proto;
    assert_null(vsw_check_protocol("TCP", &proto));
    assert_int_equal(proto, 6);
    assert_non_null(vsw_check_protocol("256", &proto));
    assert_non_null(vsw_check_protocol("xyz", &proto));
}

/* SPEC() gives defaults that the test's fields then override. */
#pragma GCC diagnostic ignored "-Woverride-init"

static void
test_acl(void **state)
{
    struct vsw_acl acl;
    char *why;
#define SPEC(...) (&(struct vsw_acl_spec) { .weight = -1, \
                                            .idle_timeout = -1, __VA_ARGS__ })
    assert_null(vsw_check_acl(SPEC(.direction = "both", .action = "deny",
                                   .remote = "10.0.0.0/8"), &acl));
    assert_int_equal(acl.dir, VSW_ACL_BOTH);
    /* A simple ACL names an address; ports make it extended. */
    assert_non_null(why = vsw_check_acl(SPEC(.direction = "in",
                                             .action = "deny"), &acl));
    free(why);
    assert_non_null(why = vsw_check_acl(SPEC(.direction = "inbound",
                                             .action = "deny"), &acl));
    free(why);
    assert_non_null(why = vsw_check_acl(SPEC(.direction = "inbound",
                                             .action = "deny",
                                             .remote = "any",
                                             .local_ports = "80"), &acl));
    free(why);
    /* Mixed families. */
    assert_non_null(why = vsw_check_acl(SPEC(.direction = "inbound",
                                             .action = "deny",
                                             .local = "10.0.0.1",
                                             .remote = "fd00::1"), &acl));
    free(why);
    /* Extended: ports need tcp/udp; stateful needs allow, one direction. */
    assert_null(vsw_check_acl(SPEC(.direction = "outbound", .action = "allow",
                                   .protocol = "tcp", .remote_ports = "443",
                                   .weight = 10, .stateful = true), &acl));
    assert_true(acl.stateful);
    assert_int_equal(acl.idle_timeout, VSW_ACL_DEFAULT_IDLE_TIMEOUT);
    assert_non_null(why = vsw_check_acl(SPEC(.direction = "outbound",
                                             .action = "allow",
                                             .protocol = "icmp",
                                             .remote_ports = "443",
                                             .weight = 10), &acl));
    free(why);
    assert_non_null(why = vsw_check_acl(SPEC(.direction = "both",
                                             .action = "allow",
                                             .protocol = "udp", .weight = 1,
                                             .stateful = true), &acl));
    free(why);
    assert_non_null(why = vsw_check_acl(SPEC(.direction = "outbound",
                                             .action = "deny",
                                             .protocol = "udp", .weight = 1,
                                             .stateful = true), &acl));
    free(why);
    assert_non_null(why = vsw_check_acl(SPEC(.direction = "outbound",
                                             .action = "allow",
                                             .protocol = "udp",
                                             .weight = 65536), &acl));
    free(why);
    assert_non_null(why = vsw_check_acl(SPEC(.direction = "outbound",
                                             .action = "meter",
                                             .protocol = "udp",
                                             .weight = 5), &acl));
    free(why);
    assert_non_null(why = vsw_check_acl(SPEC(.direction = "outbound",
                                             .action = "allow",
                                             .protocol = "udp", .weight = 5,
                                             .idle_timeout = 30), &acl));
    free(why);
#undef SPEC
}

static void
test_host_values(void **state)
{
    assert_null(vsw_check_host_id(""));        /* The embedded default. */
    assert_null(vsw_check_host_id("h1"));
    assert_null(vsw_check_host_id("rack-7.node_12"));
    char max[65];
    memset(max, 'a', 64);
    max[64] = '\0';
    assert_null(vsw_check_host_id(max));
    static const char *const bad[] = {
        "-h", ".h", "../h", "h/1", "h 1", "h\n", "h:1", "h\"", "h\\",
        "h\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_non_null(vsw_check_host_id(bad[i]));
    }
    char over[66];
    memset(over, 'a', 65);
    over[65] = '\0';
    assert_non_null(strstr(vsw_check_host_id(over), "at most 64"));

    assert_null(vsw_check_host_heartbeat(NULL));
    assert_null(vsw_check_host_heartbeat("500"));
    assert_null(vsw_check_host_heartbeat("600000"));
    static const char *const bad_beat[] = {
        "499", "600001", "-1000", "", "1e4", "10s", "9999999999999",
    };
    for (size_t i = 0; i < sizeof bad_beat / sizeof *bad_beat; i++) {
        assert_non_null(strstr(vsw_check_host_heartbeat(bad_beat[i]),
                               "500 to 600000"));
    }

    assert_true(vsw_host_cfg_in_range(0));
    assert_true(vsw_host_cfg_in_range((INT64_C(1) << 62) - 1));
    assert_false(vsw_host_cfg_in_range(INT64_C(1) << 62));
    assert_false(vsw_host_cfg_in_range(-1));
    assert_false(vsw_host_cfg_in_range(INT64_MAX));
    assert_false(vsw_host_cfg_in_range(INT64_MIN));
}

static bool alive_answer;
static bool
fake_alive(const char *instance)
{
    (void) instance;
    return alive_answer;
}

static void
test_host_claim(void **state)
{
    const char *mine = "m1/b00t/4026531836/100/5000";
    const int beat = 10000;
    assert_int_equal(vsw_host_claim(NULL, mine, 0, beat, fake_alive),
                     VSW_HOST_MINE);
    assert_int_equal(vsw_host_claim("", mine, 0, beat, fake_alive),
                     VSW_HOST_MINE);
    assert_int_equal(vsw_host_claim(mine, mine, 0, beat, fake_alive),
                     VSW_HOST_MINE);
    /* Another machine's: by how long its row has not changed, as seen
     * here (no clocks compared), three heartbeats. */
    alive_answer = true;
    const char *other = "m2/b2/4026531836/100/5000";
    assert_int_equal(vsw_host_claim(other, mine, 30000, beat, fake_alive),
                     VSW_HOST_STANDBY);
    assert_int_equal(vsw_host_claim(other, mine, 30001, beat, fake_alive),
                     VSW_HOST_TAKE);
    /* This machine's, before a reboot: one heartbeat and a second. */
    const char *before = "m1/b0/4026531836/90/4000";
    assert_int_equal(vsw_host_claim(before, mine, 11000, beat, fake_alive),
                     VSW_HOST_STANDBY);
    assert_int_equal(vsw_host_claim(before, mine, 11001, beat, fake_alive),
                     VSW_HOST_TAKE);
    /* This kernel and pid namespace: by its process, whatever its row. */
    const char *here = "m1/b00t/4026531836/99/4000";
    assert_int_equal(vsw_host_claim(here, mine, 999999, beat, fake_alive),
                     VSW_HOST_STANDBY);
    alive_answer = false;
    assert_int_equal(vsw_host_claim(here, mine, 0, beat, fake_alive),
                     VSW_HOST_TAKE);
    /* Another pid namespace on this kernel: its pid means nothing here,
     * its row does (a heartbeat and a second, as this machine's). */
    const char *ns = "m1/b00t/4026532000/99/4000";
    alive_answer = true;
    assert_int_equal(vsw_host_claim(ns, mine, 11000, beat, fake_alive),
                     VSW_HOST_STANDBY);
    assert_int_equal(vsw_host_claim(ns, mine, 11001, beat, fake_alive),
                     VSW_HOST_TAKE);
    /* Unknown ids are nobody's machine; garbage is another machine's. */
    const char *unknown = "unknown/unknown/4026531836/100/5000";
    assert_int_equal(vsw_host_claim("unknown/unknown/4026531836/99/4000",
                                    unknown, 11001, beat, fake_alive),
                     VSW_HOST_STANDBY);
    assert_int_equal(vsw_host_claim("garbage", mine, 30000, beat,
                                    fake_alive), VSW_HOST_STANDBY);
    assert_int_equal(vsw_host_claim("garbage", mine, 30001, beat,
                                    fake_alive), VSW_HOST_TAKE);

    /* This process is alive here; the same pid with another start time,
     * another boot and garbage are not. */
    const char *me = vsw_host_instance();
    assert_true(vsw_host_instance_alive_here(me));
    char *s = xstrdup(me);
    char *last = strrchr(s, '/');
    assert_non_null(last);
    char *other_start = xasprintf("%.*s/1", (int) (last - s), s);
    assert_false(vsw_host_instance_alive_here(other_start));
    char *first = strchr(s, '/');
    assert_non_null(first);
    char *other_boot = xasprintf("%.*s/x%s", (int) (first - s), s, first + 1);
    assert_false(vsw_host_instance_alive_here(other_boot));
    assert_false(vsw_host_instance_alive_here("garbage"));
    assert_false(vsw_host_instance_alive_here(""));
    free(s);
    free(other_start);
    free(other_boot);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mac),
        cmocka_unit_test(test_guest_mac),
        cmocka_unit_test(test_owner),
        cmocka_unit_test(test_netns),
        cmocka_unit_test(test_internal_names),
        cmocka_unit_test(test_host_port_name),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_policy_values),
        cmocka_unit_test(test_acl),
        cmocka_unit_test(test_host_values),
        cmocka_unit_test(test_host_claim),
    };
    return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
