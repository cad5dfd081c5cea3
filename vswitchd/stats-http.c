/* The stats endpoint: read-only HTTP served by vswitchd with libmicrohttpd
 * on a unix socket in the run directory (RUN/stats.sock); see
 * stats-http.h.
 *
 * It runs inside vswitchd's poll loop, in libmicrohttpd's external-select
 * mode: its sockets are non-blocking and each response is built whole
 * before it is queued, so a client that stalls or never reads costs a
 * buffer and a socket, never a wait.  Answers come from what vswitchd
 * already holds, its view of the database, where the reconciler writes
 * each object's status and the statistics collector the kernel's
 * counters, so no request ever makes a request of the kernel.
 *
 *   GET /v1/stats                the whole document (JSON)
 *   GET /v1/stats/switch/NAME    one switch (404, a JSON error, if none)
 *   GET /v1/stats/port/NAME      one port
 *   GET /v1/events               events as they happen (server-sent
 *                                events; see events.c)
 *   GET /metrics                 the Prometheus text format
 *   GET /                        a status page (HTML and a little JS)
 *
 * HEAD as GET without the body; any other method 405; any other path
 * 404.  Nothing here can change the configuration. */
#include <config.h>

#include "vswitchd/host-row.h"
#include "vswitchd/stats-http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "datapath/netlink.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"
#include "uuid.h"
#include "vsw-idl.h"
#include "vswitchd/bridge.h"
#include "vswitchd/events.h"
#include "vswitchd/paths.h"
#include "vswitchd/validate.h"

VLOG_DEFINE_THIS_MODULE(stats_http);

/* The status page (vswitchd/stats-page.html, made into a C array by the
 * build). */
extern const char vsw_stats_page[];

/* Bumped when a key changes meaning or goes; new keys do not bump it. */
#define STATS_SCHEMA_VERSION 1

static struct MHD_Daemon *daemon_;
static char *socket_path;

/* The TCP listener (Root.stats_listen): its daemon, the address it is on
 * (or was asked for), and why it is not, if it is not. */
static struct MHD_Daemon *tcp_daemon;
static char *tcp_listen;
static char *tcp_error;
static long long int tcp_retry;     /* When to try a failed one again. */
static bool tcp_loopback;           /* Its address is a loopback one: only
                                     * a loopback Host is answered (no DNS
                                     * rebinding from a local browser). */
#define TCP_RETRY_MS 5000
static long long int start_msec;

/* Every open connection, with the time by which its current exchange must
 * be done.  libmicrohttpd's own timeout is for idleness only: a client
 * that drips a header byte every few seconds would hold its connection
 * for ever, and 64 such clients the whole endpoint.  So a request must be
 * whole within REQUEST_MS of the connection opening or the previous
 * answer being sent, and its answer sent within ANSWER_MS; past that,
 * stats_http_run() shuts the socket down and libmicrohttpd closes it. */
struct client {
    struct ovs_list node;       /* In 'clients'. */
    int fd;
    long long int deadline;     /* LLONG_MAX: already shut down, or a
                                 * stream of events (no deadline). */
};
static struct ovs_list clients = OVS_LIST_INITIALIZER(&clients);
#define REQUEST_MS 10000
#define ANSWER_MS 30000

/* ---- The document. ---- */

static bool
here(const struct vswrec_switch *sw)
{
    return sw && !strcmp(sw->host, vsw_host_id());
}

/* The document is written as it is walked, not built as a tree of json
 * objects: at 1000 ports the tree's allocations were most of its cost. */
struct jw {
    struct ds *out;
    bool comma;                 /* Before the next member or element. */
};

static void
jw_sep(struct jw *w, const char *key)
{
    if (w->comma) {
        ds_put_char(w->out, ',');
    }
    if (key) {
        json_string_escape(key, w->out);
        ds_put_char(w->out, ':');
    }
    w->comma = true;
}

static void
jw_open(struct jw *w, const char *key, char c)
{
    jw_sep(w, key);
    ds_put_char(w->out, c);
    w->comma = false;
}

static void
jw_close(struct jw *w, char c)
{
    ds_put_char(w->out, c);
    w->comma = true;
}

static void
jw_string(struct jw *w, const char *key, const char *v)
{
    jw_sep(w, key);
    if (v) {
        json_string_escape(v, w->out);
    } else {
        ds_put_cstr(w->out, "null");
    }
}

static void
jw_int(struct jw *w, const char *key, long long int v)
{
    jw_sep(w, key);
    ds_put_format(w->out, "%lld", v);
}

static void
jw_int_or_null(struct jw *w, const char *key, const int64_t *v, size_t n)
{
    if (n) {
        jw_int(w, key, *v);
    } else {
        jw_string(w, key, NULL);
    }
}

static void
jw_bool(struct jw *w, const char *key, bool v)
{
    jw_sep(w, key);
    ds_put_cstr(w->out, v ? "true" : "false");
}

static void
jw_smap(struct jw *w, const char *key, const struct smap *m)
{
    jw_open(w, key, '{');
    struct smap_node *n;
    SMAP_FOR_EACH (n, m) {
        jw_string(w, n->key, n->value);
    }
    jw_close(w, '}');
}

