/* Unit tests for vswitchd/reconcile-policy.c: the port policy converged
 * against a fake nftables (a table read back empty, batches recorded
 * instead of sent).  The properties of an incremental reconciler: a
 * converged state makes no modifying call, a pass that finds every port's
 * policy as it would build it again (a safety resync) sends nothing, and
 * a change to one port's policy touches only that port's objects, and
 * a port renamed while a new one takes its old name keeps both elements,
 * and a port whose element another port took gets it back.  What the
 * table is read back as can be set ('kernel'): a table of an older vsw is
 * taken over, elements vsw would not make are deleted, and a batch the
 * kernel refuses leaves vsw believing what the kernel still has.  The
 * base chains look up only the sets and maps that have elements. */
#include <config.h>

#include <netinet/in.h>  /* Before the kernel's headers. */
#include <linux/netfilter.h>
#include <linux/netfilter_bridge.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "datapath/nft.h"
#include "openvswitch/hmap.h"
#include "openvswitch/shash.h"
#include "smap.h"
#include "svec.h"
#include "util.h"
#include "uuid.h"
#include "uuidset.h"
#include "vswitchd/reconcile.h"

/* ---- a fake nftables ------------------------------------------------ */

static int n_commits;           /* Batches sent. */
static struct svec last_ops;    /* The operations of the last batch. */
static struct svec all_ops;     /* Those of every batch since cleared. */
static int n_refused;           /* Batches still to be refused. */

/* What the next read of the table finds: nothing unless 'exists'. */
static struct {
    bool exists;
    const char *comment;
    struct svec chains, sets;   /* Names. */
    struct smap map[2];         /* from-port, to-port: device -> chain. */
    struct dp_nft_elem elems[3][8];     /* mac-guarded, port-mac, and
                                         * port-mac-nd's. */
    size_t n_elems[3];
    int prio_offset;            /* Added to the base chains' priorities. */
} kernel;

static void
kernel_clear(void)
{
    static bool inited;
    if (inited) {
        svec_destroy(&kernel.chains);
        svec_destroy(&kernel.sets);
        smap_destroy(&kernel.map[0]);
        smap_destroy(&kernel.map[1]);
    }
    inited = true;
    memset(&kernel, 0, sizeof kernel);
    svec_init(&kernel.chains);
    svec_init(&kernel.sets);
    smap_init(&kernel.map[0]);
    smap_init(&kernel.map[1]);
}

static int
fake_dump(bool rules OVS_UNUSED, struct dp_nft_table *t)
{
    t->exists = kernel.exists;
    t->comment = nullable_xstrdup(kernel.comment);
    const char *name;
    size_t i;
    SVEC_FOR_EACH (i, name, &kernel.chains) {
        struct dp_nft_chain *c = xzalloc(sizeof *c);
        c->comments = xzalloc(sizeof *c->comments);
        svec_init(c->comments);
        svec_add(c->comments, "an older vsw's rule");
        c->n_rules = 1;
        bool from = !strcmp(name, "from-ports");
        c->base = from || !strcmp(name, "to-ports");
        if (c->base) {
            /* As vsw makes them, but for a priority 'kernel' says. */
            c->hook = from ? NF_BR_PRE_ROUTING : NF_BR_POST_ROUTING;
            c->prio = (from ? -200 : 200) + kernel.prio_offset;
            c->policy = NF_ACCEPT;
        }
        shash_add(&t->chains, name, c);
    }
    SVEC_FOR_EACH (i, name, &kernel.sets) {
        sset_add(&t->sets, name);
    }
    return 0;
}

static int
fake_dump_map(const char *map, struct shash *elems)
{
    const struct smap *m = &kernel.map[!strcmp(map, "to-port")];
    struct smap_node *node;
    SMAP_FOR_EACH (node, m) {
        shash_add(elems, node->key, xstrdup(node->value));
    }
    return 0;
}

