/* vswctl: configures vsw through its OVSDB database.
 *
 * Built like ovs-vsctl on OVS's db-ctl-base: one invocation is one atomic
 * transaction, commands chain with "--", generic list/get/set/find/create/
 * destroy/add/remove/clear work on every table, --wait returns once
 * vswitchd has applied the change (Root.next_cfg/cur_cfg).  "vswctl appctl"
 * talks to the running vswitchd instead (runtime queries).
 *
 * Exit codes: 0 success, 1 the operation failed, 2 usage error. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "command-line.h"
#include "ctl/vswctl.h"
#include "fatal-signal.h"
#include "jsonrpc.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "ovsdb-data.h"
#include "ovsdb-idl.h"
#include "ovsdb-idl-provider.h"
#include "process.h"
#include "smap.h"
#include "sset.h"
#include "stream.h"
#include "stream-ssl.h"
#include "svec.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "uuid.h"
#include "vsw-idl.h"
#include "vswitchd/db-remote.h"
#include "vswitchd/host-row.h"
#include "vswitchd/paths.h"
#include "vswitchd/port-row.h"
#include "vswitchd/validate.h"

VLOG_DEFINE_THIS_MODULE(vswctl);

#define EXIT_USAGE 2

struct table_style vswctl_table_style = TABLE_STYLE_DEFAULT;
static bool format_given;       /* --format (or --bare) on the command line. */

static char *db;                /* --db */
static bool wait_for_reload;    /* --wait */
static bool db_given;           /* --db: perhaps another machine's server,
                                 * waited on through the Host rows only. */
static int timeout;             /* --timeout, seconds; 0 = none */

static struct ovsdb_idl *the_idl;
static struct vsw_db_remote the_remote;  /* Back soon after a failover. */
static struct ovsdb_idl_txn *the_idl_txn;
static struct sset noted_switches = SSET_INITIALIZER(&noted_switches);
/* Switches changed as a whole (their MTU, type...): their ports' errors
 * are the change's too. */
static struct sset whole_switches = SSET_INITIALIZER(&whole_switches);
static struct sset noted_ports = SSET_INITIALIZER(&noted_ports);

static const struct ctl_table_class tables[VSWREC_N_TABLES] = {
    [VSWREC_TABLE_ROOT].row_ids = {{NULL, NULL, NULL}},
    [VSWREC_TABLE_SWITCH].row_ids = {{&vswrec_switch_col_name, NULL, NULL}},
    [VSWREC_TABLE_PORT].row_ids = {{&vswrec_port_col_name, NULL, NULL}},
    [VSWREC_TABLE_HOST].row_ids = {{&vswrec_host_col_name, NULL, NULL}},
};

/* The global options (before the first command). */
enum {
    OPT_DB = UCHAR_MAX + 1,
    OPT_WAIT,
    OPT_NO_WAIT,
    OPT_HOST,
    OPT_STATE_DIR,
    OPT_RUN_DIR,
    OPT_COMMANDS,
    OPT_OPTIONS,
    OPT_TABLES,
    OPT_LOCAL,
    VLOG_OPTION_ENUMS,
    TABLE_OPTION_ENUMS,
    SSL_OPTION_ENUMS,
};
static const struct option global_long_options[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"wait", no_argument, NULL, OPT_WAIT},
    {"no-wait", no_argument, NULL, OPT_NO_WAIT},
    {"timeout", required_argument, NULL, 't'},
    {"host", required_argument, NULL, OPT_HOST},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"run-dir", required_argument, NULL, OPT_RUN_DIR},
    {"commands", no_argument, NULL, OPT_COMMANDS},
    {"options", no_argument, NULL, OPT_OPTIONS},
    {"tables", no_argument, NULL, OPT_TABLES},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    VLOG_LONG_OPTIONS,
    TABLE_LONG_OPTIONS,
    STREAM_SSL_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

OVS_NO_RETURN static void vswctl_exit(int status);
OVS_NO_RETURN static void usage(void);
static void parse_options(int argc, char *argv[], struct shash *local);
static char **hoist_command_options(int *argcp, char *argv[]);
static bool vswitchd_alive(void);
static bool vswitchd_stopped(void);
static void arm_timeout(void);
static void omit_observations(const struct ctl_command *, size_t n);
/* Whether the observed state is left out (omit_observations()). */
static bool observations_omitted;
static void monitor_named_ports(const struct ctl_command *, size_t n);
static void monitor_own_host(const struct ctl_command *, size_t n);
static bool do_vswctl(const char *args, struct ctl_command *, size_t n);
OVS_NO_RETURN static void do_appctl(int argc, char *argv[]);

/* The rows each attempt inserted and deleted (vswctl_note_row()), all
 * attempts of this call: an attempt whose answer was lost may show as
 * committed only after a later one has started (the new leader's data
 * comes after the reconnection). */
struct noted_row {
    const struct ovsdb_idl_table_class *class;
    struct uuid uuid;
    bool inserted;
    unsigned int attempt;
};
static struct noted_row *noted_rows;
static size_t n_noted_rows, allocated_noted_rows;
static unsigned int attempt;

void
vswctl_note_row(const struct ovsdb_idl_row *row, bool inserted)
{
    if (n_noted_rows >= allocated_noted_rows) {
        noted_rows = x2nrealloc(noted_rows, &allocated_noted_rows,
                                sizeof *noted_rows);
    }
    noted_rows[n_noted_rows++] = (struct noted_row) {
        row->table->class_, row->uuid, inserted, attempt };
}

/* Whether an earlier attempt, which ended without an answer, was
 * committed: the rows it inserted are there and those it deleted are not.
 * (Inserted rows keep their uuids in the database: vsw_row_insert().) */
static bool
earlier_attempt_committed(struct ovsdb_idl *idl)
{
    for (size_t i = 0; i < n_noted_rows; ) {
        unsigned int a = noted_rows[i].attempt;
        bool committed = true;
        for (; i < n_noted_rows && noted_rows[i].attempt == a; i++) {
            const struct noted_row *r = &noted_rows[i];
            bool there = ovsdb_idl_get_row_for_uuid(idl, r->class,
                                                    &r->uuid) != NULL;
            committed &= there == r->inserted;
        }
        if (committed) {
            return true;
        }
    }
    return false;
}

static int wait_and_report(struct ovsdb_idl *, int64_t next_cfg);

/* Ends vswctl for a call whose earlier attempt was committed, after
 * dropping this attempt's 'txn': with --wait, once the host applied it. */
static void OVS_NO_RETURN
exit_as_committed(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn)
{
    ovsdb_idl_txn_destroy(txn);
    const struct vswrec_host *h = vsw_host_find(idl, vsw_host_id());
    exit(wait_for_reload && h ? wait_and_report(idl, h->next_cfg)
         : EXIT_SUCCESS);
}

/* Whether 'error' (a refused transaction's) names a row that an earlier
 * attempt of this call inserted: a member that had not yet seen that
 * attempt's commit made it look lost, and this attempt then collided with
 * it (a uniqueness constraint names the existing row). */
static bool
error_names_earlier_insert(const char *error)
{
    for (size_t i = 0; error && i < n_noted_rows; i++) {
        const struct noted_row *r = &noted_rows[i];
        if (r->inserted && r->attempt < attempt) {
            char s[UUID_LEN + 1];
            snprintf(s, sizeof s, UUID_FMT, UUID_ARGS(&r->uuid));
            if (strstr(error, s)) {
                return true;
            }
        }
    }
    return false;
}

void
vswctl_note_switch(const char *name)
{
    sset_add(&noted_switches, name);
}

void
vswctl_note_port(const char *name)
{
    sset_add(&noted_ports, name);
}

