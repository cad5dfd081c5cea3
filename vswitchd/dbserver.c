/* The embedded database; see dbserver.h. */
#include <config.h>

#include "vswitchd/dbserver.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "dirs.h"
#include "fatal-signal.h"
#include "jsonrpc.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "process.h"
#include "sha1.h"
#include "socket-util.h"
#include "sset.h"
#include "svec.h"
#include "stream.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "vswitchd/paths.h"

VLOG_DEFINE_THIS_MODULE(dbserver);

static char *tool_dir;
static pid_t server_pid;        /* Our child, or 0 (none, or adopted). */
static pid_t adopted_pid;       /* An ovsdb-server we found running. */
static long long int next_check;
static long long int next_log_check;
static long long int restart_after;
static char *damage;            /* See dbserver_damage(). */
static gid_t db_group = (gid_t) -1;     /* --db-group, or -1. */
static off_t log_offset = -1;   /* How far ovsdb-server.log was read. */

static char *
tool_path(const char *name)
{
    if (tool_dir) {
        char *path = xasprintf("%s/%s", tool_dir, name);
        if (!access(path, X_OK)) {
            return path;
        }
        free(path);
    }
#ifdef VSW_TOOLS_DIR
    /* Where an installed vsw keeps its own copies (not in PATH: they
     * would clash with Open vSwitch's). */
    char *own = xasprintf("%s/%s", VSW_TOOLS_DIR, name);
    if (!access(own, X_OK)) {
        return own;
    }
    free(own);
#endif
    char *path = process_search_path(name);
    if (!path) {
        VLOG_FATAL("%s not found next to vswitchd, in vsw's own directory "
                   "or in PATH (--ovsdb-tools=DIR says where)", name);
    }
    return path;
}

/* Starts 'argv' as a child of vswitchd's whose standard streams are 'fds'
 * and that has no other fd of vswitchd's.  One close_range() closes them:
 * OVS's process_start() closes each possible fd in turn, 20,000 system
 * calls at every start with a limit of 20,000 files.  Returns the child's
 * pid, or -1 with errno set. */
