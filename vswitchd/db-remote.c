/* A database of several servers; see db-remote.h. */
#include <config.h>

#include "vswitchd/db-remote.h"

#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(db_remote);

#define ROUND_INTERVAL 1000     /* ms unconnected before a new round. */

/* The probe belongs to the session: each new one needs it again. */
static void
set_probe(const struct vsw_db_remote *r, struct ovsdb_idl *idl)
{
    if (r->n >= 2) {
        ovsdb_idl_set_probe_interval(idl, VSW_DB_PROBE_INTERVAL);
    }
}

void
vsw_db_remote_init(struct vsw_db_remote *r, struct ovsdb_idl *idl,
                   const char *remote)
{
    memset(r, 0, sizeof *r);
    char *copy = xstrdup(remote), *save = NULL;
    for (char *m = strtok_r(copy, ",", &save); m;
         m = strtok_r(NULL, ",", &save)) {
        r->members = xrealloc(r->members, (r->n + 1) * sizeof *r->members);
        r->members[r->n++] = xstrdup(m);
    }
    free(copy);
    set_probe(r, idl);
}

void
vsw_db_remote_destroy(struct vsw_db_remote *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->members[i]);
    }
    free(r->members);
    memset(r, 0, sizeof *r);
}

void
vsw_db_remote_run(struct vsw_db_remote *r, struct ovsdb_idl *idl)
{
    if (r->n < 2) {
        return;
    }
    long long int now = time_msec();
    if (ovsdb_idl_is_connected(idl)) {
        r->down_since = 0;
        return;
    }
    if (!r->down_since) {
        r->down_since = now;
        r->next_round = now + ROUND_INTERVAL;
    }
    if (now < r->next_round) {
        return;
    }
    /* The same members, from the next one on: another remote string, so
     * the client opens a new session, which has no backoff. */
    r->turn++;
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < r->n; i++) {
        ds_put_format(&s, "%s%s", i ? "," : "",
                      r->members[(r->turn + i) % r->n]);
    }
    VLOG_DBG("no database connection for %lld ms: connecting again, "
             "%s first", now - r->down_since, r->members[r->turn % r->n]);
    ovsdb_idl_set_remote(idl, ds_cstr(&s), true);
    set_probe(r, idl);
    ds_destroy(&s);
    r->next_round = now + ROUND_INTERVAL;
}

void
vsw_db_remote_wait(const struct vsw_db_remote *r)
{
    if (r->n >= 2 && r->down_since) {
        poll_timer_wait_until(r->next_round);
    }
}
