/* The status writer: what a pass observed, into the rows' status columns
 * (Switch.status, offload_requested / _effective / _reason, Port.status),
 * written only for the objects the pass converged and only where it
 * differs from what the database holds, so an idle switch costs no
 * database write, and one change one row.  The caller owns the
 * transaction. */
#ifndef VSWITCHD_STATUS_H
#define VSWITCHD_STATUS_H 1

#include <stdbool.h>
#include <stddef.h>

struct dp_links;
struct rc_switch;
struct vsw_offload;
struct switch_rows;

/* Writes, into the transaction open on the rows' database, the status of
 * the switches 'rcs' (rows[i] is rcs[i]'s row, with its ports) and of their dirty ports;
 * where the offloads of switch i were negotiated ('offload_ran[i]'), its
 * offload columns and its clean ports' VMQ keys as well.  'kernel' is the
 * table of links (a tap's queues, carrier).  The ACL rows of the dirty
 * ports get their status.  Returns
 * true if it wrote anything. */
bool status_write(const struct rc_switch *rcs,
                  const struct switch_rows *rows, size_t n,
                  const struct vsw_offload *offs, const bool *offload_ran,
                  const struct dp_links *kernel);

/* Forgets what port 'port''s status was last found to be, so that the
 * next pass that converges it compares it with the database again: to be
 * called when its row's status column changes (anyone's write), or the row
 * goes or comes back. */
struct uuid;
void status_forget_port(const struct uuid *port);

#endif /* vswitchd/status.h */
