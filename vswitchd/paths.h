/* Where vsw keeps its files, shared by vswitchd and vswctl.
 *
 * The state directory holds the embedded database (conf.db) and logs; the
 * run directory holds sockets and pidfiles.  Each is, in order of
 * precedence, what the command line set, the environment variable
 * VSW_STATE_DIR / VSW_RUN_DIR, or /var/lib/vsw and /run/vsw.  Pointing both
 * at private directories gives an isolated instance, e.g. one per network
 * namespace in tests. */
#ifndef VSW_PATHS_H
#define VSW_PATHS_H 1

const char *vsw_state_dir(void);
const char *vsw_run_dir(void);
void vsw_set_state_dir(const char *);
void vsw_set_run_dir(const char *);

/* Creates 'dir' and its missing parents with 'mode' ("mkdir -p").  Returns
 * 0 or a positive errno. */
int vsw_make_dir(const char *dir, unsigned int mode);

/* Each returns a malloc()'d string that the caller frees. */
char *vsw_db_path(void);         /* STATE/conf.db */
char *vsw_db_socket(void);       /* RUN/db.sock */
char *vsw_default_db(void);      /* "unix:RUN/db.sock" */
char *vsw_ctl_socket(void);      /* RUN/vswitchd.ctl: vswitchd's unixctl */

/* The host this process manages switches for (see Switch.host): the
 * VSW_HOST environment variable, or "" (a database used by one host). */
const char *vsw_host_id(void);
void vsw_set_host_id(const char *);

/* schema/vswitch.ovsschema, compiled in (generated at build time). */
extern const char vsw_schema_text[];

#endif /* vswitchd/paths.h */
