/* The embedded database.
 *
 * When vswitchd is given no --db, it keeps conf.db in its state directory,
 * creating it from the compiled-in schema on first start and converting it
 * (ovsdb-tool convert, keeping every row and a backup) when the schema
 * version changed, and runs ovsdb-server for it on RUN/db.sock.  A server
 * left running by a vswitchd that was killed is adopted, not duplicated;
 * a server that dies is restarted.  A database file that does not read to
 * its end (a torn tail: committed transactions lost) is noticed at start,
 * copied aside and reported until an operator acknowledges it; errors the
 * server logs while running are repeated in vswitchd's log.  Called by
 * vswitchd/main.c. */
#ifndef VSWITCHD_DBSERVER_H
#define VSWITCHD_DBSERVER_H 1

/* Prepares conf.db and starts (or adopts) ovsdb-server, waiting until its
 * socket accepts connections.  'tool_dir', if nonnull, is where
 * ovsdb-server and ovsdb-tool are looked for first.  Returns the remote
 * ("unix:...") for the IDL; exits with a message on failure. */
char *dbserver_start(const char *tool_dir);

void dbserver_run(void);
void dbserver_wait(void);

/* Makes the database socket (and vswitchd's control socket) group 'gid''s,
 * mode 0770, so that the group's members can run vswctl; call before
 * dbserver_start(). */
#include <sys/types.h>
void dbserver_set_group(gid_t gid);
gid_t dbserver_group(void);     /* (gid_t) -1 if none. */

/* Why conf.db is known to be damaged, or NULL.  While it is, vswitchd
 * deletes none of the kernel objects it tagged: the rows that wanted them
 * may be the ones that were lost. */
const char *dbserver_damage(void);

/* The operator has checked the configuration: forget the damage. */
void dbserver_acknowledge_damage(void);

/* After a big change: asks the embedded server (if it runs) to compact
 * conf.db and to give back to the system the memory that frees, without
 * waiting for it.  A 1000-port transaction left ~1.7 MB of ovsdb-server's
 * heap in malloc's free lists, which only a compaction trims. */
void dbserver_compact(void);

/* Stops the server (on vswitchd's clean exit) and waits up to 2 s for it
 * to end.  One that ended cleanly leaves a note of the file, so that the
 * next start, finding it unchanged, skips the damage check and the schema
 * comparison (each an ovsdb-tool run that reads the file). */
void dbserver_stop(void);

#endif /* vswitchd/dbserver.h */
