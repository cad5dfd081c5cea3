/* Unit tests for vswitchd/reconcile.c: the reconciler run against
 * hand-built link dumps, with the kernel-changing operations recorded
 * instead of sent.  The central property: a kernel that already matches
 * the database gets no modifying call at all. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "datapath/link.h"
#include "datapath/tap.h"
#include "offload/sriov.h"
#include "openvswitch/dynamic-string.h"
#include "sset.h"
#include "util.h"
#include "uuid.h"
#include "vswitchd/reconcile.h"
#include "vswitchd/validate.h"

/* ---- recording operations ------------------------------------------- */

static struct ds calls;         /* One line per call. */
static int next_ifindex;
static int fail_op_errno;       /* Make 'fail_op' fail with this. */
static const char *fail_op;

static int
op_result(const char *op)
{
    return fail_op && !strcmp(op, fail_op) ? fail_op_errno : 0;
}

static int
rec_bridge_create(const char *name, int *ifindex)
{
    ds_put_format(&calls, "bridge_create %s\n", name);
    *ifindex = next_ifindex++;
    return op_result("bridge_create");
}

static int
rec_veth_create(const char *name, const char *peer, int *a, int *b)
{
    ds_put_format(&calls, "veth_create %s %s\n", name, peer);
    *a = next_ifindex++;
    *b = next_ifindex++;
    return op_result("veth_create");
}

static int
rec_set_up(int ifindex, bool up)
{
    ds_put_format(&calls, "set_up %d %d\n", ifindex, up);
    return op_result("set_up");
}

static int
rec_set_master(int ifindex, int master)
{
    ds_put_format(&calls, "set_master %d %d\n", ifindex, master);
    return op_result("set_master");
}

static int
rec_set_alias(int ifindex, const char *alias)
{
    ds_put_format(&calls, "set_alias %d %s\n", ifindex, alias);
    return op_result("set_alias");
}

static int
rec_set_name(int ifindex, const char *name)
{
    ds_put_format(&calls, "set_name %d %s\n", ifindex, name);
    return op_result("set_name");
}

static int
rec_delete(int ifindex)
{
    ds_put_format(&calls, "delete %d\n", ifindex);
    return op_result("delete");
}

static int
rec_delete_many(const int *ifindexes, size_t n)
{
    ds_put_cstr(&calls, "delete_many");
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&calls, " %d", ifindexes[i]);
    }
    ds_put_char(&calls, '\n');
    return op_result("delete_many");
}

static int
rec_set_mtu(int ifindex, int mtu)
{
    ds_put_format(&calls, "set_mtu %d %d\n", ifindex, mtu);
    return op_result("set_mtu");
}

static int
rec_set_mac(int ifindex, const char *mac)
{
    ds_put_format(&calls, "set_mac %d %s\n", ifindex, mac);
    return op_result("set_mac");
}

static int
rec_setup(int ifindex, const struct dp_link_setup *su)
{
    ds_put_format(&calls, "setup %d", ifindex);
    if (su->mac) {
        ds_put_format(&calls, " mac=%s", su->mac);
    }
    if (su->mtu) {
        ds_put_format(&calls, " mtu=%d", su->mtu);
    }
    if (su->name) {
        ds_put_format(&calls, " name=%s", su->name);
    }
    if (su->alias) {
        ds_put_format(&calls, " alias=%s", su->alias);
    }
    if (su->up) {
        ds_put_cstr(&calls, " up");
    }
    if (su->master) {
        ds_put_format(&calls, " master=%d", su->master);
    }
    if (su->dormant) {
        ds_put_cstr(&calls, " dormant");
    }
    ds_put_char(&calls, '\n');
    return op_result("setup");
}

static int
rec_disable_ipv6(const char *name)
{
    ds_put_format(&calls, "disable_ipv6 %s\n", name);
    return op_result("disable_ipv6");
}

static int
rec_set_netns(int ifindex, const char *netns, const char *name)
{
    ds_put_format(&calls, "set_netns %d %s %s\n", ifindex, netns, name);
    return op_result("set_netns");
}

static int
rec_tap_create(const struct dp_tap_spec *spec, int *ifindex, int *fd)
{
    ds_put_format(&calls, "tap_create %s mq=%d owner=%ld\n", spec->name,
                  spec->multi_queue, (long) (int) spec->owner);
    *ifindex = next_ifindex++;
    *fd = 1000 + *ifindex;
    return op_result("tap_create");
}

static int
rec_tap_finish(int fd, bool keep)
{
    ds_put_format(&calls, "tap_finish %d %s\n", fd, keep ? "keep" : "drop");
    return keep ? op_result("tap_finish") : 0;
}

static int
rec_vlan_filtering(int ifindex, bool on)
{
    ds_put_format(&calls, "vlan_filtering %d %d\n", ifindex, on);
    return op_result("vlan_filtering");
}

static int
rec_vlan_add(int ifindex, int lo, int hi, unsigned int flags)
{
    ds_put_format(&calls, "vlan_add %d %d-%d %#x\n", ifindex, lo, hi, flags);
    return op_result("vlan_add");
}

