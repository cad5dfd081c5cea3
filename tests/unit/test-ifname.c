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
    assert_non_null(dp_ifname_check("x%d"));       /* The kernel numbers it. */
    assert_non_null(dp_ifname_check("a\vb"));      /* isspace() to the kernel */
    assert_non_null(dp_ifname_check("a\rb"));
    assert_non_null(dp_ifname_check("a\fb"));
    assert_non_null(dp_ifname_check("a\x1b" "b"));  /* A terminal escape. */
    assert_non_null(dp_ifname_check("a\x7f"));
    assert_null(dp_ifname_check("vm-\xc3\xa9"));   /* UTF-8 is a name. */
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
