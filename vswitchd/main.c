/* vswitchd: the vsw daemon.
 *
 * A thin OVS poll loop around the reconciler (bridge.c), the embedded
 * database supervisor (dbserver.c) and the control socket.  It holds no
 * configuration of its own: everything it does follows from the database,
 * so a restarted or killed daemon loses nothing. */
#include <config.h>

#include <signal.h>

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "command-line.h"
#include "daemon.h"
#include "fatal-signal.h"
#include "latch.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "stream-ssl.h"
#include "unixctl.h"
#include "util.h"
#include "vswitchd/bridge.h"
#include "vswitchd/dbserver.h"
#include "vswitchd/event-hooks.h"
#include "vswitchd/host-row.h"
#include "vswitchd/paths.h"
#include "vswitchd/sd-notify.h"
#include "vswitchd/stats-http.h"
#include "vswitchd/vhost.h"

VLOG_DEFINE_THIS_MODULE(vswitchd);

static char *db_remote;         /* --db, or NULL for the embedded one. */
static char *tool_dir;          /* Where ovsdb-server/-tool are looked for. */

static void parse_options(int argc, char *argv[]);
OVS_NO_RETURN static void usage(void);
static unixctl_cb_func vswitchd_exit;
static void take_run_dir_lock(void);
static void take_netns_lock(void);
static void drop_capabilities(void);
static bool no_drop_caps;       /* --no-drop-capabilities */
static const char *hooks_dir = "/etc/vsw/hooks.d";  /* --hooks-dir */
static int hook_timeout = 10;   /* --hook-timeout, seconds */
static gid_t db_group = (gid_t) -1;     /* --db-group */
static unixctl_cb_func vswitchd_acknowledge_damage;

/* SIGTERM (systemd's stop, a reboot) and SIGINT end vswitchd as "vswctl
 * appctl exit" does, through the main loop: its last words to the
 * database are said (a shared database's Host row is given up, so that
 * a successor need not wait for it to go stale).  OVS's fatal-signal
 * handling would exit from inside poll_block(). */
static struct latch stop_latch;

static void
stop_signal(int sig OVS_UNUSED)
{
    latch_set(&stop_latch);     /* A write(): safe in a handler. */
}

static void
catch_stop_signals(void)
{
    latch_init(&stop_latch);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL)) {
        VLOG_WARN("cannot catch SIGTERM and SIGINT: %s; they end vswitchd "
                  "without its last words", ovs_strerror(errno));
    }
}

int
main(int argc, char *argv[])
{
    bool exiting = false;

    set_program_name(argv[0]);
    fatal_ignore_sigpipe();
    /* Whoever started vswitchd may have left SIGCHLD ignored, which exec
     * keeps: its children (ovsdb-server, event hooks) would then be reaped
     * by the kernel and never seen to exit. */
    signal(SIGCHLD, SIG_DFL);
    vlog_set_levels_from_string_assert("reconnect:warn");
    parse_options(argc, argv);

    take_run_dir_lock();
    take_netns_lock();
    daemonize_start(false);

    char *remote = db_remote ? xstrdup(db_remote) : dbserver_start(tool_dir);

    char *ctl_path = vsw_ctl_socket();
    struct unixctl_server *unixctl;
    int error = unixctl_server_create(ctl_path, &unixctl);
    if (error) {
        ovs_fatal(error, "cannot create control socket %s", ctl_path);
    }
    if (dbserver_group() != (gid_t) -1 && chmod(ctl_path, 0770)) {
        VLOG_WARN("%s: cannot give it to --db-group: %s", ctl_path,
                  ovs_strerror(errno));
    }
    unixctl_command_register("exit", "", 0, 0, vswitchd_exit, &exiting);
    catch_stop_signals();
    if (!db_remote) {
        unixctl_command_register("db/acknowledge-damage", "", 0, 0,
                                 vswitchd_acknowledge_damage, NULL);
    }

    bridge_init(remote, db_remote != NULL);
    vhost_server_init(bridge_vhost_lookup);
    stats_http_init(dbserver_group());
    event_hooks_init(hooks_dir, hook_timeout);
    drop_capabilities();
    daemonize_complete();
    VLOG_INFO("vswitchd started: database %s, state %s, run %s%s%s",
              remote, vsw_state_dir(), vsw_run_dir(),
              vsw_host_id()[0] ? ", host " : "", vsw_host_id());

    bool ready = false;         /* Told the service manager. */
    while (!exiting) {
        if (!db_remote) {
            dbserver_run();
        }
        bridge_run();
        if (!ready) {
            /* The first pass done: the switches exist. */
            struct bridge_pass_stats ps;
            bridge_get_pass_stats(&ps);
            if (ps.passes) {
                ready = true;
                vsw_sd_notify("READY=1\nSTATUS=switches converged");
            } else if (bridge_is_standing_by()) {
                /* Up, though another vswitchd has its host id (the log
                 * says which): not a start to kill for taking long. */
                ready = true;
                vsw_sd_notify("READY=1\nSTATUS=standing by: another "
                              "vswitchd has this host id");
            }
        }
        vhost_server_run();
        stats_http_run();
        event_hooks_run();
        unixctl_server_run(unixctl);
        if (latch_poll(&stop_latch)) {
            VLOG_INFO("stopping on a signal");
            exiting = true;
        }

        if (!db_remote) {
            dbserver_wait();
        }
        bridge_wait();
        vhost_server_wait();
        stats_http_wait();
        event_hooks_wait();
        unixctl_server_wait(unixctl);
        latch_wait(&stop_latch);
        if (exiting) {
            poll_immediate_wake();
        }
        poll_block();
    }

    vsw_sd_notify("STOPPING=1");
    VLOG_INFO("vswitchd exiting; the kernel's switches stay as they are");
    vhost_server_exit();
    stats_http_exit();
    event_hooks_exit();
    bridge_exit();
    unixctl_server_destroy(unixctl);
    if (!db_remote) {
        dbserver_stop();
    }
    free(ctl_path);
    free(remote);
    return 0;
}

