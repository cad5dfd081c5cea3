/* A new Port row with the values every writer gives one; see port-row.h. */
#include <config.h>

#include "vswitchd/port-row.h"

#include "vsw-idl.h"

struct vswrec_port *
vsw_port_row_insert(struct ovsdb_idl_txn *txn, const char *name,
                    const char *kind, const struct vswrec_switch *sw)
{
    struct vswrec_port *p = vswrec_port_insert(txn);
    vswrec_port_set_name(p, name);
    vswrec_port_set_host(p, sw->host);
    vswrec_port_set_switch_(p, sw);
    vswrec_port_set_kind(p, kind);
    vswrec_port_set_queues(p, 1);
    vswrec_port_set_iov_weight(p, 0);
    vswrec_port_set_vmq_weight(p, 100);     /* Hyper-V's -VmqWeight. */
    return p;
}
