/* Transmit scheduling on a device (rtnetlink RTM_*QDISC, RTM_*TCLASS, what
 * "tc qdisc" and "tc class" do): an htb root qdisc of vsw's, handle
 * DP_QDISC_MAJOR:, and its classes, which share the device's transmit
 * bandwidth by rate (each class's guaranteed minimum), ceiling and
 * quantum (how what the others leave is shared).  A packet goes to the
 * class its skb priority names (nftables "meta priority set"), else to the
 * default class.  Replacing a device's root qdisc makes its transmit one
 * queue; deleting vsw's puts the kernel's default back (mq, or noqueue for
 * a virtual device). */
#ifndef DATAPATH_QDISC_H
#define DATAPATH_QDISC_H 1

#include <stddef.h>
#include <stdint.h>

#define DP_QDISC_MAJOR 0x7673u      /* "vs": vsw's root qdisc is 7673: */
#define DP_QDISC_HANDLE(MINOR) ((DP_QDISC_MAJOR << 16) | (MINOR))

struct dp_htb_class {
    uint32_t classid, parent;
    uint64_t rate, ceil;            /* Bytes per second. */
    uint32_t quantum;               /* Bytes. */
};

/* A device's root qdisc and, when it is an htb, its classes. */
struct dp_qdisc_root {
    char kind[16];                  /* "" if the device has none. */
    uint32_t handle;                /* 0: the kernel's default qdisc. */
    uint32_t default_minor;         /* htb: the default class's minor. */
    struct dp_htb_class *classes;
    size_t n_classes;
};
void dp_qdisc_root_destroy(struct dp_qdisc_root *);

/* Reads device 'ifindex''s root qdisc (and its classes, if it is vsw's
 * htb).  Returns 0 or a positive errno. */
int dp_qdisc_read(int ifindex, struct dp_qdisc_root *);

/* Makes vsw's htb the root of 'ifindex' (replacing what is there), its
 * unclassified traffic going to class 'default_minor'. */
int dp_qdisc_add_htb(int ifindex, uint32_t default_minor);
/* Deletes vsw's root qdisc from 'ifindex'. */
int dp_qdisc_del_htb(int ifindex);
/* Adds or changes class 'c' of vsw's htb on 'ifindex'. */
int dp_qdisc_set_class(int ifindex, const struct dp_htb_class *c);
int dp_qdisc_del_class(int ifindex, uint32_t classid);

#endif /* datapath/qdisc.h */