int
main(int argc, char *argv[])
{
    struct ctl_command *commands;
    struct shash local_options;
    size_t n_commands;

    set_program_name(argv[0]);
    fatal_ignore_sigpipe();
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    vlog_set_levels_from_string_assert("reconnect:emer");
    /* vswctl says itself when vswitchd does not answer. */
    vlog_set_levels_from_string_assert("unixctl:emer");
    vlog_set_levels_from_string_assert("ovsdb_idl:emer");

    /* No generic "show": ours (ctl-switch.c) knows what matters. */
    ctl_init(&vswrec_idl_class, vswrec_table_classes, tables, NULL,
             vswctl_exit);
    ctl_register_commands(vswctl_switch_commands);
    ctl_register_commands(vswctl_port_commands);
    ctl_register_commands(vswctl_offload_commands);
    ctl_register_commands(vswctl_flows_commands);
    ctl_register_commands(vswctl_policy_commands);
    ctl_register_commands(vswctl_stats_commands);
    ctl_register_commands(vswctl_host_commands);

    char *args = process_escape_args(argv);
    argv = hoist_command_options(&argc, argv);
    shash_init(&local_options);
    parse_options(argc, argv, &local_options);

    if (optind < argc && !strcmp(argv[optind], "appctl")) {
        do_appctl(argc - optind - 1, argv + optind + 1);
    }
    if (optind < argc && !strcmp(argv[optind], "vhost-exec")) {
        vswctl_vhost_exec(argc - optind - 1, argv + optind + 1);
    }

    char *error = ctl_parse_commands(argc - optind, argv + optind,
                                     &local_options, &commands, &n_commands);
    if (error) {
        fprintf(stderr, "vswctl: %s\n", error);
        exit(EXIT_USAGE);
    }

    arm_timeout();
    /* --wait on the embedded database waits for this machine's vswitchd
     * (its control socket in the run directory); on a database given with
     * --db, for the host's vswitchd wherever it runs (its Host row). */
    if (wait_for_reload && !db_given
        && ctl_might_write_to_db(commands, n_commands)
        && !vswitchd_alive()) {
        /* Waiting on a daemon that is not there would never return; say so
         * before anything is committed. */
        char *ctl = vsw_ctl_socket();
        ctl_fatal("--wait: vswitchd is not running (nothing answers on %s); "
                  "start it, or leave out --wait", ctl);
    }

    /* A list of servers (a cluster's members): one that does not answer
     * is not the end, the next is tried (--timeout bounds it all). */
    the_idl = ovsdb_idl_create(db, &vswrec_idl_class, true,
                               strchr(db, ',') != NULL);
    vsw_db_remote_init(&the_remote, the_idl, db);
    /* Any member of a cluster that is connected to it: a follower
     * forwards transactions to the leader, and the detour through a
     * follower to find the leader cost a connection (a millisecond) per
     * call.  (As OVN's ovn-controller does.) */
    ovsdb_idl_set_leader_only(the_idl, false);
    ovsdb_idl_set_db_change_aware(the_idl, false);
    omit_observations(commands, n_commands);
    monitor_named_ports(commands, n_commands);
    monitor_own_host(commands, n_commands);

    unsigned int seqno = ovsdb_idl_get_seqno(the_idl);
    for (;;) {
        ovsdb_idl_run(the_idl);
        vsw_db_remote_run(&the_remote, the_idl);
        if (!ovsdb_idl_is_alive(the_idl)) {
            int retval = ovsdb_idl_get_last_error(the_idl);
            ctl_fatal("%s: database connection failed (%s); is vswitchd "
                      "running? (it serves the database unless --db is "
                      "given)", db, ovs_retval_to_string(retval));
        }
        if (seqno != ovsdb_idl_get_seqno(the_idl)) {
            seqno = ovsdb_idl_get_seqno(the_idl);
            if (do_vswctl(args, commands, n_commands)) {
                free(args);
                exit(EXIT_SUCCESS);
            }
        }
        if (seqno == ovsdb_idl_get_seqno(the_idl)) {
            ovsdb_idl_wait(the_idl);
            vsw_db_remote_wait(&the_remote);
            poll_block();
        }
    }
}

/* Commands that read no observed state (status, statistics, offload
 * results): what a VM manager runs when a VM starts or stops. */
static bool
reads_observations(const struct ctl_command *c)
{
    static const char *const blind[] = {
        "add-port", "del-port", "add-switch", "del-switch",
        "stats",                /* Reads the stats endpoint instead. */
    };
    for (size_t i = 0; i < ARRAY_SIZE(blind); i++) {
        if (!strcmp(c->syntax->name, blind[i])) {
            return false;
        }
    }
    return true;
}

/* Leaves the columns vswitchd writes out of the copy of the database
 * when no command reads them: at 1000 ports they are most of what an
 * add-port would otherwise download and parse.  (The report after --wait
 * then asks the server for the status of the objects it names.) */
static void
omit_observations(const struct ctl_command *commands, size_t n)
{
    static const struct ovsdb_idl_column *const observed[] = {
        &vswrec_port_col_status, &vswrec_port_col_statistics,
        &vswrec_switch_col_status, &vswrec_switch_col_statistics,
        &vswrec_switch_col_offload_requested,
        &vswrec_switch_col_offload_effective,
        &vswrec_switch_col_offload_reason,
        &vswrec_acl_col_status, &vswrec_acl_col_statistics,
    };
    for (size_t i = 0; i < n; i++) {
        if (reads_observations(&commands[i])) {
            return;
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(observed); i++) {
        ovsdb_idl_omit(the_idl, observed[i]);
    }
    observations_omitted = true;
}

/* Of the Host table, only this host's row (what --wait reads), unless a
 * command reads them all (list-hosts, the generic commands on table
 * host): a call's cost does not grow with the hosts of a cluster. */
static void
monitor_own_host(const struct ctl_command *commands, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct ctl_command *c = &commands[i];
        if (!strcmp(c->syntax->name, "list-hosts")
            || (c->argc > 1 && !strcasecmp(c->argv[1], "host"))) {
            return;
        }
    }
    struct ovsdb_idl_condition cond = OVSDB_IDL_CONDITION_INIT(&cond);
    vswrec_host_add_clause_name(&cond, OVSDB_F_EQ, vsw_host_id());
    vswrec_host_set_condition(the_idl, &cond);
    ovsdb_idl_condition_destroy(&cond);
}

/* Whether the Port table is monitored in part (monitor_named_ports()). */
static bool ports_in_part;

/* The port a command names, for commands that need of the Port table
 * only that row: a VM manager's add-port and del-port (the last argument)
 * and the policy commands set-port, acl-add and acl-del (the first);
 * NULL for any other command. */