/* Everything that needs more than CAP_NET_ADMIN is done by now (the
 * database prepared, ovsdb-tool run, sockets made).  From here on vswitchd
 * (and the ovsdb-server it restarts) keeps CAP_NET_ADMIN alone, in its
 * permitted, effective and bounding sets: links, bridges, taps
 * (TUNSETOWNER), ethtool, devlink and moving veths need it; its files and
 * devices (/dev/net/tun, /dev/vhost-net, sysfs, /run/netns, its state
 * directory) are root's own, which needs no capability.  See
 * docs/security.md. */
static void
drop_capabilities(void)
{
    if (no_drop_caps) {
        VLOG_WARN("--no-drop-capabilities: keeping every capability");
        return;
    }
    capng_clear(CAPNG_SELECT_BOTH);
    if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED
                     | CAPNG_BOUNDING_SET, CAP_NET_ADMIN)
        || capng_apply(CAPNG_SELECT_BOTH)) {
        VLOG_FATAL("cannot drop capabilities other than CAP_NET_ADMIN "
                   "(run as root, or give --no-drop-capabilities)");
    }
    VLOG_INFO("capabilities: CAP_NET_ADMIN only");
}

/* One vswitchd per network namespace: two would each delete the devices
 * the other tagged (every vsw-tagged device no switch of *its* database
 * wants).  An abstract unix socket lives in its network namespace and
 * goes with its process however that ends, also through --detach's fork. */
static void
take_netns_lock(void)
{
    static const char name[] = "vsw-vswitchd";    /* Abstract: no file. */
    struct sockaddr_un sun;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path + 1, name, sizeof name - 1);
    if (fd < 0 || bind(fd, (struct sockaddr *) &sun,
                       offsetof(struct sockaddr_un, sun_path) + sizeof name)
        < 0) {
        VLOG_FATAL("another vswitchd is running in this network namespace "
                   "(%s); two would delete each other's devices: stop it "
                   "first, or run this one in its own namespace",
                   fd < 0 ? ovs_strerror(errno) : "it holds @vsw-vswitchd");
    }
    /* 'fd' stays open: it is the lock. */
}

/* One vswitchd per run directory: a second one would take over the
 * first one's sockets and, on exit, remove them and stop its database.
 * The lock (on RUN/vswitchd.lock) lasts as long as the process, also
 * through --detach's fork, and goes with it however it ends. */
static void
take_run_dir_lock(void)
{
    char *path = xasprintf("%s/vswitchd.lock", vsw_run_dir());
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0) {
        VLOG_FATAL("cannot open %s: %s", path, ovs_strerror(errno));
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        VLOG_FATAL("another vswitchd is running on %s (it holds %s); stop "
                   "it first (vswctl appctl exit), or give this one its "
                   "own --run-dir and --state-dir", vsw_run_dir(), path);
    }
    free(path);                 /* 'fd' stays open: it is the lock. */
}

