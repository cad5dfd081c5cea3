/* Unit tests for offload/vmq.c: VMQ rules as the ntuple ioctls carry them.
 *
 * No device in reach accepts ntuple rules (veth, virtio-net and netdevsim
 * have none; QEMU 7.2 emulates no igb), so a receive classification table
 * stands in for the driver, implementing the kernel's ETHTOOL_GRXCLSRLCNT
 * / GRXCLSRLALL / GRXCLSRULE / SRXCLSRLINS / SRXCLSRLDEL contract in the
 * two flavours drivers have: locations chosen by the caller (ixgbe, igb)
 * and RX_CLS_LOC_ANY (mlx5, ice).  Checked: the rule vsw sends (ETHER_FLOW,
 * destination MAC fully masked, ring cookie = queue), the location choice,
 * the record of vsw's own rules (a foreign rule is never taken for one),
 * and forgetting rules the device lost. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <errno.h>
#include <linux/ethtool.h>

#include "offload/ethtool.h"
#include "offload/vmq.h"
#include "packets.h"
#include "util.h"
#include "vswitchd/paths.h"

#define TABLE_SIZE 8

static struct {
    bool loc_any;                       /* Driver picks locations. */
    bool used[TABLE_SIZE];
    struct ethtool_rx_flow_spec fs[TABLE_SIZE];
    int n_ins, n_del;
} dev;

static int
fake_ioctl(const char *ifname, void *data)
{
    struct ethtool_rxnfc *nfc = data;
    uint32_t n = 0;

    assert_string_equal(ifname, "up0");
    switch (nfc->cmd) {
    case ETHTOOL_GRXCLSRLCNT:
        for (int i = 0; i < TABLE_SIZE; i++) {
            n += dev.used[i];
        }
        nfc->rule_cnt = n;
        nfc->data = TABLE_SIZE | (dev.loc_any ? RX_CLS_LOC_SPECIAL : 0);
        return 0;
    case ETHTOOL_GRXCLSRLALL:
        for (int i = 0; i < TABLE_SIZE; i++) {
            if (dev.used[i]) {
                if (n >= nfc->rule_cnt) {
                    return EMSGSIZE;
                }
                nfc->rule_locs[n++] = i;
            }
        }
        nfc->rule_cnt = n;
        nfc->data = TABLE_SIZE;
        return 0;
    case ETHTOOL_GRXCLSRULE:
        if (nfc->fs.location >= TABLE_SIZE || !dev.used[nfc->fs.location]) {
            return ENOENT;
        }
        nfc->fs = dev.fs[nfc->fs.location];
        return 0;
    case ETHTOOL_SRXCLSRLINS: {
        uint32_t loc = nfc->fs.location;
        if (loc == RX_CLS_LOC_ANY) {
            if (!dev.loc_any) {
                return EINVAL;
            }
            for (loc = 0; loc < TABLE_SIZE && dev.used[loc]; loc++) {
                continue;
            }
        }
        if (loc >= TABLE_SIZE) {
            return ENOSPC;
        }
        nfc->fs.location = loc;         /* The kernel reports it back. */
        dev.fs[loc] = nfc->fs;
        dev.used[loc] = true;
        dev.n_ins++;
        return 0;
    }
    case ETHTOOL_SRXCLSRLDEL:
        if (nfc->fs.location >= TABLE_SIZE || !dev.used[nfc->fs.location]) {
            return ENOENT;
        }
        dev.used[nfc->fs.location] = false;
        dev.n_del++;
        return 0;
    }
    return EOPNOTSUPP;
}

static struct eth_addr
mac(int i)
{
    struct eth_addr ea = ETH_ADDR_C(52, 54, 00, 00, 00, 00);
    ea.ea[5] = i;
    return ea;
}

static int
setup(void **state OVS_UNUSED)
{
    memset(&dev, 0, sizeof dev);
    ofl_ethtool_ioctl_fn = fake_ioctl;
    char tmpl[] = "/tmp/vsw-test-vmq.XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    vsw_set_state_dir(dir);
    return 0;
}

