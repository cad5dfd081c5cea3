/* Event hooks; see event-hooks.h.
 *
 * Every executable file in the hooks directory (vswitchd --hooks-dir,
 * default /etc/vsw/hooks.d; names starting with '.' or ending in '~' and
 * dpkg's leftovers are skipped) is run once per event:
 *
 *   HOOK EVENT            with the event's JSON on stdin (events.c),
 *                         a clean environment (PATH, LANG, VSW_EVENT),
 *                         its own session, vswitchd's user and
 *                         capabilities, and a timeout (--hook-timeout,
 *                         default 10 s) after which it is killed
 *
 * From the poll loop, never inside a pass: an event is queued, and each
 * hook gets its events one at a time and in order, so a slow hook delays
 * only its own next event and a hung one only until its timeout.  At most
 * QUEUE_MAX events wait per hook (the oldest are dropped, and the log says
 * how many).  What a hook prints (stdout and stderr, its first
 * OUTPUT_MAX bytes) is logged with its exit status.
 *
 * Only root may put hooks there: a directory or file that another user
 * owns, or that a group or others may write, or a symbolic link, is
 * refused (logged), as cron and sudo refuse theirs; checked again before
 * each run.  A hook gets no file descriptor of vswitchd's but 0, 1 and 2,
 * and its event is written as it reads it: one that never reads costs
 * vswitchd nothing.  The directory is never taken from the database,
 * which other users' clients may write. */
#include <config.h>

#include "vswitchd/event-hooks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "process.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(event_hooks);

#define QUEUE_MAX 256
#define OUTPUT_MAX 4096
#define REAP_MS 50              /* How often an ended hook is looked for. */

struct queued {
    struct ovs_list node;
    char *event;
    char *json;
};

struct hook {
    char *path;
    struct ovs_list queue;      /* struct queued, oldest first. */
    size_t n_queued;
    size_t n_dropped;           /* Since the last time the log said so. */
    bool present;               /* Still in the directory. */

    /* The run in progress, if 'pid'. */
    pid_t pid;
    int in_fd;                  /* Its stdin while the event is being
                                 * written, else -1. */
    char *in_buf;               /* The event, and how much is written. */
    size_t in_len, in_off;
    int out_fd;                 /* Its stdout and stderr, or -1 at EOF. */
    struct ds output;
    long long int started, deadline;
    char *event;
    bool killed;
};

static void
queued_free(struct queued *q)
{
    free(q->event);
    free(q->json);
    free(q);
}

/* Drops every event waiting for 'h'. */
static void
queue_clear(struct hook *h)
{
    struct queued *q;
    LIST_FOR_EACH_POP (q, node, &h->queue) {
        queued_free(q);
    }
    h->n_queued = 0;
}

static char *hooks_dir;
static int timeout_ms = 10000;
static struct hook **hooks;     /* Pointers: a hook's list head stays put. */
static size_t n_hooks;
static struct timespec dir_mtime;
static bool dir_refused;

void
event_hooks_init(const char *dir, int timeout_s)
{
    free(hooks_dir);
    hooks_dir = dir && dir[0] ? xstrdup(dir) : NULL;
    timeout_ms = timeout_s * 1000;
}