static int
fake_dump_elems(const char *set, struct dp_nft_elem **elems, size_t *n)
{
    int k = (!strcmp(set, "mac-guarded") ? 0
             : !strcmp(set, "port-mac") ? 1
             : !strcmp(set, "port-mac-nd") ? 2 : -1);
    *n = k < 0 ? 0 : kernel.n_elems[k];
    *elems = xcalloc(*n + 1, sizeof **elems);
    for (size_t i = 0; i < *n; i++) {
        (*elems)[i] = kernel.elems[k][i];
        (*elems)[i].comment = xstrdup(kernel.elems[k][i].comment
                                      ? kernel.elems[k][i].comment : "");
    }
    return 0;
}

/* Element 'key' of 'key_len' bytes, commented 'comment', in set 'k' (0
 * mac-guarded, 1 port-mac, 2 port-mac-nd) of the table read back. */
static void
kernel_elem(int k, const void *key, size_t key_len, const char *comment)
{
    struct dp_nft_elem *e = &kernel.elems[k][kernel.n_elems[k]++];
    memset(e, 0, sizeof *e);
    memcpy(e->key, key, key_len);
    e->key_len = key_len;
    e->comment = CONST_CAST(char *, comment);
}

static int
fake_vmap_digest(const char *map OVS_UNUSED, uint32_t *digest)
{
    *digest = 0;
    return 0;
}

static int
fake_commit(struct dp_nft_batch *b)
{
    n_commits++;
    svec_destroy(&last_ops);
    svec_clone(&last_ops, dp_nft_batch_ops(b));
    svec_append(&all_ops, &last_ops);
    if (n_refused > 0) {
        n_refused--;
        return EINVAL;
    }
    return 0;
}

static int
fake_dump_mirrors(struct dp_nft_table *t)
{
    t->exists = false;
    return 0;
}

static const char *
fake_error(void)
{
    return "no error";
}

static const struct rc_policy_ops fake_policy_ops = {
    .dump = fake_dump,
    .dump_map = fake_dump_map,
    .dump_elems = fake_dump_elems,
    .vmap_digest = fake_vmap_digest,
    .commit = fake_commit,
    .dump_mirrors = fake_dump_mirrors,
};
static const struct rc_ops fake_ops = {
    .policy = &fake_policy_ops,
    .error = fake_error,
};

/* ---- a switch of N ports, each guarded against MAC spoofing ----------- */

#define N_PORTS 50

static struct rc_switch sw;
static struct rc_port ports[N_PORTS];
static struct rc_policy policies[N_PORTS];
static char names[N_PORTS][16];
static char macs[N_PORTS][18];

static void
switch_build(void)
{
    rc_switch_init(&sw);
    uuid_from_string(&sw.uuid, "00000000-0000-0000-0000-0000000000aa");
    sw.name = "sw";
    for (size_t i = 0; i < N_PORTS; i++) {
        rc_port_init(&ports[i]);
        ports[i].uuid = (struct uuid) { .parts = { 1, 2, 3, i + 1 } };
        snprintf(names[i], sizeof names[i], "p%"PRIuSIZE, i);
        snprintf(macs[i], sizeof macs[i], "52:54:00:00:00:%02x",
                 (unsigned int) i + 1);
        ports[i].name = names[i];
        ports[i].mac = macs[i];
        ports[i].kind = VSW_PORT_TAP;
        memset(&policies[i], 0, sizeof policies[i]);
        ports[i].policy = &policies[i];
    }
    sw.ports = ports;
    sw.n_ports = N_PORTS;
}

/* The switch, its ports guarded against DHCP servers too: each port has
 * chains and map elements as well as the MAC spoofing guard's set
 * elements. */
static void
switch_build_dhcp_guarded(void)
{
    switch_build();
    for (size_t i = 0; i < N_PORTS; i++) {
        policies[i].dhcp_guard = true;
    }
}

static void
switch_destroy(void)
{
    for (size_t i = 0; i < N_PORTS; i++) {
        rc_port_destroy(&ports[i]);
    }
    sw.ports = NULL;
    sw.n_ports = 0;
    rc_switch_destroy(&sw);
}

/* After a port's struct is copied elsewhere: its maps point at their own
 * buckets. */
static void
port_moved(struct rc_port *p)
{
    hmap_moved(&p->policy_status.map);
    hmap_moved(&p->acl_status.map);
}

