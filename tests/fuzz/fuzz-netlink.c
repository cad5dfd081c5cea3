/* libFuzzer target: what vswitchd parses of the kernel's netlink messages
 * (extended ACKs, link notifications, ethtool FEATURES_GET and RSS_GET
 * replies).  The kernel is trusted, but a parser that reads past a
 * message's end on a short or odd attribute is a bug all the same.  The
 * first byte picks the parser; the rest is the message. */
#include <config.h>

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/link.h"
#include "datapath/netlink.h"
#include "offload/ethtool.h"
#include "offload/rss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_link_msg(const struct nlmsghdr *h, void *links)
{
    struct dp_link_event ev;
    dp_links_update(links, h, &ev);
    (void) strlen(ev.old_alias);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    /* A private, aligned copy of exactly the message bytes, so that the
     * sanitizer sees any read past them. */
    size_t n = size - 1;
    void *msg = malloc(n ? n : 1);
    memcpy(msg, data + 1, n);

    switch (data[0] % 4) {
    case 0:
        if (n >= sizeof(struct nlmsgerr)) {
            const char *s = dp_nl_parse_extack(msg, n, data[0] >> 2
                                               ? NLM_F_ACK_TLVS : 0);
            if (s) {
                (void) strlen(s);
            }
        }
        break;
    case 1: {
        /* The parser behind the table of links, twice over the same
         * table so that updates and deletions of known links run too. */
        struct dp_links links;
        struct dp_nl_listener l = { .link_msg = fuzz_link_msg,
                                    .aux = &links };
        dp_links_init(&links);
        dp_nl_parse_link_notifications(msg, n, &l);
        dp_nl_parse_link_notifications(msg, n, &l);
        dp_links_destroy(&links);
        break;
    }
    case 2: {
        const struct nlmsghdr *h = msg;
        if (n >= sizeof *h && h->nlmsg_len <= n) {
            struct ofl_features *fs = calloc(1, sizeof *fs);   /* As its callers do. */
            ofl_ethtool_parse_features(h, fs);
            free(fs);
        }
        break;
    }
    case 3: {
        const struct nlmsghdr *h = msg;
        if (n >= sizeof *h && h->nlmsg_len <= n) {
            struct ofl_rss *rss = calloc(1, sizeof *rss);
            ofl_rss_parse_reply(h, rss);
            free(rss);
        }
        break;
    }
    }
    free(msg);
    return 0;
}
