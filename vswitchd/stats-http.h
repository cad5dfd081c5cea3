/* The stats endpoint: vswitchd's counters and states over read-only HTTP
 * (JSON at /v1/stats, the Prometheus text format at /metrics) on a unix
 * socket in the run directory, served from vswitchd's poll loop without
 * ever waiting on a client or asking the kernel; see stats-http.c. */
#ifndef VSWITCHD_STATS_HTTP_H
#define VSWITCHD_STATS_HTTP_H 1

#include <sys/types.h>

/* Listens on RUN/stats.sock, for root and group 'group' ((gid_t) -1:
 * none).  Without it vswitchd runs on, and says why. */
void stats_http_init(gid_t group);
/* Also listens on TCP address 'listen' (Root.stats_listen; NULL or "":
 * the unix socket only).  Returns NULL, or why the endpoint is not on
 * that address (for Root.status). */
const char *stats_http_listen(const char *listen);
void stats_http_run(void);
void stats_http_wait(void);
void stats_http_exit(void);

#endif /* vswitchd/stats-http.h */