static pid_t
spawn(char *argv[], const int fds[3])
{
    pid_t pid = fork();
    if (!pid) {
        /* Moved above 2 first: one of 'fds' may itself be 0, 1 or 2 (when
         * vswitchd was started with one of them closed). */
        int high[3];
        for (int i = 0; i < 3; i++) {
            high[i] = fcntl(fds[i], F_DUPFD, 3);
        }
        for (int i = 0; i < 3; i++) {
            dup2(high[i], i);
        }
        close_range(3, ~0U, 0);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Runs 'argv' to completion.  Returns its exit status (or -1 if it could
 * not run) and, if 'out' is nonnull, what it printed on stdout.  Start-up
 * only: it blocks. */
static int
run_tool(char *argv[], struct ds *out, struct ds *err)
{
    int outp[2], errp[2];

    if (pipe(outp) || pipe(errp)) {
        return -1;
    }
    pid_t pid = spawn(argv, (int[3]) { STDIN_FILENO, outp[1], errp[1] });
    if (pid < 0) {
        return -1;
    }
    close(outp[1]);
    close(errp[1]);
    FILE *fo = fdopen(outp[0], "r"), *fe = fdopen(errp[0], "r");
    int c;
    while ((c = getc(fo)) != EOF) {
        if (out) {
            ds_put_char(out, c);
        }
    }
    while ((c = getc(fe)) != EOF) {
        if (err) {
            ds_put_char(err, c);
        }
    }
    fclose(fo);
    fclose(fe);

    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        continue;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
run_tool_or_die(char *argv[], struct ds *out, const char *what)
{
    struct ds err = DS_EMPTY_INITIALIZER;
    int rc = run_tool(argv, out, &err);
    if (rc) {
        VLOG_FATAL("%s failed (%s exit %d): %s", what, argv[0], rc,
                  ds_cstr(&err));
    }
    ds_destroy(&err);
}

/* Compares "x.y.z" versions; returns <0, 0 or >0 like strcmp(). */
static int
version_cmp(const char *a, const char *b)
{
    unsigned int va[3] = {0}, vb[3] = {0};

    sscanf(a, "%u.%u.%u", &va[0], &va[1], &va[2]);
    sscanf(b, "%u.%u.%u", &vb[0], &vb[1], &vb[2]);
    for (int i = 0; i < 3; i++) {
        if (va[i] != vb[i]) {
            return va[i] < vb[i] ? -1 : 1;
        }
    }
    return 0;
}

/* Writes 'text' to 'path' atomically (through 'path'.tmp). */
static void
write_file(const char *path, const char *text)
{
    char *tmp = xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");

    if (!f || fputs(text, f) == EOF || fclose(f)) {
        VLOG_FATAL("cannot write %s: %s", tmp, ovs_strerror(errno));
    }
    if (rename(tmp, path)) {
        VLOG_FATAL("cannot rename %s to %s: %s", tmp, path,
                   ovs_strerror(errno));
    }
    free(tmp);
}

/* Writes the compiled-in schema to STATE/vswitch.ovsschema (atomically) and
 * returns that path. */
static char *
write_schema(void)
{
    char *path = xasprintf("%s/vswitch.ovsschema", vsw_state_dir());
    write_file(path, vsw_schema_text);
    return path;
}

static const char *
uuid_of(const struct json *j)
{
    /* ["uuid", "<uuid>"] */
    if (j && j->type == JSON_ARRAY && json_array(j)->n == 2
        && json_array(j)->elems[1]->type == JSON_STRING) {
        return json_string(json_array(j)->elems[1]);
    }
    return NULL;
}

static struct json *
uuid_json(const char *u)
{
    return json_array_create_2(json_string_create("uuid"),
                               json_string_create(u));
}

/* The set of uuids in an OVSDB datum (one ["uuid", U] or ["set", [...]]),
 * into 'out' as strings. */
static void
uuids_of(const struct json *datum, struct svec *out)
{
    if (uuid_of(datum)
        && !strcmp(json_string(json_array(datum)->elems[0]), "uuid")) {
        svec_add(out, uuid_of(datum));
    } else if (datum && datum->type == JSON_ARRAY
               && json_array(datum)->n == 2
               && json_array(datum)->elems[1]->type == JSON_ARRAY) {
        const struct json_array *set = json_array(json_array(datum)->elems[1]);
        for (size_t i = 0; i < set->n; i++) {
            if (uuid_of(set->elems[i])) {
                svec_add(out, uuid_of(set->elems[i]));
            }
        }
    }
}

/* A database older than 1.3.0 has its ports listed by their switches
 * (Switch.ports, and the switches by Root.switches); 1.3.0 has each port
 * name its switch (Port.switch).  Older than 1.2.0, ports have no host
 * either, and their names need not be unique per host.
 *
 * The database goes through a step schema that has both forms (the old
 * columns, Port.switch optional, and before 1.2.0 no Port index), gets
 * each port's switch (the first switch listing it) and, before 1.2.0, its
 * switch's host: a port whose (host, name) another port already has gets
 * host "<host>!duplicate-<uuid>", so that it shows up in its status as an
 * error instead of being lost.  The step's version is below the target,
 * so a start that finds the database at the step (the previous one was
 * interrupted) migrates it again. */
static void
migrate_port_switches(char *tool, const char *db, bool fix_hosts)
{
    struct json *schema = json_from_string(vsw_schema_text);
    struct json *tables = shash_find_data(json_object(schema), "tables");
    struct json *port = shash_find_data(json_object(tables), "Port");
    struct json *sw = shash_find_data(json_object(tables), "Switch");
    struct json *root = shash_find_data(json_object(tables), "Root");
    struct json *port_cols = shash_find_data(json_object(port), "columns");
    json_object_put(shash_find_data(json_object(sw), "columns"), "ports",
                    json_from_string("{\"type\": {\"key\": {\"type\": "
                                     "\"uuid\", \"refTable\": \"Port\"}, "
                                     "\"min\": 0, \"max\": \"unlimited\"}}"));
    json_object_put(shash_find_data(json_object(root), "columns"),
                    "switches",
                    json_from_string("{\"type\": {\"key\": {\"type\": "
                                     "\"uuid\", \"refTable\": \"Switch\"}, "
                                     "\"min\": 0, \"max\": \"unlimited\"}}"));
    json_object_put(port_cols, "switch",
                    json_from_string("{\"type\": {\"key\": {\"type\": "
                                     "\"uuid\", \"refTable\": \"Switch\"}, "
                                     "\"min\": 0, \"max\": 1}}"));
    if (fix_hosts) {
        json_destroy(shash_find_and_delete(json_object(port), "indexes"));
    }
    json_object_put_string(schema, "version", fix_hosts ? "1.1.99" : "1.2.99");
    char *text = json_to_string(schema, JSSF_SORT);
    char *path = xasprintf("%s/vswitch-step.ovsschema", vsw_state_dir());
    write_file(path, text);
    free(text);
    json_destroy(schema);

    char *conv[] = { tool, "convert", (char *) db, path, NULL };
    run_tool_or_die(conv, NULL, "converting the database (port switches)");

    struct ds out = DS_EMPTY_INITIALIZER;
    char *query[] = { tool, "query", (char *) db,
        "[\"VSwitch\","
        "{\"op\":\"select\",\"table\":\"Switch\",\"where\":[],"
        "\"columns\":[\"_uuid\",\"host\",\"ports\"]},"
        "{\"op\":\"select\",\"table\":\"Port\",\"where\":[],"
        "\"columns\":[\"_uuid\",\"name\",\"switch\",\"host\"]}]", NULL };
    run_tool_or_die(query, &out, "reading the ports' switches");

    struct json *reply = json_from_string(ds_cstr(&out));
    struct shash switch_of = SHASH_INITIALIZER(&switch_of); /* port->row */
    struct json *ops = json_array_create_empty();
    json_array_add(ops, json_string_create("VSwitch"));
    if (reply->type == JSON_ARRAY && json_array(reply)->n == 2) {
        const struct json *sws = shash_find_data(
            json_object(json_array(reply)->elems[0]), "rows");
        const struct json *ports = shash_find_data(
            json_object(json_array(reply)->elems[1]), "rows");
        for (size_t i = 0; sws && i < json_array(sws)->n; i++) {
            const struct shash *row = json_object(json_array(sws)->elems[i]);
            struct svec refs = SVEC_EMPTY_INITIALIZER;
            uuids_of(shash_find_data(row, "ports"), &refs);
            for (size_t j = 0; j < refs.n; j++) {
                const struct shash *first = shash_find_data(&switch_of,
                                                            refs.names[j]);
                if (!first) {
                    shash_add(&switch_of, refs.names[j], row);
                } else {
                    VLOG_WARN("port %s was listed by switches %s and %s; "
                              "it stays on the first",
                              refs.names[j], uuid_of(shash_find_data(
                                  first, "_uuid")),
                              uuid_of(shash_find_data(row, "_uuid")));
                }
            }
            svec_destroy(&refs);
        }
        struct sset taken = SSET_INITIALIZER(&taken);
        for (size_t i = 0; ports && i < json_array(ports)->n; i++) {
            const struct shash *row = json_object(json_array(ports)->elems[i]);
            const char *u = uuid_of(shash_find_data(row, "_uuid"));
            const struct json *name = shash_find_data(row, "name");
            if (!u || !name || name->type != JSON_STRING) {
                continue;
            }
            const struct shash *swrow = shash_find_data(&switch_of, u);
            struct json *op = json_object_create();
            json_object_put(op, "where", json_array_create_1(
                json_array_create_3(json_string_create("_uuid"),
                                    json_string_create("=="),
                                    uuid_json(u))));
            json_object_put_string(op, "table", "Port");
            if (!swrow) {
                /* Listed by no switch: the old schema's garbage
                 * collection would have deleted it. */
                VLOG_WARN("port %s (%s) is on no switch; deleted",
                          json_string(name), u);
                json_object_put_string(op, "op", "delete");
                json_array_add(ops, op);
                continue;
            }
            struct json *newrow = json_object_create();
            json_object_put(newrow, "switch", uuid_json(
                                uuid_of(shash_find_data(swrow, "_uuid"))));
            const struct json *h = shash_find_data(swrow, "host");
            if (fix_hosts && h && h->type == JSON_STRING) {
                char *key = xasprintf("%s\n%s", json_string(h),
                                      json_string(name));
                char *host = (sset_add(&taken, key)
                              ? xstrdup(json_string(h))
                              : xasprintf("%s!duplicate-%s", json_string(h),
                                          u));
                if (strchr(host, '!')) {
                    VLOG_WARN("port %s (%s) has the name of another port "
                              "of its host; kept, but marked as host "
                              "\"%s\"", json_string(name), u, host);
                }
                json_object_put_string(newrow, "host", host);
                free(host);
                free(key);
            }
            json_object_put_string(op, "op", "update");
            json_object_put(op, "row", newrow);
            json_array_add(ops, op);
        }
        sset_destroy(&taken);
    }
    if (json_array(ops)->n > 1) {
        char *txn = json_to_string(ops, 0);
        char *transact[] = { tool, "transact", (char *) db, txn, NULL };
        run_tool_or_die(transact, NULL, "setting the ports' switches");
        free(txn);
    }
    /* "convert" loads the file's first snapshot into the new schema
     * before replaying what came after: the snapshot must already have
     * the switches and hosts, or the new schema refuses it (see
     * count_rows()). */
    char *compact[] = { tool, "compact", (char *) db, NULL };
    run_tool_or_die(compact, NULL, "compacting the database");
    json_destroy(ops);
    json_destroy(reply);
    shash_destroy(&switch_of);
    ds_destroy(&out);
    unlink(path);
    free(path);
}

/* The number of rows in 'db' (every table of the compiled-in schema), or
 * -1 if it cannot be read. */
static long
count_rows(char *tool, const char *db)
{
    struct json *schema = json_from_string(vsw_schema_text);
    struct json *tables = shash_find_data(json_object(schema), "tables");
    struct json *ops = json_array_create_empty();
    json_array_add(ops, json_string_create("VSwitch"));
    struct shash_node *node;
    SHASH_FOR_EACH (node, json_object(tables)) {
        struct json *op = json_object_create();
        json_object_put_string(op, "op", "select");
        json_object_put_string(op, "table", node->name);
        json_object_put(op, "where", json_array_create_empty());
        json_object_put(op, "columns", json_array_create_1(
                            json_string_create("_uuid")));
        json_array_add(ops, op);
    }
    char *txn = json_to_string(ops, 0);
    json_destroy(ops);
    json_destroy(schema);

    struct ds out = DS_EMPTY_INITIALIZER;
    char *argv[] = { tool, "query", (char *) db, txn, NULL };
    long n = -1;
    if (!run_tool(argv, &out, NULL)) {
        struct json *reply = json_from_string(ds_cstr(&out));
        if (reply->type == JSON_ARRAY) {
            n = 0;
            for (size_t i = 0; i < json_array(reply)->n; i++) {
                const struct json *r = json_array(reply)->elems[i];
                const struct json *rows = (r->type == JSON_OBJECT
                                           ? shash_find_data(json_object(r),
                                                             "rows")
                                           : NULL);
                n += rows && rows->type == JSON_ARRAY ? json_array(rows)->n
                                                      : 0;
            }
        }
        json_destroy(reply);
    }
    ds_destroy(&out);
    free(txn);
    return n;
}

/* Creates conf.db, or converts it when its schema is older.  A database
 * newer than this vswitchd is refused: converting it down would drop the
 * columns this version does not know. */
static void
prepare_db(const char *db, const char *schema, bool clean)
{
    if (clean) {
        return;                 /* Made or converted with this schema. */
    }
    char *tool = tool_path("ovsdb-tool");

    if (access(db, F_OK)) {
        char *argv[] = { tool, "create", (char *) db, (char *) schema, NULL };
        run_tool_or_die(argv, NULL, "creating the database");
        VLOG_INFO("created %s", db);
        free(tool);
        return;
    }

    struct ds out = DS_EMPTY_INITIALIZER;
    char *needs[] = { tool, "needs-conversion", (char *) db, (char *) schema,
                      NULL };
    run_tool_or_die(needs, &out, "checking the database schema");
    if (!strncmp(ds_cstr(&out), "yes", 3)) {
        struct ds dbver = DS_EMPTY_INITIALIZER, sver = DS_EMPTY_INITIALIZER;
        char *v1[] = { tool, "db-version", (char *) db, NULL };
        char *v2[] = { tool, "schema-version", (char *) schema, NULL };
        run_tool_or_die(v1, &dbver, "reading the database version");
        run_tool_or_die(v2, &sver, "reading the schema version");
        ds_chomp(&dbver, '\n');
        ds_chomp(&sver, '\n');
        if (version_cmp(ds_cstr(&dbver), ds_cstr(&sver)) > 0) {
            VLOG_FATAL("%s has schema %s, newer than this vswitchd's %s; "
                      "refusing to convert it down (run the newer vswitchd, "
                      "or restore a backup)", db, ds_cstr(&dbver),
                      ds_cstr(&sver));
        }

        /* Never over an earlier backup: after an interrupted conversion
         * that one is the good file. */
        char *backup = xasprintf("%s.backup-%s", db, ds_cstr(&dbver));
        for (int i = 2; !access(backup, F_OK); i++) {
            free(backup);
            backup = xasprintf("%s.backup-%s.%d", db, ds_cstr(&dbver), i);
        }
        char *cp[] = { "/bin/cp", "-p", (char *) db, backup, NULL };
        run_tool_or_die(cp, NULL, "backing up the database");
        long before = count_rows(tool, db);
        if (version_cmp(ds_cstr(&dbver), "1.3.0") < 0) {
            migrate_port_switches(tool, db,
                                  version_cmp(ds_cstr(&dbver), "1.2.0") < 0);
        }
        char *conv[] = { tool, "convert", (char *) db, (char *) schema,
                         NULL };
        run_tool_or_die(conv, NULL, "converting the database");
        /* ovsdb-tool convert (3.1) writes an empty database, and exits
         * 0, when the rows break a constraint of the new schema: never
         * start on that. */
        long after = count_rows(tool, db);
        if (after < before) {
            char *back[] = { "/bin/cp", "-p", backup, (char *) db, NULL };
            run_tool(back, NULL, NULL);
            VLOG_FATAL("converting %s from schema %s to %s lost rows (%ld "
                       "of %ld left); the old file is put back (also in "
                       "%s): report this, and run the vswitchd that wrote "
                       "it meanwhile", db, ds_cstr(&dbver), ds_cstr(&sver),
                       after, before, backup);
        }
        VLOG_INFO("converted %s from schema %s to %s (backup in %s)", db,
                  ds_cstr(&dbver), ds_cstr(&sver), backup);
        free(backup);
        ds_destroy(&dbver);
        ds_destroy(&sver);
    }
    ds_destroy(&out);
    free(tool);
}

/* A clean stop notes how the server left conf.db: its device, inode,
 * size, modification and change times, and a digest of the schema it was
 * served with.  A start that finds both as noted needs neither the damage
 * check, which replays every record (60 ms at 1000 ports here), nor the
 * schema comparison: nobody wrote the file since (a write or a truncation
 * changes its change time, which no user can set back).  The note is
 * removed when it is read, before the server opens the file again. */
static char *
clean_note_path(void)
{
    return xasprintf("%s/conf.db.clean", vsw_state_dir());
}

static char *
clean_note_text(const char *db)
{
    struct stat st;
    if (stat(db, &st)) {
        return NULL;
    }
    uint8_t digest[SHA1_DIGEST_SIZE];
    char hex[SHA1_HEX_DIGEST_LEN + 1];
    sha1_bytes(vsw_schema_text, strlen(vsw_schema_text), digest);
    sha1_to_hex(digest, hex);
    return xasprintf("%llu %llu %lld %lld.%09ld %lld.%09ld %s\n",
                     (unsigned long long) st.st_dev,
                     (unsigned long long) st.st_ino, (long long) st.st_size,
                     (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                     (long long) st.st_ctim.tv_sec, st.st_ctim.tv_nsec, hex);
}

static void
write_clean_note(void)
{
    char *db = vsw_db_path();
    char *path = clean_note_path();
    char *text = clean_note_text(db);
    FILE *f = text ? fopen(path, "w") : NULL;
    if (!f || fputs(text, f) == EOF || fclose(f)) {
        VLOG_WARN("cannot write %s (the next start reads the whole database "
                  "again): %s", path, ovs_strerror(errno));
        unlink(path);
    }
    free(text);
    free(path);
    free(db);
}

/* Whether 'db' is as a clean stop left it, served with this schema.  Reads
 * and removes the note. */
static bool
left_clean(const char *db)
{
    char *path = clean_note_path();
    char note[256] = "";
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(note, sizeof note, f)) {
            note[0] = '\0';
        }
        fclose(f);
        if (unlink(path)) {
            VLOG_WARN("cannot remove %s: %s", path, ovs_strerror(errno));
            note[0] = '\0';    /* It would outlive the next write. */
        }
    }
    char *now = clean_note_text(db);
    bool clean = now && note[0] && !strcmp(note, now);
    if (clean) {
        VLOG_INFO("%s is as the last clean stop left it: not read again", db);
    }
    free(now);
    free(path);
    return clean;
}

static char *
damage_marker_path(void)
{
    return xasprintf("%s/conf.db.damaged", vsw_state_dir());
}

/* Reads the whole of 'db' (ovsdb-tool query runs an empty transaction on
 * it, which replays every record).  A file that does not read to its end
 * lost the transactions after the damage: ovsdb-server would serve what it
 * could read and silently cut the rest off at its next write.  Keeps a
 * copy, and a marker that stays until an operator acknowledges it. */
static void
check_db(char *tool, const char *db, bool clean)
{
    char *marker = damage_marker_path();
    FILE *f = fopen(marker, "r");
    if (f) {
        struct ds text = DS_EMPTY_INITIALIZER;
        ds_get_line(&text, f);
        fclose(f);
        damage = ds_steal_cstr(&text);
        VLOG_ERR("%s (still unacknowledged)", damage);
    }

    struct ds err = DS_EMPTY_INITIALIZER;
    char *argv[] = { tool, "query", (char *) db, "[\"VSwitch\"]", NULL };
    if (!clean && !access(db, F_OK) && run_tool(argv, NULL, &err)) {
        ds_chomp(&err, '\n');
        char *copy = xasprintf("%s.damaged-%lld", db, time_wall_msec() / 1000);
        char *cp[] = { "/bin/cp", "-p", (char *) db, copy, NULL };
        bool copied = !run_tool(cp, NULL, NULL);
        char *where = (copied ? xasprintf("a copy of it is in %s", copy)
                       : xstrdup("no copy could be made"));
        free(damage);
        damage = xasprintf(
            "the database %s is damaged (%s): transactions after the damage "
            "are lost; %s. vswitchd deletes none of its switches' kernel "
            "objects until you have checked the configuration (vswctl show) "
            "and run \"vswctl appctl db/acknowledge-damage\"", db,
            ds_cstr(&err), where);
        free(where);
        VLOG_ERR("%s", damage);
        f = fopen(marker, "w");
        if (!f || fprintf(f, "%s\n", damage) < 0 || fclose(f)) {
            VLOG_ERR("cannot write %s: %s", marker, ovs_strerror(errno));
        }
        free(copy);
    }
    ds_destroy(&err);
    free(marker);
}

void
dbserver_set_group(gid_t gid)
{
    db_group = gid;
    /* Sockets made in a set-group-ID directory get its group: the ones
     * ovsdb-server makes again after a restart too, when vswitchd no
     * longer has the CAP_CHOWN a chown() to a group it is not in needs. */
    const char *run = vsw_run_dir();
    if (chown(run, -1, gid) || chmod(run, 02755)) {
        VLOG_FATAL("--db-group: cannot give %s to group %ld: %s", run,
                   (long) gid, ovs_strerror(errno));
    }
}

gid_t
dbserver_group(void)
{
    return db_group;
}

/* Gives the database socket to --db-group, each time the server made it. */
static void
share_socket(void)
{
    struct stat st;
    if (db_group != (gid_t) -1) {
        char *sock = vsw_db_socket();
        if (!stat(sock, &st) && st.st_gid == db_group
            && (st.st_mode & 0777) == 0770) {
            free(sock);
            return;
        }
        /* Its group comes from the directory; the mode is ours to set
         * (the socket is our uid's). */
        if (!stat(sock, &st) && (st.st_gid != db_group || chmod(sock, 0770))) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 600);
            VLOG_WARN_RL(&rl, "%s: cannot give it to group %ld: %s", sock,
                         (long) db_group, st.st_gid != db_group
                         ? "the run directory is not set-group-ID to it"
                         : ovs_strerror(errno));
        }
        free(sock);
    }
}