static int64_t
stat_get(char **keys, const int64_t *values, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(keys[i], key)) {
            return values[i];
        }
    }
    return 0;
}

/* "rx" or "tx" of a port's kernel counters, as iproute2's JSON nests
 * them. */
static void
write_direction(struct jw *w, const struct vswrec_port *p, const char *dir)
{
    static const char *const names[] = { "packets", "bytes", "errors",
                                         "dropped" };
    jw_open(w, dir, '{');
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        char key[32];
        snprintf(key, sizeof key, "%s_%s", dir, names[i]);
        jw_int(w, names[i], stat_get(p->key_statistics, p->value_statistics,
                                     p->n_statistics, key));
    }
    jw_close(w, '}');
}

static void
write_port(struct jw *w, const char *key, const struct vswrec_port *p)
{
    jw_open(w, key, '{');
    jw_string(w, "name", p->name);
    jw_string(w, "switch", p->switch_->name);
    jw_string(w, "kind_requested", p->kind);
    jw_bool(w, "adopted", p->adopted);
    jw_string(w, "kind_in_use", smap_get(&p->status, "kind"));
    jw_string(w, "link", smap_get(&p->status, "link"));
    jw_int_or_null(w, "mtu", p->mtu, p->n_mtu);
    jw_string(w, "mac", p->mac);

    jw_open(w, "vlan", '{');
    jw_string(w, "mode", p->vlan_mode);
    jw_int_or_null(w, "tag", p->tag, p->n_tag);
    jw_open(w, "trunks", '[');
    for (size_t i = 0; i < p->n_trunks; i++) {
        jw_int(w, NULL, p->trunks[i]);
    }
    jw_close(w, ']');
    jw_close(w, '}');

    static const char *const vm_keys[][2] = {
        { "vm-id", "vm_id" }, { "vm-uuid", "vm_uuid" },
        { "iface-id", "iface_id" },
    };
    jw_open(w, "vm", '{');
    for (size_t i = 0; i < ARRAY_SIZE(vm_keys); i++) {
        const char *v = smap_get(&p->external_ids, vm_keys[i][0]);
        if (v) {
            jw_string(w, vm_keys[i][1], v);
        }
    }
    jw_close(w, '}');

    write_direction(w, p, "rx");
    write_direction(w, p, "tx");

    jw_open(w, "acls", '[');
    for (size_t i = 0; i < p->n_acls; i++) {
        const struct vswrec_acl *a = p->acls[i];
        char id[9];
        snprintf(id, sizeof id, "%08"PRIx32, a->header_.uuid.parts[0]);
        jw_open(w, NULL, '{');
        jw_string(w, "id", id);
        jw_string(w, "action", a->action);
        jw_string(w, "direction", a->direction);
        jw_int(w, "packets", stat_get(a->key_statistics, a->value_statistics,
                                      a->n_statistics, "packets"));
        jw_int(w, "bytes", stat_get(a->key_statistics, a->value_statistics,
                                    a->n_statistics, "bytes"));
        jw_close(w, '}');
    }
    jw_close(w, ']');
    jw_smap(w, "status", &p->status);
    jw_close(w, '}');
}

static void
write_switch(struct jw *w, const char *key, const struct vswrec_switch *sw,
             size_t n_ports)
{
    jw_open(w, key, '{');
    jw_string(w, "name", sw->name);
    jw_string(w, "type", sw->type);
    jw_string(w, "uplink", sw->uplink);
    jw_int(w, "ports", n_ports);

    jw_open(w, "iov", '{');
    jw_bool(w, "requested", sw->iov);
    const char *eff = smap_get(&sw->status, "iov_support");
    jw_bool(w, "effective", eff && !strcmp(eff, "true"));
    jw_string(w, "reasons", smap_get(&sw->status, "iov_reasons"));
    jw_int(w, "vf_capacity", smap_get_int(&sw->status, "vf_capacity", 0));
    jw_int(w, "vfs_in_use", smap_get_int(&sw->status, "vfs_in_use", 0));
    jw_close(w, '}');

    jw_open(w, "offload", '{');
    jw_smap(w, "requested", &sw->offload_requested);
    jw_smap(w, "effective", &sw->offload_effective);
    jw_smap(w, "reason", &sw->offload_reason);
    jw_close(w, '}');

    static const char *const flow_keys[] = {
        "flows_in_hw", "flows_in_sw", "flows_refused", "flows_demoted",
    };
    jw_open(w, "flows", '{');
    for (size_t i = 0; i < ARRAY_SIZE(flow_keys); i++) {
        jw_int(w, flow_keys[i] + strlen("flows_"),
               smap_get_int(&sw->status, flow_keys[i], 0));
    }
    jw_close(w, '}');
    jw_smap(w, "status", &sw->status);
    jw_close(w, '}');
}

