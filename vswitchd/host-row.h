/* Host rows: one per host's vswitchd in a database (schema/vswitch.md,
 * table Host).  Its own next_cfg/cur_cfg is what "vswctl --wait" waits
 * for, and its last_seen, refreshed every heartbeat, says whether the host
 * is alive.  The rules both vswitchd and vswctl read those by live here:
 * the heartbeat's setting, when a host counts as gone, how its state is
 * said. */
#ifndef VSWITCHD_HOST_ROW_H
#define VSWITCHD_HOST_ROW_H 1

#include <stdbool.h>
#include <stdint.h>

struct ds;
struct ovsdb_idl;
struct vswrec_host;
struct vswrec_root;

/* Root.other_config:host-heartbeat: ms between two updates of a host's
 * last_seen (default 10 s; a value outside 500..600000 is the default). */
int vsw_host_heartbeat(const struct vswrec_root *);

/* NULL if 's' (a host-heartbeat value, NULL for none) is valid, else why
 * not, naming the range. */
const char *vsw_check_host_heartbeat(const char *s);

/* NULL if 'id' is a valid host id (--host-id, --host, Switch.host): empty
 * for the only host of an embedded database, else 1..64 of A-Z a-z 0-9
 * '.', '_' and '-', not starting with '-' or '.'; else why not. */
const char *vsw_check_host_id(const char *id);

/* Whether a Host row's next_cfg or cur_cfg is a value vswctl's counting
 * can have made: 0..2^62 (another client may have written anything, and
 * incrementing one near the top of the range fails). */
bool vsw_host_cfg_in_range(int64_t cfg);

/* A host whose last_seen is this many heartbeats old is not waited for. */
#define VSW_HOST_MISSED_BEATS 3

/* The Host row named 'name' in 'idl', or NULL. */
const struct vswrec_host *vsw_host_find(struct ovsdb_idl *, const char *name);

/* Milliseconds since 'h' was last seen at wall-clock time 'now' (ms since
 * the epoch), or -1 if it never was. */
long long int vsw_host_age(const struct vswrec_host *h, long long int now);

/* Whether 'h' is gone: never seen, or not for VSW_HOST_MISSED_BEATS
 * heartbeats of 'heartbeat' ms. */
bool vsw_host_is_gone(const struct vswrec_host *h, int heartbeat,
                      long long int now);

/* Appends 'h''s state to 'out': "current", "behind by N", and "; not seen
 * for T s" or "; never seen" when gone. */
void vsw_host_put_state(const struct vswrec_host *h, int heartbeat,
                        long long int now, struct ds *out);

/* One host id, one vswitchd.  Each vswitchd on a shared database puts its
 * instance ("BOOT-ID/PID/START": the kernel's boot id, its pid and its
 * process's start time) in its Host row's status:instance.  A vswitchd
 * that finds another instance there stands by (changes neither its kernel
 * nor the row) while that one lives: on this machine, while that process
 * runs (a restart or kill -9 is taken over at once); on another, until its
 * row is not refreshed for VSW_HOST_MISSED_BEATS heartbeats.  Two that
 * start together both write; the last writer keeps the row.  (Two on one
 * kernel must share the pid namespace, as a host's daemons do.) */
enum vsw_host_claim {
    VSW_HOST_MINE,              /* Ours already, or nobody's. */
    VSW_HOST_TAKE,              /* Another's that is gone: ours now. */
    VSW_HOST_STANDBY,           /* Another's that lives: hands off. */
};

/* This process's instance string.  Caller must not free. */
const char *vsw_host_instance(void);

/* What to do with a row whose status:instance is 'theirs' (NULL if none),
 * 'gone' as vsw_host_is_gone() says, for instance 'mine'; 'alive_here'
 * says whether an instance of this machine still runs. */
enum vsw_host_claim vsw_host_claim(const char *theirs, const char *mine,
                                   bool gone,
                                   bool (*alive_here)(const char *instance));

/* Whether 'instance' is of this machine and its process still runs. */
bool vsw_host_instance_alive_here(const char *instance);

#endif /* vswitchd/host-row.h */