const char *
dbserver_damage(void)
{
    return damage;
}

void
dbserver_acknowledge_damage(void)
{
    char *marker = damage_marker_path();
    if (damage) {
        VLOG_INFO("database damage acknowledged by the operator");
    }
    unlink(marker);
    free(marker);
    free(damage);
    damage = NULL;
}

/* Repeats in vswitchd's log the errors ovsdb-server logged since the last
 * call (I/O errors, a full disk): nobody reads the server's own log. */
static void
relay_server_errors(void)
{
    char *path = xasprintf("%s/ovsdb-server.log", vsw_state_dir());
    struct stat st;
    if (log_offset >= 0 && !stat(path, &st) && st.st_size == log_offset) {
        free(path);
        return;                 /* Nothing new: one stat, no read. */
    }
    FILE *f = fopen(path, "r");
    free(path);
    if (!f) {
        return;
    }
    if (log_offset < 0 || fseeko(f, log_offset, SEEK_SET)) {
        fseeko(f, 0, SEEK_END);     /* First look: only what comes next. */
    }
    struct ds line = DS_EMPTY_INITIALIZER;
    static char *last;          /* The last one repeated, less its time. */
    while (!ds_get_line(&line, f)) {
        const char *text = ds_cstr(&line);
        const char *level = strstr(text, "|ERR|");
        if (!level) {
            level = strstr(text, "|EMER|");
        }
        /* The server repeats an error (a torn file, each time it reads
         * it): say it once. */
        const char *what = level ? strchr(level + 1, '|') : NULL;
        if (what && (!last || strcmp(last, what))) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
            VLOG_ERR_RL(&rl, "ovsdb-server: %s", text);
            free(last);
            last = xstrdup(what);
        }
    }
    log_offset = ftello(f);
    ds_destroy(&line);
    fclose(f);
}