static void
write_daemon(struct jw *w, const struct ovsdb_idl *idl)
{
    /* This host's progress (its Host row: vswctl --wait moves it). */
    const struct vswrec_host *host = vsw_host_find(
        CONST_CAST(struct ovsdb_idl *, idl), vsw_host_id());
    struct bridge_pass_stats ps;
    struct dp_nl_counters c;
    bridge_get_pass_stats(&ps);
    dp_nl_get_counters(&c);

    jw_open(w, "daemon", '{');
    jw_string(w, "version", VSW_VERSION);
    jw_int(w, "uptime_s", (time_msec() - start_msec) / 1000);
    jw_int(w, "cur_cfg", host ? host->cur_cfg : 0);
    jw_int(w, "next_cfg", host ? host->next_cfg : 0);
    jw_int(w, "passes", ps.passes);
    jw_int(w, "full_passes", ps.full_passes);
    jw_int(w, "last_pass_us", ps.last_pass_usec);
    jw_int(w, "modify_requests", c.modify);
    jw_int(w, "modify_failed", c.modify_failed);
    jw_int(w, "dumps", c.dump);
    jw_close(w, '}');
}

/* The document, or (with 'kind' "switch" or "port") the one object named
 * 'name' (NULL if there is none), with a newline.  Caller frees. */
static char *
stats_text_of(const char *kind, const char *name)
{
    const struct ovsdb_idl *idl = bridge_idl();
    const struct vswrec_switch *sw;
    const struct vswrec_port *p;
    struct ds out = DS_EMPTY_INITIALIZER;
    struct jw w = { &out, false };

    /* Ports per switch, by name. */
    struct shash n_ports = SHASH_INITIALIZER(&n_ports);
    VSWREC_PORT_FOR_EACH (p, idl) {
        if (here(p->switch_)) {
            uintptr_t n = (uintptr_t) shash_find_data(&n_ports,
                                                      p->switch_->name);
            shash_replace(&n_ports, p->switch_->name, (void *) (n + 1));
        }
    }
    bool found = !kind;
    if (!kind) {
        jw_open(&w, NULL, '{');
        jw_int(&w, "schema_version", STATS_SCHEMA_VERSION);
        write_daemon(&w, idl);
        jw_open(&w, "switches", '[');
    }
    VSWREC_SWITCH_FOR_EACH (sw, idl) {
        if (here(sw) && (!kind || (!strcmp(kind, "switch")
                                   && !strcmp(sw->name, name)))) {
            write_switch(&w, NULL, sw,
                         (uintptr_t) shash_find_data(&n_ports, sw->name));
            found = true;
        }
    }
    if (!kind) {
        jw_close(&w, ']');
        jw_open(&w, "ports", '[');
    }
    VSWREC_PORT_FOR_EACH (p, idl) {
        if (here(p->switch_) && (!kind || (!strcmp(kind, "port")
                                           && !strcmp(p->name, name)))) {
            write_port(&w, NULL, p);
            found = true;
        }
    }
    if (!kind) {
        jw_close(&w, ']');
        jw_close(&w, '}');
    }
    shash_destroy(&n_ports);
    if (!found) {
        ds_destroy(&out);
        return NULL;
    }
    ds_put_char(&out, '\n');
    return ds_steal_cstr(&out);
}

/* ---- /metrics ---- */

/* Appends 's' to 'out' as a label value: \, " and newline escaped. */
static void
put_label(struct ds *out, const char *name, const char *s, bool first)
{
    ds_put_format(out, "%s%s=\"", first ? "" : ",", name);
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') {
            ds_put_char(out, '\\');
            ds_put_char(out, *s);
        } else if (*s == '\n') {
            ds_put_cstr(out, "\\n");
        } else {
            ds_put_char(out, *s);
        }
    }
    ds_put_char(out, '"');
}

static void
family(struct ds *out, const char *name, const char *type, const char *help)
{
    ds_put_format(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                  type);
}

/* '{switch="..",port=".."[,vm=".."]' without the closing brace. */
static void
port_labels(struct ds *out, const struct vswrec_port *p)
{
    ds_put_char(out, '{');
    put_label(out, "switch", p->switch_->name, true);
    put_label(out, "port", p->name, false);
    const char *vm = smap_get(&p->external_ids, "vm-id");
    if (vm) {
        put_label(out, "vm", vm, false);
    }
}

