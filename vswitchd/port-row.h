/* New rows.  A row's provisional uuid taken from the kernel's random
 * numbers, and a new Port row with the values every writer gives one
 * (vswctl add-port, vswitchd adopting a tap): the defaults that the
 * schema's own cannot say (one queue, Hyper-V's VMQ weight). */
#ifndef VSWITCHD_PORT_ROW_H
#define VSWITCHD_PORT_ROW_H 1

struct ovsdb_idl_row;
struct ovsdb_idl_table_class;
struct ovsdb_idl_txn;
struct vswrec_port;
struct vswrec_switch;

/* Inserts a row of 'class' in 'txn' under a uuid read from getrandom(),
 * which the row keeps in the database (a retried transaction can tell
 * whether it was committed).  The IDL's own generator seeds itself with
 * OpenSSL's SHA-1 and so starts OpenSSL (its configuration and providers),
 * which was a third of a short vswctl call's CPU time. */
const struct ovsdb_idl_row *vsw_row_insert(
    struct ovsdb_idl_txn *, const struct ovsdb_idl_table_class *);

/* vsw_row_insert() for table TABLE (port, switch, acl, root) as its
 * generated struct, like vswrec_TABLE_insert(). */
#define VSW_ROW_INSERT(TXN, TABLE)                                      \
    CONTAINER_OF(CONST_CAST(struct ovsdb_idl_row *,                     \
                            vsw_row_insert(TXN, &vswrec_table_##TABLE)), \
                 struct vswrec_##TABLE, header_)

/* Inserts in 'txn' port 'name' of kind 'kind' on switch 'sw' (and its
 * host), with the defaults; the caller sets the rest. */
struct vswrec_port *vsw_port_row_insert(struct ovsdb_idl_txn *txn,
                                        const char *name, const char *kind,
                                        const struct vswrec_switch *sw);

#endif /* vswitchd/port-row.h */
