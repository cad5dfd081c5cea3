/* Linux bridges: creating the bridge device behind a vsw switch.  Ports
 * join a bridge through dp_link_set_master() (datapath/link.h). */
#ifndef DATAPATH_BRIDGE_H
#define DATAPATH_BRIDGE_H 1

/* Creates bridge 'name' (down, STP off) and stores its ifindex in
 * '*ifindex'.  Returns 0 or a positive errno (EEXIST if a link of that name
 * exists; dp_nl_error() has the kernel's words). */
int dp_bridge_create(const char *name, int *ifindex);

#endif /* datapath/bridge.h */