static char *
metrics_text(void)
{
    const struct ovsdb_idl *idl = bridge_idl();
    const struct vswrec_switch *sw;
    const struct vswrec_port *p;
    struct bridge_pass_stats ps;
    struct dp_nl_counters c;
    struct ds out = DS_EMPTY_INITIALIZER;

    bridge_get_pass_stats(&ps);
    dp_nl_get_counters(&c);
    family(&out, "vsw_info", "gauge", "vswitchd's version (value 1).");
    ds_put_format(&out, "vsw_info{version=\"%s\"} 1\n", VSW_VERSION);
    family(&out, "vsw_uptime_seconds", "gauge",
           "Seconds since vswitchd started.");
    ds_put_format(&out, "vsw_uptime_seconds %lld\n",
                  (time_msec() - start_msec) / 1000);
    family(&out, "vsw_reconcile_passes_total", "counter",
           "Reconcile passes run.");
    ds_put_format(&out, "vsw_reconcile_passes_total %llu\n", ps.passes);
    family(&out, "vsw_last_pass_seconds", "gauge",
           "How long the last reconcile pass took.");
    ds_put_format(&out, "vsw_last_pass_seconds %.6f\n",
                  ps.last_pass_usec / 1e6);
    family(&out, "vsw_kernel_modify_requests_total", "counter",
           "Requests that changed the kernel.");
    ds_put_format(&out, "vsw_kernel_modify_requests_total %"PRIu64"\n",
                  c.modify);
    family(&out, "vsw_kernel_modify_failures_total", "counter",
           "Requests that tried to change the kernel and failed.");
    ds_put_format(&out, "vsw_kernel_modify_failures_total %"PRIu64"\n",
                  c.modify_failed);

    family(&out, "vsw_switch_info", "gauge",
           "A switch, its type and uplink (value 1).");
    VSWREC_SWITCH_FOR_EACH (sw, idl) {
        if (here(sw)) {
            ds_put_cstr(&out, "vsw_switch_info{");
            put_label(&out, "switch", sw->name, true);
            put_label(&out, "type", sw->type, false);
            put_label(&out, "uplink", sw->uplink ? sw->uplink : "", false);
            ds_put_cstr(&out, "} 1\n");
        }
    }

    family(&out, "vsw_port_info", "gauge",
           "A port, its kind as asked for and as in use (value 1).");
    VSWREC_PORT_FOR_EACH (p, idl) {
        if (here(p->switch_)) {
            ds_put_cstr(&out, "vsw_port_info");
            port_labels(&out, p);
            put_label(&out, "kind", p->kind ? p->kind : "", false);
            put_label(&out, "kind_in_use",
                      smap_get_def(&p->status, "kind", ""), false);
            ds_put_cstr(&out, "} 1\n");
        }
    }
    family(&out, "vsw_port_up", "gauge",
           "Whether the port's link is up (1) or down (0).");
    VSWREC_PORT_FOR_EACH (p, idl) {
        if (here(p->switch_)) {
            const char *link = smap_get(&p->status, "link");
            ds_put_cstr(&out, "vsw_port_up");
            port_labels(&out, p);
            ds_put_format(&out, "} %d\n", link && !strcmp(link, "up"));
        }
    }

    /* The kernel's counters of each port's bridge-side device, as the
     * statistics collector last read them. */
    static const struct {
        const char *metric, *key, *help;
    } counters[] = {
        { "vsw_port_bytes_total", "bytes",
          "Bytes through the port's bridge-side device." },
        { "vsw_port_packets_total", "packets",
          "Packets through the port's bridge-side device." },
        { "vsw_port_errors_total", "errors",
          "Errors counted by the port's bridge-side device." },
        { "vsw_port_dropped_total", "dropped",
          "Packets dropped by the port's bridge-side device." },
    };
    for (size_t i = 0; i < ARRAY_SIZE(counters); i++) {
        family(&out, counters[i].metric, "counter", counters[i].help);
        VSWREC_PORT_FOR_EACH (p, idl) {
            if (!here(p->switch_)) {
                continue;
            }
            for (int d = 0; d < 2; d++) {
                char key[32];
                snprintf(key, sizeof key, "%s_%s", d ? "tx" : "rx",
                         counters[i].key);
                ds_put_cstr(&out, counters[i].metric);
                port_labels(&out, p);
                put_label(&out, "direction", d ? "tx" : "rx", false);
                ds_put_format(&out, "} %"PRId64"\n",
                              stat_get(p->key_statistics,
                                       p->value_statistics,
                                       p->n_statistics, key));
            }
        }
    }

    static const struct {
        const char *metric, *key, *help;
    } acl_counters[] = {
        { "vsw_acl_packets_total", "packets", "Packets an ACL matched." },
        { "vsw_acl_bytes_total", "bytes", "Bytes an ACL matched." },
    };
    for (size_t i = 0; i < ARRAY_SIZE(acl_counters); i++) {
        family(&out, acl_counters[i].metric, "counter",
               acl_counters[i].help);
        VSWREC_PORT_FOR_EACH (p, idl) {
            if (!here(p->switch_)) {
                continue;
            }
            for (size_t k = 0; k < p->n_acls; k++) {
                const struct vswrec_acl *a = p->acls[k];
                char id[9];
                snprintf(id, sizeof id, "%08"PRIx32,
                         a->header_.uuid.parts[0]);
                ds_put_cstr(&out, acl_counters[i].metric);
                port_labels(&out, p);
                put_label(&out, "acl", id, false);
                put_label(&out, "action", a->action, false);
                ds_put_format(&out, "} %"PRId64"\n",
                              stat_get(a->key_statistics,
                                       a->value_statistics,
                                       a->n_statistics, acl_counters[i].key));
            }
        }
    }
    return ds_steal_cstr(&out);
}

/* ---- The answers, kept while nothing they say has changed. ---- */

/* What the whole document and the metrics depend on: the database view,
 * the passes and kernel requests, and the uptime's second.  At 1000 ports
 * building the document costs tens of ms: a scrape every 100 ms then
 * builds it at most once a second, or when something changed. */