static int
rec_vlan_del(int ifindex, int lo, int hi)
{
    ds_put_format(&calls, "vlan_del %d %d-%d\n", ifindex, lo, hi);
    return op_result("vlan_del");
}

static int
rec_set_num_vfs(const char *pf, int n)
{
    ds_put_format(&calls, "set_num_vfs %s %d\n", pf, n);
    return op_result("set_num_vfs");
}

static int
rec_set_autoprobe(const char *pf, bool on)
{
    ds_put_format(&calls, "set_autoprobe %s %d\n", pf, on);
    return op_result("set_autoprobe");
}

static int
rec_set_eswitch_mode(const struct ofl_sriov_pf *pf, int mode)
{
    ds_put_format(&calls, "set_eswitch_mode %s/%s %d\n", pf->bus, pf->dev,
                  mode);
    return op_result("set_eswitch_mode");
}

static int
rec_set_vf(int pf, int vf, const char *mac, int vlan, bool spoofchk)
{
    ds_put_format(&calls, "set_vf %d %d %s %d %d\n", pf, vf, mac, vlan,
                  spoofchk);
    return op_result("set_vf");
}

static void
rec_uplink_released(const char *ifname)
{
    ds_put_format(&calls, "uplink_released %s\n", ifname);
}

static const char *
rec_error(void)
{
    return "Operation not permitted: refused by test";
}

/* The records of devices being made under temporary names. */
static struct sset temp_records = SSET_INITIALIZER(&temp_records);

static int
rec_temp_begin(const char *name)
{
    sset_add(&temp_records, name);
    return 0;
}

static void
rec_temp_end(const char *name)
{
    sset_find_and_delete(&temp_records, name);
}

static bool
rec_temp_ours(const char *name)
{
    return sset_contains(&temp_records, name);
}

static const struct rc_link_ops rec_link_ops = {
    .bridge_create = rec_bridge_create,
    .veth_create = rec_veth_create,
    .tap_create = rec_tap_create,
    .tap_finish = rec_tap_finish,
    .set_up = rec_set_up,
    .set_master = rec_set_master,
    .set_alias = rec_set_alias,
    .set_name = rec_set_name,
    .set_mtu = rec_set_mtu,
    .set_mac = rec_set_mac,
    .set_netns = rec_set_netns,
    .setup = rec_setup,
    .disable_ipv6 = rec_disable_ipv6,
    .delete = rec_delete,
    .delete_many = rec_delete_many,
    .uplink_released = rec_uplink_released,
};

static const struct rc_vlan_ops rec_vlan_ops = {
    .vlan_filtering = rec_vlan_filtering,
    .vlan_add = rec_vlan_add,
    .vlan_del = rec_vlan_del,
};

static const struct rc_iov_ops rec_iov_ops = {
    .set_num_vfs = rec_set_num_vfs,
    .set_autoprobe = rec_set_autoprobe,
    .set_eswitch_mode = rec_set_eswitch_mode,
    .set_vf = rec_set_vf,
};

static const struct rc_record_ops rec_record_ops = {
    .temp_begin = rec_temp_begin,
    .temp_end = rec_temp_end,
    .temp_ours = rec_temp_ours,
};

static const struct rc_ops rec_ops = {
    .link = &rec_link_ops,
    .vlan = &rec_vlan_ops,
    .iov = &rec_iov_ops,
    .record = &rec_record_ops,
    .error = rec_error,
};

/* ---- fixtures -------------------------------------------------------- */

#define UP 1                    /* IFF_UP */

static struct uuid sw_uuid;

static int
setup(void **state)
{
    ds_init(&calls);
    next_ifindex = 100;
    fail_op = NULL;
    uuid_from_string(&sw_uuid, "0a0b0c0d-1111-2222-3333-444455556666");
    return 0;
}

static int
teardown(void **state)
{
    ds_destroy(&calls);
    sset_clear(&temp_records);
    return 0;
}

static void
add_link(struct dp_links *links, int ifindex, const char *name,
         const char *kind, const char *alias, int master, int peer,
         unsigned int flags)
{
    struct dp_link l = {
        .ifindex = ifindex, .name = (char *) name, .kind = (char *) kind,
        .alias = (char *) alias, .master = master, .peer = peer,
        .flags = flags, .mtu = 1500,
    };
    dp_links_add(links, &l);
}

static char *
tag(const char *role)
{
    return rc_tag(&sw_uuid, role);
}

static void
make_switch(struct rc_switch *sw, const char *name, enum rc_switch_type type,
            const char *uplink, bool host_port)
{
    rc_switch_init(sw);
    sw->uuid = sw_uuid;
    sw->name = name;
    sw->type = type;
    sw->uplink = uplink;
    sw->host_port = host_port;
    sw->host_port_name = "vh-ext0";
}

/* The kernel as vsw leaves it for external switch "ext0" on uplink eth1
 * with a host port. */
static void
converged_external(struct dp_links *links)
{
    char *br = tag(NULL), *host = tag("host"), *peer = tag("host-peer");

    add_link(links, 1, "lo", "", "", 0, 0, UP);
    add_link(links, 2, "eth1", "", "", 10, 0, UP);
    add_link(links, 10, "ext0", "bridge", br, 0, 0, UP);
    add_link(links, 11, "vsp0a0b0c0d", "veth", peer, 10, 12, UP);
    add_link(links, 12, "vh-ext0", "veth", host, 0, 11, UP);
    free(br);
    free(host);
    free(peer);
}

