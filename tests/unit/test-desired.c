/* Unit tests for the desired-state builder (vswitchd/desired.c): rows as
 * any OVSDB client could write them, built in memory, and a hand-made
 * table of kernel links; no database, no kernel.
 *
 * What is checked: a bad value becomes the object's error (with what to
 * do) while the rest is built; of two objects that want one interface
 * name, the one whose device holds it keeps it; a pass's scope marks only
 * the marked port dirty (the others have identity and VLANs alone) and
 * widens to whoever else wants a marked port's name; a full switch refuses
 * the ports beyond the bridge's limit, never those in place. */
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

#include "datapath/link.h"
#include "smap.h"
#include "sset.h"
#include "util.h"
#include "uuid.h"
#include "uuidset.h"
#include "vsw-idl.h"
#include "vswitchd/desired.h"
#include "vswitchd/reconcile.h"

#define MAX_PORTS 1100

/* One switch and its ports, as the IDL would hand them over. */
struct fixture {
    struct switch_rows in;
    struct vswrec_switch sw;
    struct vswrec_port ports[MAX_PORTS];
    const struct vswrec_port *port_list[MAX_PORTS];
    char names[MAX_PORTS][16];
    struct dp_links kernel;
};

static void
init_port(struct vswrec_port *p, const char *name, int i)
{
    memset(p, 0, sizeof *p);
    p->header_.uuid = (struct uuid) { { 0x1000 + i, 0, 0, 1 } };
    p->name = CONST_CAST(char *, name);
    p->host = "h1";
    p->kind = "tap";
    p->queues = 1;
    smap_init(&p->other_config);
    smap_init(&p->status);
    smap_init(&p->external_ids);
}

static struct fixture *
make_fixture(size_t n_ports)
{
    struct fixture *f = xzalloc(sizeof *f);

    f->sw.header_.uuid = (struct uuid) { { 0xabc, 0, 0, 2 } };
    f->sw.name = "sw0";
    f->sw.host = "h1";
    f->sw.type = "private";
    smap_init(&f->sw.other_config);
    smap_init(&f->sw.status);
    smap_init(&f->sw.offload);
    smap_init(&f->sw.rss);
    for (size_t i = 0; i < n_ports; i++) {
        snprintf(f->names[i], sizeof f->names[i], "t%"PRIuSIZE, i);
        init_port(&f->ports[i], f->names[i], i);
        f->port_list[i] = &f->ports[i];
    }
    f->in.row = &f->sw;
    f->in.ports = f->port_list;
    f->in.n_ports = n_ports;
    f->in.n_in_db = n_ports;
    dp_links_init(&f->kernel);
    return f;
}

static void
free_fixture(struct fixture *f)
{
    for (size_t i = 0; i < f->in.n_ports; i++) {
        smap_destroy(&f->ports[i].status);
    }
    dp_links_destroy(&f->kernel);
    free(f);
}

/* The kernel holds 'name' as a device tagged for port 'i' of 'f'. */
static void
kernel_holds(struct fixture *f, int ifindex, const char *name, int i)
{
    char *tag = rc_port_name_tag(&f->sw.header_.uuid,
                                 &f->ports[i].header_.uuid, false, false);
    struct dp_link l = {
        .ifindex = ifindex, .name = CONST_CAST(char *, name), .kind = "tun",
        .alias = tag, .flags = 1, .mtu = 1500, .tun_owner = -1,
        .tun_group = -1, .tun_queues = -1, .operstate = -1,
    };
    dp_links_add(&f->kernel, &l);
    free(tag);
}

static void
build(struct desired *d, struct fixture *f, struct desired_scope *scope)
{
    desired_build(d, &f->in, 1, "h1", &f->kernel, scope);
    assert_int_equal(d->n, 1);
}

static struct uuidset no_objects = UUIDSET_INITIALIZER(&no_objects);
static struct sset no_names = SSET_INITIALIZER(&no_names);

static struct desired_scope
full_scope(void)
{
    return (struct desired_scope) {
        .full = true, .objects = &no_objects, .all_ports = &no_objects,
        .names = &no_names,
    };
}

static int
setup(void **state OVS_UNUSED)
{
    desired_init();
    return 0;
}

static int
teardown(void **state OVS_UNUSED)
{
    desired_exit();
    return 0;
}