struct answer {
    unsigned int seqno;
    unsigned long long int passes;
    uint64_t modify;
    long long int second;
    char *text;                 /* NULL: not built yet. */
};
static struct answer stats_answer, metrics_answer;

static const char *
cached(struct answer *a, char *(*build)(void))
{
    struct bridge_pass_stats ps;
    struct dp_nl_counters c;
    bridge_get_pass_stats(&ps);
    dp_nl_get_counters(&c);
    unsigned int seqno = ovsdb_idl_get_seqno(bridge_idl());
    long long int second = (time_msec() - start_msec) / 1000;
    if (!a->text || a->seqno != seqno || a->passes != ps.passes
        || a->modify != c.modify || a->second != second) {
        free(a->text);
        a->text = build();
        a->seqno = seqno;
        a->passes = ps.passes;
        a->modify = c.modify;
        a->second = second;
    }
    return a->text;
}

static char *
stats_text(void)
{
    return stats_text_of(NULL, NULL);
}

/* ---- GET /v1/events: server-sent events. ----
 *
 * Each client's stream starts after the last event made (or after the one
 * its Last-Event-ID names, if still kept) and sends each event as
 *     id: SEQ / event: NAME / data: JSON
 * A client with nothing to read is suspended (no polling) and resumed
 * when an event comes, or every KEEPALIVE_MS for a comment line that
 * keeps proxies and libmicrohttpd's idle timeout from closing it; one
 * that does not read makes no progress and is closed by that timeout.
 * One that fell behind the events kept is told how many it missed. */
#define KEEPALIVE_MS 5000
#define MAX_STREAMS 16          /* Of the 64 connections: the other
                                 * requests keep room. */

struct stream {
    struct ovs_list node;       /* In 'streams'. */
    struct MHD_Connection *conn;
    uint64_t next;              /* The next event to send. */
    bool suspended;
    long long int keepalive;    /* When to send a comment. */
    struct ds out;              /* Made, not yet sent. */
    size_t sent;                /* Of 'out'. */
};
static struct ovs_list streams = OVS_LIST_INITIALIZER(&streams);
static uint64_t streams_seen;   /* The last event streams were woken for. */

static ssize_t
stream_read(void *s_, uint64_t pos OVS_UNUSED, char *buf, size_t max)
{
    struct stream *s = s_;
    if (s->sent == s->out.length) {
        ds_clear(&s->out);
        s->sent = 0;
        uint64_t last = events_last_seq();
        if (s->next <= last && !events_get(s->next, NULL)) {
            /* Fell behind the ring: say so, and go on from its start. */
            uint64_t first = s->next;
            while (first <= last && !events_get(first, NULL)) {
                first++;
            }
            ds_put_format(&s->out, ": %"PRIu64" events missed\n\n",
                          first - s->next);
            s->next = first;
        }
        for (int i = 0; i < 16 && s->next <= last; i++, s->next++) {
            const char *event;
            const char *json = events_get(s->next, &event);
            ds_put_format(&s->out, "id: %"PRIu64"\nevent: %s\ndata: %s\n\n",
                          s->next, event, json);
        }
        if (!s->out.length && time_msec() >= s->keepalive) {
            ds_put_cstr(&s->out, ": keepalive\n\n");
        }
        if (!s->out.length) {
            /* Nothing now: woken by stats_http_run(). */
            s->suspended = true;
            MHD_suspend_connection(s->conn);
            return 0;
        }
        s->keepalive = time_msec() + KEEPALIVE_MS;
    }
    size_t n = MIN(max, s->out.length - s->sent);
    memcpy(buf, s->out.string + s->sent, n);
    s->sent += n;
    return n;
}

static void
stream_free(void *s_)
{
    struct stream *s = s_;
    ovs_list_remove(&s->node);
    ds_destroy(&s->out);
    free(s);
}

/* Resumes the streams that have something to send: all of them after a
 * new event, each at its keepalive time; or, with 'all', every one (a
 * daemon stops only once none is suspended). */
static void
streams_wake(bool all)
{
    uint64_t last = events_last_seq();
    long long int now = time_msec();
    struct stream *s;
    LIST_FOR_EACH (s, node, &streams) {
        if (s->suspended && (all || last != streams_seen
                             || now >= s->keepalive)) {
            s->suspended = false;
            MHD_resume_connection(s->conn);
        }
    }
    streams_seen = last;
}

static enum MHD_Result respond_error(struct MHD_Connection *,
                                     unsigned int code, const char *msg);

static enum MHD_Result
respond_events(struct MHD_Connection *conn)
{
    if (ovs_list_size(&streams) >= MAX_STREAMS) {
        return respond_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                             "too many event streams open (16): close one, "
                             "or use an event hook");
    }
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
        conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci && ci->socket_context) {
        struct client *c = ci->socket_context;
        c->deadline = LLONG_MAX;    /* A stream: no answer deadline. */
    }
    struct stream *s = xzalloc(sizeof *s);
    s->conn = conn;
    s->next = events_last_seq() + 1;
    const char *last_id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                      "Last-Event-ID");
    unsigned long long id;
    if (last_id && str_to_ullong(last_id, 10, &id)
        && id < events_last_seq()) {
        s->next = id + 1;       /* Resumed: from there if still kept. */
    }
    s->keepalive = time_msec() + KEEPALIVE_MS;
    ds_init(&s->out);
    ds_put_cstr(&s->out, ": vsw events\n\n");
    ovs_list_push_back(&streams, &s->node);
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- HTTP. ---- */