static const char *
command_port(const struct ctl_command *c, bool *policy)
{
    static const char *const by_last[] = { "add-port", "del-port" };
    static const char *const by_first[] = { "set-port", "acl-add",
                                            "acl-del" };
    for (size_t i = 0; i < ARRAY_SIZE(by_last); i++) {
        if (!strcmp(c->syntax->name, by_last[i])) {
            return c->argv[c->argc - 1];
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(by_first); i++) {
        if (!strcmp(c->syntax->name, by_first[i]) && c->argc > 1) {
            *policy = true;
            return c->argv[1];
        }
    }
    return NULL;
}

/* Commands that each name one port (command_port()) need only those rows
 * of the Port table: only they are monitored, so the cost of one call
 * does not grow with the number of ports in the database.  (A switch's
 * port count comes from vswctl_switch_n_ports().) */
static void
monitor_named_ports(const struct ctl_command *commands, size_t n)
{
    /* Commands that read no port at all. */
    static const char *const portless[] = { "list-switches", "list-hosts" };
    bool policy = false;
    size_t n_portless = 0;
    for (size_t i = 0; i < n; i++) {
        bool none = false;
        for (size_t k = 0; k < ARRAY_SIZE(portless); k++) {
            none |= !strcmp(commands[i].syntax->name, portless[k]);
        }
        n_portless += none;
        if (!none && !command_port(&commands[i], &policy)) {
            return;
        }
    }
    struct ovsdb_idl_condition cond = OVSDB_IDL_CONDITION_INIT(&cond);
    for (size_t i = 0; i < n; i++) {
        const char *name = command_port(&commands[i], &policy);
        if (name) {
            vswrec_port_add_clause_name(&cond, OVSDB_F_EQ, name);
        }
    }
    if (n_portless == n) {
        policy = false;         /* No port, and no ACL, at all. */
    }
    vswrec_port_set_condition(the_idl, &cond);
    ovsdb_idl_condition_destroy(&cond);
    ports_in_part = true;
    if (!policy) {
        /* No ACL row (an empty condition is false): a deleted port's go
         * with it. */
        struct ovsdb_idl_condition none = OVSDB_IDL_CONDITION_INIT(&none);
        vswrec_acl_set_condition(the_idl, &none);
        ovsdb_idl_condition_destroy(&none);
    } else {
        /* Of an ACL, the policy commands read only what the weight check
         * needs (a new row's other columns are still written): 10,000
         * entries added are not 10,000 whole rows sent back. */
        for (size_t i = 0; i < VSWREC_ACL_N_COLUMNS; i++) {
            const struct ovsdb_idl_column *col = &vswrec_acl_columns[i];
            if (col != &vswrec_acl_col_weight
                && col != &vswrec_acl_col_direction) {
                ovsdb_idl_omit(the_idl, col);
            }
        }
    }

    /* The server builds a new monitor's first answer from every row of the
     * table, condition or not, so each column monitored costs it a copy of
     * that column of every port: only what add-port and del-port read, and
     * what the policy commands read and write. */
    static const struct ovsdb_idl_column *const read[] = {
        &vswrec_port_col_name, &vswrec_port_col_host,
        &vswrec_port_col_switch_, &vswrec_port_col_kind,
    };
    static const struct ovsdb_idl_column *const policy_cols[] = {
        &vswrec_port_col_acls, &vswrec_port_col_mac_spoofing,
        &vswrec_port_col_dhcp_guard, &vswrec_port_col_router_guard,
        &vswrec_port_col_max_bandwidth,
        &vswrec_port_col_min_bandwidth_weight,
        &vswrec_port_col_storm_limit, &vswrec_port_col_mirror,
    };
    for (size_t i = 0; i < VSWREC_PORT_N_COLUMNS; i++) {
        const struct ovsdb_idl_column *col = &vswrec_port_columns[i];
        bool keep = false;
        for (size_t k = 0; k < ARRAY_SIZE(read); k++) {
            keep |= read[k] == col;
        }
        for (size_t k = 0; policy && k < ARRAY_SIZE(policy_cols); k++) {
            keep |= policy_cols[k] == col;
        }
        if (!keep) {
            ovsdb_idl_omit(the_idl, col);
        }
    }
    observations_omitted = true;
}

/* Sends 'req' on 'rpc' and returns its reply, or NULL if none came within
 * 'ms' (a member that is frozen or cut off keeps its socket open). */
static struct jsonrpc_msg *
transact_within(struct jsonrpc *rpc, struct jsonrpc_msg *req, int ms)
{
    struct json *id = json_clone(req->id);
    long long int deadline = time_msec() + ms;
    struct jsonrpc_msg *reply = NULL;
    int error = jsonrpc_send(rpc, req);
    while (!error) {
        jsonrpc_run(rpc);
        error = jsonrpc_recv(rpc, &reply);
        if (!error) {
            if ((reply->type == JSONRPC_REPLY || reply->type == JSONRPC_ERROR)
                && json_equal(id, reply->id)) {
                break;
            }
            jsonrpc_msg_destroy(reply);
            reply = NULL;
        } else if (error == EAGAIN && time_msec() < deadline) {
            error = 0;
            jsonrpc_wait(rpc);
            jsonrpc_recv_wait(rpc);
            poll_timer_wait_until(deadline);
            poll_block();
        }
    }
    json_destroy(id);
    return reply;
}

/* The results of transaction 'ops' (a JSON array: "VSwitch" and the
 * operations), from a member of the database's remote list that answers in
 * time; NULL if none does.  Caller frees.  Any member can answer, so one
 * that is slow is passed over quickly, and the last to answer is asked
 * first next time; only when none answers quickly are they given longer.
 * A single server is waited for (--timeout bounds it). */
static struct json *
transact_remotely(const char *ops)
{
    static size_t first;        /* The member that answered last. */
    size_t n = the_remote.n;

    const int patience[] = { VSW_DB_PROBE_INTERVAL / 4,
                             VSW_DB_PROBE_INTERVAL };
    struct json *result = NULL;
    for (size_t round = 0; !result && round < ARRAY_SIZE(patience);
         round++) {
        int ms = n > 1 ? patience[round] : INT_MAX / 2;
        for (size_t i = 0; !result && i < n; i++) {
            size_t m = (first + i) % n;
            struct stream *stream;
            if (stream_open_block(jsonrpc_stream_open(the_remote.members[m],
                                                      &stream, DSCP_DEFAULT),
                                  ms, &stream)) {
                continue;
            }
            struct jsonrpc *rpc = jsonrpc_open(stream);
            struct jsonrpc_msg *req = jsonrpc_create_request(
                "transact", json_from_string(ops), NULL);
            struct jsonrpc_msg *reply = transact_within(rpc, req, ms);
            if (reply && reply->result
                && reply->result->type == JSON_ARRAY) {
                result = json_clone(reply->result);
                first = m;
            }
            jsonrpc_msg_destroy(reply);
            jsonrpc_close(rpc);
        }
    }
    return result;
}

/* Member 'key' of the result of the 'i'th operation in 'results' (from
 * transact_remotely()), or NULL. */
static const struct json *
op_result(const struct json *results, size_t i, const char *key)
{
    if (!results || i >= json_array(results)->n) {
        return NULL;
    }
    const struct json *r = json_array(results)->elems[i];
    return r->type == JSON_OBJECT ? shash_find_data(json_object(r), key)
                                  : NULL;
}

/* The result of 'ops' whose first operation's result has member 'key'. */
static struct json *
transact_first_result(const char *ops, const char *key)
{
    struct json *results = transact_remotely(ops);
    const struct json *v = op_result(results, 0, key);
    struct json *out = v ? json_clone(v) : NULL;
    json_destroy(results);
    return out;
}

/* The number of Port rows that name switch 'sw', asked of the server
 * without fetching the rows: an "update" that changes nothing reports how
 * many rows it matched, and the "abort" after it commits nothing.  (A
 * "select" returns distinct rows of the columns asked for, so it cannot
 * count without fetching every row's _uuid; that is the fallback for a
 * server that refuses the update, e.g. a read-only remote.)  -1 if no
 * member of the remote list answers. */
static long
count_ports_remotely(const struct uuid *sw)
{
    char *where = xasprintf("[[\"switch\",\"==\",[\"uuid\",\""UUID_FMT"\"]]]",
                            UUID_ARGS(sw));
    char *count_ops = xasprintf("[\"VSwitch\",{\"op\":\"update\","
                                "\"table\":\"Port\",\"row\":{},"
                                "\"where\":%s},{\"op\":\"abort\"}]", where);
    char *select_ops = xasprintf("[\"VSwitch\",{\"op\":\"select\","
                                 "\"table\":\"Port\","
                                 "\"columns\":[\"_uuid\"],\"where\":%s}]",
                                 where);
    long n = -1;
    struct json *count = transact_first_result(count_ops, "count");
    if (count && count->type == JSON_INTEGER && json_integer(count) >= 0) {
        n = json_integer(count);
    } else {
        struct json *rows = transact_first_result(select_ops, "rows");
        if (rows && rows->type == JSON_ARRAY) {
            n = json_array(rows)->n;
        }
        json_destroy(rows);
    }
    json_destroy(count);
    free(where);
    free(count_ops);
    free(select_ops);
    return n;
}

/* Each switch's port count as this attempt found it in the database, plus
 * the ports this attempt added to it: counted once per switch and attempt
 * (a bulk add-port of 1000 ports asked the server 1000 times). */
struct port_count {
    struct hmap_node node;
    struct uuid sw;
    size_t n;
};
static struct hmap port_counts = HMAP_INITIALIZER(&port_counts);
static unsigned int port_counts_attempt;

static struct port_count *
port_count(struct ovsdb_idl *idl, const struct vswrec_switch *sw)
{
    if (port_counts_attempt != attempt) {
        struct port_count *pc;
        HMAP_FOR_EACH_POP (pc, node, &port_counts) {
            free(pc);
        }
        port_counts_attempt = attempt;
    }
    const struct uuid *uuid = &sw->header_.uuid;
    struct port_count *pc;
    HMAP_FOR_EACH_WITH_HASH (pc, node, uuid_hash(uuid), &port_counts) {
        if (uuid_equals(&pc->sw, uuid)) {
            return pc;
        }
    }
    long n = ports_in_part ? count_ports_remotely(uuid) : -1;
    if (n < 0) {
        const struct vswrec_port *p;
        n = 0;
        VSWREC_PORT_FOR_EACH (p, idl) {
            n += p->switch_ == sw;
        }
    }
    pc = xmalloc(sizeof *pc);
    pc->sw = *uuid;
    pc->n = n;
    hmap_insert(&port_counts, &pc->node, uuid_hash(uuid));
    return pc;
}

size_t
vswctl_switch_n_ports(struct ovsdb_idl *idl, const struct vswrec_switch *sw)
{
    return port_count(idl, sw)->n;
}

void
vswctl_switch_port_added(struct ovsdb_idl *idl, const struct vswrec_switch *sw)
{
    port_count(idl, sw)->n++;
}

static char timeout_msg[512];

static void
timeout_handler(int sig OVS_UNUSED)
{
    ssize_t n OVS_UNUSED = write(STDERR_FILENO, timeout_msg,
                                 strlen(timeout_msg));
    _exit(EXIT_FAILURE);
}

/* Ends vswctl after --timeout seconds with a message and exit status 1
 * (OVS's time_alarm() would die of SIGALRM, status 142). */
static void
arm_timeout(void)
{
    if (timeout) {
        snprintf(timeout_msg, sizeof timeout_msg, "vswctl: timed out after "
                 "%d s (--timeout); a change already committed stays "
                 "stored\n", timeout);
        signal(SIGALRM, timeout_handler);
        alarm(timeout);
    }
}

/* Connects to vswitchd's control socket without blocking (a stopped
 * vswitchd's full backlog would block a plain connect()).  Returns the
 * socket, or -1 with errno set: EAGAIN means a vswitchd is there but not
 * accepting. */
static int
connect_ctl(void)
{
    char *path = vsw_ctl_socket();
    struct sockaddr_un sun;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    ovs_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
    free(path);
    if (fd >= 0 && connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        int error = errno;
        close(fd);
        errno = error;
        fd = -1;
    }
    return fd;
}

/* Whether a vswitchd is behind its control socket: a socket file left by
 * one that was killed passes access() but refuses connections. */
static bool
vswitchd_alive(void)
{
    int fd = connect_ctl();
    if (fd >= 0) {
        close(fd);
        return true;
    }
    return errno == EAGAIN;
}

/* Whether the vswitchd behind the control socket is stopped (its state in
 * /proc is 'T'): connecting still works then, answering does not. */
static bool
vswitchd_stopped(void)
{
    int fd = connect_ctl();
    bool stopped = fd < 0 && errno == EAGAIN;    /* Not accepting. */

    if (fd >= 0) {
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
            char stat_path[64], buf[256];
            snprintf(stat_path, sizeof stat_path, "/proc/%ld/stat",
                     (long) cred.pid);
            FILE *f = fopen(stat_path, "r");
            if (f) {
                const char *state = fgets(buf, sizeof buf, f)
                                    ? strrchr(buf, ')') : NULL;
                stopped = state && (state[2] == 'T' || state[2] == 't');
                fclose(f);
            }
        }
        close(fd);
    }
    return stopped;
}