/* ---- tests ----------------------------------------------------------- */

static void
test_converged_makes_no_call(void **state)
{
    struct dp_links links;
    struct rc_switch sw;

    dp_links_init(&links);
    converged_external(&links);
    make_switch(&sw, "ext0", RC_EXTERNAL, "eth1", true);
    sw.prev_uplink = 2;

    assert_false(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    assert_string_equal(ds_cstr(&calls), "");
    assert_true(sw.ok);
    assert_int_equal(sw.ifindex, 10);
    assert_int_equal(sw.uplink_ifindex, 2);
    assert_int_equal(sw.host_ifindex, 12);

    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_create_external(void **state)
{
    struct dp_links links;
    struct rc_switch sw;

    dp_links_init(&links);
    add_link(&links, 2, "eth1", "", "", 0, 0, 0);
    make_switch(&sw, "ext0", RC_EXTERNAL, "eth1", true);

    assert_true(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    char *br = tag(NULL), *host = tag("host"), *peer = tag("host-peer");
    /* Made under a temporary name, tagged, then named: a crash can never
     * leave an untagged device under a name vsw wants. */
    char *want = xasprintf(
        "bridge_create vswt0a0b0c0d111\n"
        "disable_ipv6 vswt0a0b0c0d111\n"  /* No host IPv6 in a switch, */
        "set_alias 100 %s\n"
        "set_name 100 ext0\n"
        "set_up 100 1\n"
        "set_master 2 100\n"            /* uplink into the bridge, */
        "set_up 2 1\n"                  /* and up (it was down). */
        "veth_create vswt0a0b0c0d111 vsp0a0b0c0d\n"
        "disable_ipv6 vsp0a0b0c0d\n"    /* nor on the host port's bridge end. */
        "set_alias 101 %s\n"
        "set_alias 102 %s\n"
        "set_name 101 vh-ext0\n"
        "set_master 102 100\n"
        "set_up 102 1\n"
        "set_up 101 1\n", br, host, peer);
    assert_string_equal(ds_cstr(&calls), want);
    assert_true(sw.ok);
    free(want);
    free(br);
    free(host);
    free(peer);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_foreign_name_is_never_touched(void **state)
{
    struct dp_links links;
    struct rc_switch sw;

    dp_links_init(&links);
    add_link(&links, 5, "ext0", "bridge", "", 0, 0, UP);    /* Not ours. */
    add_link(&links, 6, "other", "bridge", "someone:else", 0, 0, UP);
    make_switch(&sw, "ext0", RC_PRIVATE, NULL, false);

    rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL);
    assert_string_equal(ds_cstr(&calls), "");
    assert_false(sw.ok);
    assert_non_null(strstr(ds_cstr(&sw.error),
                           "a network device named ext0 already exists"));
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_stale_objects_deleted(void **state)
{
    struct dp_links links;
    char *br = tag(NULL), *host = tag("host");

    dp_links_init(&links);
    /* Ours, for a switch the database no longer has. */
    add_link(&links, 10, "old0", "bridge", br, 0, 0, UP);
    add_link(&links, 12, "vh-old0", "veth", host, 0, 0, UP);
    /* Not ours: left alone even though it looks like vsw's. */
    add_link(&links, 20, "br-x", "bridge", "vsw:not-a-uuid", 0, 0, UP);

    assert_true(rc_reconcile(NULL, 0, &links, &rec_ops, true, NULL));
    const char *c = ds_cstr(&calls);
    assert_true(strstr(c, "delete_many 10 12\n")
                || strstr(c, "delete_many 12 10\n"));
    assert_null(strstr(c, "20"));
    free(br);
    free(host);
    dp_links_destroy(&links);
}

static void
test_uplink_enslaved_elsewhere(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    char *br = tag(NULL);

    dp_links_init(&links);
    add_link(&links, 2, "eth1", "", "", 30, 0, UP);
    add_link(&links, 10, "ext0", "bridge", br, 0, 0, UP);
    add_link(&links, 30, "br0", "bridge", "", 0, 0, UP);
    make_switch(&sw, "ext0", RC_EXTERNAL, "eth1", false);

    assert_false(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    assert_string_equal(ds_cstr(&calls), "");
    assert_non_null(strstr(ds_cstr(&sw.error),
                           "uplink eth1 is already a port of br0"));
    free(br);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_uplink_change_releases_old(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    char *br = tag(NULL);

    dp_links_init(&links);
    add_link(&links, 2, "eth1", "", "", 10, 0, UP);         /* Old uplink. */
    add_link(&links, 3, "eth2", "", "", 0, 0, UP);          /* New one. */
    add_link(&links, 4, "vnet0", "tun", "", 10, 0, UP);     /* Foreign port. */
    add_link(&links, 10, "ext0", "bridge", br, 0, 0, UP);
    make_switch(&sw, "ext0", RC_EXTERNAL, "eth2", false);
    sw.prev_uplink = 2;

    assert_true(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    assert_string_equal(ds_cstr(&calls),
                        "set_master 3 10\n"
                        "set_master 2 0\n"     /* vnet0 stays. */
                        "uplink_released eth1\n");
    assert_true(sw.ok);
    assert_int_equal(sw.uplink_ifindex, 3);
    free(br);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_refused_tag_removes_bridge(void **state)
{
    struct dp_links links;
    struct rc_switch sw;

    dp_links_init(&links);
    make_switch(&sw, "int0", RC_PRIVATE, NULL, false);
    fail_op = "set_alias";
    fail_op_errno = EPERM;

    assert_true(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    assert_string_equal(ds_cstr(&calls),
                        "bridge_create vswt0a0b0c0d111\n"
                        "disable_ipv6 vswt0a0b0c0d111\n"
                        "set_alias 100 vsw:0a0b0c0d-1111-2222-3333-"
                        "444455556666\n"
                        "delete 100\n");
    assert_false(sw.ok);
    assert_int_equal(sw.ifindex, 0);
    assert_non_null(strstr(ds_cstr(&sw.error), "refused by test"));
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_rename_goes_down_and_up(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    char *br = tag(NULL);

    dp_links_init(&links);
    add_link(&links, 10, "old0", "bridge", br, 0, 0, UP);
    make_switch(&sw, "new0", RC_PRIVATE, NULL, false);

    assert_true(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    assert_string_equal(ds_cstr(&calls),
                        "set_up 10 0\n"
                        "set_name 10 new0\n"
                        "set_up 10 1\n");
    free(br);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_tags(void **state)
{
    struct uuid u;
    const char *role;
    char *t = rc_tag(&sw_uuid, "host");

    assert_string_equal(t, "vsw:0a0b0c0d-1111-2222-3333-444455556666:host");
    assert_true(rc_parse_tag(t, &u, &role));
    assert_true(uuid_equals(&u, &sw_uuid));
    assert_string_equal(role, "host");
    free(t);

    assert_true(rc_parse_tag("vsw:0a0b0c0d-1111-2222-3333-444455556666",
                             &u, &role));
    assert_null(role);
    assert_false(rc_parse_tag("", &u, &role));
    assert_false(rc_parse_tag("vsw:", &u, &role));
    assert_false(rc_parse_tag("vsw:0a0b0c0d-1111-2222-3333-44445555666x",
                              &u, &role));
    assert_false(rc_parse_tag("vsw:0a0b0c0d-1111-2222-3333-444455556666:",
                              &u, &role));
    assert_false(rc_parse_tag("libvirt:0a0b0c0d-1111-2222-3333-44445555666",
                              &u, &role));

    char name[16];
    rc_host_peer_name(&sw_uuid, name);
    assert_string_equal(name, "vsp0a0b0c0d");
}

/* ---- ports ------------------------------------------------------------ */

static struct uuid port_uuid;

static void
make_tap_port(struct rc_port *port)
{
    rc_port_init(port);
    uuid_from_string(&port_uuid, "11111111-2222-3333-4444-555555555555");
    port->uuid = port_uuid;
    port->name = "tap0";
    port->kind = VSW_PORT_TAP;
    port->mac = "52:54:00:12:34:56";
    port->owner = 0;
}

static char *
tap_tag(void)
{
    return xasprintf("vsw:0a0b0c0d-1111-2222-3333-444455556666:port:"
                     "11111111-2222-3333-4444-555555555555");
}

static void
test_tap_created(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    struct rc_port port;
    char *br = tag(NULL), *t = tap_tag();

    dp_links_init(&links);
    add_link(&links, 10, "sw0", "bridge", br, 0, 0, UP);
    make_switch(&sw, "sw0", RC_PRIVATE, NULL, false);
    make_tap_port(&port);
    sw.ports = &port;
    sw.n_ports = 1;

    assert_true(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    /* Under its own name, made ready in one request while the fd that made
     * it holds it, and only then persistent: no temporary name. */
    char *want = xasprintf("tap_create tap0 mq=0 owner=0\n"
                           "disable_ipv6 tap0\n"
                           "setup 100 mac=fe:54:00:12:34:56 "
                           "alias=%s up master=10 dormant\n"
                           "tap_finish 1100 keep\n", t);
    assert_string_equal(ds_cstr(&calls), want);
    assert_true(port.ok);
    assert_string_equal(port.kind_in_use, "tap");
    free(want);
    free(br);
    free(t);
    rc_port_destroy(&port);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_tap_refused_setup_lets_it_go(void **state)
{
    /* The kernel refuses the new tap's setup (a MAC it will not take): the
     * tap is let go, not made persistent, so nothing untagged stays. */
    struct dp_links links;
    struct rc_switch sw;
    struct rc_port port;
    char *br = tag(NULL);

    dp_links_init(&links);
    add_link(&links, 10, "sw0", "bridge", br, 0, 0, UP);
    make_switch(&sw, "sw0", RC_PRIVATE, NULL, false);
    make_tap_port(&port);
    sw.ports = &port;
    sw.n_ports = 1;
    fail_op = "setup";
    fail_op_errno = EADDRNOTAVAIL;

    rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL);
    const char *c = ds_cstr(&calls);
    assert_non_null(strstr(c, "tap_finish 1100 drop\n"));
    assert_null(strstr(c, "keep"));
    assert_false(port.ok);
    assert_non_null(strstr(ds_cstr(&port.error),
                           "cannot set up the new tap tap0"));
    free(br);
    rc_port_destroy(&port);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_name_of_deleted_port_taken_in_one_pass(void **state)
{
    /* Port tap0 deleted and another made under its name, in one
     * transaction (a VM's NIC moved here from another switch, or made
     * again): the old tap goes, the new one is made in the same pass, and
     * its name is not refused as a foreign device's. */
    struct dp_links links;
    struct rc_switch sw;
    struct rc_port port;
    char *br = tag(NULL);
    char *old = xasprintf("vsw:0a0b0c0d-1111-2222-3333-444455556666:port:"
                          "99999999-2222-3333-4444-555555555555");

    dp_links_init(&links);
    add_link(&links, 10, "sw0", "bridge", br, 0, 0, UP);
    add_link(&links, 20, "tap0", "tun", old, 10, 0, UP);
    make_switch(&sw, "sw0", RC_PRIVATE, NULL, false);
    make_tap_port(&port);
    sw.ports = &port;
    sw.n_ports = 1;
    sw.all_ports = true;        /* The pass knows all of its ports. */

    assert_true(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    const char *c = ds_cstr(&calls);
    const char *del = strstr(c, "delete 20\n");
    assert_non_null(del);
    assert_true(strstr(c, "tap_create ") > del);
    assert_true(port.ok);
    assert_string_equal(ds_cstr(&port.error), "");
    free(br);
    free(old);
    rc_port_destroy(&port);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

/* Tap 20 "tap0" as vsw leaves it, with the host's IPv6 on or off. */
static void
add_tap_link(struct dp_links *links, const char *t, bool ipv6)
{
    struct dp_link l = {
        .ifindex = 20, .name = "tap0", .kind = "tun", .alias = (char *) t,
        .master = 10, .flags = UP, .mtu = 1500, .mac = "fe:54:00:12:34:56",
        /* IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_PERSIST, owned by
         * root, as the tun driver reports it. */
        .tun_flags = 0x5802, .tun_owner = 0, .tun_group = -1,
        .ipv6 = ipv6,
    };
    dp_links_add(links, &l);
}

static void
add_converged_tap(struct dp_links *links, const char *br, const char *t)
{
    add_link(links, 10, "sw0", "bridge", br, 0, 0, UP);
    add_tap_link(links, t, false);
}

static void
test_tap_converged_no_call(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    struct rc_port port;
    char *br = tag(NULL), *t = tap_tag();

    dp_links_init(&links);
    add_converged_tap(&links, br, t);
    make_switch(&sw, "sw0", RC_PRIVATE, NULL, false);
    make_tap_port(&port);
    sw.ports = &port;
    sw.n_ports = 1;

    assert_false(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    assert_string_equal(ds_cstr(&calls), "");
    assert_true(port.ok);
    assert_int_equal(port.ifindex, 20);

    /* The host's IPv6 turned on behind vsw's back: off again, nothing
     * else; if the kernel still shows it on, reported, not asked again. */
    add_tap_link(&links, t, true);
    assert_true(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    assert_string_equal(ds_cstr(&calls), "disable_ipv6 tap0\n");
    assert_true(port.ok);
    ds_clear(&calls);
    assert_false(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    assert_string_equal(ds_cstr(&calls), "");
    assert_false(port.ok);
    assert_non_null(strstr(ds_cstr(&port.error), "keeps the host's IPv6"));
    free(br);
    free(t);
    rc_port_destroy(&port);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_tap_recreated_for_queues(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    struct rc_port port;
    char *br = tag(NULL), *t = tap_tag();

    dp_links_init(&links);
    add_converged_tap(&links, br, t);
    make_switch(&sw, "sw0", RC_PRIVATE, NULL, false);
    make_tap_port(&port);
    port.queues = 4;            /* The existing tap is single-queue. */
    sw.ports = &port;
    sw.n_ports = 1;

    assert_true(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    const char *c = ds_cstr(&calls);
    char *want = xstrdup("tap_create tap0 mq=1 owner=0\n");
    assert_non_null(strstr(c, "delete 20\n"));
    assert_non_null(strstr(c, want));
    assert_true(port.ok);
    free(want);

    /* The kernel hands back a tap that still differs (a value it does not
     * keep): made again once, never in a loop. */
    ds_clear(&calls);
    rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL);
    assert_string_equal(ds_cstr(&calls), "");
    assert_false(port.ok);
    assert_non_null(strstr(ds_cstr(&port.error), "still does not have"));

    /* Settings changed again: one more attempt is allowed. */
    port.queues = 2;
    ds_clear(&calls);
    rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL);
    assert_non_null(strstr(ds_cstr(&calls), "delete 20\n"));
    free(br);
    free(t);
    rc_port_destroy(&port);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

/* A device a crash left half made (temporary name, no tag, and vsw's
 * record that it was making it) is removed; a foreign device whose name
 * only looks like one, even untagged, is not. */
static void
test_leftover_temp_deleted(void **state)
{
    struct dp_links links;

    dp_links_init(&links);
    sset_add(&temp_records, "vswt0a0b0c0d111");
    add_link(&links, 30, "vswt0a0b0c0d111", "tun", "", 0, 0, 0);
    add_link(&links, 31, "vswtmine", "tun", "", 0, 0, 0);
    add_link(&links, 32, "vswt0a0b0c0d222", "tun", "someone's", 0, 0, 0);
    add_link(&links, 33, "vswt0123456789a", "veth", "", 0, 0, 0);

    assert_true(rc_reconcile(NULL, 0, &links, &rec_ops, true, NULL));
    assert_string_equal(ds_cstr(&calls), "delete 30\n");
    assert_false(sset_contains(&temp_records, "vswt0a0b0c0d111"));
    dp_links_destroy(&links);
}

/* With a damaged database nothing tagged is deleted: the rows that wanted
 * it may be the ones that were lost. */
static void
test_damaged_db_deletes_nothing(void **state)
{
    struct dp_links links;
    char *br = tag(NULL);

    dp_links_init(&links);
    add_link(&links, 10, "sw0", "bridge", br, 0, 0, UP);
    assert_false(rc_reconcile(NULL, 0, &links, &rec_ops, false, NULL));
    assert_string_equal(ds_cstr(&calls), "");

    assert_true(rc_reconcile(NULL, 0, &links, &rec_ops, true, NULL));
    assert_string_equal(ds_cstr(&calls), "delete 10\n");
    free(br);
    dp_links_destroy(&links);
}

/* A switch whose values are refused keeps what it has, ports included. */
static void
test_switch_config_error_touches_nothing(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    struct rc_port port;
    char *br = tag(NULL), *t = tap_tag();

    dp_links_init(&links);
    add_converged_tap(&links, br, t);
    make_switch(&sw, "sw0", RC_PRIVATE, NULL, false);
    sw.config_error = "invalid host port";
    make_tap_port(&port);
    port.queues = 4;                    /* Would recreate the tap. */
    sw.ports = &port;
    sw.n_ports = 1;

    assert_false(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    assert_string_equal(ds_cstr(&calls), "");
    assert_false(sw.ok);
    assert_string_equal(ds_cstr(&sw.error), "invalid host port");
    assert_int_equal(sw.ifindex, 10);
    assert_false(port.ok);
    free(br);
    free(t);
    rc_port_destroy(&port);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_port_config_error_touches_nothing(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    struct rc_port port;
    char *br = tag(NULL), *t = tap_tag();

    dp_links_init(&links);
    add_converged_tap(&links, br, t);
    make_switch(&sw, "sw0", RC_PRIVATE, NULL, false);
    make_tap_port(&port);
    port.mtu = 9000;                    /* Would be a change... */
    port.config_error = "MTU mismatch"; /* ...but the config is refused. */
    sw.ports = &port;
    sw.n_ports = 1;

    assert_false(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    assert_string_equal(ds_cstr(&calls), "");
    assert_false(port.ok);
    assert_string_equal(ds_cstr(&port.error), "MTU mismatch");
    assert_int_equal(port.ifindex, 20);
    free(br);
    free(t);
    rc_port_destroy(&port);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_vf_falls_back_to_tap(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    struct rc_port port;
    char *br = tag(NULL), *t = tap_tag();

    dp_links_init(&links);
    add_converged_tap(&links, br, t);
    make_switch(&sw, "sw0", RC_PRIVATE, NULL, false);
    make_tap_port(&port);
    port.kind = VSW_PORT_VF;
    sw.ports = &port;
    sw.n_ports = 1;

    assert_false(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    assert_string_equal(port.kind_in_use, "tap");
    assert_non_null(strstr(ds_cstr(&port.reason),
                           "is not an SR-IOV switch"));
    free(br);
    free(t);
    rc_port_destroy(&port);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_tap_mac(void **state)
{
    char buf[18];

    rc_tap_mac("52:54:00:aa:bb:cc", buf);
    assert_string_equal(buf, "fe:54:00:aa:bb:cc");
}

static void
test_vlans(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    struct rc_port ports[2];
    char *br = tag(NULL), *t = tap_tag();
    int64_t trunks[] = { 10, 11, 12, 20 };

    dp_links_init(&links);
    add_converged_tap(&links, br, t);
    /* vlan_filtering on, and tap0 with the kernel's default PVID 1. */
    struct dp_link *brl = CONST_CAST(struct dp_link *,
                                     dp_links_by_index(&links, 10));
    brl->vlan_filtering = 1;
    links.have_vlans = true;
    dp_vlan_table_add(&links.vlans, 20)->flags[1]
        = DP_VLAN_MEMBER | DP_VLAN_PVID | DP_VLAN_UNTAGGED;

    make_switch(&sw, "sw0", RC_PRIVATE, NULL, false);
    make_tap_port(&ports[0]);
    ports[0].vlan_mode = RC_VLAN_ACCESS;
    ports[0].tag = 10;
    sw.ports = ports;
    sw.n_ports = 1;

    assert_true(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    assert_string_equal(ds_cstr(&calls),
                        "vlan_del 20 1-1\n"
                        "vlan_add 20 10-10 0x7\n");

    /* The same port as a trunk with native VLAN 20: one range request for
     * 11-12 (10 is already there, but no longer untagged). */
    ds_clear(&calls);
    dp_vlan_table_add(&links.vlans, 20)->flags[1] = 0;
    dp_vlan_table_add(&links.vlans, 20)->flags[10]
        = DP_VLAN_MEMBER | DP_VLAN_PVID | DP_VLAN_UNTAGGED;
    ports[0].vlan_mode = RC_VLAN_TRUNK;
    ports[0].tag = 20;
    ports[0].trunks = trunks;
    ports[0].n_trunks = 3;
    rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL);
    assert_string_equal(ds_cstr(&calls),
                        "vlan_add 20 10-10 0x1\n"
                        "vlan_add 20 11-12 0x1\n"
                        "vlan_add 20 20-20 0x7\n");

    /* Converged: nothing. */
    ds_clear(&calls);
    struct dp_vlan_port *vp = dp_vlan_table_add(&links.vlans, 20);
    vp->flags[10] = vp->flags[11] = vp->flags[12] = DP_VLAN_MEMBER;
    vp->flags[20] = DP_VLAN_MEMBER | DP_VLAN_PVID | DP_VLAN_UNTAGGED;
    assert_false(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    assert_string_equal(ds_cstr(&calls), "");

    free(br);
    free(t);
    rc_port_destroy(&ports[0]);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

/* ---- SR-IOV ------------------------------------------------------------ */

/* An SR-IOV switch "ext0" on PF eth1 (bound), with 'pf' as probed. */
static void
make_iov_switch(struct rc_switch *sw, struct dp_links *links,
                const struct ofl_sriov_pf *pf)
{
    char *br = tag(NULL);
    add_link(links, 2, "eth1", "", "", 10, 0, UP);
    add_link(links, 10, "ext0", "bridge", br, 0, 0, UP);
    free(br);
    make_switch(sw, "ext0", RC_EXTERNAL, "eth1", false);
    sw->iov = true;
    sw->pf = pf;
    sw->want_vfs = 4;
    sw->prev_uplink = 2;
}

static void
test_iov_safe_order(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    struct ofl_sriov_pf pf = {
        .capable = true, .devlink = true, .num_vfs = 2, .total_vfs = 8,
        .bus = "pci", .dev = "0000:03:00.0",
        .eswitch_mode = OFL_ESWITCH_LEGACY,
    };

    dp_links_init(&links);
    make_iov_switch(&sw, &links, &pf);
    assert_true(rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL));
    /* VFs to 0 before the mode changes; autoprobe off before new VFs. */
    assert_string_equal(ds_cstr(&calls),
                        "set_num_vfs eth1 0\n"
                        "set_eswitch_mode pci/0000:03:00.0 1\n"
                        "set_autoprobe eth1 0\n"
                        "set_num_vfs eth1 4\n");
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_iov_refused_with_kernel_words(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    struct ofl_sriov_pf pf = {
        .capable = true, .devlink = true, .num_vfs = 0, .total_vfs = 8,
        .bus = "pci", .dev = "0000:03:00.0",
        .eswitch_mode = OFL_ESWITCH_LEGACY,
    };

    dp_links_init(&links);
    make_iov_switch(&sw, &links, &pf);
    fail_op = "set_eswitch_mode";
    fail_op_errno = EOPNOTSUPP;
    rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL);
    assert_false(sw.iov_support);
    assert_string_equal(ds_cstr(&sw.iov_reason),
                        "eswitch mode switchdev refused on eth1: Operation "
                        "not permitted: refused by test");
    /* No VF was created after the refusal. */
    assert_null(strstr(ds_cstr(&calls), "set_num_vfs eth1 4"));
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_iov_unknown_mode_touches_nothing(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    struct ofl_sriov_pf pf = {
        .capable = true, .devlink = true, .num_vfs = 4, .total_vfs = 8,
        .eswitch_mode = -1,
    };

    dp_links_init(&links);
    make_iov_switch(&sw, &links, &pf);
    rc_reconcile(&sw, 1, &links, &rec_ops, true, NULL);
    assert_string_equal(ds_cstr(&calls), "");
    assert_false(sw.iov_support);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

static void
test_rep_names(void **state)
{
    int vf;

    assert_true(ofl_sriov_parse_rep_name("pf0vf3", &vf));
    assert_int_equal(vf, 3);
    assert_true(ofl_sriov_parse_rep_name("pf1vf12", &vf));
    assert_int_equal(vf, 12);
    assert_false(ofl_sriov_parse_rep_name("p0", &vf));
    assert_false(ofl_sriov_parse_rep_name("pf0vf3x", &vf));
    assert_false(ofl_sriov_parse_rep_name("", &vf));
    assert_false(ofl_sriov_parse_rep_name(NULL, &vf));
}

/* Ports 'a' (uuid ...0001, "ta") and 'b' (...0002, "tb") on switch sw0. */
static void
make_two_ports(struct rc_port ports[2])
{
    static const char *const uuids[] = {
        "00000000-0000-0000-0000-000000000001",
        "00000000-0000-0000-0000-000000000002",
    };
    static const char *const names[] = { "ta", "tb" };
    for (int i = 0; i < 2; i++) {
        rc_port_init(&ports[i]);
        uuid_from_string(&ports[i].uuid, uuids[i]);
        ports[i].name = names[i];
        ports[i].kind = VSW_PORT_TAP;
        ports[i].owner = 0;
    }
}

/* An incremental pass converges the dirty port only: the clean one is
 * neither looked at nor repaired, whatever the kernel says of it. */
static void
test_change_touches_only_its_port(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    struct rc_port ports[2];
    char *br = tag(NULL);

    dp_links_init(&links);
    add_link(&links, 10, "sw0", "bridge", br, 0, 0, UP);
    make_switch(&sw, "sw0", RC_PRIVATE, NULL, false);
    make_two_ports(ports);
    sw.ports = ports;
    sw.n_ports = 2;
    sw.dirty = false;
    ports[0].dirty = false;     /* Missing in the kernel, but clean. */

    assert_true(rc_reconcile(&sw, 1, &links, &rec_ops,
                             RC_MAY_DELETE | RC_INCREMENTAL, NULL));
    const char *c = ds_cstr(&calls);
    assert_non_null(strstr(c, "tap_create"));
    assert_null(strstr(c, "ta\n"));
    assert_null(strstr(strstr(c, "tap_create") + 1, "tap_create"));
    assert_int_equal(ports[0].ifindex, 0);      /* Not observed. */
    assert_int_equal(sw.ifindex, 10);           /* Looked up. */

    /* Nothing dirty: no call at all. */
    ds_clear(&calls);
    ports[1].dirty = false;
    assert_false(rc_reconcile(&sw, 1, &links, &rec_ops,
                              RC_MAY_DELETE | RC_INCREMENTAL, NULL));
    assert_string_equal(ds_cstr(&calls), "");

    free(br);
    rc_port_destroy(&ports[0]);
    rc_port_destroy(&ports[1]);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

/* Devices no switch wants go in one batch; if the batch is refused, one
 * by one. */
static void
test_unwanted_deleted_in_one_batch(void **state)
{
    struct dp_links links;
    struct rc_switch sw;
    char *br = tag(NULL);
    char *t1 = xasprintf("%s:port:00000000-0000-0000-0000-000000000001", br);
    char *t2 = xasprintf("%s:port:00000000-0000-0000-0000-000000000002", br);

    dp_links_init(&links);
    add_link(&links, 10, "sw0", "bridge", br, 0, 0, UP);
    add_link(&links, 21, "ta", "tun", t1, 10, 0, UP);
    add_link(&links, 22, "tb", "tun", t2, 10, 0, UP);
    make_switch(&sw, "sw0", RC_PRIVATE, NULL, false);
    sw.dirty = false;

    /* A look at every link while the switch's ports are not all in the
     * pass (another switch went): its ports are not known to be
     * unwanted, and stay. */
    assert_false(rc_reconcile(&sw, 1, &links, &rec_ops,
                              RC_MAY_DELETE | RC_INCREMENTAL, NULL));
    assert_string_equal(ds_cstr(&calls), "");

    sw.all_ports = true;        /* Its ports (none) are all in the pass. */
    assert_true(rc_reconcile(&sw, 1, &links, &rec_ops,
                             RC_MAY_DELETE | RC_INCREMENTAL, NULL));
    const char *c = ds_cstr(&calls);
    assert_true(!strcmp(c, "delete_many 21 22\n")
                || !strcmp(c, "delete_many 22 21\n"));

    ds_clear(&calls);
    fail_op = "delete_many";
    fail_op_errno = EPERM;
    rc_reconcile(&sw, 1, &links, &rec_ops, RC_MAY_DELETE | RC_INCREMENTAL, NULL);
    c = ds_cstr(&calls);
    assert_non_null(strstr(c, "delete 21\n"));
    assert_non_null(strstr(c, "delete 22\n"));

    free(br);
    free(t1);
    free(t2);
    rc_switch_destroy(&sw);
    dp_links_destroy(&links);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_converged_makes_no_call,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_external, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_foreign_name_is_never_touched,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_objects_deleted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_uplink_enslaved_elsewhere,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_uplink_change_releases_old,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_tag_removes_bridge,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_goes_down_and_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tap_created, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tap_refused_setup_lets_it_go,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_name_of_deleted_port_taken_in_one_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tap_converged_no_call, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tap_recreated_for_queues,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_port_config_error_touches_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vf_falls_back_to_tap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tap_mac, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vlans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iov_safe_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_iov_refused_with_kernel_words,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_iov_unknown_mode_touches_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rep_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leftover_temp_deleted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_damaged_db_deletes_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_switch_config_error_touches_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_touches_only_its_port,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwanted_deleted_in_one_batch,
                                        setup, teardown),
    };
    return cmocka_run_group_tests_name("reconcile", tests, NULL, NULL);
}