static enum MHD_Result
respond(struct MHD_Connection *conn, unsigned int code, const char *type,
        char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    }
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
respond_error(struct MHD_Connection *conn, unsigned int code,
              const char *msg)
{
    struct ds out = DS_EMPTY_INITIALIZER;
    struct jw w = { &out, false };
    jw_open(&w, NULL, '{');
    jw_string(&w, "error", msg);
    jw_close(&w, '}');
    ds_put_char(&out, '\n');
    return respond(conn, code, "application/json", ds_steal_cstr(&out));
}

/* Whether HTTP Host header 'host' names a loopback address or
 * "localhost" (with or without a port). */
static bool
host_is_loopback(const char *host)
{
    if (!host) {
        return false;
    }
    char name[64];
    const char *end = (host[0] == '['
                       ? strchr(host, ']') : strchr(host, ':'));
    size_t len = end ? (size_t) (end - host) : strlen(host);
    const char *start = host[0] == '[' ? host + 1 : host;
    len -= start - host;
    if (len >= sizeof name) {
        return false;
    }
    memcpy(name, start, len);
    name[len] = '\0';
    struct in_addr a4;
    struct in6_addr a6;
    return (!strcasecmp(name, "localhost")
            || (inet_pton(AF_INET, name, &a4) == 1
                && (ntohl(a4.s_addr) >> 24) == 127)
            || (inet_pton(AF_INET6, name, &a6) == 1
                && IN6_IS_ADDR_LOOPBACK(&a6)));
}

struct framing {
    const char *length;         /* The first Content-Length. */
    bool lengths_differ;        /* Another one said something else. */
    bool chunked;               /* Transfer-Encoding was given. */
};

static enum MHD_Result
note_framing(void *f_, enum MHD_ValueKind kind OVS_UNUSED,
             const char *key, const char *value)
{
    struct framing *f = f_;
    if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        f->chunked = true;
    } else if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
        if (!f->length) {
            f->length = value;
        } else if (strcmp(f->length, value ? value : "")) {
            f->lengths_differ = true;
        }
    }
    return MHD_YES;
}

/* Whether a request says where its body ends in one way only.  Two
 * Content-Lengths that disagree, or one beside Transfer-Encoding, are how
 * requests are smuggled past a proxy; RFC 9112 6.3 makes them an error. */
static bool
framing_ok(struct MHD_Connection *conn)
{
    struct framing f = { NULL, false, false };
    MHD_get_connection_values(conn, MHD_HEADER_KIND, note_framing, &f);
    return !f.lengths_differ && !(f.length && f.chunked);
}

static enum MHD_Result
handle(void *aux, struct MHD_Connection *conn, const char *url,
       const char *method, const char *version OVS_UNUSED,
       const char *upload_data OVS_UNUSED, size_t *upload_size,
       void **state)
{
    if (!*state) {
        /* The first call is for the headers: answered on the second, so
         * that a body sent with a refused method is read and dropped. */
        *state = conn;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
            conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        if (ci && ci->socket_context) {
            struct client *c = ci->socket_context;
            c->deadline = time_msec() + ANSWER_MS;
        }
        if (!framing_ok(conn)) {
            /* Answered now: libmicrohttpd closes the connection rather
             * than guess where a body ends. */
            return respond_error(conn, MHD_HTTP_BAD_REQUEST,
                                 "conflicting Content-Length or "
                                 "Transfer-Encoding headers");
        }
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;       /* Read and ignored. */
        return MHD_YES;
    }
    if (aux == &tcp_loopback && tcp_loopback
        && !host_is_loopback(MHD_lookup_connection_value(
                                 conn, MHD_HEADER_KIND,
                                 MHD_HTTP_HEADER_HOST))) {
        return respond_error(conn, MHD_HTTP_FORBIDDEN,
                             "this endpoint listens on a loopback address: "
                             "it answers Host localhost or a loopback "
                             "address only");
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET)
        && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
        return respond_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                             "read-only: only GET and HEAD");
    }
    if (!strcmp(url, "/v1/stats")) {
        return respond(conn, MHD_HTTP_OK, "application/json",
                       xstrdup(cached(&stats_answer, stats_text)));
    }
    static const char *const one[] = { "switch", "port" };
    for (size_t i = 0; i < ARRAY_SIZE(one); i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "/v1/stats/%s/", one[i]);
        if (!strncmp(url, prefix, strlen(prefix))) {
            const char *name = url + strlen(prefix);
            char *text = stats_text_of(one[i], name);
            if (!text) {
                /* The name is the client's: echoed only if it is plain
                 * printable ASCII (the answer must stay valid JSON). */
                bool plain = true;
                for (const char *c = name; *c; c++) {
                    plain &= *c >= 0x20 && *c < 0x7f;
                }
                char *msg = (plain
                             ? xasprintf("no %s named \"%s\"", one[i], name)
                             : xasprintf("no %s by that name", one[i]));
                enum MHD_Result r = respond_error(conn, MHD_HTTP_NOT_FOUND,
                                                  msg);
                free(msg);
                return r;
            }
            return respond(conn, MHD_HTTP_OK, "application/json", text);
        }
    }
    if (!strcmp(url, "/")) {
        return respond(conn, MHD_HTTP_OK, "text/html; charset=utf-8",
                       xstrdup(vsw_stats_page));
    }
    if (!strcmp(url, "/v1/events")) {
        return respond_events(conn);
    }
    if (!strcmp(url, "/metrics")) {
        return respond(conn, MHD_HTTP_OK,
                       "text/plain; version=0.0.4; charset=utf-8",
                       xstrdup(cached(&metrics_answer, metrics_text)));
    }
    return respond_error(conn, MHD_HTTP_NOT_FOUND,
                         "no such path (/, /v1/stats, /v1/stats/switch/NAME, "
                         "/v1/stats/port/NAME, /v1/events, /metrics)");
}

