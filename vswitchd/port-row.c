/* New rows; see port-row.h. */
#include <config.h>

#include "vswitchd/port-row.h"

#include <sys/random.h>

#include "ovsdb-idl.h"
#include "uuid.h"
#include "vsw-idl.h"

const struct ovsdb_idl_row *
vsw_row_insert(struct ovsdb_idl_txn *txn,
               const struct ovsdb_idl_table_class *class)
{
    struct uuid u;
    if (getrandom(&u, sizeof u, 0) != sizeof u) {
        uuid_generate(&u);
    }
    uuid_set_bits_v4(&u);
    /* The row keeps it in the database: a client whose answer was lost
     * with its connection finds by it whether its transaction was
     * committed (ctl/vswctl.c). */
    return ovsdb_idl_txn_insert_persist_uuid(txn, class, &u);
}

struct vswrec_port *
vsw_port_row_insert(struct ovsdb_idl_txn *txn, const char *name,
                    const char *kind, const struct vswrec_switch *sw)
{
    struct vswrec_port *p = VSW_ROW_INSERT(txn, port);
    vswrec_port_set_name(p, name);
    vswrec_port_set_host(p, sw->host);
    vswrec_port_set_switch_(p, sw);
    vswrec_port_set_kind(p, kind);
    vswrec_port_set_queues(p, 1);
    vswrec_port_set_iov_weight(p, 0);
    vswrec_port_set_vmq_weight(p, 100);     /* Hyper-V's -VmqWeight. */
    return p;
}
