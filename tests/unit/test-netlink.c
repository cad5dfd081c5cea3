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

#include "datapath/netlink.h"

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

/* Link notifications: a link seen for the first time or changed in what a
 * pass converges needs a pass; one whose carrier alone changed only
 * updates the status. */
static void
test_link_notifications(void **state)
{
    uint8_t buf[BUF_SIZE];
    struct dp_nl_carrier *c = NULL;
    size_t n = 0, allocated = 0;
    size_t len;

    dp_nl_links_forget();
    len = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, IFF_UP, "t1", 1500);
    assert_true(dp_nl_parse_link_notifications(buf, len, &c, &n,
                                               &allocated));
    assert_int_equal(n, 0);

    /* A VM opened the tap: carrier only. */
    len = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, IFF_UP | IFF_LOWER_UP,
                   "t1", 1500);
    assert_false(dp_nl_parse_link_notifications(buf, len, &c, &n,
                                                &allocated));
    assert_int_equal(n, 1);
    assert_int_equal(c[0].ifindex, 7);
    assert_true(c[0].carrier);

    /* MTU, name, admin state: a pass. */
    len = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, IFF_UP | IFF_LOWER_UP,
                   "t1", 9000);
    assert_true(dp_nl_parse_link_notifications(buf, len, &c, &n,
                                               &allocated));
    len = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, IFF_UP, "t2", 9000);
    assert_true(dp_nl_parse_link_notifications(buf, len, &c, &n,
                                               &allocated));
    len = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, 0, "t2", 9000);
    assert_true(dp_nl_parse_link_notifications(buf, len, &c, &n,
                                               &allocated));

    /* Gone: a pass; back with the same facts: still a pass (new again). */
    len = link_msg(buf, RTM_DELLINK, AF_UNSPEC, 7, 0, "t2", 9000);
    assert_true(dp_nl_parse_link_notifications(buf, len, &c, &n,
                                               &allocated));
    len = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, 0, "t2", 9000);
    assert_true(dp_nl_parse_link_notifications(buf, len, &c, &n,
                                               &allocated));

    /* A link the last dump recorded: its first notification may be a
     * carrier change alone. */
    dp_nl_links_forget();
    dp_nl_link_seen(9, dp_nl_link_sig("t9", 0, true, 1500, "", "", 0,
                                      false));
    n = 0;
    len = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 9, IFF_UP | IFF_LOWER_UP,
                   "t9", 1500);
    assert_false(dp_nl_parse_link_notifications(buf, len, &c, &n,
                                                &allocated));
    assert_int_equal(n, 1);

    /* Truncated or garbage: a pass, never a read past the end. */
    assert_false(dp_nl_parse_link_notifications(buf, 3, &c, &n,
                                                &allocated));
    free(c);
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