/* Whether global option 'arg' (as written, e.g. "--db" or "-t") wants its
 * value in the next word: it takes a value and none is attached. */
static bool
global_option_takes_value(const char *arg)
{
    if (arg[0] == '-' && arg[1] == '-') {
        if (strchr(arg, '=')) {
            return false;
        }
        for (const struct option *o = global_long_options; o->name; o++) {
            if (!strcmp(o->name, arg + 2)) {
                return o->has_arg == required_argument;
            }
        }
        return false;
    }
    if (arg[1] && !arg[2]) {
        for (const struct option *o = global_long_options; o->name; o++) {
            if (o->flag == NULL && o->val == arg[1]) {
                return o->has_arg == required_argument;
            }
        }
    }
    return false;
}

/* Our own commands take their options after the name as well
 * ("add-switch sw0 --type internal"), the way people write them; OVS's
 * parser wants them in front ("--type=internal add-switch sw0").  Returns
 * a copy of 'argv' with such options moved in front of their command and
 * updates '*argcp'. */
static char **
hoist_command_options(int *argcp, char *argv[])
{
    int argc = *argcp;
    char **out = xcalloc(argc + 1, sizeof *out);
    int n = 0;
    int i = 0;

    /* Global options stay where they are, with their values when given as
     * a separate word ("--timeout 10", "-t 10"). */
    out[n++] = argv[i++];
    while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--")) {
        bool takes_value = global_option_takes_value(argv[i]);
        out[n++] = argv[i++];
        if (takes_value && i < argc) {
            out[n++] = argv[i++];
        }
    }
    while (i < argc) {
        /* One command: [options] name [args], up to "--". */
        int start = i, end = i;
        while (end < argc && strcmp(argv[end], "--")) {
            end++;
        }
        int name = start;
        while (name < end && argv[name][0] == '-') {
            name++;
        }
        const struct ctl_command_syntax *syn = NULL;
        static const struct ctl_command_syntax *const sets[] = {
            vswctl_switch_commands, vswctl_port_commands,
            vswctl_policy_commands,
        };
        for (size_t k = 0; k < ARRAY_SIZE(sets); k++) {
            for (const struct ctl_command_syntax *p = sets[k];
                 name < end && p->name; p++) {
                if (!strcmp(p->name, argv[name])) {
                    syn = p;
                }
            }
        }
        char **rest = xcalloc(end - start + 1, sizeof *rest);
        int n_rest = 0;
        for (int j = start; j < name; j++) {
            out[n++] = argv[j];
        }
        for (int j = name + 1; syn && j < end; j++) {
            const char *arg = argv[j];
            size_t len = strcspn(arg, "=");
            char *opt = xmemdup0(arg, len);
            const char *hit = (arg[0] == '-' && arg[1] == '-')
                              ? strstr(syn->options, opt) : NULL;
            int after = hit ? hit[len] : EOF;
            if (hit && (after == ',' || after == '\0' || after == '=')) {
                if (after == '=' && !arg[len] && j + 1 < end) {
                    /* "--type internal" -> "--type=internal". */
                    out[n++] = xasprintf("%s=%s", arg, argv[++j]);
                } else {
                    out[n++] = argv[j];
                }
            } else {
                rest[n_rest++] = argv[j];
            }
            free(opt);
        }
        if (name < end) {
            out[n++] = argv[name];
        }
        if (!syn) {
            for (int j = name + 1; j < end; j++) {
                out[n++] = argv[j];
            }
        }
        for (int j = 0; j < n_rest; j++) {
            out[n++] = rest[j];
        }
        free(rest);
        if (end < argc) {
            out[n++] = argv[end];       /* "--" */
        }
        i = end + 1;
    }
    *argcp = n;
    return out;
}

static void
parse_options(int argc, char *argv[], struct shash *local_options)
{
    const int n_global = ARRAY_SIZE(global_long_options) - 1;
    struct option *options;
    size_t n_options, allocated_options;

    /* Command options may also come before the first command. */
    options = xmemdup(global_long_options, sizeof global_long_options);
    allocated_options = ARRAY_SIZE(global_long_options);
    n_options = n_global;
    ctl_add_cmd_options(&options, &n_options, &allocated_options, OPT_LOCAL);
    /* "+": stop at the first command; later options belong to commands. */
    char *tmp = ovs_cmdl_long_options_to_short_options(options);
    char *short_options = xasprintf("+%s", tmp);
    free(tmp);

    for (;;) {
        int idx;
        int c = getopt_long(argc, argv, short_options, options, &idx);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_DB:
            db = xstrdup(optarg);
            db_given = true;
            break;
        case OPT_WAIT:
            wait_for_reload = true;
            break;
        case OPT_NO_WAIT:
            wait_for_reload = false;
            break;
        case OPT_HOST:
            vsw_set_host_id(optarg);
            break;
        case OPT_STATE_DIR:
            vsw_set_state_dir(optarg);
            break;
        case OPT_RUN_DIR:
            vsw_set_run_dir(optarg);
            break;
        case OPT_LOCAL:
            if (shash_find(local_options, options[idx].name)) {
                fprintf(stderr, "vswctl: '%s' option specified multiple "
                        "times\n", options[idx].name);
                exit(EXIT_USAGE);
            }
            shash_add_nocopy(local_options,
                             xasprintf("--%s", options[idx].name),
                             nullable_xstrdup(optarg));
            break;
        STREAM_SSL_OPTION_HANDLERS
        case 't':
            if (!str_to_int(optarg, 10, &timeout) || timeout < 0) {
                fprintf(stderr, "vswctl: --timeout wants a number of "
                        "seconds, not \"%s\"\n", optarg);
                exit(EXIT_USAGE);
            }
            break;
        case OPT_COMMANDS:
            ctl_print_commands();
            exit(EXIT_SUCCESS);
        case OPT_OPTIONS:
            ctl_print_options(global_long_options);
            exit(EXIT_SUCCESS);
        case OPT_TABLES:
            /* For shell completion: each table and its columns, from the
             * schema vswctl was built with. */
            for (size_t i = 0; i < vswrec_idl_class.n_tables; i++) {
                const struct ovsdb_idl_table_class *tc
                    = &vswrec_idl_class.tables[i];
                printf("%s", tc->name);
                for (size_t j = 0; j < tc->n_columns; j++) {
                    printf(" %s", tc->columns[j].name);
                }
                putchar('\n');
            }
            exit(EXIT_SUCCESS);
        case 'h':
            usage();
        case 'V':
            printf("vswctl (vsw) %s\n", VSW_VERSION);
            exit(EXIT_SUCCESS);
        /* TABLE_OPTION_HANDLERS, plus noting an explicit format. */
        case 'f':
            format_given = true;
            table_parse_format(&vswctl_table_style, optarg);
            break;
        case OPT_BARE:
            format_given = true;
            vswctl_table_style.format = TF_LIST;
            vswctl_table_style.cell_format = CF_BARE;
            vswctl_table_style.headings = false;
            break;
        case 'd':
            table_parse_cell_format(&vswctl_table_style, optarg);
            break;
        case OPT_NO_HEADINGS:
            vswctl_table_style.headings = false;
            break;
        case OPT_PRETTY:
            vswctl_table_style.json_flags |= JSSF_PRETTY;
            break;
        case OPT_MAX_COLUMN_WIDTH:
            vswctl_table_style.max_column_width = atoi(optarg);
            break;
        VLOG_OPTION_HANDLERS
        case '?':
            exit(EXIT_USAGE);
        default:
            abort();
        }
    }
    free(short_options);
    /* The command options' names were allocated by ctl_add_cmd_options(). */
    for (size_t i = n_global; options[i].name; i++) {
        free(CONST_CAST(char *, options[i].name));
    }
    free(options);

    const char *bad_host = vsw_check_host_id(vsw_host_id());
    if (bad_host) {
        ctl_fatal("host id \"%s\" (--host or VSW_HOST): %s", vsw_host_id(),
                  bad_host);
    }
    if (!db) {
        db = vsw_default_db();
    }
}

/* Rewrites db-ctl-base's message for an attempt to change Switch.iov into
 * one that says what to do. */