/* A pass: every port dirty and its status cleared, as the desired-state
 * builder leaves them. */
static void
pass(unsigned int flags, const struct uuidset *scope)
{
    for (size_t i = 0; i < N_PORTS; i++) {
        smap_clear(&ports[i].policy_status);
    }
    bool changed = false;
    rc_converge_policy(&sw, 1, &fake_ops, flags, scope, &changed);
    assert_int_equal(changed, n_commits > 0);
}

/* How many of the last batch's operations name 'u'. */
static size_t
ops_naming(const struct uuid *u)
{
    char s[UUID_LEN + 1];
    snprintf(s, sizeof s, UUID_FMT, UUID_ARGS(u));
    size_t n = 0;
    const char *op;
    size_t i;
    SVEC_FOR_EACH (i, op, &last_ops) {
        n += strstr(op, s) != NULL;
    }
    return n;
}

/* The index of the last operation of the last batch containing 'what'
 * and 'where', or -1. */
static int
last_op(const char *what, const char *where)
{
    int last = -1;
    const char *op;
    size_t i;
    SVEC_FOR_EACH (i, op, &last_ops) {
        if (strstr(op, what) && strstr(op, where)) {
            last = i;
        }
    }
    return last;
}

/* Whether an operation of the last batch contains 'what'. */
static bool
any_op(const char *what)
{
    return last_op(what, "") >= 0;
}

static const char *
or_empty(const char *s)
{
    return s ? s : "";
}

static void
assert_enforced_n(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(or_empty(rc_port_policy_get(&ports[i], "policy")),
                            "enforced");
        assert_true(!strncmp(or_empty(rc_port_policy_get(&ports[i], "guards")),
                             "mac-spoofing", 12));
    }
}

static void
assert_enforced(void)
{
    assert_enforced_n(N_PORTS);
}

static void
test_converged_makes_no_call(void **state OVS_UNUSED)
{
    switch_build();

    /* The first pass reads the table (none) and makes everything, once. */
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_DISTRUST, NULL);
    assert_int_equal(n_commits, 1);
    assert_enforced();
    for (size_t i = 0; i < N_PORTS; i++) {
        assert_true(ops_naming(&ports[i].uuid) > 0);
    }

    /* A safety resync (a full pass, the table trusted): nothing to send,
     * and every port keeps its status. */
    n_commits = 0;
    pass(RC_MAY_DELETE, NULL);
    assert_int_equal(n_commits, 0);
    assert_enforced();

    /* An incremental pass over one unchanged port: nothing either. */
    struct uuidset scope = UUIDSET_INITIALIZER(&scope);
    uuidset_insert(&scope, &ports[7].uuid);
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_INCREMENTAL, &scope);
    assert_int_equal(n_commits, 0);
    uuidset_destroy(&scope);

    switch_destroy();
}