static char *
pidfile_path(void)
{
    return xasprintf("%s/ovsdb-server.pid", vsw_run_dir());
}

/* The server's control socket (its --unixctl). */
static char *
ctl_path(void)
{
    return xasprintf("%s/ovsdb-server.ctl", vsw_run_dir());
}

static void
spawn_server(void)
{
    char *db = vsw_db_path();
    char *sock = vsw_db_socket();
    char *exe = tool_path("ovsdb-server");
    char *pidfile = pidfile_path();
    char *ctl = ctl_path();
    char *argv[] = {
        exe, db,
        "-vconsole:off",
        xasprintf("--remote=punix:%s", sock),
        xasprintf("--pidfile=%s", pidfile),
        xasprintf("--unixctl=%s", ctl),
        xasprintf("--log-file=%s/ovsdb-server.log", vsw_state_dir()),
        "--no-chdir",
        NULL
    };

    /* ovsdb-server must not keep the terminal or pipe of whoever started
     * vswitchd: a "vswitchd --detach | tail" would never see end-of-file. */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    pid_t pid = (null < 0 ? -1
                 : spawn(argv, (int[3]) { null, null, null }));
    int error = errno;
    if (null >= 0) {
        close(null);
    }
    if (pid < 0) {
        VLOG_ERR("cannot start %s: %s", exe, ovs_strerror(error));
        server_pid = 0;
    } else {
        server_pid = pid;
        VLOG_INFO("started ovsdb-server (pid %ld) for %s", (long) pid, db);
    }
    for (size_t i = 3; i < 7; i++) {
        free(argv[i]);
    }
    free(pidfile);
    free(ctl);
    free(exe);
    free(sock);
    free(db);
}