/* A listening unix socket at 'path' (made again if one is left there). */
static int
listen_unix(const char *path, gid_t group)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sun.sun_path) {
        VLOG_ERR("%s: too long for a unix socket", path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    unlink(path);
    if (bind(fd, (struct sockaddr *) &sun, sizeof sun) || listen(fd, 64)) {
        VLOG_ERR("%s: %s", path, ovs_strerror(errno));
        close(fd);
        return -1;
    }
    /* Like the control socket: root and the database group. */
    if (chmod(path, 0660)
        || (group != (gid_t) -1 && chown(path, -1, group))) {
        VLOG_WARN("%s: %s", path, ovs_strerror(errno));
    }
    return fd;
}

/* Decodes %HH in a request's URL, except a path with a NUL in it ("%00"),
 * which is left as it came: no path matches it (decoded, it would end the
 * string early and "/v1/stats%00junk" would be "/v1/stats"). */
static size_t
unescape(void *aux OVS_UNUSED, struct MHD_Connection *conn OVS_UNUSED,
         char *s)
{
    return strstr(s, "%00") ? strlen(s) : MHD_http_unescape(s);
}

static void
client_notify(void *aux OVS_UNUSED, struct MHD_Connection *conn,
              void **context, enum MHD_ConnectionNotificationCode what)
{
    if (what == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
            conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct client *c = xmalloc(sizeof *c);
        c->fd = ci ? ci->connect_fd : -1;
        c->deadline = time_msec() + REQUEST_MS;
        ovs_list_push_back(&clients, &c->node);
        *context = c;
    } else if (what == MHD_CONNECTION_NOTIFY_CLOSED && *context) {
        struct client *c = *context;
        ovs_list_remove(&c->node);
        free(c);
        *context = NULL;
    }
}

/* An answer was sent (or the request given up): the next request on the
 * connection has REQUEST_MS from now. */
static void
request_done(void *aux OVS_UNUSED, struct MHD_Connection *conn,
             void **state OVS_UNUSED, enum MHD_RequestTerminationCode why)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
        conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (why == MHD_REQUEST_TERMINATED_COMPLETED_OK
        && ci && ci->socket_context) {
        struct client *c = ci->socket_context;
        if (c->deadline != LLONG_MAX) {
            c->deadline = time_msec() + REQUEST_MS;
        }
    }
}

/* Shuts down the sockets of clients past their deadline; libmicrohttpd
 * then reads the end of the stream and closes them. */
static void
expire_clients(void)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    long long int now = time_msec();
    struct client *c;
    LIST_FOR_EACH (c, node, &clients) {
        if (c->deadline <= now) {
            VLOG_WARN_RL(&rl, "stats endpoint: closed a connection whose "
                         "request took more than %d s to arrive or whose "
                         "answer took more than %d s to be read",
                         REQUEST_MS / 1000, ANSWER_MS / 1000);
            shutdown(c->fd, SHUT_RDWR);
            c->deadline = LLONG_MAX;
        }
    }
}

static long long int
next_client_deadline(void)
{
    long long int next = LLONG_MAX;
    struct client *c;
    LIST_FOR_EACH (c, node, &clients) {
        next = MIN(next, c->deadline);
    }
    return next;
}

/* 'per_ip' limits one address's connections (TCP: a client cannot take
 * them all by holding them open; the unix socket is for root and the
 * database group only). */
static struct MHD_Daemon *
start_daemon(int fd, unsigned int per_ip, void *aux)
{
    /* External epoll mode: one fd for vswitchd's poll loop, however many
     * clients, and MHD_run() never blocks. */
    return MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME, 0,
        NULL, NULL, handle, aux,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, 64u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, 10u,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, client_notify, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
        MHD_OPTION_END);
}

