/* Events: what happened to switches and ports, as one JSON document each,
 * for the event hooks (event-hooks.c) and the stats endpoint's
 * GET /v1/events; see events.c. */
#ifndef VSWITCHD_EVENTS_H
#define VSWITCHD_EVENTS_H 1

#include <stdbool.h>
#include <stdint.h>

struct smap;
struct vswrec_port;

/* An event, with 'details' (may be NULL) as string members.  'sw' and
 * 'port' may be NULL; 'p' (may be NULL) gives the port's VM identity from
 * its external_ids. */
void vsw_event(const char *event, const char *sw, const char *port,
               const struct vswrec_port *p, const struct smap *details);

/* The events a change of an object's status means (status.c and the
 * carrier updates call these with the status before and after). */
void events_switch_status(const char *sw, const struct smap *old,
                          const struct smap *new);
void events_port_status(const char *sw, const struct vswrec_port *p,
                        const struct smap *old, const struct smap *new);
void events_offload(const char *sw, const struct smap *old_effective,
                    const struct smap *new_effective);

/* The recent events, by sequence number (1, 2, ...): the last one made,
 * and the JSON text of event 'seq' (NULL if it is older than those kept,
 * or not made yet), with its name in '*event' if 'event' is nonnull. */
uint64_t events_last_seq(void);
const char *events_get(uint64_t seq, const char **event);

#endif /* vswitchd/events.h */
