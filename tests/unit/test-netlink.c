/* Unit tests for datapath/netlink.c: extended-ACK parsing of NLMSG_ERROR
 * payloads laid out as the kernel sends them (netlink_ack() in
 * net/netlink/af_netlink.c): struct nlmsgerr, then, unless NLM_F_CAPPED,
 * the original request's payload, then NLMSGERR_ATTR_* TLVs. */
#include <config.h>

#include <errno.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "datapath/link.h"
#include "datapath/netlink.h"
#include "util.h"

#define BUF_SIZE 512

/* Appends attribute 'type' with 'len' bytes of 'data' at 'ofs'; returns the
 * new offset. */
static size_t
put_attr(uint8_t *buf, size_t ofs, uint16_t type, const void *data,
         size_t len)
{
    struct nlattr nla = { .nla_len = NLA_HDRLEN + len, .nla_type = type };
    memcpy(buf + ofs, &nla, sizeof nla);
    memcpy(buf + ofs + NLA_HDRLEN, data, len);
    return ofs + NLA_ALIGN(nla.nla_len);
}

static void
test_capped_with_message(void **state)
{
    uint8_t buf[BUF_SIZE] = {0};
    struct nlmsgerr *err = (struct nlmsgerr *) buf;
    const char msg[] = "Unknown device type";
    uint32_t offs = 20;

    err->error = -EOPNOTSUPP;
    err->msg.nlmsg_len = NLMSG_HDRLEN + 32;     /* Request not echoed. */
    size_t len = sizeof *err;
    len = put_attr(buf, len, NLMSGERR_ATTR_OFFS, &offs, sizeof offs);
    len = put_attr(buf, len, NLMSGERR_ATTR_MSG, msg, sizeof msg);

    const char *got = dp_nl_parse_extack(err, len,
                                         NLM_F_CAPPED | NLM_F_ACK_TLVS);
    assert_non_null(got);
    assert_string_equal(got, msg);
}

static void
test_uncapped_skips_request(void **state)
{
    uint8_t buf[BUF_SIZE] = {0};
    struct nlmsgerr *err = (struct nlmsgerr *) buf;
    const char msg[] = "Can not enslave a bridge to a bridge";
    size_t req_payload = 24;

    err->error = -ELOOP;
    err->msg.nlmsg_len = NLMSG_HDRLEN + req_payload;
    /* The echoed request payload, full of bytes that look like TLVs. */
    memset(buf + sizeof *err, 0x05, req_payload);
    size_t len = sizeof *err + req_payload;
    len = put_attr(buf, len, NLMSGERR_ATTR_MSG, msg, sizeof msg);

    const char *got = dp_nl_parse_extack(err, len, NLM_F_ACK_TLVS);
    assert_non_null(got);
    assert_string_equal(got, msg);
}

static void
test_no_tlvs(void **state)
{
    uint8_t buf[BUF_SIZE] = {0};
    struct nlmsgerr *err = (struct nlmsgerr *) buf;

    err->error = -EINVAL;
    assert_null(dp_nl_parse_extack(err, sizeof *err, NLM_F_CAPPED));
}

static void
test_malformed(void **state)
{
    uint8_t buf[BUF_SIZE] = {0};
    struct nlmsgerr *err = (struct nlmsgerr *) buf;
    const char unterminated[4] = { 'a', 'b', 'c', 'd' };

    err->error = -EINVAL;
    size_t len = put_attr(buf, sizeof *err, NLMSGERR_ATTR_MSG, unterminated,
                          sizeof unterminated);
    /* A message without its NUL is not trusted. */
    assert_null(dp_nl_parse_extack(err, len, NLM_F_CAPPED | NLM_F_ACK_TLVS));

    /* An attribute longer than the buffer. */
    struct nlattr bad = { .nla_len = 200, .nla_type = NLMSGERR_ATTR_MSG };
    memcpy(buf + sizeof *err, &bad, sizeof bad);
    assert_null(dp_nl_parse_extack(err, sizeof *err + 8,
                                   NLM_F_CAPPED | NLM_F_ACK_TLVS));

    /* Shorter than a struct nlmsgerr. */
    assert_null(dp_nl_parse_extack(err, 4, NLM_F_CAPPED | NLM_F_ACK_TLVS));
}

static void
test_error_text(void **state)
{
    dp_nl_set_error(ENODEV, "bridge %s vanished", "br9");
    assert_string_equal(dp_nl_error(), "No such device: bridge br9 vanished");
}

/* One RTM_NEWLINK (or 'type') for ifindex 'ifindex', 'family', 'flags',
 * name 'name' and MTU 'mtu', laid out as rtnl_fill_ifinfo() does; returns
 * its length. */
