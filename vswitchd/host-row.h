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
 * can have made: 0 to 2^62 - 1 (another client may have written anything,
 * and incrementing one near the top of the range fails). */
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
 * instance ("MACHINE/BOOT/PIDNS/PID/START": /etc/machine-id, the kernel's
 * boot id, its pid namespace, pid and start time) in its Host row's
 * status:instance, and removes it when it exits cleanly.  A vswitchd that
 * finds another instance there stands by (changes neither its kernel nor
 * the database) while that one lives.  Whether it lives is judged without
 * comparing clocks: one whose process is visible here (same kernel, same
 * pid namespace) while it runs, so a restart or kill -9 is taken over at
 * once; one of this machine before a reboot (or in another pid namespace)
 * once its row has not changed for a heartbeat and a second; another
 * machine's once its row has not changed for VSW_HOST_MISSED_BEATS
 * heartbeats, as this vswitchd saw it while connected.  Two that start together both write; the last writer
 * keeps the row, and the other sees it refreshed and stands by. */
enum vsw_host_claim {
    VSW_HOST_MINE,              /* Ours already, or nobody's. */
    VSW_HOST_TAKE,              /* Another's that is gone: ours now. */
    VSW_HOST_STANDBY,           /* Another's that lives: hands off. */
};

/* This process's instance string.  Caller must not free. */
const char *vsw_host_instance(void);

/* What to do with a row whose status:instance is 'theirs' (NULL if none)
 * for instance 'mine', when the row has been seen unchanged for 'still_ms'
 * ms with a heartbeat of 'heartbeat' ms; 'alive_here' says whether an
 * instance whose process is visible here still runs. */
enum vsw_host_claim vsw_host_claim(const char *theirs, const char *mine,
                                   long long int still_ms, int heartbeat,
                                   bool (*alive_here)(const char *instance));

/* Whether 'instance''s process is visible here and still runs. */
bool vsw_host_instance_alive_here(const char *instance);

#endif /* vswitchd/host-row.h */
