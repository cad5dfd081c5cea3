/* veth pairs: the host vNIC of an internal switch (one end in the bridge,
 * the other the host's interface), and later internal/veth ports. */
#ifndef DATAPATH_VETH_H
#define DATAPATH_VETH_H 1

/* Creates the veth pair 'name' <-> 'peer', both down, and stores their
 * ifindexes.  Returns 0 or a positive errno (dp_nl_error() says why). */
int dp_veth_create(const char *name, const char *peer,
                   int *ifindex, int *peer_ifindex);

#endif /* datapath/veth.h */
