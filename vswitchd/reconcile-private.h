/* Helpers shared by reconcile.c (switches) and reconcile-port.c (ports).
 * Each records a failure as a sentence in 'error' and clears '*ok'. */
#ifndef VSWITCHD_RECONCILE_PRIVATE_H
#define VSWITCHD_RECONCILE_PRIVATE_H 1

#include <stdbool.h>

#include "openvswitch/compiler.h"

struct dp_link;
struct dp_links;
struct ds;
struct rc_ops;

void rc_err(bool *ok, struct ds *error, const char *fmt, ...)
    OVS_PRINTF_FORMAT(3, 4);

/* Brings link 'ifindex' ('link' as dumped, or NULL if just created) up
 * unless it is.  Returns true if it made a call. */
bool rc_ensure_up(bool *ok, struct ds *error, const struct dp_link *link,
                  int ifindex, const char *what, const struct rc_ops *);

/* Renames our 'link' to 'name' unless it has that name.  Returns true if it
 * made a call. */
bool rc_ensure_name(bool *ok, struct ds *error, const struct dp_links *,
                    const struct dp_link *link, const char *name,
                    const struct rc_ops *);

/* Finishes the creation of device 'ifindex', made under a temporary name
 * (vsw_internal_ifname(VSW_NAME_TEMP)): tags it 'tag', then renames it
 * 'name'.  In that order a crash can never leave an untagged device under a
 * name vsw wants (which would look foreign forever after): an untagged
 * device under a temporary name is a leftover, deleted by the next pass; a
 * tagged one is found by its tag and renamed.  'extra_ifindex', if
 * nonzero, gets 'extra_tag' before the rename (the other end of a veth).
 * Ends the record of 'tmp' (rc_ops.temp_begin), whatever happens.
 * Returns true on success; otherwise records why in 'error', deletes the
 * device and returns false. */
bool rc_tag_and_name(bool *ok, struct ds *error, int ifindex,
                     const char *tmp, const char *tag, int extra_ifindex,
                     const char *extra_tag, const char *name,
                     const char *what, const struct rc_ops *);

/* Turns the host's IPv6 off on 'name', a device inside a switch (the
 * bridge, a bridge port), unless 'link' (as dumped; NULL if just made)
 * shows it off already.  Returns true if it made a call. */
bool rc_ensure_no_ipv6(bool *ok, struct ds *error, const struct dp_link *link,
                       const char *name, const struct rc_ops *);

/* Whether this pass deleted 'link' (as dumped) as unwanted: its name is
 * free for whoever wants it now (a port moved to another switch in one
 * transaction, deleted and added under the same name). */
bool rc_deleted_in_pass(const struct dp_link *link);

/* Frees 'sw''s index of ports by uuid (reconcile-port.c). */
struct rc_switch;
void rc_port_index_destroy(struct rc_switch *);

#endif /* vswitchd/reconcile-private.h */
