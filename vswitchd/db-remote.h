/* A database given as several servers (the members of a Raft cluster,
 * "unix:A,unix:B,unix:C" or tcp:/ssl: remotes).  OVS's client session
 * tries them in turn, but once it has tried all of them while the cluster
 * elects a new leader it waits 1, 2, 4 and then 8 s between rounds, so a
 * leader's failure could keep vswitchd (and vswctl) away from the database
 * for 8 s after the new leader is elected.  Here a client that has been
 * without a connection for a second starts a new round at once, each
 * second, with the list in another order.
 *
 * A member that stops answering without closing its connections (a frozen
 * or partitioned server: its socket stays open) would otherwise hold the
 * client for good on a unix socket, where OVS sends no probes: every
 * member is probed after 2 s of silence and dropped 2 s later: within
 * the 6 s after which a host that writes no heartbeat (at the shortest
 * useful heartbeat, 2 s) looks gone to "vswctl --wait".  (OVN's clients
 * wait 5 s; a server that stalls longer than 2 s, writing a snapshot of a
 * big database, drops its clients, which come back at once.) */
#ifndef VSWITCHD_DB_REMOTE_H
#define VSWITCHD_DB_REMOTE_H 1

#include <stdbool.h>
#include <stddef.h>

struct ovsdb_idl;
struct svec;

/* ms of silence from a member before an echo request, and then before its
 * connection is dropped; a one-off request waits as long for its reply. */
#define VSW_DB_PROBE_INTERVAL 2000

struct vsw_db_remote {
    char **members;             /* The remotes, split at ','. */
    size_t n;
    size_t turn;                /* Rotations done. */
    long long int down_since;   /* When it was last seen unconnected, or 0
                                 * while connected. */
    long long int next_round;   /* No new round before then. */
};

/* 'remote' is what --db says; 'idl' was created with it. */
void vsw_db_remote_init(struct vsw_db_remote *, struct ovsdb_idl *,
                        const char *remote);
void vsw_db_remote_destroy(struct vsw_db_remote *);

/* Call after ovsdb_idl_run(): a new round of connections if 'idl' has been
 * unconnected for a second (several members only). */
void vsw_db_remote_run(struct vsw_db_remote *, struct ovsdb_idl *);
void vsw_db_remote_wait(const struct vsw_db_remote *);

#endif /* vswitchd/db-remote.h */
