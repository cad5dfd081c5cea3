/* libFuzzer target: the value checks and parsers every door uses (vswctl's
 * arguments, vswitchd's reading of database rows): names, namespaces,
 * MACs, owner ids, VLAN specs, RSS keys and hash fields.  The first byte
 * picks the parser; the rest is the value, as a C string. */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/ifname.h"
#include "offload/rss.h"
#include "vswitchd/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';

    switch (data[0] % 7) {
    case 0: {
        const char *why = dp_ifname_check(s);
        /* A name it accepts fits an interface name buffer. */
        if (!why && (strlen(s) == 0 || strlen(s) > 15)) {
            abort();
        }
        vsw_ifname_is_internal(s);
        break;
    }
    case 1: {
        const char *why = dp_netns_check(s);
        if (!why && (strchr(s, '/') || !strcmp(s, "..") || !*s)) {
            abort();
        }
        break;
    }
    case 2: {
        uint8_t mac[6];
        if (!vsw_check_mac(s, mac) && (strlen(s) != 17 || (mac[0] & 1))) {
            abort();
        }
        break;
    }
    case 3: {
        /* Numbers only: names would ask NSS, slowly, for nothing. */
        long id = -1;
        if (strspn(s, "0123456789") == strlen(s)
            && !vsw_check_owner(s, true, &id)
            && (id < 0 || id > 4294967294L)) {
            abort();
        }
        break;
    }
    case 4: {
        const char *mode;
        int64_t tag = 0, *trunks = NULL;
        size_t n_trunks = 0;
        bool has_tag;
        char *error = vsw_parse_vlan(s, &mode, &tag, &has_tag, &trunks,
                                     &n_trunks);
        for (size_t i = 0; !error && i < n_trunks; i++) {
            if (trunks[i] < 1 || trunks[i] > 4094) {
                abort();
            }
        }
        if (!error && has_tag && (tag < 1 || tag > 4094)) {
            abort();
        }
        free(error);
        free(trunks);
        break;
    }
    case 5: {
        uint8_t key[OFL_RSS_MAX_KEY];
        ofl_rss_key_parse(s, key);
        break;
    }
    case 6: {
        uint64_t bits;
        ofl_rss_fields_parse(s, &bits);
        break;
    }
    }
    free(s);
    return 0;
}