/* Waits up to 'ms' for the database socket to accept a connection. */
static bool
wait_for_socket(int ms)
{
    char *remote = vsw_default_db();
    long long int deadline = time_msec() + ms;
    bool ok = false;

    while (time_msec() < deadline) {
        struct stream *stream;
        if (!stream_open_block(stream_open(remote, &stream, DSCP_DEFAULT),
                               -1, &stream)) {
            stream_close(stream);
            ok = true;
            break;
        }
        xnanosleep(5 * 1000 * 1000);
    }
    free(remote);
    return ok;
}

static void
stop_server_hook(void *aux OVS_UNUSED)
{
    dbserver_stop();
}

char *
dbserver_start(const char *dir)
{
    tool_dir = dir ? xstrdup(dir) : NULL;

    char *pidfile = pidfile_path();
    pid_t pid = access(pidfile, F_OK) ? 0 : read_pidfile(pidfile);
    char *schema = write_schema();
    char *db = vsw_db_path();

    if (pid > 0) {
        /* Left behind by a vswitchd that did not exit cleanly.  It holds
         * conf.db open; a schema change waits for the next clean start. */
        adopted_pid = pid;
        VLOG_INFO("adopted running ovsdb-server (pid %ld)", (long) pid);
    } else {
        bool clean = left_clean(db);
        char *tool = tool_path("ovsdb-tool");
        check_db(tool, db, clean);
        free(tool);
        prepare_db(db, schema, clean);
        relay_server_errors();
        spawn_server();
    }
    if (wait_for_socket(10000)) {
        share_socket();
    } else {
        VLOG_FATAL("ovsdb-server did not start listening on %s/db.sock; "
                  "see %s/ovsdb-server.log", vsw_run_dir(), vsw_state_dir());
    }
    fatal_signal_add_hook(stop_server_hook, NULL, NULL, true);

    free(pidfile);
    free(schema);
    free(db);
    return vsw_default_db();
}

