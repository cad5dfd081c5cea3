/* "vswctl stats [SWITCH|PORT]": the ports' counters and states as
 * vswitchd's stats endpoint serves them (RUN/stats.sock, GET /v1/stats;
 * vswitchd/stats-http.c), one row per port, as a table or --format=json.
 * It reads only the endpoint: what it prints is what a monitoring system
 * scraping vswitchd sees. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/vswctl.h"
#include "db-ctl-base.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "table.h"
#include "util.h"
#include "vswitchd/paths.h"

#define STATS_TIMEOUT_MS 5000

/* GET 'path' from the endpoint: the body of a 200 into '*body' (caller
 * frees) and NULL, or why not (caller frees). */
static char *
http_get(const char *path, char **body)
{
    *body = NULL;
    char *sock_path = xasprintf("%s/stats.sock", vsw_run_dir());
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    ovs_strlcpy(sun.sun_path, sock_path, sizeof sun.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        char *why = xasprintf("cannot reach vswitchd's stats endpoint %s "
                              "(%s); is vswitchd running?", sock_path,
                              ovs_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        free(sock_path);
        return why;
    }
    free(sock_path);

    struct ds req = DS_EMPTY_INITIALIZER;
    ds_put_format(&req, "GET %s HTTP/1.0\r\nHost: vsw\r\n\r\n", path);
    struct ds resp = DS_EMPTY_INITIALIZER;
    char *why = NULL;
    if (write(fd, req.string, req.length) != (ssize_t) req.length) {
        why = xasprintf("cannot send to the stats endpoint: %s",
                        ovs_strerror(errno));
    }
    while (!why) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, STATS_TIMEOUT_MS) <= 0) {
            why = xstrdup("the stats endpoint did not answer in time");
            break;
        }
        char buf[8192];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        ds_put_buffer(&resp, buf, n);
    }
    close(fd);
    ds_destroy(&req);

    int code = 0;
    const char *sep = resp.string ? strstr(resp.string, "\r\n\r\n") : NULL;
    if (!why && (!sep || sscanf(resp.string, "HTTP/%*s %d", &code) != 1)) {
        why = xstrdup("the stats endpoint's answer is not HTTP");
    }
    if (!why) {
        *body = xstrdup(sep + 4);
        if (code != 200) {
            struct json *j = json_from_string(*body);
            const struct json *e = (j->type == JSON_OBJECT
                                    ? shash_find_data(json_object(j), "error")
                                    : NULL);
            why = xasprintf("%s", e && e->type == JSON_STRING
                                  ? json_string(e) : "error");
            json_destroy(j);
            free(*body);
            *body = NULL;
        }
    }
    ds_destroy(&resp);
    return why;
}

static const struct json *
member(const struct json *o, const char *name)
{
    return (o && o->type == JSON_OBJECT
            ? shash_find_data(json_object(o), name) : NULL);
}

static void
add_json_cell(struct table *t, const struct json *v)
{
    char buf[32];
    if (!v || v->type == JSON_NULL) {
        vswctl_add_cell(t, NULL);
    } else if (v->type == JSON_INTEGER) {
        snprintf(buf, sizeof buf, "%lld", (long long int) json_integer(v));
        vswctl_add_cell_int(t, buf);
    } else if (v->type == JSON_STRING) {
        /* Another program may have written it (a VM's name): no control
         * character reaches the operator's terminal (JSON escapes its
         * own). */
        bool json = vswctl_table_style.format == TF_JSON;
        struct ds s = DS_EMPTY_INITIALIZER;
        for (const char *c = json_string(v); *c; c++) {
            if (!json && ((unsigned char) *c < 0x20 || *c == 0x7f)) {
                ds_put_format(&s, "\\x%02x", (unsigned char) *c);
            } else {
                ds_put_char(&s, *c);
            }
        }
        vswctl_add_cell(t, ds_cstr(&s));
        ds_destroy(&s);
    } else {
        char *s = json_to_string(v, JSSF_SORT);
        vswctl_add_cell(t, s);
        free(s);
    }
}

static void
add_port_row(struct table *t, const struct json *p)
{
    table_add_row(t);
    add_json_cell(t, member(p, "switch"));
    add_json_cell(t, member(p, "name"));
    add_json_cell(t, member(p, "kind_in_use"));
    add_json_cell(t, member(p, "link"));
    add_json_cell(t, member(member(p, "vm"), "vm_id"));
    static const char *const dirs[] = { "rx", "tx" };
    static const char *const keys[] = { "packets", "bytes", "errors",
                                        "dropped" };
    for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
            add_json_cell(t, member(member(p, dirs[d]), keys[k]));
        }
    }
}

/* stats [SWITCH|PORT] */
static void
cmd_stats(struct ctl_context *ctx)
{
    const char *only = ctx->argc > 1 ? ctx->argv[1] : NULL;
    char *body;
    char *why = http_get("/v1/stats", &body);
    if (why) {
        ctl_error(ctx, "%s", why);
        free(why);
        return;
    }
    struct json *doc = json_from_string(body);
    free(body);
    const struct json *ports = member(doc, "ports");
    const struct json *switches = member(doc, "switches");
    if (!ports || ports->type != JSON_ARRAY || !switches
        || switches->type != JSON_ARRAY) {
        ctl_error(ctx, "the stats endpoint's document has no ports");
        json_destroy(doc);
        return;
    }

    bool is_switch = false, is_port = false;
    for (size_t i = 0; only && i < json_array(switches)->n; i++) {
        const struct json *n = member(json_array(switches)->elems[i], "name");
        is_switch |= n && n->type == JSON_STRING
                     && !strcmp(json_string(n), only);
    }
    for (size_t i = 0; only && i < json_array(ports)->n; i++) {
        const struct json *n = member(json_array(ports)->elems[i], "name");
        is_port |= n && n->type == JSON_STRING
                   && !strcmp(json_string(n), only);
    }
    if (only && !is_switch && !is_port) {
        ctl_error(ctx, "no switch or port named \"%s\" (vswctl "
                  "list-switches, vswctl list-ports SWITCH)", only);
        json_destroy(doc);
        return;
    }

    struct table *t = xmalloc(sizeof *t);
    table_init(t);
    static const char *const headings[] = {
        "switch", "port", "kind", "link", "vm",
        "rx_packets", "rx_bytes", "rx_errors", "rx_dropped",
        "tx_packets", "tx_bytes", "tx_errors", "tx_dropped",
    };
    for (size_t i = 0; i < ARRAY_SIZE(headings); i++) {
        table_add_column(t, "%s", headings[i]);
    }
    for (size_t i = 0; i < json_array(ports)->n; i++) {
        const struct json *p = json_array(ports)->elems[i];
        const struct json *field = member(p, is_switch ? "switch" : "name");
        if (!only || (field && field->type == JSON_STRING
                      && !strcmp(json_string(field), only))) {
            add_port_row(t, p);
        }
    }
    json_destroy(doc);
    ctx->table = t;
}

const struct ctl_command_syntax vswctl_stats_commands[] = {
    {"stats", 0, 1, "[SWITCH|PORT]", NULL, cmd_stats, NULL, "", RO},
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, RO},
};