static void
test_one_change_touches_one_port(void **state OVS_UNUSED)
{
    switch_build();
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_DISTRUST, NULL);
    assert_int_equal(n_commits, 1);

    /* Port 7's MAC changes: one batch, about port 7 alone, even in a full
     * pass (every port dirty). */
    ports[7].mac = "52:54:00:00:01:07";
    n_commits = 0;
    pass(RC_MAY_DELETE, NULL);
    assert_int_equal(n_commits, 1);
    assert_true(ops_naming(&ports[7].uuid) > 0);
    /* A port guarded against MAC spoofing and nothing else is set
     * elements alone: no chain, no rule, no map element that jumps (any
     * of which makes the kernel validate every port's chains). */
    assert_true(last_op("deleting p7 ", "set port-mac") >= 0);
    assert_true(last_op("adding p7 ", "set port-mac") >= 0);
    assert_false(any_op("rule"));
    assert_false(any_op("chain"));
    assert_false(any_op("map"));
    for (size_t i = 0; i < N_PORTS; i++) {
        if (i != 7) {
            assert_int_equal(ops_naming(&ports[i].uuid), 0);
        }
    }
    assert_enforced();

    /* Port 9's DHCP guard turned on, in an incremental pass. */
    policies[9].dhcp_guard = true;
    struct uuidset scope = UUIDSET_INITIALIZER(&scope);
    uuidset_insert(&scope, &ports[9].uuid);
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_INCREMENTAL, &scope);
    assert_int_equal(n_commits, 1);
    assert_true(ops_naming(&ports[9].uuid) > 0);
    for (size_t i = 0; i < N_PORTS; i++) {
        if (i != 9) {
            assert_int_equal(ops_naming(&ports[i].uuid), 0);
        }
    }
    assert_string_equal(or_empty(rc_port_policy_get(&ports[9], "guards")),
                        "mac-spoofing,dhcp");

    /* Port 3 goes (a pass over it alone): only its objects are deleted. */
    struct rc_port gone = ports[3];
    port_moved(&gone);
    memmove(&ports[3], &ports[4], (N_PORTS - 4) * sizeof *ports);
    for (size_t i = 3; i < N_PORTS - 1; i++) {
        port_moved(&ports[i]);
    }
    sw.n_ports--;
    uuidset_clear(&scope);
    uuidset_insert(&scope, &gone.uuid);
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_INCREMENTAL, &scope);
    assert_int_equal(n_commits, 1);
    assert_true(ops_naming(&gone.uuid) > 0);
    for (size_t i = 0; i < sw.n_ports; i++) {
        assert_int_equal(ops_naming(&ports[i].uuid), 0);
    }
    uuidset_destroy(&scope);
    memmove(&ports[4], &ports[3], (N_PORTS - 4) * sizeof *ports);
    ports[3] = gone;
    for (size_t i = 3; i < N_PORTS; i++) {
        port_moved(&ports[i]);
    }
    sw.n_ports++;

    switch_destroy();
}

static void
test_rename_and_reuse_in_one_pass(void **state OVS_UNUSED)
{
    switch_build_dhcp_guarded();
    sw.n_ports = N_PORTS - 1;       /* The last is a spare. */
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_DISTRUST, NULL);
    assert_int_equal(n_commits, 1);

    /* Port 7 is renamed c7 and a new port takes p7, in one pass, the new
     * port's changes first: the element the new port adds on p7 must not
     * be deleted by the renamed port's own changes. */
    struct rc_port tmp = ports[7];
    ports[7] = ports[N_PORTS - 1];
    ports[N_PORTS - 1] = tmp;
    port_moved(&ports[7]);
    port_moved(&ports[N_PORTS - 1]);
    ports[7].name = names[7];
    ports[7].mac = "52:54:00:00:02:07";
    ports[N_PORTS - 1].name = "c7";
    sw.n_ports = N_PORTS;
    n_commits = 0;
    pass(RC_MAY_DELETE, NULL);
    assert_int_equal(n_commits, 1);
    int added = last_op("adding p7 ", "map from-port");
    assert_true(added >= 0);
    assert_true(last_op("deleting p7 ", "map from-port") < added);
    assert_true(last_op("adding c7 ", "map from-port") >= 0);
    added = last_op("adding p7 ", "set mac-guarded");
    assert_true(added >= 0);
    assert_true(last_op("deleting p7 ", "set mac-guarded") < added);
    assert_true(last_op("adding c7 ", "set mac-guarded") >= 0);
    assert_enforced();

    /* Converged: nothing more; and each port holds its own element (a
     * later rename deletes c7's, a deletion p7's). */
    n_commits = 0;
    pass(RC_MAY_DELETE, NULL);
    assert_int_equal(n_commits, 0);
    ports[N_PORTS - 1].name = "d7";
    pass(RC_MAY_DELETE, NULL);
    assert_int_equal(n_commits, 1);
    assert_true(last_op("deleting c7 ", "map from-port") >= 0);
    assert_true(last_op("adding d7 ", "map from-port") >= 0);
    assert_true(last_op("deleting c7 ", "set mac-guarded") >= 0);
    assert_true(last_op("adding d7 ", "set mac-guarded") >= 0);

    switch_destroy();
}