void
dbserver_run(void)
{
    if (time_msec() >= next_log_check) {
        next_log_check = time_msec() + 1000;
        relay_server_errors();
        share_socket();         /* A restarted server made a new one. */
    }
    if (server_pid) {
        /* Checked on the one-second timer (dbserver_wait()). */
        int status;
        pid_t r = waitpid(server_pid, &status, WNOHANG);
        if (r == server_pid || (r < 0 && errno == ECHILD)) {
            char *msg = (r == server_pid ? process_status_msg(status)
                         : xstrdup("is gone"));
            VLOG_ERR("ovsdb-server %s; restarting it", msg);
            free(msg);
            server_pid = 0;
            restart_after = time_msec() + 1000;
        }
    } else if (adopted_pid && time_msec() >= next_check) {
        next_check = time_msec() + 1000;
        if (kill(adopted_pid, 0) && errno == ESRCH) {
            VLOG_ERR("adopted ovsdb-server (pid %ld) is gone; restarting it",
                     (long) adopted_pid);
            adopted_pid = 0;
            restart_after = time_msec();
        }
    }
    if (!server_pid && !adopted_pid && restart_after
        && time_msec() >= restart_after) {
        restart_after = 0;
        spawn_server();
        if (!server_pid) {
            restart_after = time_msec() + 5000;
        }
    }
}