/* Whether 'st' may hold or be a hook: root's, written by root only. */
static bool
root_only(const struct stat *st)
{
    return st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

static bool
skipped_name(const char *name)
{
    size_t len = strlen(name);
    return (name[0] == '.' || (len && name[len - 1] == '~')
            || strstr(name, ".dpkg-") || strstr(name, ".ucf-"));
}

static struct hook *
hook_find(const char *path)
{
    for (size_t i = 0; i < n_hooks; i++) {
        if (!strcmp(hooks[i]->path, path)) {
            return hooks[i];
        }
    }
    return NULL;
}

/* Why the file at 'path' may not be run as a hook, or NULL: it must be a
 * regular, executable file (not a symbolic link: where it points could be
 * another user's) that root owns and only root may write, in a directory
 * of the same kind.  Checked when the directory is read and again before
 * each run (a chmod or chown does not change the directory). */
static const char *
refusal(const char *path)
{
    static char why[128];
    struct stat st;
    if (!hooks_dir || stat(hooks_dir, &st) || !root_only(&st)) {
        return "its directory is not root's alone";
    }
    if (lstat(path, &st)) {
        return "gone";
    }
    if (S_ISLNK(st.st_mode)) {
        return "a symbolic link (copy the program there instead)";
    }
    if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR)) {
        return "not an executable file";
    }
    if (!root_only(&st)) {
        snprintf(why, sizeof why, "not root's alone (owner uid %u, mode %o)",
                 (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
        return why;
    }
    return NULL;
}

/* Reads the directory again if it changed since the last look. */
static void
scan(void)
{
    struct stat st;
    if (!hooks_dir || stat(hooks_dir, &st)) {
        for (size_t i = 0; i < n_hooks; i++) {
            hooks[i]->present = false;
        }
        return;
    }
    if (st.st_mtim.tv_sec == dir_mtime.tv_sec
        && st.st_mtim.tv_nsec == dir_mtime.tv_nsec) {
        return;
    }
    dir_mtime = st.st_mtim;
    if (!root_only(&st)) {
        if (!dir_refused) {
            VLOG_WARN("hooks directory %s is not root's alone (owner uid "
                      "%u, mode %o): no hook there is run (chown root %s; "
                      "chmod go-w %s)", hooks_dir, (unsigned) st.st_uid,
                      (unsigned) (st.st_mode & 07777), hooks_dir, hooks_dir);
        }
        dir_refused = true;
        for (size_t i = 0; i < n_hooks; i++) {
            hooks[i]->present = false;
        }
        return;
    }
    dir_refused = false;
    for (size_t i = 0; i < n_hooks; i++) {
        hooks[i]->present = false;
    }
    DIR *d = opendir(hooks_dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (skipped_name(de->d_name)) {
            continue;
        }
        char *path = xasprintf("%s/%s", hooks_dir, de->d_name);
        struct stat fst;
        if (lstat(path, &fst) || !(S_ISREG(fst.st_mode)
                                   || S_ISLNK(fst.st_mode))) {
            free(path);
            continue;
        }
        const char *why = refusal(path);
        if (why) {
            VLOG_WARN("event hook %s: %s: not run", path, why);
            free(path);
            continue;
        }
        struct hook *h = hook_find(path);
        if (!h) {
            hooks = xrealloc(hooks, (n_hooks + 1) * sizeof *hooks);
            h = hooks[n_hooks++] = xzalloc(sizeof *h);
            h->path = path;
            ovs_list_init(&h->queue);
            ds_init(&h->output);
            h->out_fd = -1;
            h->in_fd = -1;
            VLOG_INFO("event hook %s", path);
        } else {
            free(path);
        }
        h->present = true;
    }
    if (d) {
        closedir(d);
    }
}

void
event_hooks_submit(const char *event, const char *json)
{
    scan();
    for (size_t i = 0; i < n_hooks; i++) {
        struct hook *h = hooks[i];
        if (!h->present) {
            continue;
        }
        if (h->n_queued >= QUEUE_MAX) {
            struct queued *old = CONTAINER_OF(ovs_list_pop_front(&h->queue),
                                              struct queued, node);
            queued_free(old);
            h->n_queued--;
            h->n_dropped++;
        }
        struct queued *q = xmalloc(sizeof *q);
        q->event = xstrdup(event);
        q->json = xstrdup(json);
        ovs_list_push_back(&h->queue, &q->node);
        h->n_queued++;
    }
}

/* Starts 'h' on its oldest queued event. */
static void
start(struct hook *h)
{
    struct queued *q = CONTAINER_OF(ovs_list_pop_front(&h->queue),
                                    struct queued, node);
    h->n_queued--;
    if (h->n_dropped) {
        VLOG_WARN("event hook %s: %"PRIuSIZE" events dropped (more than %d "
                  "waited: the hook is slower than the events)", h->path,
                  h->n_dropped, QUEUE_MAX);
        h->n_dropped = 0;
    }

    const char *why = refusal(h->path);
    if (why) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 10);
        VLOG_WARN_RL(&rl, "event hook %s (%s): %s: not run", h->path,
                     q->event, why);
        goto done;
    }

    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC)) {
        VLOG_WARN("event hook %s: pipe: %s", h->path, ovs_strerror(errno));
        goto done;
    }
    if (pipe2(out, O_CLOEXEC)) {
        VLOG_WARN("event hook %s: pipe: %s", h->path, ovs_strerror(errno));
        close(in[0]);
        close(in[1]);
        goto done;
    }
    char *env_event = xasprintf("VSW_EVENT=%s", q->event);
    char *const envp[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG=C.UTF-8", env_event, NULL,
    };
    char *const argv[] = { h->path, q->event, NULL };
    pid_t pid = fork();
    if (!pid) {
        /* The child: its own session (killed as a group), the event on
         * stdin, its output to us, default signal dispositions. */
        setsid();
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        dup2(out[1], STDERR_FILENO);
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* Nothing of vswitchd's: its log, pidfile, sockets. */
        close_range(3, ~0U, 0);
        execve(h->path, argv, envp);
        _exit(126);
    }
    free(env_event);
    close(in[0]);
    close(out[1]);
    if (pid < 0) {
        VLOG_WARN("event hook %s: fork: %s", h->path, ovs_strerror(errno));
        close(in[1]);
        close(out[0]);
        goto done;
    }
    /* The event is written as the hook reads it (write_input()): one that
     * never reads never blocks vswitchd. */
    set_nonblocking(in[1]);
    h->in_fd = in[1];
    h->in_buf = xasprintf("%s\n", q->json);
    h->in_len = strlen(h->in_buf);
    h->in_off = 0;
    set_nonblocking(out[0]);
    h->pid = pid;
    h->out_fd = out[0];
    h->started = time_msec();
    h->deadline = h->started + timeout_ms;
    h->killed = false;
    h->event = q->event;
    q->event = NULL;
    ds_clear(&h->output);