static void
test_element_taken_and_given_back(void **state OVS_UNUSED)
{
    switch_build();
    /* Port 5 is a VF port whose representor is "rep5". */
    ovs_strzcpy(ports[5].representor, "rep5", sizeof ports[5].representor);
    sw.n_ports = N_PORTS - 1;
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_DISTRUST, NULL);
    assert_true(last_op("adding rep5 ", "set mac-guarded") >= 0);

    /* A tap port named rep5 takes the element, in a pass where port 5
     * changes too (and comes first); then the tap port goes. */
    ports[N_PORTS - 1].name = "rep5";
    ports[5].mac = "52:54:00:00:03:05";
    sw.n_ports = N_PORTS;
    pass(RC_MAY_DELETE, NULL);
    assert_true(last_op("deleting rep5 ", "set mac-guarded") >= 0);
    sw.n_ports = N_PORTS - 1;
    struct uuidset scope = UUIDSET_INITIALIZER(&scope);
    uuidset_insert(&scope, &ports[N_PORTS - 1].uuid);
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_INCREMENTAL, &scope);
    uuidset_destroy(&scope);

    /* Port 5, dirty in that pass, got its element back after the tap
     * port's went (not kept from its memo); a safety resync then finds
     * nothing to do. */
    assert_int_equal(n_commits, 1);
    assert_true(last_op("adding rep5 ", "set mac-guarded")
                > last_op("deleting rep5 ", "set mac-guarded"));
    n_commits = 0;
    pass(RC_MAY_DELETE, NULL);
    assert_int_equal(n_commits, 0);

    switch_destroy();
}


/* 'dst' = "<prefix><port i's uuid>". */
static void
port_obj(char *dst, size_t size, const char *prefix, size_t i)
{
    snprintf(dst, size, "%s"UUID_FMT, prefix, UUID_ARGS(&ports[i].uuid));
}

/* Whether the last batch adds a rule whose comment starts 'comment' to
 * chain 'chain'. */
static bool
adds_rule(const char *comment, const char *chain)
{
    char what[128];
    snprintf(what, sizeof what, "adding rule \"%s", comment);
    char where[64];
    snprintf(where, sizeof where, "to chain %s", chain);
    return last_op(what, where) >= 0;
}

static void
test_base_chains_look_up_only_what_has_elements(void **state OVS_UNUSED)
{
    /* No port guarded, none with other policy: the base chains look
     * nothing up (each lookup costs every bridged frame). */
    switch_build();
    for (size_t i = 0; i < N_PORTS; i++) {
        policies[i].mac_spoofing = true;
    }
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_DISTRUST, NULL);
    assert_int_equal(n_commits, 1);
    assert_true(any_op("flushing chain from-ports"));
    assert_false(any_op("to chain from-ports"));
    assert_false(any_op("to chain to-ports"));

    /* The first guarded port: the guard's rule in the same batch as its
     * elements; nothing more once converged. */
    policies[3].mac_spoofing = false;
    n_commits = 0;
    struct uuidset one = UUIDSET_INITIALIZER(&one);
    uuidset_insert(&one, &ports[3].uuid);
    pass(RC_MAY_DELETE | RC_INCREMENTAL, &one);
    assert_int_equal(n_commits, 1);
    assert_true(last_op("adding p3 ", "set mac-guarded") >= 0);
    assert_true(adds_rule("guard mac-spoofing ports", "from-ports"));
    assert_false(adds_rule("dispatch from-port", "from-ports"));
    n_commits = 0;
    pass(RC_MAY_DELETE, NULL);
    assert_int_equal(n_commits, 0);

    /* A port with a DHCP guard (a chain of its own): both dispatches. */
    policies[5].dhcp_guard = true;
    uuidset_clear(&one);
    uuidset_insert(&one, &ports[5].uuid);
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_INCREMENTAL, &one);
    assert_int_equal(n_commits, 1);
    assert_true(adds_rule("guard mac-spoofing ports", "from-ports"));
    assert_true(adds_rule("dispatch from-port", "from-ports"));
    assert_true(adds_rule("dispatch to-port", "to-ports")
                || !any_op("map to-port"));

    /* Port 5 deleted (its row gone), port 3 unguarded: the base chains
     * back to no lookups, in the batch that deletes their elements. */
    policies[3].mac_spoofing = true;
    uuidset_insert(&one, &ports[3].uuid);
    struct rc_port p5 = ports[5];
    memmove(&ports[5], &ports[6], (N_PORTS - 6) * sizeof ports[0]);
    sw.n_ports = N_PORTS - 1;
    for (size_t i = 5; i < N_PORTS - 1; i++) {
        port_moved(&ports[i]);
    }
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_INCREMENTAL, &one);
    assert_int_equal(n_commits, 1);
    assert_true(last_op("deleting p5 ", "map from-port") >= 0);
    assert_true(any_op("flushing chain from-ports"));
    assert_false(any_op("to chain from-ports"));
    assert_false(any_op("to chain to-ports"));
    n_commits = 0;
    pass(RC_MAY_DELETE, NULL);
    assert_int_equal(n_commits, 0);
    memmove(&ports[6], &ports[5], (N_PORTS - 6) * sizeof ports[0]);
    ports[5] = p5;
    sw.n_ports = N_PORTS;
    for (size_t i = 5; i < N_PORTS; i++) {
        port_moved(&ports[i]);
    }
    uuidset_destroy(&one);
    switch_destroy();
}