static void
test_bad_values_refused(void **state OVS_UNUSED)
{
    struct fixture *f = make_fixture(3);
    struct desired d;
    struct desired_scope scope = full_scope();

    f->ports[0].mac = "01:00:5e:00:00:01";          /* Multicast. */
    f->ports[1].owner = "4294967295";               /* (uid_t) -1. */
    f->ports[2].mac = "52:54:00:00:00:02";          /* Good. */
    build(&d, f, &scope);

    const struct rc_switch *sw = &d.switches[0];
    assert_non_null(sw->ports[0].config_error);
    assert_non_null(strstr(sw->ports[0].config_error, "t0"));
    assert_non_null(strstr(sw->ports[0].config_error, "vswctl set port t0"));
    assert_non_null(sw->ports[1].config_error);
    assert_non_null(strstr(sw->ports[1].config_error, "owner"));
    assert_null(sw->ports[2].config_error);
    assert_string_equal(sw->ports[2].mac, "52:54:00:00:00:02");
    assert_true(sw->ports[2].dirty);
    assert_null(sw->config_error);
    desired_destroy(&d);
    free_fixture(f);
}

static void
test_name_kept_by_its_holder(void **state OVS_UNUSED)
{
    struct fixture *f = make_fixture(2);
    struct desired d;
    struct desired_scope scope = full_scope();

    /* Port 1 wants the name port 0's device holds in the kernel. */
    f->ports[1].name = f->names[0];
    kernel_holds(f, 20, f->names[0], 0);
    build(&d, f, &scope);
    assert_null(d.switches[0].ports[0].config_error);
    assert_non_null(d.switches[0].ports[1].config_error);
    assert_non_null(strstr(d.switches[0].ports[1].config_error,
                           "already used"));
    desired_destroy(&d);

    /* Its device gone: the one that held it last keeps it. */
    dp_links_destroy(&f->kernel);
    dp_links_init(&f->kernel);
    build(&d, f, &scope);
    assert_null(d.switches[0].ports[0].config_error);
    assert_non_null(d.switches[0].ports[1].config_error);
    desired_destroy(&d);

    /* A port that wants the switch's own name: the bridge keeps it. */
    f->ports[1].name = "sw0";
    build(&d, f, &scope);
    assert_non_null(strstr(d.switches[0].ports[1].config_error,
                           "the bridge of switch sw0"));
    assert_null(d.switches[0].config_error);
    desired_destroy(&d);
    free_fixture(f);
}

static void
test_scope_marks_one_port(void **state OVS_UNUSED)
{
    struct fixture *f = make_fixture(1000);
    struct uuidset objects = UUIDSET_INITIALIZER(&objects);
    struct uuidset all_ports = UUIDSET_INITIALIZER(&all_ports);
    struct sset names = SSET_INITIALIZER(&names);
    struct desired_scope scope = {
        .objects = &objects, .all_ports = &all_ports, .names = &names,
    };
    struct desired d;

    f->ports[500].vlan_mode = "access";
    int64_t tag = 10;
    f->ports[500].tag = &tag;
    f->ports[500].n_tag = 1;
    uuidset_insert(&objects, &f->ports[7].header_.uuid);
    build(&d, f, &scope);
    const struct rc_switch *sw = &d.switches[0];
    assert_false(sw->dirty);
    assert_int_equal(d.n_converged, 1);
    for (size_t i = 0; i < 1000; i++) {
        assert_true(sw->ports[i].dirty == (i == 7));
        assert_string_equal(sw->ports[i].name, f->names[i]);
    }
    /* A clean port still says its VLANs (the uplink trunks them all). */
    assert_int_equal(sw->ports[500].vlan_mode, RC_VLAN_ACCESS);
    assert_int_equal(sw->ports[500].tag, 10);
    desired_destroy(&d);

    /* A name in the scope: whoever wants it is converged too. */
    sset_add(&names, f->names[9]);
    build(&d, f, &scope);
    assert_int_equal(d.n_converged, 2);
    assert_true(d.switches[0].ports[9].dirty);
    desired_destroy(&d);

    /* The switch's own settings changed: every port. */
    uuidset_insert(&all_ports, &f->sw.header_.uuid);
    build(&d, f, &scope);
    assert_int_equal(d.n_converged, 1000);
    desired_destroy(&d);

    uuidset_destroy(&objects);
    uuidset_destroy(&all_ports);
    sset_destroy(&names);
    free_fixture(f);
}