static char *
explain_error(const struct ctl_command *c, char *error)
{
    if (strstr(error, "\"I/O error\"")) {
        const char *io = strstr(error, "\"io-error\":\"");
        char *why = io ? xmemdup0(io + 12, strcspn(io + 12, "\""))
                       : xstrdup("write failed");
        char *better = xasprintf("the database server could not write its "
                                 "file (%s): nothing was changed; free room "
                                 "for it and run the command again", why);
        free(why);
        free(error);
        return better;
    }
    if (strstr(error, "\"permission error\"")) {
        /* OVSDB's access control: the connection's role forbids it. */
        struct json *j = json_from_string(error);
        const struct json *d = (j->type == JSON_OBJECT
                                ? shash_find_data(json_object(j), "details")
                                : NULL);
        char *better = xasprintf("the database refused: %s (this "
                                 "connection's access-control role lets a "
                                 "host change only its own rows' observed "
                                 "state; configure through an operator's "
                                 "connection)",
                                 d && d->type == JSON_STRING
                                 ? json_string(d) : error);
        json_destroy(j);
        free(error);
        return better;
    }
    if (strstr(error, "constraint violation")
        && strstr(error, "\"Port\"")) {
        char *better = xstrdup("a port of that name already exists on this "
                               "host (perhaps added at the same moment by "
                               "another client): port names are interface "
                               "names, unique per host");
        free(error);
        return better;
    }
    if (strstr(error, "column iov in table Switch")) {
        const char *name = c->argc > 2 ? c->argv[2] : "?";
        char *better = xasprintf("switch \"%s\": SR-IOV mode is fixed when "
                                 "a switch is created; delete and recreate "
                                 "the switch (vswctl del-switch %s -- "
                                 "add-switch %s ... [--iov])", name, name,
                                 name);
        free(error);
        return better;
    }
    return error;
}

/* The value of key "error" in 'status', a map column's value in the
 * database's JSON form (["map", [[key, value]...]]), or NULL. */
static const char *
status_error(const struct json *status)
{
    if (!status || status->type != JSON_ARRAY
        || json_array(status)->n != 2) {
        return NULL;
    }
    const struct json *pairs = json_array(status)->elems[1];
    for (size_t i = 0; pairs->type == JSON_ARRAY
                       && i < json_array(pairs)->n; i++) {
        const struct json *kv = json_array(pairs)->elems[i];
        if (kv->type != JSON_ARRAY || json_array(kv)->n != 2) {
            continue;
        }
        const struct json *k = json_array(kv)->elems[0];
        const struct json *v = json_array(kv)->elems[1];
        if (k->type == JSON_STRING && v->type == JSON_STRING
            && !strcmp(json_string(k), "error")) {
            return json_string(v);
        }
    }
    return NULL;
}

/* Appends to 'ops' a select of the status of row 'uuid' of 'table' (by
 * uuid, which the server finds without a scan). */
static void
put_status_select(struct ds *ops, const char *table, const struct uuid *uuid)
{
    ds_put_format(ops, ",{\"op\":\"select\",\"table\":\"%s\","
                  "\"where\":[[\"_uuid\",\"==\",[\"uuid\",\""UUID_FMT"\"]]],"
                  "\"columns\":[\"status\"]}", table, UUID_ARGS(uuid));
}

/* report_switch_errors() when the observed state was not monitored: the
 * status of the switches and ports the commands named (this host's rows
 * of those names), asked of the server row by row. */
static bool
report_errors_remotely(void)
{
    struct ds ops = DS_EMPTY_INITIALIZER;
    struct svec what = SVEC_EMPTY_INITIALIZER;     /* "switch", "port". */
    struct svec names = SVEC_EMPTY_INITIALIZER;

    ds_put_cstr(&ops, "[\"VSwitch\"");
    const struct vswrec_switch *sw;
    VSWREC_SWITCH_FOR_EACH (sw, the_idl) {
        if (sset_contains(&noted_switches, sw->name)
            && !strcmp(sw->host, vsw_host_id())) {
            put_status_select(&ops, "Switch", &sw->header_.uuid);
            svec_add(&what, "switch");
            svec_add(&names, sw->name);
        }
    }
    const struct vswrec_port *p;
    VSWREC_PORT_FOR_EACH (p, the_idl) {
        if (sset_contains(&noted_ports, p->name)
            && !strcmp(p->host, vsw_host_id())) {
            put_status_select(&ops, "Port", &p->header_.uuid);
            svec_add(&what, "port");
            svec_add(&names, p->name);
        }
    }
    ds_put_char(&ops, ']');

    bool failed = false;
    struct json *results = what.n ? transact_remotely(ds_cstr(&ops)) : NULL;
    for (size_t i = 0; i < what.n; i++) {
        const struct json *rows = op_result(results, i, "rows");
        for (size_t j = 0; rows && rows->type == JSON_ARRAY
                           && j < json_array(rows)->n; j++) {
            const struct json *row = json_array(rows)->elems[j];
            const char *err = (row->type == JSON_OBJECT
                               ? status_error(shash_find_data(
                                     json_object(row), "status"))
                               : NULL);
            if (err) {
                fprintf(stderr, "vswctl: %s \"%s\": %s\n", what.names[i],
                        names.names[i], err);
                failed = true;
            }
        }
    }
    json_destroy(results);
    ds_destroy(&ops);
    svec_destroy(&what);
    svec_destroy(&names);
    return failed;
}

/* After --wait: what vswitchd reported for the switches and ports the
 * commands named.
 * Returns true if any of them has an error. */
static bool
report_switch_errors(void)
{
    if (observations_omitted) {
        return report_errors_remotely();
    }
    const struct vswrec_switch *sw;
    bool failed = false;

    VSWREC_SWITCH_FOR_EACH (sw, the_idl) {
        const char *err = smap_get(&sw->status, "error");
        if (err && sset_contains(&noted_switches, sw->name)
            && !strcmp(sw->host, vsw_host_id())) {
            fprintf(stderr, "vswctl: switch \"%s\": %s\n", sw->name, err);
            failed = true;
        }
    }
    const struct vswrec_port *p;
    VSWREC_PORT_FOR_EACH (p, the_idl) {
        /* A change to a switch (its MTU, say) touches its ports too. */
        const char *err = smap_get(&p->status, "error");
        sw = p->switch_;
        if (err && sw && !strcmp(sw->host, vsw_host_id())
            && (sset_contains(&whole_switches, sw->name)
                || sset_contains(&noted_ports, p->name))) {
            fprintf(stderr, "vswctl: port \"%s\": %s\n", p->name, err);
            failed = true;
        }
    }
    return failed;
}

/* The value of a generic command's "column=value" argument, less the
 * database's quoting ("..."), which is not part of it.  Caller frees. */
static char *
unquote_value(const char *value)
{
    char *v = xstrdup(value);
    size_t len = strlen(v);
    if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
        memmove(v, v + 1, len - 2);
        v[len - 2] = '\0';
    }
    return v;
}

/* Generic commands that change a Switch or Port row ("set switch sw0
 * ...") get the same --wait report as add-switch and add-port. */
/* "set switch SW offload:KEY=VALUE" and friends: the database checks the
 * value, vsw checks the feature name.  Returns NULL or an error. */
static char *
check_generic_offload(const struct ctl_command *c)
{
    if ((strcmp(c->syntax->name, "set") && strcmp(c->syntax->name, "add"))
        || c->argc < 4 || strcasecmp(c->argv[1], "switch")) {
        return NULL;
    }
    for (int i = 3; i < c->argc; i++) {
        const char *arg = c->argv[i];
        char *error = NULL;
        if (!strncmp(arg, "offload:", 8)) {
            char *key = xmemdup0(arg + 8, strcspn(arg + 8, "="));
            error = vswctl_check_offload(c->argv[2], key, NULL);
            free(key);
        } else if (!strncmp(arg, "rss:", 4)) {
            char *key = xmemdup0(arg + 4, strcspn(arg + 4, "="));
            const char *value = strchr(arg, '=');
            char *v = unquote_value(value ? value + 1 : "");
            error = vswctl_check_rss(c->argv[2], key, v);
            vswctl_note_rss(c->argv[2], key, v);
            free(key);
            free(v);
        } else if (!strncmp(arg, "rss=", 4)) {
            vswctl_note_rss(c->argv[2], NULL, NULL);
        }
        if (error) {
            return error;
        }
    }
    return NULL;
}

/* "set switch S name=X", "set switch S host_port=X", "set port P
 * name=X": the new interface name gets the same checks as a new object's
 * (add-switch, add-port).  Returns NULL or an error. */
static char *
check_generic_rename(const struct ctl_command *c)
{
    if (strcmp(c->syntax->name, "set") || c->argc < 4) {
        return NULL;
    }
    bool is_switch = !strcasecmp(c->argv[1], "switch");
    bool is_port = !strcasecmp(c->argv[1], "port");
    if (!is_switch && !is_port) {
        return NULL;
    }
    const struct uuid *self = NULL;
    struct uuid u;
    if (uuid_from_string(&u, c->argv[2])) {
        self = &u;
    } else if (is_switch) {
        const struct vswrec_switch *sw = vswctl_switch_named(the_idl,
                                                             c->argv[2]);
        self = sw ? &sw->header_.uuid : NULL;
    } else {
        const struct vswrec_port *p;
        VSWREC_PORT_FOR_EACH (p, the_idl) {
            if (!strcmp(p->name, c->argv[2])
                && !strcmp(p->host, vsw_host_id())) {
                self = &p->header_.uuid;
            }
        }
    }
    for (int i = 3; i < c->argc; i++) {
        const char *arg = c->argv[i];
        const char *value = NULL;
        if (!strncmp(arg, "name=", 5)) {
            value = arg + 5;
        } else if (is_switch && !strncmp(arg, "host_port=", 10)) {
            value = arg + 10;
        }
        if (!value) {
            continue;
        }
        char *v = unquote_value(value);
        char *error = vswctl_check_new_ifname(the_idl, v, self, false);
        if (error) {
            char *msg = xasprintf("%s \"%s\": cannot take the name %s: %s",
                                  is_switch ? "switch" : "port", c->argv[2],
                                  v, error);
            free(error);
            free(v);
            return msg;
        }
        free(v);
    }
    return NULL;
}