/* Every port's policy enforced, and a pass after it sends nothing; then
 * the switch and the kernel's table are forgotten. */
static void
assert_settled_then_clear(void)
{
    assert_enforced();
    n_commits = 0;
    pass(RC_MAY_DELETE, NULL);
    assert_int_equal(n_commits, 0);
    kernel_clear();
    switch_destroy();
}

/* The next read finds vsw's table with its two base chains (and what the
 * caller adds). */
static void
kernel_vsw_table(void)
{
    kernel_clear();
    kernel.exists = true;
    kernel.comment = "vsw: port policy of vswitchd; changes are undone";
    svec_add(&kernel.chains, "from-ports");
    svec_add(&kernel.chains, "to-ports");
}

static void
test_base_chain_of_another_priority_made_again(void **state OVS_UNUSED)
{
    /* vsw's table, but someone made from-ports again at another priority
     * (or policy, or hook): the kernel changes none of them in place, so
     * the chain is deleted and made again. */
    switch_build();
    kernel_vsw_table();
    kernel.prio_offset = 1;
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_DISTRUST, NULL);
    assert_int_equal(n_commits, 1);
    int del = last_op("deleting chain from-ports", "");
    assert_true(del >= 0);
    assert_true(last_op("adding base chain from-ports", "") > del);
    assert_settled_then_clear();
}

static void
test_older_table_taken_over(void **state OVS_UNUSED)
{
    /* A table of an older vsw: its own chains with other rules, port 0's
     * chain (its guard was in it) and map element. */
    switch_build();
    kernel_vsw_table();
    char chain[64];
    port_obj(chain, sizeof chain, "from-", 0);
    svec_add(&kernel.chains, chain);
    svec_add(&kernel.sets, "from-port");
    svec_add(&kernel.sets, "to-port");
    smap_add(&kernel.map[0], "p0", chain);
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_DISTRUST, NULL);
    assert_int_equal(n_commits, 1);
    /* Its chains made again; port 0's element deleted before its chain,
     * which is in use until then (the kernel refuses otherwise). */
    assert_true(any_op("flushing chain from-ports"));
    int elem = last_op("deleting p0 ", "map from-port");
    assert_true(elem >= 0);
    char del[80];
    snprintf(del, sizeof del, "deleting chain %s", chain);
    assert_true(last_op(del, "") > elem);
    assert_settled_then_clear();
}

