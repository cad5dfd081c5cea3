/* Unit tests for datapath/ifname.c: the interface-name rules vswctl
 * applies before it writes anything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "datapath/ifname.h"

static void
test_valid(void **state)
{
    assert_null(dp_ifname_check("eth0"));
    assert_null(dp_ifname_check("vh-prod"));
    assert_null(dp_ifname_check("a23456789012345"));       /* 15 chars. */
}

static void
test_invalid(void **state)
{
    assert_non_null(dp_ifname_check(""));
    assert_non_null(dp_ifname_check("a234567890123456"));  /* 16 chars. */
    assert_non_null(dp_ifname_check("."));
    assert_non_null(dp_ifname_check(".."));
    assert_non_null(dp_ifname_check("a/b"));
    assert_non_null(dp_ifname_check("a:b"));
    assert_non_null(dp_ifname_check("a b"));
}

static void
test_lookup_missing(void **state)
{
    struct dp_ifname_info info;

    dp_ifname_lookup("vsw-no-such0", &info);
    assert_false(info.exists);
    dp_ifname_lookup("../../etc", &info);                   /* Not a name. */
    assert_false(info.exists);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_lookup_missing),
    };
    return cmocka_run_group_tests_name("ifname", tests, NULL, NULL);
}