void
dbserver_wait(void)
{
    poll_timer_wait_until(next_log_check);
    if (adopted_pid) {
        poll_timer_wait_until(next_check);
    }
    if (restart_after) {
        poll_timer_wait_until(restart_after);
    }
}

void
dbserver_compact(void)
{
    if (!server_pid && !adopted_pid) {
        return;                 /* Not ours, or not running. */
    }
    char *path = ctl_path();
    struct jsonrpc *rpc;
    int error = unixctl_client_create(path, &rpc);
    if (error) {
        VLOG_WARN("cannot ask ovsdb-server to compact conf.db: %s: %s",
                  path, ovs_strerror(error));
        free(path);
        return;
    }
    /* The trim first, its reply awaited (the server drops a connection
     * whose reply it cannot send, with what else it had on it); then the
     * compaction, whose reply is not awaited. */
    struct json *on = json_array_create_1(json_string_create("on"));
    struct jsonrpc_msg *reply = NULL;
    error = jsonrpc_transact_block(rpc, jsonrpc_create_request(
        "ovsdb-server/memory-trim-on-compaction", on, NULL), &reply);
    jsonrpc_msg_destroy(reply);
    if (!error) {
        error = jsonrpc_send_block(rpc, jsonrpc_create_request(
            "ovsdb-server/compact", json_array_create_empty(), NULL));
    }
    if (error) {
        VLOG_WARN("cannot ask ovsdb-server to compact conf.db: %s",
                  ovs_strerror(error));
    }
    jsonrpc_close(rpc);
    free(path);
}