done:
    queued_free(q);
}

static void
close_input(struct hook *h)
{
    if (h->in_fd >= 0) {
        close(h->in_fd);
        h->in_fd = -1;
    }
    free(h->in_buf);
    h->in_buf = NULL;
}

static void
write_input(struct hook *h)
{
    while (h->in_fd >= 0 && h->in_off < h->in_len) {
        ssize_t n = write(h->in_fd, h->in_buf + h->in_off,
                          h->in_len - h->in_off);
        if (n > 0) {
            h->in_off += n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return;
        } else {
            break;              /* EPIPE: it closed its stdin. */
        }
    }
    close_input(h);             /* All of it: the hook sees EOF. */
}

static void
read_output(struct hook *h)
{
    char buf[4096];
    while (h->out_fd >= 0) {
        ssize_t n = read(h->out_fd, buf, sizeof buf);
        if (n > 0) {
            /* Kept up to OUTPUT_MAX, its control characters as \xNN: one
             * log line, whatever it printed. */
            for (ssize_t i = 0; i < n && h->output.length < OUTPUT_MAX; i++) {
                unsigned char c = buf[i];
                if (c < 0x20 || c == 0x7f) {
                    ds_put_format(&h->output, "\\x%02x", c);
                } else {
                    ds_put_char(&h->output, c);
                }
            }
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        } else {
            close(h->out_fd);       /* EOF (or an error: the same). */
            h->out_fd = -1;
        }
    }
}

/* Reaps 'h''s run if it ended, and logs how. */
static void
reap(struct hook *h)
{
    int status;
    if (waitpid(h->pid, &status, WNOHANG) != h->pid) {
        return;
    }
    read_output(h);
    close_input(h);
    if (h->out_fd >= 0) {
        close(h->out_fd);
        h->out_fd = -1;
    }
    if (h->output.length >= 4
        && !strcmp(ds_cstr(&h->output) + h->output.length - 4, "\\x0a")) {
        h->output.length -= 4;  /* Its last newline. */
        h->output.string[h->output.length] = '\0';
    }
    long long int ms = time_msec() - h->started;
    const char *out = ds_cstr(&h->output);
    if (h->killed) {
        VLOG_WARN("event hook %s (%s): killed after %d s (--hook-timeout)%s%s",
                  h->path, h->event, timeout_ms / 1000,
                  out[0] ? "; it printed: " : "", out);
    } else if (WIFEXITED(status) && !WEXITSTATUS(status)) {
        if (out[0]) {
            VLOG_INFO("event hook %s (%s): %s", h->path, h->event, out);
        } else {
            VLOG_DBG("event hook %s (%s): done in %lld ms", h->path,
                     h->event, ms);
        }
    } else {
        char *why = process_status_msg(status);
        VLOG_WARN("event hook %s (%s): %s after %lld ms%s%s", h->path,
                  h->event, why, ms, out[0] ? "; it printed: " : "", out);
        free(why);
    }
    h->pid = 0;
    free(h->event);
    h->event = NULL;
}

void
event_hooks_run(void)
{
    for (size_t i = 0; i < n_hooks; i++) {
        struct hook *h = hooks[i];
        if (h->pid) {
            write_input(h);
            read_output(h);
            if (!h->killed && time_msec() >= h->deadline) {
                kill(-h->pid, SIGKILL);     /* Its whole session. */
                kill(h->pid, SIGKILL);
                h->killed = true;
            }
            reap(h);
        }
        if (!h->pid && !ovs_list_is_empty(&h->queue)) {
            if (h->present) {
                start(h);
            } else {
                queue_clear(h);     /* Gone from the directory. */
            }
        }
    }
}

void
event_hooks_wait(void)
{
    for (size_t i = 0; i < n_hooks; i++) {
        const struct hook *h = hooks[i];
        if (h->pid) {
            if (h->in_fd >= 0) {
                poll_fd_wait(h->in_fd, POLLOUT);
            }
            if (h->out_fd >= 0) {
                poll_fd_wait(h->out_fd, POLLIN);
            }
            poll_timer_wait_until(MIN(h->deadline, time_msec() + REAP_MS));
        } else if (!ovs_list_is_empty(&h->queue)) {
            poll_immediate_wake();
        }
    }
}

void
event_hooks_exit(void)
{
    for (size_t i = 0; i < n_hooks; i++) {
        struct hook *h = hooks[i];
        if (h->pid) {
            /* A hook still running is left to finish on its own. */
            close_input(h);
            if (h->out_fd >= 0) {
                close(h->out_fd);
            }
        }
        queue_clear(h);
        ds_destroy(&h->output);
        free(h->event);
        free(h->path);
        free(h);
    }
    free(hooks);
    hooks = NULL;
    n_hooks = 0;
    free(hooks_dir);
    hooks_dir = NULL;
}
