/* SR-IOV on a switch's uplink (the PF): what it can do, and the safe order
 * that makes it an SR-IOV switch.
 *
 * Capability and VF counts come from sysfs (sriov_totalvfs, sriov_numvfs,
 * sriov_drivers_autoprobe); the eswitch mode from devlink (generic netlink,
 * with the kernel's extack words on refusal); VF settings (MAC, VLAN,
 * spoof check) through IFLA_VF_* on the PF.  Representors are found by
 * phys_switch_id + phys_port_name "pf<N>vf<M>" in the link dump, never by
 * interface name.  Called by vswitchd's reconciler. */
#ifndef OFFLOAD_SRIOV_H
#define OFFLOAD_SRIOV_H 1

#include <stdbool.h>

#define OFL_SRIOV_MAX_VFS 256

struct ofl_sriov_pf {
    bool capable;               /* The PF has sriov_numvfs. */
    int total_vfs;              /* sriov_totalvfs, or -1 if not said. */
    int num_vfs;                /* sriov_numvfs now. */
    char bus[32], dev[64];      /* devlink handle, e.g. pci 0000:03:00.0. */
    bool devlink;               /* The kernel has devlink. */
    int eswitch_mode;           /* OFL_ESWITCH_*, or -1 if unknown. */
    int n_vf_info;              /* Entries in 'vfs', as the PF reports. */
    struct ofl_sriov_vf {
        char mac[18];           /* "xx:xx:xx:xx:xx:xx". */
        int vlan;
        int spoofchk;           /* 0, 1, or -1 if not reported. */
    } vfs[OFL_SRIOV_MAX_VFS];
    char reason[256];           /* Why not capable / no devlink. */
};

#define OFL_ESWITCH_LEGACY 0
#define OFL_ESWITCH_SWITCHDEV 1

/* Probes PF 'ifname': sysfs, the devlink eswitch mode, and each VF's MAC,
 * VLAN and spoof check (IFLA_VFINFO_LIST).  Read-only.  Returns 0 (see
 * 'pf->capable') or a positive errno. */
int ofl_sriov_probe(const char *ifname, struct ofl_sriov_pf *pf);

/* Each returns 0 or a positive errno; dp_nl_error() says why, with the
 * kernel's words where it gave any. */
int ofl_sriov_set_num_vfs(const char *ifname, int n);
int ofl_sriov_set_autoprobe(const char *ifname, bool on);
int ofl_sriov_set_eswitch_mode(const struct ofl_sriov_pf *, int mode);

/* Configures VF 'vf' of PF 'pf_ifindex': 'mac' ("00:00:00:00:00:00" to
 * clear), 'vlan' (0: none) and spoof checking. */
int ofl_sriov_set_vf(int pf_ifindex, int vf, const char *mac, int vlan,
                     bool spoofchk);

/* Parses phys_port_name "pf<P>vf<V>" into 'vf'.  Returns false if it is not
 * a VF representor's. */
bool ofl_sriov_parse_rep_name(const char *phys_port_name, int *vf);

/* Whether 'link' is a VF representor of PF 'pf' (the same phys_switch_id,
 * a phys_port_name "pf<P>vf<V>"); its VF into '*vf'. */
struct dp_link;
bool ofl_sriov_rep_of(const struct dp_link *pf, const struct dp_link *link,
                      int *vf);

#endif /* offload/sriov.h */