/* "set switch S type=internal" (or allow_management_os, uplink) on a
 * switch whose ports would then no longer fit its bridge.  Returns NULL or
 * an error. */
static char *
check_generic_capacity(const struct ctl_command *c)
{
    if (strcmp(c->syntax->name, "set") || c->argc < 4
        || strcasecmp(c->argv[1], "switch")) {
        return NULL;
    }
    const struct vswrec_switch *sw = vswctl_switch_named(the_idl,
                                                         c->argv[2]);
    if (!sw) {
        return NULL;
    }
    const char *type = sw->type;
    bool mgmt = sw->allow_management_os, uplink = sw->uplink != NULL;
    for (int i = 3; i < c->argc; i++) {
        const char *arg = c->argv[i];
        if (!strncmp(arg, "type=", 5)) {
            type = strstr(arg, "internal") ? "internal"
                   : strstr(arg, "external") ? "external" : "private";
        } else if (!strncmp(arg, "allow_management_os=", 20)) {
            mgmt = !strcmp(arg + 20, "true");
        } else if (!strncmp(arg, "uplink=", 7)) {
            uplink = arg[7] && strcmp(arg + 7, "[]");
        }
    }
    bool host_port = vsw_switch_has_host_port(type, mgmt);
    int capacity = vsw_switch_port_capacity(uplink, host_port);
    size_t n_ports = vswctl_switch_n_ports(the_idl, sw);
    if ((int) n_ports > capacity) {
        return xasprintf("switch \"%s\" has %"PRIuSIZE" ports; with this "
                         "change its bridge (at most %d ports) would hold "
                         "%d beside its %s: delete %d ports first",
                         sw->name, n_ports, VSW_BRIDGE_MAX_PORTS,
                         capacity, uplink && host_port
                         ? "uplink and host port"
                         : uplink ? "uplink" : "host port",
                         (int) n_ports - capacity);
    }
    return NULL;
}

/* Whether the first 'len' bytes of 'given' spell 'name' as the ctl library
 * reads the names of tables and columns: in any case, '-' for '_'; in
 * full, or as a 'prefix'. */
static bool
ctl_spells(const char *given, size_t len, const char *name, bool prefix)
{
    size_t n = strlen(name);
    if (!len || len > n || (!prefix && len != n)) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        int c = tolower((unsigned char) given[i]);
        int want = tolower((unsigned char) name[i]);
        if (c != want && !(c == '-' && want == '_')) {
            return false;
        }
    }
    return true;
}

/* The table a generic command's table argument names, as the ctl library
 * picks it: the one it spells in full, else the only one it begins. */
static const struct ovsdb_idl_table_class *
ctl_table(const char *given)
{
    const struct ovsdb_idl_table_class *found = NULL;
    size_t n_found = 0, len = strlen(given);
    for (size_t i = 0; i < vswrec_idl_class.n_tables; i++) {
        const struct ovsdb_idl_table_class *tc = &vswrec_idl_class.tables[i];
        if (ctl_spells(given, len, tc->name, false)) {
            return tc;
        } else if (ctl_spells(given, len, tc->name, true)) {
            found = tc;
            n_found++;
        }
    }
    return n_found == 1 ? found : NULL;
}

/* Likewise the column of 'tc' that the first 'len' bytes of 'given' name;
 * NULL if none. */
static const char *
ctl_column(const struct ovsdb_idl_table_class *tc, const char *given,
           size_t len)
{
    const char *found = NULL;
    size_t n_found = 0;
    for (size_t i = 0; tc && i < tc->n_columns; i++) {
        const char *name = tc->columns[i].name;
        if (ctl_spells(given, len, name, false)) {
            return name;
        } else if (ctl_spells(given, len, name, true)) {
            found = name;
            n_found++;
        }
    }
    return n_found == 1 ? found : NULL;
}

/* 's' less white space around it and the database's quoting.  Frees 's';
 * caller frees the result. */
static char *
trimmed(char *s)
{
    char *start = s + strspn(s, " \t");
    size_t n = strlen(start);
    while (n && strchr(" \t", start[n - 1])) {
        n--;
    }
    char *raw = xmemdup0(start, n);
    char *out = unquote_value(raw);
    free(raw);
    free(s);
    return out;
}

/* The value of key 'key' in 'pairs' ("k=v" or "{k=v, k2=v2}"), unquoted;
 * NULL if it has none.  Caller frees. */
static char *
pair_value(const char *pairs, const char *key)
{
    char *copy = xstrdup(pairs + strspn(pairs, " {"));
    copy[strcspn(copy, "}")] = '\0';
    char *value = NULL, *save = NULL;
    for (char *pair = strtok_r(copy, ",", &save); pair && !value;
         pair = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(pair, '=');
        if (eq) {
            char *k = trimmed(xmemdup0(pair, eq - pair));
            if (!strcmp(k, key)) {
                value = trimmed(xstrdup(eq + 1));
            }
            free(k);
        }
    }
    free(copy);
    return value;
}

/* The value argument 'arg' of a generic command on table 'tc' gives key
 * 'key' of map column 'column' ("column:key=v" or "column={..., key=v}" of "set"; "key=v"
 * of "add", whose column was checked), unquoted; NULL if none.  Caller
 * frees. */
static char *
map_arg_value(const struct ovsdb_idl_table_class *tc, const char *arg,
              const char *column, const char *key, bool add)
{
    if (add) {
        return pair_value(arg, key);
    }
    size_t n = strcspn(arg, ":=");
    const char *col = ctl_column(tc, arg, n);
    if (!arg[n] || !col || strcmp(col, column)) {
        return NULL;
    }
    return pair_value(arg + n + 1, key);
}

/* "set root . other_config:host-heartbeat=V" (or add, or the whole map)
 * with a value vswitchd would not use.  Returns NULL or an error. */
static char *
check_generic_settings(const struct ctl_command *c)
{
    bool set = !strcmp(c->syntax->name, "set");
    bool add = !strcmp(c->syntax->name, "add");
    const struct ovsdb_idl_table_class *tc = (c->argc >= 4
                                              ? ctl_table(c->argv[1]) : NULL);
    if ((!set && !add) || !tc || strcmp(tc->name, "Root")
        || (add && !nullable_string_is_equal(
                       ctl_column(tc, c->argv[3], strlen(c->argv[3])),
                       "other_config"))) {
        return NULL;
    }
    for (int i = add ? 4 : 3; i < c->argc; i++) {
        char *v = map_arg_value(tc, c->argv[i], "other_config",
                                "host-heartbeat", add);
        const char *error = v ? vsw_check_host_heartbeat(v) : NULL;
        if (error) {
            char *msg = xasprintf("Root other_config:host-heartbeat \"%s\": "
                                  "%s", v, error);
            free(v);
            return msg;
        }
        free(v);
    }
    return NULL;
}

/* Columns vswitchd writes (observed state): no client sets them. */
static const struct {
    const char *table;
    const char *column;
} read_only[] = {
    {"root", "cur_cfg"}, {"root", "status"},
    {"host", "hostname"}, {"host", "version"}, {"host", "cur_cfg"},
    {"host", "last_seen"}, {"host", "status"},
    {"connection", "is_connected"}, {"connection", "status"},
    {"switch", "status"}, {"switch", "statistics"},
    {"switch", "offload_requested"}, {"switch", "offload_effective"},
    {"switch", "offload_reason"},
    {"port", "status"}, {"port", "statistics"},
    {"acl", "status"}, {"acl", "statistics"},
};

/* Generic writers ("set switch sw0 status:x=y", "create port status=...")
 * on a read-only column.  Returns NULL or an error. */
static char *
check_read_only(const struct ctl_command *c)
{
    static const char *const writers[] = {
        "set", "add", "remove", "clear", "create",
    };
    int first = 0;
    for (size_t i = 0; i < ARRAY_SIZE(writers); i++) {
        if (!strcmp(c->syntax->name, writers[i])) {
            first = !strcmp(writers[i], "create") ? 2 : 3;
        }
    }
    if (!first || c->argc < 2) {
        return NULL;
    }
    const struct ovsdb_idl_table_class *tc = ctl_table(c->argv[1]);
    for (int i = first; tc && i < c->argc; i++) {
        const char *col = ctl_column(tc, c->argv[i],
                                     strcspn(c->argv[i], ":="));
        for (size_t k = 0; col && k < ARRAY_SIZE(read_only); k++) {
            if (!strcasecmp(tc->name, read_only[k].table)
                && !strcmp(col, read_only[k].column)) {
                return xasprintf("column %s of table %s is read-only: "
                                 "vswitchd writes what it observes there",
                                 read_only[k].column, read_only[k].table);
            }
        }
        if (strcmp(c->syntax->name, "set")
            && strcmp(c->syntax->name, "create")) {
            break;              /* add/remove/clear name one column. */
        }
    }
    return NULL;
}