static void
test_strays_deleted(void **state OVS_UNUSED)
{
    /* The table as vsw leaves it but for port 1's mac-guarded element,
     * whose key has bytes after the name's NUL: the kernel looks "p1" up
     * by its whole key, so that element guards nothing. */
    switch_build();
    sw.n_ports = 2;
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_DISTRUST, NULL);
    kernel_clear();
    kernel.exists = true;
    kernel.comment = "vsw: port policy of vswitchd; changes are undone";
    static const char *const sets[] = {
        "from-port", "to-port", "mac-guarded", "port-mac", "port-mac-nd",
        "mac-spoofing-drops",
    };
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        svec_add(&kernel.sets, sets[i]);
    }
    static char comments[2][64];
    for (size_t i = 0; i < 2; i++) {
        char name[16] = "";
        uint8_t key[24] = { 0 };
        port_obj(comments[i], sizeof comments[i], "port ", i);
        snprintf(name, sizeof name, "p%"PRIuSIZE, i);
        if (i == 1) {
            memcpy(name + 3, "junk", 4);
        }
        kernel_elem(0, name, 16, "");
        memcpy(key, name, 3);
        const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, i + 1 };
        memcpy(key + 16, mac, 6);
        kernel_elem(1, key, 24, comments[i]);
        kernel_elem(2, key, 24, comments[i]);
    }
    n_commits = 0;
    svec_clear(&all_ops);
    pass(RC_MAY_DELETE | RC_DISTRUST, NULL);
    /* The stray deleted, port 1's elements made again; port 0's kept. */
    int stray = -1, added = -1;
    const char *op;
    size_t i;
    SVEC_FOR_EACH (i, op, &all_ops) {
        if (strstr(op, "not vsw's from set mac-guarded")) {
            stray = i;
        }
        if (strstr(op, "adding p1 ") && strstr(op, "set mac-guarded")) {
            added = i;
        }
        assert_null(strstr(op, "adding p0 "));
    }
    assert_true(stray >= 0);
    assert_true(added > stray);
    assert_enforced_n(2);
    kernel_clear();
    switch_destroy();
}

static void
test_refused_batch_keeps_holders(void **state OVS_UNUSED)
{
    switch_build_dhcp_guarded();
    n_commits = 0;
    pass(RC_MAY_DELETE | RC_DISTRUST, NULL);

    /* Port 3 goes and port 4 is renamed p3, in one pass whose batch the
     * kernel refuses: port 4 alone then takes p3's elements from port 3,
     * whose deletion (the last batch) no longer deletes them. */
    struct rc_port gone = ports[3];
    port_moved(&gone);
    ports[3] = ports[N_PORTS - 1];
    port_moved(&ports[3]);
    ports[4].name = names[3];
    sw.n_ports = N_PORTS - 1;
    n_refused = 1;
    n_commits = 0;
    svec_clear(&all_ops);
    pass(RC_MAY_DELETE, NULL);
    assert_true(n_commits >= 3);
    assert_int_equal(last_op("deleting p3 ", "map from-port"), -1);
    assert_int_equal(last_op("deleting p3 ", "set mac-guarded"), -1);
    assert_true(last_op("deleting p4 ", "map from-port") >= 0
                || any_op("deleting chain from-"));
    size_t dels = 0, adds = 0;
    const char *op;
    size_t i;
    SVEC_FOR_EACH (i, op, &all_ops) {
        dels += strstr(op, "deleting p3 from map from-port") != NULL;
        adds += strstr(op, "adding p3 to map from-port") != NULL;
    }
    /* Once in the refused batch, once in port 4's own; added likewise. */
    assert_int_equal(dels, 2);
    assert_int_equal(adds, 2);
    ports[N_PORTS - 1] = ports[3];
    port_moved(&ports[N_PORTS - 1]);
    ports[3] = gone;
    port_moved(&ports[3]);
    sw.n_ports = N_PORTS;
    switch_destroy();
}

int
main(void)
{
    svec_init(&last_ops);
    svec_init(&all_ops);
    kernel_clear();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_converged_makes_no_call),
        cmocka_unit_test(test_one_change_touches_one_port),
        cmocka_unit_test(test_rename_and_reuse_in_one_pass),
        cmocka_unit_test(test_element_taken_and_given_back),
        cmocka_unit_test(test_base_chains_look_up_only_what_has_elements),
        cmocka_unit_test(test_base_chain_of_another_priority_made_again),
        cmocka_unit_test(test_older_table_taken_over),
        cmocka_unit_test(test_strays_deleted),
        cmocka_unit_test(test_refused_batch_keeps_holders),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    svec_destroy(&last_ops);
    svec_destroy(&all_ops);
    kernel_clear();
    return failed;
}
