/* Events; see events.h.
 *
 * Made where vswitchd learns of a change: the status a pass writes (the
 * status before and after tell what happened), the carrier updates, and
 * the database's tracked deletions.  Each is one JSON object:
 *
 *   {"schema_version": 1, "seq": 7, "time": "2026-12-03T17:40:00.123Z",
 *    "event": "port-attached", "host": "", "switch": "s0", "port": "vnet0",
 *    "vm": {"vm_id": "...", "vm_name": "vm1", ...}, "details": {...}}
 *
 * Events: switch-created, switch-deleted, port-attached, port-detached,
 * link-up, link-down, vf-assigned, vf-fallback, offload-renegotiated,
 * flow-refused, database-damaged.  They go to the event hooks and into a
 * ring of the last EVENTS_KEPT for GET /v1/events. */
#include <config.h>

#include "vswitchd/events.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "smap.h"
#include "util.h"
#include "vsw-idl.h"
#include "vswitchd/event-hooks.h"
#include "vswitchd/paths.h"

VLOG_DEFINE_THIS_MODULE(events);

#define EVENTS_KEPT 256

static struct {
    char *json;
    char *event;
} ring[EVENTS_KEPT];
static uint64_t last_seq;

uint64_t
events_last_seq(void)
{
    return last_seq;
}

const char *
events_get(uint64_t seq, const char **event)
{
    if (!seq || seq > last_seq || last_seq - seq >= EVENTS_KEPT) {
        return NULL;
    }
    if (event) {
        *event = ring[seq % EVENTS_KEPT].event;
    }
    return ring[seq % EVENTS_KEPT].json;
}

/* Values come from any database client (a VM's name): each is cut at
 * VALUE_MAX bytes, so that an event stays small. */
#define VALUE_MAX 1024

static void
put_string(struct json *o, const char *key, const char *value)
{
    size_t len = value ? strlen(value) : 0;
    if (len > VALUE_MAX) {
        len = VALUE_MAX;
        while (len && ((unsigned char) value[len] & 0xc0) == 0x80) {
            len--;              /* Not inside a UTF-8 sequence. */
        }
    }
    json_object_put(o, key, (value
                             ? json_string_create_nocopy(xmemdup0(value, len))
                             : json_null_create()));
}

void
vsw_event(const char *event, const char *sw, const char *port,
          const struct vswrec_port *p, const struct smap *details)
{
    struct json *o = json_object_create();
    json_object_put(o, "schema_version", json_integer_create(1));
    json_object_put(o, "seq", json_integer_create(last_seq + 1));

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char when[40];
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03ldZ", (long) tv.tv_usec / 1000);
    put_string(o, "time", when);
    put_string(o, "event", event);
    put_string(o, "host", vsw_host_id());
    put_string(o, "switch", sw);
    put_string(o, "port", port);
    if (p) {
        static const char *const keys[][2] = {
            { "vm-id", "vm_id" }, { "vm-uuid", "vm_uuid" },
            { "vm-name", "vm_name" }, { "iface-id", "iface_id" },
            { "attached-mac", "attached_mac" },
        };
        struct json *vm = json_object_create();
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
            const char *v = smap_get(&p->external_ids, keys[i][0]);
            if (v) {
                put_string(vm, keys[i][1], v);
            }
        }
        json_object_put(o, "vm", vm);
    }
    struct json *d = json_object_create();
    if (details) {
        struct smap_node *node;
        SMAP_FOR_EACH (node, details) {
            put_string(d, node->key, node->value);
        }
    }
    json_object_put(o, "details", d);

    char *text = json_to_string(o, JSSF_SORT);
    json_destroy(o);
    last_seq++;
    free(ring[last_seq % EVENTS_KEPT].json);
    free(ring[last_seq % EVENTS_KEPT].event);
    ring[last_seq % EVENTS_KEPT].json = text;
    ring[last_seq % EVENTS_KEPT].event = xstrdup(event);
    VLOG_DBG("event %s", text);
    event_hooks_submit(event, text);
}

static bool
changed(const struct smap *old, const struct smap *new, const char *key,
        const char **was, const char **is)
{
    *was = old ? smap_get(old, key) : NULL;
    *is = new ? smap_get(new, key) : NULL;
    return !nullable_string_is_equal(*was, *is);
}

void
events_switch_status(const char *sw, const struct smap *old,
                     const struct smap *new)
{
    const char *was, *is;
    if (changed(old, new, "state", &was, &is) && !was && is) {
        struct smap d = SMAP_INITIALIZER(&d);
        smap_add(&d, "state", is);
        vsw_event("switch-created", sw, NULL, NULL, &d);
        smap_destroy(&d);
    }
    if (changed(old, new, "flows_refused", &was, &is)
        && is && atoi(is) > (was ? atoi(was) : 0)) {
        struct smap d = SMAP_INITIALIZER(&d);
        smap_add(&d, "flows_refused", is);
        smap_add(&d, "reason", smap_get_def(new, "flows_reason", ""));
        vsw_event("flow-refused", sw, NULL, NULL, &d);
        smap_destroy(&d);
    }
}

void
events_port_status(const char *sw, const struct vswrec_port *p,
                   const struct smap *old, const struct smap *new)
{
    const char *was, *is;
    struct smap d = SMAP_INITIALIZER(&d);
    if (changed(old, new, "ifindex", &was, &is) && (!was || !is)) {
        if (is) {
            smap_add(&d, "ifindex", is);
            smap_add(&d, "kind", smap_get_def(new, "kind", ""));
        }
        vsw_event(is ? "port-attached" : "port-detached", sw, p->name, p,
                  &d);
        smap_clear(&d);
    }
    if (changed(old, new, "link", &was, &is) && is && was) {
        vsw_event(!strcmp(is, "up") ? "link-up" : "link-down", sw, p->name,
                  p, NULL);
    }
    if (changed(old, new, "kind", &was, &is) && was && is
        && (!strcmp(was, "vf") || !strcmp(is, "vf"))) {
        bool vf = !strcmp(is, "vf");
        if (vf) {
            smap_add(&d, "vf_index", smap_get_def(new, "vf_index", ""));
            smap_add(&d, "representor",
                     smap_get_def(new, "representor", ""));
        } else {
            smap_add(&d, "reason", smap_get_def(new, "reason", ""));
        }
        vsw_event(vf ? "vf-assigned" : "vf-fallback", sw, p->name, p, &d);
    }
    smap_destroy(&d);
}

void
events_offload(const char *sw, const struct smap *old_effective,
               const struct smap *new_effective)
{
    if (smap_is_empty(old_effective) || smap_equal(old_effective,
                                                   new_effective)) {
        return;     /* The first negotiation is the switch's creation. */
    }
    struct smap d = SMAP_INITIALIZER(&d);
    struct smap_node *node;
    SMAP_FOR_EACH (node, new_effective) {
        const char *was = smap_get(old_effective, node->key);
        if (!was || strcmp(was, node->value)) {
            smap_add_format(&d, node->key, "%s -> %s", was ? was : "none",
                            node->value);
        }
    }
    vsw_event("offload-renegotiated", sw, NULL, NULL, &d);
    smap_destroy(&d);
}