static size_t
link_msg(uint8_t *buf, uint16_t type, int family, int ifindex,
         unsigned int flags, const char *name, uint32_t mtu)
{
    struct nlmsghdr h = { .nlmsg_type = type };
    struct ifinfomsg ifi = { .ifi_family = family, .ifi_index = ifindex,
                             .ifi_flags = flags };
    size_t ofs = NLMSG_HDRLEN;

    memset(buf, 0, BUF_SIZE);
    memcpy(buf + ofs, &ifi, sizeof ifi);
    ofs += NLMSG_ALIGN(sizeof ifi);
    ofs = put_attr(buf, ofs, IFLA_IFNAME, name, strlen(name) + 1);
    ofs = put_attr(buf, ofs, IFLA_MTU, &mtu, sizeof mtu);
    h.nlmsg_len = ofs;
    memcpy(buf, &h, sizeof h);
    return ofs;
}

/* What the listener saw. */
struct seen {
    struct dp_links links;
    struct dp_link_event ev[8];
    size_t n;
};

static void
seen_link_msg(const struct nlmsghdr *h, void *seen_)
{
    struct seen *seen = seen_;
    struct dp_link_event ev;
    dp_links_update(&seen->links, h, &ev);
    if (seen->n < ARRAY_SIZE(seen->ev)) {
        seen->ev[seen->n++] = ev;
    }
}

static enum dp_link_change
apply(struct seen *seen, const uint8_t *buf, size_t len)
{
    struct dp_nl_listener l = { .link_msg = seen_link_msg, .aux = seen };
    seen->n = 0;
    dp_nl_parse_link_notifications(buf, len, &l);
    return seen->n ? seen->ev[seen->n - 1].change : DP_LINK_IGNORED;
}

/* Link notifications keep a table of links: a link seen for the first time
 * or changed in what a pass converges is a change; one whose carrier alone
 * changed is a carrier change; a repeat is nothing. */
static void
test_link_notifications(void **state)
{
    uint8_t buf[BUF_SIZE];
    struct seen seen = { .n = 0 };
    size_t len;

    dp_links_init(&seen.links);
    len = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, IFF_UP, "t1", 1500);
    assert_int_equal(apply(&seen, buf, len), DP_LINK_CHANGED);
    assert_string_equal(dp_links_by_name(&seen.links, "t1")->name, "t1");
    assert_int_equal(apply(&seen, buf, len), DP_LINK_SAME);

    /* A VM opened the tap: carrier only. */
    len = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, IFF_UP | IFF_LOWER_UP,
                   "t1", 1500);
    assert_int_equal(apply(&seen, buf, len), DP_LINK_CARRIER);
    assert_true(seen.ev[0].carrier);

    /* MTU, name, admin state: changes; the old name is reported. */
    len = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, IFF_UP | IFF_LOWER_UP,
                   "t1", 9000);
    assert_int_equal(apply(&seen, buf, len), DP_LINK_CHANGED);
    assert_int_equal(dp_links_by_index(&seen.links, 7)->mtu, 9000);
    len = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, IFF_UP, "t2", 9000);
    assert_int_equal(apply(&seen, buf, len), DP_LINK_CHANGED);
    assert_string_equal(seen.ev[0].old_name, "t1");
    assert_null(dp_links_by_name(&seen.links, "t1"));
    assert_non_null(dp_links_by_name(&seen.links, "t2"));
    len = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, 0, "t2", 9000);
    assert_int_equal(apply(&seen, buf, len), DP_LINK_CHANGED);

    /* Gone, then back with the same facts: new again. */
    len = link_msg(buf, RTM_DELLINK, AF_UNSPEC, 7, 0, "t2", 9000);
    assert_int_equal(apply(&seen, buf, len), DP_LINK_GONE);
    assert_null(dp_links_by_index(&seen.links, 7));
    assert_null(dp_links_by_name(&seen.links, "t2"));
    len = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, 0, "t2", 9000);
    assert_int_equal(apply(&seen, buf, len), DP_LINK_CHANGED);

    /* A bridge port's AF_BRIDGE message: its VLANs or port state. */
    len = link_msg(buf, RTM_NEWLINK, AF_BRIDGE, 7, 0, "t2", 9000);
    enum dp_link_change c = apply(&seen, buf, len);
    assert_true(c == DP_LINK_VLANS || seen.n == 0);

    /* Truncated or garbage: nothing, never a read past the end. */
    assert_int_equal(apply(&seen, buf, 3), DP_LINK_IGNORED);
    dp_links_destroy(&seen.links);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capped_with_message),
        cmocka_unit_test(test_uncapped_skips_request),
        cmocka_unit_test(test_no_tlvs),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_error_text),
        cmocka_unit_test(test_link_notifications),
    };
    return cmocka_run_group_tests_name("netlink", tests, NULL, NULL);
}
