/* Unit tests for vswitchd/validate.c and the namespace rule of
 * datapath/ifname.c: the checks vswctl and vswitchd both apply to values
 * any database client may write. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "datapath/ifname.h"
#include "openvswitch/uuid.h"
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
    };
    return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