static void
note_generic_switch(const struct ctl_command *c)
{
    static const char *const writers[] = { "set", "add", "remove", "clear" };

    for (size_t i = 0; i < ARRAY_SIZE(writers); i++) {
        if (strcmp(c->syntax->name, writers[i]) || c->argc <= 2) {
            continue;
        }
        bool is_switch = !strcasecmp(c->argv[1], "switch");
        if (is_switch) {
            vswctl_note_switch(c->argv[2]);
            sset_add(&whole_switches, c->argv[2]);
        } else if (!strcasecmp(c->argv[1], "port")) {
            vswctl_note_port(c->argv[2]);
        }
        /* A rename: the report looks for the new name. */
        for (int j = 3; !strcmp(writers[i], "set") && j < c->argc; j++) {
            if (!strncmp(c->argv[j], "name=", 5)) {
                char *v = unquote_value(c->argv[j] + 5);
                if (is_switch) {
                    vswctl_note_switch(v);
                    sset_add(&whole_switches, v);
                } else {
                    vswctl_note_port(v);
                }
                free(v);
            }
        }
    }
}

/* --wait after a committed change: until this host's vswitchd has applied
 * configuration 'next_cfg' (Host.cur_cfg), then the errors of the objects
 * the commands named.  Returns the exit status. */
static int
wait_and_report(struct ovsdb_idl *idl, int64_t next_cfg)
{
    const struct vswrec_root *root;
    const struct vswrec_host *host;
    int rc = EXIT_SUCCESS;

    ovsdb_idl_enable_reconnect(idl);
    if (timeout) {
        /* Which host is late, when there are several. */
        char *who = (vsw_host_id()[0]
                     ? xasprintf("host \"%s\"", vsw_host_id())
                     : xstrdup("vswitchd"));
        snprintf(timeout_msg, sizeof timeout_msg, "vswctl: timed out after "
                 "%d s (--timeout) waiting for %s to apply the change; it "
                 "is stored in the database and applied when %s catches up "
                 "(vswctl list-hosts)\n", timeout, who, who);
        free(who);
    }
    long long int start = time_msec(), next_check = start;
    for (;;) {
        ovsdb_idl_run(idl);
        vsw_db_remote_run(&the_remote, idl);
        root = vswrec_root_first(idl);
        host = vsw_host_find(idl, vsw_host_id());
        /* (Not beyond the host's next_cfg: a cur_cfg another client
         * wrote is no news of this change.) */
        if (host && host->cur_cfg >= next_cfg
            && host->cur_cfg <= host->next_cfg) {
            break;
        }
        if (host && host->next_cfg < next_cfg - 1) {
            /* Set back (out of range, written by another client): the
             * change's number is no more.  (One less may be our own
             * increment not seen yet.) */
            fprintf(stderr, "vswctl: --wait: host \"%s\"'s change counter "
                    "was set back (another client wrote it out of range); "
                    "the change is stored, and applied when vswctl "
                    "list-hosts shows the host current\n", vsw_host_id());
            return EXIT_FAILURE;
        }
        if (time_msec() >= next_check && db_given) {
            next_check = time_msec() + 1000;
            /* A host that is gone is said, not waited for.  One with no
             * last_seen (a restarted server lost it, or its vswitchd is
             * starting) is given as long as a stale one. */
            int beat = vsw_host_heartbeat(root);
            long long int age = (host ? vsw_host_age(host, time_wall_msec())
                                 : -1);
            long long int limit = (long long int) beat
                                  * VSW_HOST_MISSED_BEATS;
            if (age > limit || (age < 0 && time_msec() - start > limit)) {
                fprintf(stderr, "vswctl: --wait: host \"%s\" ",
                        vsw_host_id());
                if (age >= 0) {
                    fprintf(stderr, "was last seen %lld s ago", age / 1000);
                } else {
                    fprintf(stderr, "has not said it is alive for %lld s",
                            (time_msec() - start) / 1000);
                }
                fprintf(stderr, " (its vswitchd is stopped or cannot reach "
                        "the database); the change is stored in the "
                        "database and applied when it is back\n");
                exit(EXIT_FAILURE);
            }
        } else if (time_msec() >= next_check) {
            next_check = time_msec() + 1000;
            static bool told_stopped;
            if (!told_stopped && vswitchd_stopped()) {
                told_stopped = true;
                fprintf(stderr, "vswctl: --wait: vswitchd is stopped "
                        "(SIGSTOP); still waiting (--timeout bounds "
                        "the wait)\n");
            }
            if (!vswitchd_alive()) {
                fprintf(stderr, "vswctl: --wait: vswitchd stopped "
                        "before applying the change; the change is "
                        "stored in the database and is applied when "
                        "vswitchd runs again\n");
                exit(EXIT_FAILURE);
            }
        }
        ovsdb_idl_wait(idl);
        vsw_db_remote_wait(&the_remote);
        poll_timer_wait_until(next_check);
        poll_block();
    }
    if (report_switch_errors()) {
        rc = EXIT_FAILURE;
    }
    const char *damaged = root ? smap_get(&root->status, "db_damaged")
                               : NULL;
    if (damaged) {
        fprintf(stderr, "vswctl: warning: vswitchd deletes nothing while "
                "the database is known to be damaged, so what this "
                "change removes stays in the kernel until then: %s\n",
                damaged);
    }
    return rc;
}

static bool
do_vswctl(const char *args, struct ctl_command *commands, size_t n_commands)
{
    struct ovsdb_idl *idl = the_idl;
    struct ovsdb_idl_txn *txn = the_idl_txn = ovsdb_idl_txn_create(idl);
    struct ovsdb_symbol_table *symtab = ovsdb_symbol_table_create();
    struct vsw_ctx ctx;
    struct ctl_command *c;
    int64_t next_cfg = 0;

    ovsdb_idl_txn_add_comment(txn, "vswctl: %s", args);

    if (earlier_attempt_committed(idl)) {
        /* Committed, though its answer was lost with its connection (a
         * cluster's leader went): not done twice, which would fail as
         * "already exists" or "no such port". */
        exit_as_committed(idl, txn);
    }
    attempt++;

    const struct vswrec_root *root = vswrec_root_first(idl);
    if (!root) {
        root = VSW_ROW_INSERT(txn, root);
    }

    for (c = commands; c < &commands[n_commands]; c++) {
        ds_init(&c->output);
        c->table = NULL;
    }
    const struct vswrec_host *host = vsw_host_find(idl, vsw_host_id());
    if (wait_for_reload && ctl_might_write_to_db(commands, n_commands)) {
        if (!host && db_given) {
            ctl_fatal("--wait: no vswitchd of host \"%s\" has ever used "
                      "this database (no Host row; vswctl list-hosts shows "
                      "those that have): start it with --host-id=%s, give "
                      "the right --host, or leave out --wait",
                      vsw_host_id(), vsw_host_id());
        } else if (!host) {
            /* This machine's vswitchd is running (see main()) and makes
             * its row once connected: the change waits for it. */
            goto try_again;
        }
        if (!vsw_host_cfg_in_range(host->next_cfg)
            || !vsw_host_cfg_in_range(host->next_cfg + 1)) {
            ctl_fatal("--wait: host \"%s\"'s change counter (its Host "
                      "row's next_cfg, %"PRId64") is not one vswctl made: "
                      "another client wrote it.  Its vswitchd sets it back "
                      "to 0 as soon as it sees it: try again (if that "
                      "vswitchd is stopped: vswctl set host %s next_cfg=0)",
                      vsw_host_id(), host->next_cfg, host->name);
        }
        ovsdb_idl_txn_increment(txn, &host->header_,
                                &vswrec_host_col_next_cfg, false);
    }
    ctl_context_init(&ctx.base, NULL, idl, txn, symtab, NULL);
    ctx.root = root;
    for (c = commands; c < &commands[n_commands]; c++) {
        ctl_context_init_command(&ctx.base, c, c == &commands[n_commands - 1]);
        char *offload_error = check_generic_offload(c);
        if (!offload_error) {
            offload_error = check_read_only(c);
        }
        if (!offload_error) {
            offload_error = check_generic_rename(c);
        }
        if (!offload_error) {
            offload_error = check_generic_settings(c);
        }
        if (!offload_error) {
            offload_error = check_generic_capacity(c);
        }
        if (offload_error) {
            ctl_fatal("%s", offload_error);
        }
        if (c->syntax->run) {
            c->syntax->run(&ctx.base);
        }
        if (ctx.base.error) {
            ctl_fatal("%s", explain_error(c, ctx.base.error));
        }
        ctl_context_done_command(&ctx.base, c);
        note_generic_switch(c);
        if (ctx.base.try_again) {
            ctl_context_done(&ctx.base, NULL);
            goto try_again;
        }
    }
    ctl_context_done(&ctx.base, NULL);

    struct shash_node *node;
    SHASH_FOR_EACH (node, &symtab->sh) {
        struct ovsdb_symbol *symbol = node->data;
        if (!symbol->created) {
            ctl_fatal("row id \"%s\" is referenced but never created (e.g. "
                      "with \"-- --id=%s create ...\")", node->name,
                      node->name);
        }
    }

    char *limit_error = vswctl_check_rss_limits(idl);
    if (limit_error) {
        ctl_fatal("%s", limit_error);
    }

    enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit_block(txn);
    if (wait_for_reload && status == TXN_SUCCESS) {
        next_cfg = ovsdb_idl_txn_get_increment_new_value(txn);
    }
    if (status == TXN_UNCHANGED || status == TXN_SUCCESS) {
        for (c = commands; c < &commands[n_commands]; c++) {
            if (c->syntax->postprocess) {
                ctl_context_init(&ctx.base, c, idl, txn, symtab, NULL);
                ctx.root = root;
                c->syntax->postprocess(&ctx.base);
                if (ctx.base.error) {
                    ctl_fatal("%s", ctx.base.error);
                }
                ctl_context_done(&ctx.base, c);
            }
        }
    }

    switch (status) {
    case TXN_UNCHANGED:
    case TXN_SUCCESS:
        break;
    case TXN_TRY_AGAIN:
        goto try_again;
    case TXN_ERROR:
        if (error_names_earlier_insert(ovsdb_idl_txn_get_error(txn))) {
            exit_as_committed(idl, txn);    /* By the earlier attempt. */
        }
        ctl_fatal("transaction error: %s",
                  explain_error(&commands[0],
                                xstrdup(ovsdb_idl_txn_get_error(txn))));
    case TXN_UNCOMMITTED:
    case TXN_INCOMPLETE:
    case TXN_ABORTED:
    case TXN_NOT_LOCKED:
    default:
        ctl_fatal("transaction failed: %s",
                  ovsdb_idl_txn_status_to_string(status));
    }
    ovsdb_symbol_table_destroy(symtab);

    for (c = commands; c < &commands[n_commands]; c++) {
        if (c->table) {
            /* Our own listings read best as 2-d tables; the generic
             * commands keep OVS's list format unless told otherwise. */
            struct table_style style = vswctl_table_style;
            bool listing = vswctl_is_listing(c->syntax->name);
            if (listing && style.format == TF_JSON) {
                /* For programs: a list of typed objects. */
                vswctl_print_objects(c->table,
                                     style.json_flags & JSSF_PRETTY);
            } else {
                if (!format_given && listing) {
                    style.format = TF_TABLE;
                }
                table_print(c->table, &style);
            }
        } else {
            fputs(ds_cstr(&c->output), stdout);
        }
        ds_destroy(&c->output);
        table_destroy(c->table);
        free(c->table);
        shash_destroy_free_data(&c->options);
    }
    free(commands);
    fflush(stdout);

    int rc = (wait_for_reload && status != TXN_UNCHANGED && next_cfg
              ? wait_and_report(idl, next_cfg) : EXIT_SUCCESS);
    ovsdb_idl_txn_destroy(txn);
    the_idl_txn = NULL;
    ovsdb_idl_destroy(idl);
    the_idl = NULL;
    exit(rc);

try_again:
    ovsdb_idl_txn_abort(txn);
    ovsdb_idl_txn_destroy(txn);
    the_idl_txn = NULL;
    ovsdb_symbol_table_destroy(symtab);
    for (c = commands; c < &commands[n_commands]; c++) {
        ds_destroy(&c->output);
        table_destroy(c->table);
        free(c->table);
    }
    return false;
}