static void
vswitchd_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
              const char *argv[] OVS_UNUSED, void *exiting_)
{
    bool *exiting = exiting_;
    *exiting = true;
    unixctl_command_reply(conn, NULL);
}

static void
vswitchd_acknowledge_damage(struct unixctl_conn *conn, int argc OVS_UNUSED,
                            const char *argv[] OVS_UNUSED,
                            void *aux OVS_UNUSED)
{
    bool damaged = dbserver_damage() != NULL;
    dbserver_acknowledge_damage();
    bridge_force_pass();
    unixctl_command_reply(conn, damaged
                          ? "damage acknowledged: what no switch wants is "
                            "deleted from now on\n"
                          : "no damage to acknowledge\n");
}

/* Directory of the running executable, where the build and the install put
 * ovsdb-server and ovsdb-tool. */
static char *
self_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
        return NULL;
    }
    buf[n] = '\0';
    return xstrdup(dirname(buf));
}

static void
parse_options(int argc, char *argv[])
{
    enum {
        OPT_DB = UCHAR_MAX + 1,
        OPT_STATE_DIR,
        OPT_RUN_DIR,
        OPT_HOST_ID,
        OPT_TOOL_DIR,
        OPT_DB_GROUP,
        OPT_NO_DROP_CAPS,
        OPT_HOOKS_DIR,
        OPT_HOOK_TIMEOUT,
        DAEMON_OPTION_ENUMS,
        VLOG_OPTION_ENUMS,
        SSL_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"state-dir", required_argument, NULL, OPT_STATE_DIR},
        {"run-dir", required_argument, NULL, OPT_RUN_DIR},
        {"host-id", required_argument, NULL, OPT_HOST_ID},
        {"ovsdb-tools", required_argument, NULL, OPT_TOOL_DIR},
        {"db-group", required_argument, NULL, OPT_DB_GROUP},
        {"no-drop-capabilities", no_argument, NULL, OPT_NO_DROP_CAPS},
        {"hooks-dir", required_argument, NULL, OPT_HOOKS_DIR},
        {"hook-timeout", required_argument, NULL, OPT_HOOK_TIMEOUT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        STREAM_SSL_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(long_options);
    char *pidfile = NULL;       /* "" means the default path. */
    char *log_file = NULL;      /* Likewise. */

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_DB:
            db_remote = xstrdup(optarg);
            break;
        case OPT_STATE_DIR:
            vsw_set_state_dir(optarg);
            break;
        case OPT_RUN_DIR:
            vsw_set_run_dir(optarg);
            break;
        case OPT_HOST_ID:
            vsw_set_host_id(optarg);
            break;
        case OPT_TOOL_DIR:
            tool_dir = xstrdup(optarg);
            break;
        case OPT_DB_GROUP: {
            struct group *gr = getgrnam(optarg);
            if (!gr) {
                fprintf(stderr, "vswitchd: --db-group: no group \"%s\"\n",
                        optarg);
                exit(2);
            }
            db_group = gr->gr_gid;
            break;
        }
        case OPT_NO_DROP_CAPS:
            no_drop_caps = true;
            break;
        case OPT_HOOKS_DIR:
            hooks_dir = optarg;
            break;
        case OPT_HOOK_TIMEOUT:
            if (!str_to_int(optarg, 10, &hook_timeout)
                || hook_timeout < 1 || hook_timeout > 3600) {
                ovs_fatal(0, "--hook-timeout: \"%s\" is not a number of "
                          "seconds in 1..3600", optarg);
            }
            break;
        STREAM_SSL_OPTION_HANDLERS
        case 'h':
            usage();
        case 'V':
            printf("vswitchd (vsw) %s\n", VSW_VERSION);
            exit(EXIT_SUCCESS);
        /* OVS's own handlers would default --pidfile and --log-file to
         * OVS's directories; ours default to the run and state dirs. */
        case OPT_PIDFILE:
            pidfile = optarg ? xstrdup(optarg) : "";
            break;
        case OPT_LOG_FILE:
            log_file = optarg ? xstrdup(optarg) : "";
            break;
        case OPT_DETACH:
            set_detach();
            break;
        case OPT_NO_SELF_CONFINEMENT:
            daemon_disable_self_confinement();
            break;
        case OPT_NO_CHDIR:
            set_no_chdir();
            break;
        case OPT_OVERWRITE_PIDFILE:
            ignore_existing_pidfile();
            break;
        case OPT_MONITOR:
            daemon_set_monitor();
            break;
        case OPT_USER_GROUP:
            daemon_set_new_user(optarg);
            break;
        case 'v':
            vlog_set_verbosity(optarg);
            break;
        case OPT_SYSLOG_IMPL:
            vlog_set_syslog_method(optarg);
            break;
        case OPT_SYSLOG_TARGET:
            vlog_set_syslog_target(optarg);
            break;
        case '?':
            exit(2);
        default:
            abort();
        }
    }
    free(short_options);
    const char *bad_host = vsw_check_host_id(vsw_host_id());
    if (bad_host) {
        fprintf(stderr, "vswitchd: host id \"%s\" (--host-id or VSW_HOST): "
                "%s\n", vsw_host_id(), bad_host);
        exit(2);
    }

    int error = vsw_make_dir(vsw_state_dir(), 0700);
    if (!error) {
        error = vsw_make_dir(vsw_run_dir(), 0755);
    }
    if (error) {
        ovs_fatal(error, "cannot create %s or %s", vsw_state_dir(),
                  vsw_run_dir());
    }
    if (db_group != (gid_t) -1) {
        dbserver_set_group(db_group);
    } else {
        /* An earlier --db-group is not this start's. */
        struct stat st;
        if (!stat(vsw_run_dir(), &st) && (st.st_mode & S_ISGID)
            && (chown(vsw_run_dir(), -1, 0) || chmod(vsw_run_dir(), 0755))) {
            VLOG_WARN("%s: cannot take it back from its group: %s",
                      vsw_run_dir(), ovs_strerror(errno));
        }
    }
    if (pidfile) {
        char *path = (pidfile[0] ? xstrdup(pidfile)
                      : xasprintf("%s/vswitchd.pid", vsw_run_dir()));
        set_pidfile(path);
        free(path);
    }
    if (log_file) {
        char *path = (log_file[0] ? xstrdup(log_file)
                      : xasprintf("%s/vswitchd.log", vsw_state_dir()));
        if (vlog_set_log_file(path)) {
            exit(EXIT_FAILURE);
        }
        free(path);
    }
    if (optind != argc) {
        fprintf(stderr, "vswitchd: takes no arguments (see --help)\n");
        exit(2);
    }
    if (!tool_dir) {
        tool_dir = self_dir();
    }
}