/* Whether 'pid' has ended but its parent (init, for a server adopted from
 * a vswitchd that was killed) has not reaped it yet. */
static bool
is_zombie(pid_t pid)
{
    char *path = xasprintf("/proc/%ld/stat", (long) pid);
    char buf[512];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    free(path);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');     /* After "pid (comm)". */
    return paren && paren[1] == ' ' && paren[2] == 'Z';
}

/* Waits up to 'ms' for 'pid' to end after a SIGTERM: our child is reaped,
 * and must have ended by that signal or exited 0; an adopted one (not our
 * child) must be gone.  Returns true if it ended so. */
static bool
wait_for_exit(pid_t pid, bool child, int ms)
{
    long long int deadline = time_msec() + ms;
    for (;;) {
        if (child) {
            int status;
            pid_t r = waitpid(pid, &status, WNOHANG);
            if (r == pid) {
                return ((WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
                        || (WIFEXITED(status) && !WEXITSTATUS(status)));
            } else if (r < 0 && errno != EINTR) {
                return false;
            }
        } else if ((kill(pid, 0) && errno == ESRCH) || is_zombie(pid)) {
            return true;
        }
        if (time_msec() >= deadline) {
            return false;
        }
        xnanosleep(2 * 1000 * 1000);
    }
}

void
dbserver_stop(void)
{
    pid_t pid = server_pid ? server_pid : adopted_pid;
    if (pid) {
        kill(pid, SIGTERM);
        /* Waited for: a vswitchd started at once must not adopt a server
         * on its way out, and a server that ended cleanly left a file the
         * next start need not read twice. */
        if (wait_for_exit(pid, server_pid != 0, 2000)) {
            write_clean_note();
        } else {
            VLOG_WARN("ovsdb-server (pid %ld) did not end cleanly within "
                      "2 s of SIGTERM", (long) pid);
        }
    }
    server_pid = adopted_pid = 0;
    restart_after = 0;
}