/* "vswctl appctl COMMAND [ARG...]": one request to vswitchd's control
 * socket, e.g. "vswctl appctl dp/counters". */
static void
do_appctl(int argc, char *argv[])
{
    if (argc < 1) {
        fprintf(stderr, "vswctl: appctl needs a command (e.g. "
                "\"vswctl appctl list-commands\")\n");
        exit(EXIT_USAGE);
    }
    arm_timeout();

    char *path = vsw_ctl_socket();
    struct jsonrpc *client;
    int error = unixctl_client_create(path, &client);
    if (error) {
        fprintf(stderr, "vswctl: cannot talk to vswitchd at %s (%s); is it "
                "running?\n", path, ovs_strerror(error));
        exit(EXIT_FAILURE);
    }

    char *result, *err;
    error = unixctl_client_transact(client, argv[0], argc - 1, argv + 1,
                                    &result, &err);
    if (error) {
        fprintf(stderr, "vswctl: %s: transaction error (%s)\n", path,
                ovs_strerror(error));
        exit(EXIT_FAILURE);
    }
    if (err) {
        fprintf(stderr, "vswctl: vswitchd: %s", err);
        exit(EXIT_FAILURE);
    }
    fputs(result ? result : "", stdout);
    jsonrpc_close(client);
    exit(EXIT_SUCCESS);
}

static void
vswctl_exit(int status)
{
    if (the_idl_txn) {
        ovsdb_idl_txn_abort(the_idl_txn);
        ovsdb_idl_txn_destroy(the_idl_txn);
    }
    ovsdb_idl_destroy(the_idl);
    exit(status);
}

static void
usage(void)
{
    printf("\
vswctl: configure vsw, a virtual switch for Linux/KVM hosts\n\
usage: vswctl [OPTIONS] COMMAND [ARG...] [-- [OPTIONS] COMMAND [ARG...]]...\n\
\n\
Switch commands:\n\
  add-switch NAME [--type=external|internal|private] [--uplink=IF]\n\
             [--iov] [--no-management-os] [--host-port=IF] [--may-exist]\n\
                              create a switch (external when --uplink is\n\
                              given, internal otherwise); SR-IOV mode\n\
                              (--iov) is fixed at creation\n\
  del-switch NAME [--if-exists]   delete a switch\n\
  list-switches               one line per switch\n\
  show                        every switch with its state\n\
  list-hosts                  the hosts on this database, current or late\n\
\n\
Port commands:\n\
  add-port SWITCH PORT [--kind=tap|vhost-net|vf|internal|veth] [--mac=MAC]\n\
           [--mtu=N] [--queues=N] [--netns=NS] [--iov-weight=N]\n\
           [--vlan=access:TAG|trunk:LIST[,native:TAG]] [--owner=USER]\n\
           [--group=GROUP] [--may-exist]     attach a vNIC\n\
           [--adopt]           a tap QEMU or libvirt made, as it is\n\
  del-port [SWITCH] PORT [--if-exists]       detach it\n\
  list-ports [SWITCH]                        one line per port\n\
\n\
Port policy:\n\
  set-port PORT KEY=VALUE...  mac-spoofing, dhcp-guard, router-guard\n\
                              (on|off), max-bandwidth, min-bandwidth-\n\
                              weight, storm-limit, mirror\n\
  acl-add PORT allow|deny|meter inbound|outbound|both [local=ADDR]\n\
          [remote=ADDR] [protocol=P] [local-ports=N[-M]]\n\
          [remote-ports=N[-M]] [weight=N] [stateful=on] [idle-timeout=S]\n\
  acl-del PORT ID...|--all    delete ACL entries\n\
  acl-list [PORT]             the entries, counted, in force or not\n\
  stats [SWITCH|PORT]         counters and states (the stats endpoint)\n\
\n\
Offloads (the uplink of an external switch):\n\
  offload show [SWITCH]       policy, requested, effective and why\n\
  offload set SWITCH FEATURE=auto|on|off...   features: tx-checksum,\n\
                              rx-checksum, tso, tso6, gso, gro, lro,\n\
                              rx-hashing, hw-tc-offload\n\
  flows [SWITCH|PORT]         an SR-IOV switch's hardware flow rules (TC\n\
                              flower): rule, placement requested and\n\
                              effective, software and hardware counters\n\
                              (placement: set switch S\n\
                              other_config:flow-placement=hardware|\n\
                              hardware-only|software|off)\n\
\n\
Runtime:\n\
  appctl COMMAND [ARG...]     ask the running vswitchd (list-commands,\n\
                              dp/counters, bridge/reconcile, vlog/set ...)\n\
  vhost-exec PORT -- COMMAND [ARG...]\n\
                              run COMMAND (e.g. QEMU) with PORT's tap and\n\
                              vhost-net fds: {tapfds}, {vhostfds}, {queues}\n\
\n\
%s\
%s\
\n\
Options:\n\
  --db=DATABASE       database (default: unix:RUN/db.sock)\n\
  --state-dir=DIR     as vswitchd's (default $VSW_STATE_DIR, /var/lib/vsw)\n\
  --run-dir=DIR       as vswitchd's (default $VSW_RUN_DIR, /run/vsw)\n\
  --host=ID           act on the switches of host ID (shared databases)\n\
  --private-key=FILE --certificate=FILE --ca-cert=FILE   TLS (ssl: remotes)\n\
  --wait              return once the host's vswitchd has applied the\n\
                      change\n\
  -t, --timeout=SECS  give up after SECS seconds\n\
  -f, --format=FORMAT table (default), json, csv, html or list\n\
  --commands          list every command\n\
  --options           list every global option\n\
  --tables            list each table and its columns\n\
  -h, --help          this help\n\
\n\
Exit status: 0 success, 1 the operation failed, 2 usage error.\n",
           ctl_get_db_cmd_usage(), ctl_list_db_tables_usage());
    exit(EXIT_SUCCESS);
}