void
stats_http_init(gid_t group)
{
    start_msec = time_msec();
    socket_path = xasprintf("%s/stats.sock", vsw_run_dir());
    int fd = listen_unix(socket_path, group);
    if (fd < 0) {
        VLOG_WARN("no stats endpoint: cannot listen on %s", socket_path);
        return;
    }
    daemon_ = start_daemon(fd, 0, NULL);
    if (!daemon_) {
        VLOG_WARN("no stats endpoint: libmicrohttpd did not start");
        close(fd);
        return;
    }
    VLOG_INFO("stats endpoint on %s", socket_path);
}

static void
tcp_stop(void)
{
    if (tcp_daemon) {
        streams_wake(true);
        MHD_stop_daemon(tcp_daemon);
        tcp_daemon = NULL;
        VLOG_INFO("stats endpoint no longer on tcp %s", tcp_listen);
    }
    free(tcp_listen);
    tcp_listen = NULL;
    free(tcp_error);
    tcp_error = NULL;
}

const char *
stats_http_listen(const char *want)
{
    if (!want || !want[0]) {
        tcp_stop();
        return NULL;
    }
    if (tcp_listen && !strcmp(tcp_listen, want)
        && (!tcp_error || time_msec() < tcp_retry)) {
        return tcp_error;
    }
    tcp_stop();
    tcp_listen = xstrdup(want);

    struct sockaddr_storage ss;
    const char *why = vsw_check_listen(want, &ss);
    tcp_loopback = !why && (ss.ss_family == AF_INET
                            ? (ntohl(((struct sockaddr_in *) &ss)
                                     ->sin_addr.s_addr) >> 24) == 127
                            : IN6_IS_ADDR_LOOPBACK(
                                  &((struct sockaddr_in6 *) &ss)->sin6_addr));
    int fd = -1;
    if (why) {
        tcp_error = xasprintf("\"%s\": %s (vswctl set root . "
                              "stats_listen='\"127.0.0.1:9475\"', or "
                              "vswctl clear root . stats_listen)",
                              want, why);
    } else if ((fd = socket(ss.ss_family,
                            SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0
               || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int) { 1 },
                             sizeof(int))
               || bind(fd, (struct sockaddr *) &ss, ss_length(&ss))
               || listen(fd, 64)) {
        int error = errno;
        tcp_error = xasprintf("\"%s\": cannot listen there: %s%s (tried "
                              "again every %d s)", want, ovs_strerror(error),
                              error == EACCES && ss_get_port(&ss) < 1024
                              ? ": a port below 1024 needs a capability "
                                "vswitchd does not keep (use one from 1024)"
                              : "", TCP_RETRY_MS / 1000);
    } else if (!(tcp_daemon = start_daemon(fd, 8, &tcp_loopback))) {
        tcp_error = xasprintf("\"%s\": libmicrohttpd did not start", want);
    }
    if (tcp_error) {
        tcp_retry = time_msec() + TCP_RETRY_MS;
        VLOG_WARN("stats endpoint not on tcp: %s", tcp_error);
        if (fd >= 0) {
            close(fd);
        }
    } else {
        VLOG_INFO("stats endpoint also on tcp %s", want);
    }
    return tcp_error;
}

void
stats_http_run(void)
{
    if (tcp_error && time_msec() >= tcp_retry) {
        /* The address was busy or missing: tried again; a pass writes
         * Root's status anew if that changed anything. */
        char *want = xstrdup(tcp_listen);
        char *before = xstrdup(tcp_error);
        const char *after = stats_http_listen(want);
        if (!after || strcmp(after, before)) {
            bridge_force_pass();
        }
        free(before);
        free(want);
    }
    expire_clients();
    streams_wake(false);
    if (daemon_) {
        MHD_run(daemon_);
    }
    if (tcp_daemon) {
        MHD_run(tcp_daemon);
    }
}

static void
daemon_wait(struct MHD_Daemon *d)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(
        d, MHD_DAEMON_INFO_EPOLL_FD);
    if (info) {
        poll_fd_wait(info->epoll_fd, POLLIN);
    }
    MHD_UNSIGNED_LONG_LONG ms;
    if (!info || MHD_get_timeout(d, &ms) == MHD_YES) {
        poll_timer_wait(info ? MIN(ms, INT_MAX) : 100);
    }
}

void
stats_http_wait(void)
{
    if (tcp_error) {
        poll_timer_wait_until(tcp_retry);
    }
    long long int deadline = next_client_deadline();
    const struct stream *st;
    LIST_FOR_EACH (st, node, &streams) {
        if (st->suspended) {
            if (events_last_seq() != streams_seen) {
                poll_immediate_wake();
            }
            deadline = MIN(deadline, st->keepalive);
        }
    }
    if (deadline != LLONG_MAX) {
        poll_timer_wait_until(deadline);
    }
    if (daemon_) {
        daemon_wait(daemon_);
    }
    if (tcp_daemon) {
        daemon_wait(tcp_daemon);
    }
}

void
stats_http_exit(void)
{
    tcp_stop();
    free(stats_answer.text);
    free(metrics_answer.text);
    stats_answer.text = metrics_answer.text = NULL;
    if (daemon_) {
        streams_wake(true);
        MHD_stop_daemon(daemon_);
        daemon_ = NULL;
    }
    if (socket_path) {
        unlink(socket_path);
        free(socket_path);
        socket_path = NULL;
    }
}