static void
usage(void)
{
    printf("vswitchd: the vsw virtual switch daemon\n"
           "usage: vswitchd [OPTIONS]\n"
           "\n"
           "Database:\n"
           "  --db=REMOTE           use the OVSDB server at REMOTE (unix:PATH,\n"
           "                        tcp:IP:PORT, ssl:...); without it vswitchd\n"
           "                        runs its own on STATE/conf.db\n"
           "  --host-id=ID          manage the switches whose host is ID\n"
           "                        (shared databases; default $VSW_HOST or \"\")\n"
           "  --private-key=FILE, --certificate=FILE, --ca-cert=FILE\n"
           "                        TLS for ssl: remotes (the certificate's\n"
           "                        common name is the host id; docs/cluster.md)\n"
           "Directories:\n"
           "  --state-dir=DIR       database and logs (default $VSW_STATE_DIR\n"
           "                        or /var/lib/vsw)\n"
           "  --run-dir=DIR         sockets and pidfiles (default $VSW_RUN_DIR\n"
           "                        or /run/vsw)\n"
           "  --ovsdb-tools=DIR     where ovsdb-server and ovsdb-tool are\n"
           "                        (default: beside vswitchd, then vsw's\n"
           "                        own copies in LIBEXECDIR/vsw, then PATH)\n"
           "  --db-group=GROUP      members of GROUP may use the embedded\n"
           "                        database and vswctl (socket mode 0770)\n"
           "Event hooks:\n"
           "  --hooks-dir=DIR       run the executables in DIR on each event, "
           "the\n"
           "                        event's JSON on stdin (default "
           "/etc/vsw/hooks.d;\n"
           "                        \"\" for none); root's files only\n"
           "  --hook-timeout=SECS   kill a hook after SECS (1..3600, default "
           "10)\n"
           "Privileges:\n"
           "  --no-drop-capabilities  keep every capability (by default only\n"
           "                        CAP_NET_ADMIN is kept once started)\n");
    daemon_usage();
    vlog_usage();
    printf("\nOther options:\n"
           "  -h, --help            display this help message\n"
           "  -V, --version         display version information\n");
    exit(EXIT_SUCCESS);
}
