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
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "process.h"
#include "socket-util.h"
#include "stream.h"
#include "timeval.h"
#include "util.h"
#include "vswitchd/paths.h"

VLOG_DEFINE_THIS_MODULE(dbserver);

static char *tool_dir;
static struct process *server;  /* Our child, or NULL if adopted. */
static pid_t adopted_pid;       /* An ovsdb-server we found running. */
static long long int next_check;
static long long int restart_after;

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
    char *path = process_search_path(name);
    if (!path) {
        ovs_fatal(0, "%s not found next to vswitchd or in PATH", name);
    }
    return path;
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
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    } else if (!pid) {
        dup2(outp[1], STDOUT_FILENO);
        dup2(errp[1], STDERR_FILENO);
        close(outp[0]);
        close(errp[0]);
        execv(argv[0], argv);
        _exit(127);
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
        ovs_fatal(0, "%s failed (%s exit %d): %s", what, argv[0], rc,
                  ds_cstr(&err));
    }
    ds_destroy(&err);
}

/* Writes the compiled-in schema to STATE/vswitch.ovsschema (atomically) and
 * returns that path. */
static char *
write_schema(void)
{
    char *path = xasprintf("%s/vswitch.ovsschema", vsw_state_dir());
    char *tmp = xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");

    if (!f || fputs(vsw_schema_text, f) == EOF || fclose(f)) {
        ovs_fatal(errno, "cannot write %s", tmp);
    }
    if (rename(tmp, path)) {
        ovs_fatal(errno, "cannot rename %s to %s", tmp, path);
    }
    free(tmp);
    return path;
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

/* Creates conf.db, or converts it when its schema is older.  A database
 * newer than this vswitchd is refused: converting it down would drop the
 * columns this version does not know. */
static void
prepare_db(const char *db, const char *schema)
{
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
            ovs_fatal(0, "%s has schema %s, newer than this vswitchd's %s; "
                      "refusing to convert it down (run the newer vswitchd, "
                      "or restore a backup)", db, ds_cstr(&dbver),
                      ds_cstr(&sver));
        }

        char *backup = xasprintf("%s.backup-%s", db, ds_cstr(&dbver));
        char *cp[] = { "/bin/cp", "-p", (char *) db, backup, NULL };
        run_tool_or_die(cp, NULL, "backing up the database");
        char *conv[] = { tool, "convert", (char *) db, (char *) schema,
                         NULL };
        run_tool_or_die(conv, NULL, "converting the database");
        VLOG_INFO("converted %s from schema %s to %s (backup in %s)", db,
                  ds_cstr(&dbver), ds_cstr(&sver), backup);
        free(backup);
        ds_destroy(&dbver);
        ds_destroy(&sver);
    }
    ds_destroy(&out);
    free(tool);
}

static char *
pidfile_path(void)
{
    return xasprintf("%s/ovsdb-server.pid", vsw_run_dir());
}

static void
spawn_server(void)
{
    char *db = vsw_db_path();
    char *sock = vsw_db_socket();
    char *exe = tool_path("ovsdb-server");
    char *argv[] = {
        exe, db,
        "-vconsole:off",
        xasprintf("--remote=punix:%s", sock),
        xasprintf("--pidfile=%s", pidfile_path()),
        xasprintf("--unixctl=%s/ovsdb-server.ctl", vsw_run_dir()),
        xasprintf("--log-file=%s/ovsdb-server.log", vsw_state_dir()),
        "--no-chdir",
        NULL
    };

    int error = process_start(argv, &server);
    if (error) {
        VLOG_ERR("cannot start %s: %s", exe, ovs_strerror(error));
        server = NULL;
    } else {
        VLOG_INFO("started ovsdb-server (pid %ld) for %s",
                  (long) process_pid(server), db);
    }
    for (size_t i = 3; i < 7; i++) {
        free(argv[i]);
    }
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
        xnanosleep(50 * 1000 * 1000);
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
        prepare_db(db, schema);
        spawn_server();
    }
    if (!wait_for_socket(10000)) {
        ovs_fatal(0, "ovsdb-server did not start listening on %s/db.sock; "
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
    if (server) {
        process_run();
        if (process_exited(server)) {
            char *msg = process_status_msg(process_status(server));
            VLOG_ERR("ovsdb-server %s; restarting it", msg);
            free(msg);
            process_destroy(server);
            server = NULL;
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
    if (!server && !adopted_pid && restart_after
        && time_msec() >= restart_after) {
        restart_after = 0;
        spawn_server();
        if (!server) {
            restart_after = time_msec() + 5000;
        }
    }
}

void
dbserver_wait(void)
{
    if (server) {
        process_wait(server);
    } else if (adopted_pid) {
        poll_timer_wait_until(next_check);
    }
    if (restart_after) {
        poll_timer_wait_until(restart_after);
    }
}

void
dbserver_stop(void)
{
    if (server) {
        process_kill(server, SIGTERM);
        process_destroy(server);
        server = NULL;
    } else if (adopted_pid) {
        kill(adopted_pid, SIGTERM);
        adopted_pid = 0;
    }
    restart_after = 0;
}