static void
test_full_switch(void **state OVS_UNUSED)
{
    struct fixture *f = make_fixture(1025);
    struct desired_scope scope = full_scope();
    struct desired d;

    /* The last two rows are in place (the bridge has them), two of the
     * first ones are not: ports in place keep theirs. */
    smap_add(&f->ports[1023].status, "ifindex", "4000");
    smap_add(&f->ports[1024].status, "ifindex", "4001");
    build(&d, f, &scope);
    const struct rc_switch *sw = &d.switches[0];
    assert_null(sw->ports[1023].config_error);
    assert_null(sw->ports[1024].config_error);
    size_t refused = 0;
    for (size_t i = 0; i < 1025; i++) {
        refused += sw->ports[i].config_error != NULL;
    }
    assert_int_equal(refused, 1025 - VSW_BRIDGE_MAX_PORTS);
    assert_non_null(strstr(sw->ports[1022].config_error, "is full"));
    desired_destroy(&d);
    free_fixture(f);
}

/* Which passes need all of a switch's ports, and a pass over one port
 * given only that port (the others stay unread). */
static void
test_needs_all_ports(void **state OVS_UNUSED)
{
    struct fixture *f = make_fixture(1000);
    struct uuidset objects = UUIDSET_INITIALIZER(&objects);
    struct uuidset all_ports = UUIDSET_INITIALIZER(&all_ports);
    struct sset names = SSET_INITIALIZER(&names);
    struct desired_scope scope = {
        .objects = &objects, .all_ports = &all_ports, .names = &names,
    };
    const struct vswrec_switch *sw = &f->sw;

    uuidset_insert(&objects, &f->ports[7].header_.uuid);
    assert_false(desired_needs_all_ports(sw, &scope, 1000, 0, false));
    /* Full, or the switch's own settings changed. */
    struct desired_scope full = full_scope();
    assert_true(desired_needs_all_ports(sw, &full, 1000, 0, false));
    uuidset_insert(&all_ports, &sw->header_.uuid);
    assert_true(desired_needs_all_ports(sw, &scope, 1000, 0, false));
    uuidset_clear(&all_ports);
    /* VLAN ports (the uplink trunks them all). */
    assert_true(desired_needs_all_ports(sw, &scope, 1000, 1, false));
    /* More ports than the bridge takes: who keeps a place depends on all. */
    assert_true(desired_needs_all_ports(sw, &scope, VSW_BRIDGE_MAX_PORTS + 1,
                                        0, false));
    /* SR-IOV: the VFs are shared. */
    f->sw.iov = true;
    assert_true(desired_needs_all_ports(sw, &scope, 10, 0, false));
    f->sw.iov = false;
    /* External: its uplink's VMQ queues are shared, so a port that may
     * hold one, or the switch itself, needs them all; another port not. */
    f->sw.type = "external";
    f->sw.uplink = "eth9";
    assert_false(desired_needs_all_ports(sw, &scope, 1000, 0, false));
    assert_true(desired_needs_all_ports(sw, &scope, 1000, 0, true));
    sset_add(&names, "eth9");
    assert_true(desired_needs_all_ports(sw, &scope, 1000, 0, false));
    assert_true(desired_switch_in_scope(sw, &scope));
    sset_clear(&names);
    f->sw.type = "private";
    f->sw.uplink = NULL;

    /* A pass over port 7 given port 7 alone: the same result for it. */
    struct switch_rows one = {
        .row = sw, .ports = &f->port_list[7], .n_ports = 1, .n_in_db = 1000,
    };
    struct desired d;
    desired_build(&d, &one, 1, "h1", &f->kernel, &scope);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.switches[0].n_ports, 1);
    assert_true(d.switches[0].ports[0].dirty);
    assert_string_equal(d.switches[0].ports[0].name, "t7");
    assert_null(d.switches[0].ports[0].config_error);
    assert_int_equal(d.n_converged, 1);
    desired_destroy(&d);

    uuidset_destroy(&objects);
    uuidset_destroy(&all_ports);
    sset_destroy(&names);
    free_fixture(f);
}

int
main(void)
{
    /* The names file (STATE/names) goes to a directory of the test's. */
    char dir[] = "/tmp/vsw-test-desired.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    setenv("VSW_STATE_DIR", dir, 1);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_values_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_name_kept_by_its_holder, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_scope_marks_one_port, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_full_switch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_needs_all_ports, setup,
                                        teardown),
    };
    int failed = cmocka_run_group_tests_name("desired", tests, NULL, NULL);
    char *names = xasprintf("%s/names", dir);
    unlink(names);
    free(names);
    rmdir(dir);
    return failed;
}
