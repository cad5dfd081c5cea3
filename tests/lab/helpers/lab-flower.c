/* lab-flower: vsw's flower rules (offload/flower.c) driven by hand, for lab
 * tests and benchmarks on a kernel with cls_flower.
 *
 *   lab-flower install DEV OUT DST-MAC [hw|sw]
 *       one rule per frame type (IPv4, IPv6, ARP) on DEV's ingress:
 *       destination DST-MAC -> redirect to OUT; prints each rule as read
 *       back ("prio P handle H in_hw|not_in_hw count N")
 *   lab-flower dump DEV
 *       every rule on DEV's ingress: "ours|theirs prio P handle H
 *       in_hw|not_in_hw count N packets N bytes N hw_packets N  RULE"
 *   lab-flower get DEV PRIO HANDLE
 *       the kernel's RTM_NEWTFILTER message for that rule, in hex (one
 *       line): recorded replies for the unit tests (tests/data/flower-*)
 *   lab-flower now
 *       CLOCK_MONOTONIC in seconds, for timing in the guest's shell
 *   lab-flower many DEV OUT N [hw|sw]
 *       N IPv4 rules, destinations 02:00:xx:xx:xx:xx, in one batch as
 *       vswitchd installs them; prints the seconds it took and the
 *       modifying requests made
 *
 * Exit status 0, or 1 with the kernel's words on stderr. */
#include <config.h>

#include <linux/if_ether.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datapath/netlink.h"
#include "offload/flower.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "tc.h"
#include "util.h"

static int
ifindex_of(const char *name)
{
    int ifindex = if_nametoindex(name);
    if (!ifindex) {
        fprintf(stderr, "lab-flower: no device %s\n", name);
        exit(1);
    }
    return ifindex;
}

static void
print_rule(const struct ofl_flow_installed *r)
{
    printf("%s prio %u handle %#x %s count %d packets %llu bytes %llu "
           "hw_packets %llu  %s\n", r->ours ? "ours" : "theirs", r->prio,
           r->handle, r->in_hw ? "in_hw" : "not_in_hw", r->in_hw_count,
           (unsigned long long) r->packets, (unsigned long long) r->bytes,
           (unsigned long long) r->hw_packets, r->desc);
}

static void
fill(struct ofl_flow_rule *r, int dev, int out, const uint8_t dst[6],
     uint16_t eth_type, bool hw)
{
    memset(r, 0, sizeof *r);
    r->ifindex = dev;
    r->eth_type = eth_type;
    memcpy(r->dst, dst, 6);
    memset(r->dst_mask, 0xff, 6);
    r->action = OFL_FLOW_REDIRECT;
    r->out_ifindex = out;
    r->skip_sw = hw;
    ofl_flow_cookie(r);
}

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
    if (argc >= 5 && !strcmp(argv[1], "install")) {
        int dev = ifindex_of(argv[2]), out = ifindex_of(argv[3]);
        struct eth_addr mac;
        if (!eth_addr_from_string(argv[4], &mac)) {
            fprintf(stderr, "lab-flower: bad MAC %s\n", argv[4]);
            return 1;
        }
        bool hw = argc > 5 && !strcmp(argv[5], "hw");
        if (ofl_flower_ensure_ingress(dev)) {
            fprintf(stderr, "lab-flower: clsact: %s\n", dp_nl_error());
            return 1;
        }
        enum { N = ARRAY_SIZE(ofl_flow_eth_types) };
        struct ofl_flow_rule rules[N];
        struct ofl_flow_installed got[N];
        int errors[N];
        char *why[N];
        for (size_t i = 0; i < N; i++) {
            fill(&rules[i], dev, out, mac.ea, ofl_flow_eth_types[i], hw);
        }
        ofl_flower_install_many(rules, N, got, errors, why);
        for (size_t i = 0; i < N; i++) {
            if (errors[i]) {
                fprintf(stderr, "lab-flower: %s\n", why[i]);
                return 1;
            }
            ofl_flow_describe(&rules[i], got[i].desc, sizeof got[i].desc);
            print_rule(&got[i]);
        }
        return 0;
    } else if (argc == 3 && !strcmp(argv[1], "dump")) {
        struct ofl_flow_installed *rules;
        size_t n;
        if (ofl_flower_dump(ifindex_of(argv[2]), &rules, &n)) {
            fprintf(stderr, "lab-flower: %s\n", dp_nl_error());
            return 1;
        }
        for (size_t i = 0; i < n; i++) {
            print_rule(&rules[i]);
        }
        free(rules);
        return 0;
    } else if (argc == 5 && !strcmp(argv[1], "get")) {
        struct tcf_id id = tc_make_tcf_id(ifindex_of(argv[2]), 0,
                                          atoi(argv[3]), TC_INGRESS);
        struct tc_flower flower;
        id.handle = strtoul(argv[4], NULL, 0);
        memset(&flower, 0, sizeof flower);
        const struct ofpbuf *raw;
        if (tc_get_flower(&id, &flower) || !(raw = dp_nl_ovs_last_reply())) {
            fprintf(stderr, "lab-flower: %s\n", dp_nl_error());
            return 1;
        }
        for (size_t i = 0; i < raw->size; i++) {
            printf("%02x", ((const uint8_t *) raw->data)[i]);
        }
        printf("\n");
        return 0;
    } else if (argc == 2 && !strcmp(argv[1], "now")) {
        printf("%.6f\n", now());
        return 0;
    } else if (argc >= 5 && !strcmp(argv[1], "many")) {
        int dev = ifindex_of(argv[2]), out = ifindex_of(argv[3]);
        int n = atoi(argv[4]);
        bool hw = argc > 5 && !strcmp(argv[5], "hw");
        if (ofl_flower_ensure_ingress(dev)) {
            fprintf(stderr, "lab-flower: clsact: %s\n", dp_nl_error());
            return 1;
        }
        struct dp_nl_counters c0, c1;
        struct ofl_flow_rule *rules = xcalloc(n + 1, sizeof *rules);
        struct ofl_flow_installed *got = xcalloc(n + 1, sizeof *got);
        int *errors = xcalloc(n + 1, sizeof *errors);
        char **why = xcalloc(n + 1, sizeof *why);
        dp_nl_get_counters(&c0);
        double t0 = now();
        for (int i = 0; i < n; i++) {
            uint8_t mac[6] = { 0x02, 0, i >> 24, i >> 16, i >> 8, i };
            fill(&rules[i], dev, out, mac, ETH_P_IP, hw);
        }
        /* As vswitchd installs them: one batch. */
        ofl_flower_install_many(rules, n, got, errors, why);
        for (int i = 0; i < n; i++) {
            if (errors[i]) {
                fprintf(stderr, "lab-flower: rule %d: %s\n", i, why[i]);
                return 1;
            }
        }
        double t1 = now();
        dp_nl_get_counters(&c1);
        printf("%d rules in %.3f s (%.0f/s), %llu modifying requests\n", n,
               t1 - t0, n / (t1 - t0),
               (unsigned long long) (c1.modify - c0.modify));
        return 0;
    }
    fprintf(stderr, "usage: lab-flower install DEV OUT DST-MAC [hw|sw] | "
            "dump DEV | get DEV PRIO HANDLE | now | many DEV OUT N [hw|sw]\n");
    return 2;
}
