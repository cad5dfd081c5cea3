/* A new Port row with the values every writer gives one (vswctl add-port,
 * vswitchd adopting a tap): the defaults that the schema's own cannot say
 * (one queue, Hyper-V's VMQ weight). */
#ifndef VSWITCHD_PORT_ROW_H
#define VSWITCHD_PORT_ROW_H 1

struct ovsdb_idl_txn;
struct vswrec_port;
struct vswrec_switch;

/* Inserts in 'txn' port 'name' of kind 'kind' on switch 'sw' (and its
 * host), with the defaults; the caller sets the rest. */
struct vswrec_port *vsw_port_row_insert(struct ovsdb_idl_txn *txn,
                                        const char *name, const char *kind,
                                        const struct vswrec_switch *sw);

#endif /* vswitchd/port-row.h */