static int
teardown(void **state OVS_UNUSED)
{
    char *cmd = xasprintf("rm -rf '%s'", vsw_state_dir());
    assert_int_equal(system(cmd), 0);
    free(cmd);
    ofl_ethtool_ioctl_fn = NULL;
    return 0;
}

static void
test_caller_chosen_locations(void **state OVS_UNUSED)
{
    struct ofl_vmq_rules rules;

    /* A rule of the operator's own at location 0: never vsw's. */
    dev.used[0] = true;
    dev.fs[0].flow_type = ETHER_FLOW;
    memcpy(dev.fs[0].h_u.ether_spec.h_dest, mac(9).ea, ETH_ADDR_LEN);

    assert_int_equal(ofl_vmq_add("up0", mac(1), 7), 0);
    assert_int_equal(ofl_vmq_add("up0", mac(2), 6), 0);
    assert_true(dev.used[1] && dev.used[2]);    /* First free ones. */

    const struct ethtool_rx_flow_spec *fs = &dev.fs[1];
    assert_int_equal(fs->flow_type, ETHER_FLOW);
    assert_memory_equal(fs->h_u.ether_spec.h_dest, mac(1).ea, ETH_ADDR_LEN);
    static const uint8_t ones[ETH_ADDR_LEN] = { 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff };
    assert_memory_equal(fs->m_u.ether_spec.h_dest, ones, ETH_ADDR_LEN);
    static const uint8_t zeros[ETH_ADDR_LEN];
    assert_memory_equal(fs->m_u.ether_spec.h_source, zeros, ETH_ADDR_LEN);
    assert_int_equal(fs->m_u.ether_spec.h_proto, 0);
    assert_int_equal(fs->ring_cookie, 7);

    assert_int_equal(ofl_vmq_get("up0", &rules), 0);
    assert_int_equal(rules.n, 2);               /* Not the operator's. */
    assert_true(eth_addr_equals(rules.r[0].mac, mac(1)));
    assert_int_equal(rules.r[0].queue, 7);
    assert_int_equal(rules.r[1].location, 2);

    /* The device lost a rule (driver reload): it is forgotten. */
    dev.used[1] = false;
    assert_int_equal(ofl_vmq_get("up0", &rules), 0);
    assert_int_equal(rules.n, 1);
    assert_true(eth_addr_equals(rules.r[0].mac, mac(2)));

    /* Everything vsw made goes; the operator's rule stays. */
    ofl_vmq_del_all("up0");
    assert_true(dev.used[0]);
    assert_false(dev.used[2]);
    char *path = xasprintf("%s/offload/up0.vmq", vsw_state_dir());
    assert_int_not_equal(access(path, F_OK), 0);
    free(path);
}

static void
test_driver_chosen_locations(void **state OVS_UNUSED)
{
    struct ofl_vmq_rules rules;

    dev.loc_any = true;
    for (int i = 0; i < TABLE_SIZE; i++) {
        assert_int_equal(ofl_vmq_add("up0", mac(i), i), 0);
    }
    /* Full: the driver's refusal comes back as the error. */
    assert_int_equal(ofl_vmq_add("up0", mac(99), 1), ENOSPC);
    assert_int_equal(ofl_vmq_get("up0", &rules), 0);
    assert_int_equal(rules.n, TABLE_SIZE);
    assert_int_equal(rules.r[5].location, 5);   /* As the driver chose. */

    assert_int_equal(ofl_vmq_del("up0", 3), 0);
    assert_int_equal(ofl_vmq_get("up0", &rules), 0);
    assert_int_equal(rules.n, TABLE_SIZE - 1);
    assert_int_equal(dev.n_del, 1);
}

static void
test_no_ntuple(void **state OVS_UNUSED)
{
    struct ofl_vmq_rules rules;

    ofl_ethtool_ioctl_fn = NULL;    /* The real kernel: no such device. */
    assert_int_not_equal(ofl_vmq_get("vsw-no-such-dev0", &rules), 0);
    assert_int_equal(rules.n, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_caller_chosen_locations, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_driver_chosen_locations, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_ntuple, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
