/* vsw's libvirt qemu hook: puts a domain's interfaces on vsw switches.
 *
 * libvirt runs each file in /etc/libvirt/hooks/qemu.d/ as
 *     HOOK DOMAIN OPERATION SUB-OPERATION EXTRA
 * with the domain's XML on stdin (libvirt's docs/hooks.rst).  This program
 * is installed there (docs/vm-managers.md).  For each interface of the
 * domain that is vsw's it runs one `vswctl` transaction:
 *
 *   <interface type='ethernet'> with <target dev='X' managed='no'/>: QEMU
 *     opens tap X, which must exist first.  X is vsw's when a vsw device
 *     of that name exists, or when the domain's metadata names a switch
 *     for it (see below).  At prepare the port is made (owned by the user
 *     QEMU runs as, with the VM's MAC and identity) and waited for; at
 *     started it is marked active, at stopped inactive; at release it is
 *     deleted if this hook made it (or the metadata says release='delete')
 *     and kept otherwise (release='keep').
 *   <interface type='ethernet'> that libvirt makes the tap for, and
 *   <interface type='bridge'> whose <source bridge='B'/> is a vsw switch:
 *     libvirt makes the tap (vnetN); vswitchd adopts it when it lands in
 *     the bridge; at started (and reconnect) this hook gives the adopted
 *     port the VM's identity and MAC, so its guards apply.
 *
 * Identity, as Open vSwitch's libvirt integration writes it: external_ids
 * vm-id and vm-uuid (the domain's UUID), vm-name, attached-mac, iface-id
 * (a <virtualport> interfaceid, if any) and iface-status.
 *
 * Metadata (any number of interface elements; matched by target or mac):
 *   <metadata>
 *     <vsw:ports xmlns:vsw="urn:vsw:libvirt:1">
 *       <vsw:interface target="vm1-eth0" switch="s0" release="keep"/>
 *     </vsw:ports>
 *   </metadata>
 *
 * Rules libvirt imposes, kept here: never call libvirt (it would
 * deadlock); finish in bounded time (each vswctl call is bounded by
 * HOOK_TIMEOUT seconds, and killed past it: a hung vswitchd fails a VM
 * start with a message instead of hanging it); exit 0 at reconnect and
 * attach whatever happens (a failure there kills the running VM); print
 * nothing at migrate and restore (empty output leaves the XML as it is).
 * Only prepare fails (exit 1) when a port cannot be made: QEMU could not
 * open it anyway. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#define HOOK_TIMEOUT 10                 /* Seconds for one vswctl call. */
#define MAX_XML (16 * 1024 * 1024)
#define META_NS "urn:vsw:libvirt:1"
#define TAG_PREFIX "vsw:"               /* vsw's ifalias tags. */

#ifndef VSW_BINDIR
#define VSW_BINDIR "/usr/bin"
#endif

static const char *domain_name;

static void
say(const char *fmt, ...)
{
    va_list args;
    fprintf(stderr, "vsw libvirt hook (%s): ", domain_name);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
}

/* ---- Arguments for vswctl. ---- */

struct args {
    char **v;
    size_t n, allocated;
};

static void
add(struct args *a, const char *fmt, ...)
{
    if (a->n + 2 > a->allocated) {
        a->allocated = a->allocated ? a->allocated * 2 : 32;
        a->v = realloc(a->v, a->allocated * sizeof *a->v);
        if (!a->v) {
            abort();
        }
    }
    va_list args;
    va_start(args, fmt);
    if (vasprintf(&a->v[a->n], fmt, args) < 0) {
        abort();
    }
    va_end(args);
    a->v[++a->n] = NULL;
}

/* ---- The domain. ---- */

struct iface {
    const char *type;           /* "ethernet", "bridge", ... */
    char *mac, *target, *bridge, *interfaceid;
    bool managed_no;            /* <target managed='no'/>. */
    char *meta_switch;          /* The metadata's switch for it, or NULL. */
    bool row;                   /* The database has a port of its target's
                                 * name (asked for managed='no' ones). */
    char *release;              /* The metadata's release policy, or NULL. */
};

static char *
attr(xmlNodePtr node, const char *name)
{
    return node ? (char *) xmlGetProp(node, (const xmlChar *) name) : NULL;
}

static xmlNodePtr
child(xmlNodePtr node, const char *name)
{
    for (xmlNodePtr c = node ? node->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && !c->ns
            && !strcmp((const char *) c->name, name)) {
            return c;
        }
    }
    return NULL;
}

static char *
text_of(xmlNodePtr node)
{
    return node ? (char *) xmlNodeGetContent(node) : NULL;
}

/* Whether interface name 'name' is safe to put in a path and an argument
 * (vswctl checks it in full). */
static bool
plain_ifname(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (!len || len > 15 || !strcmp(name, ".") || !strcmp(name, "..")) {
        return false;
    }
    for (const char *c = name; *c; c++) {
        if (*c == '/' || *c <= ' ' || *c == 0x7f) {
            return false;
        }
    }
    return true;
}

/* Whether device 'name' in this kernel carries a vsw tag (a switch's
 * bridge, or a port's device): read from sysfs, no database needed. */
static bool
is_vsw_device(const char *name, bool bridge)
{
    if (!plain_ifname(name)) {
        return false;
    }
    char path[64], alias[256] = "";
    snprintf(path, sizeof path, "/sys/class/net/%s/ifalias", name);
    FILE *f = fopen(path, "r");
    if (!f) {
        return false;
    }
    bool ok = fgets(alias, sizeof alias, f) != NULL;
    fclose(f);
    if (!ok || strncmp(alias, TAG_PREFIX, strlen(TAG_PREFIX))) {
        return false;
    }
    /* A bridge's tag is "vsw:<uuid>" with no role. */
    alias[strcspn(alias, "\n")] = '\0';
    return !bridge || !strchr(alias + strlen(TAG_PREFIX), ':');
}

/* The user QEMU runs as: the domain's DAC label if it has one ("+uid:+gid"
 * or "user:group"), else qemu.conf's "user", else Debian's default,
 * "libvirt-qemu", if that user exists, else root. */
static char *
qemu_user(xmlXPathContextPtr xp)
{
    xmlXPathObjectPtr r = xmlXPathEvalExpression(
        (const xmlChar *) "/domain/seclabel[@model='dac']/label", xp);
    char *label = (r && r->nodesetval && r->nodesetval->nodeNr
                   ? text_of(r->nodesetval->nodeTab[0]) : NULL);
    xmlXPathFreeObject(r);
    if (label && label[0]) {
        label[strcspn(label, ":")] = '\0';
        char *user = strdup(label + (label[0] == '+'));
        xmlFree(label);
        return user;
    }
    xmlFree(label);

    FILE *f = fopen("/etc/libvirt/qemu.conf", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char user[256];
        if (sscanf(line, " user = \"%255[^\"]\"", user) == 1) {
            fclose(f);
            return strdup(user);
        }
    }
    if (f) {
        fclose(f);
    }
    return strdup(getpwnam("libvirt-qemu") ? "libvirt-qemu" : "root");
}

/* The vsw metadata entry for an interface, matched by target or MAC. */
static xmlNodePtr
meta_for(xmlXPathContextPtr xp, const char *target, const char *mac)
{
    xmlXPathObjectPtr r = xmlXPathEvalExpression(
        (const xmlChar *) "/domain/metadata/vsw:ports/vsw:interface", xp);
    xmlNodePtr found = NULL;
    for (int i = 0; r && r->nodesetval && i < r->nodesetval->nodeNr
                    && !found; i++) {
        xmlNodePtr n = r->nodesetval->nodeTab[i];
        char *t = attr(n, "target"), *m = attr(n, "mac");
        if ((t && target && !strcmp(t, target))
            || (m && mac && !strcasecmp(m, mac))) {
            found = n;
        }
        xmlFree(t);
        xmlFree(m);
    }
    xmlXPathFreeObject(r);
    return found;
}

/* ---- Running vswctl, bounded. ---- */

static pid_t child_pid;

static void
on_alarm(int sig)
{
    (void) sig;
    if (child_pid > 0) {
        kill(child_pid, SIGKILL);
    }
}

/* Runs vswctl with 'a', killed after HOOK_TIMEOUT + 2 seconds (vswctl's
 * own --timeout should end it first).  With 'out', its output is read
 * into '*out' (malloc()'d); without, it goes to stderr (libvirt reads
 * our stdout at some operations).  Returns its exit status, or -1. */
static int
run_vswctl(struct args *a, char **out)
{
    char self[PATH_MAX], tool[PATH_MAX + 16];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[len > 0 ? len : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) {
        *slash = '\0';
    }
    /* vswctl beside this program (a build directory), else where vsw is
     * installed. */
    snprintf(tool, sizeof tool, "%s/vswctl", self);
    if (access(tool, X_OK)) {
        snprintf(tool, sizeof tool, "%s/vswctl", VSW_BINDIR);
    }
    free(a->v[0]);
    a->v[0] = strdup(tool);

    int pipefd[2] = { -1, -1 };
    if (out && pipe(pipefd)) {
        say("cannot make a pipe: %s", strerror(errno));
        return -1;
    }
    child_pid = fork();
    if (child_pid < 0) {
        say("cannot start vswctl: %s", strerror(errno));
        return -1;
    }
    if (!child_pid) {
        dup2(out ? pipefd[1] : STDERR_FILENO, STDOUT_FILENO);
        if (out) {
            close(pipefd[0]);
            close(pipefd[1]);
        }
        execv(tool, a->v);
        fprintf(stderr, "vsw libvirt hook: cannot run %s: %s\n", tool,
                strerror(errno));
        _exit(127);
    }
    struct sigaction sa = { .sa_handler = on_alarm };
    sigaction(SIGALRM, &sa, NULL);
    alarm(HOOK_TIMEOUT + 2);
    if (out) {
        /* Small answers (one port's columns); the pipe ends when vswctl
         * does, or is killed. */
        close(pipefd[1]);
        size_t n = 0, allocated = 4096;
        *out = malloc(allocated);
        for (;;) {
            if (n + 1 >= allocated) {
                allocated *= 2;
                *out = realloc(*out, allocated);
            }
            ssize_t r = read(pipefd[0], *out + n, allocated - n - 1);
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r <= 0) {
                break;
            }
            n += r;
        }
        (*out)[n] = '\0';
        close(pipefd[0]);
    }
    int status;
    while (waitpid(child_pid, &status, 0) < 0 && errno == EINTR) {
        continue;
    }
    alarm(0);
    child_pid = 0;
    if (WIFSIGNALED(status)) {
        say("vswctl did not finish within %d s and was stopped: is "
            "vswitchd running? (systemctl status vswitchd)",
            HOOK_TIMEOUT + 2);
        return -1;
    }
    return WEXITSTATUS(status);
}

static void
args_free(struct args *a)
{
    for (size_t k = 0; k < a->n; k++) {
        free(a->v[k]);
    }
    free(a->v);
    memset(a, 0, sizeof *a);
}

/* Column 'column' of port 'name' as vswctl prints it, without quotes and
 * the newline: malloc()'d, "" if the port or the key does not exist, NULL
 * if vswctl failed. */
static char *
port_get(const char *name, const char *column)
{
    struct args a = { NULL, 0, 0 };
    char *out = NULL;
    add(&a, "vswctl");
    add(&a, "--timeout=%d", HOOK_TIMEOUT);
    add(&a, "--if-exists");
    add(&a, "get");
    add(&a, "port");
    add(&a, "%s", name);
    add(&a, "%s", column);
    if (run_vswctl(&a, &out)) {
        free(out);
        out = NULL;
    } else {
        out[strcspn(out, "\n")] = '\0';
        size_t len = strlen(out);
        if (len >= 2 && out[0] == '"' && out[len - 1] == '"') {
            memmove(out, out + 1, len - 2);
            out[len - 2] = '\0';
        }
    }
    args_free(&a);
    return out;
}

/* At release: deletes port 'name' if this hook made it at prepare
 * (external_ids:vsw-made-by is exactly "libvirt-hook") or the metadata
 * said release='delete'; a port that existed before the VM is kept. */
static void
release_port(const char *name, const char *release)
{
    struct args a = { NULL, 0, 0 };
    char *made = port_get(name, "external_ids:vsw-made-by");
    bool made_here = made && !strcmp(made, "libvirt-hook");
    free(made);
    if (!made_here && !(release && !strcmp(release, "delete"))) {
        return;
    }
    add(&a, "vswctl");
    add(&a, "--timeout=%d", HOOK_TIMEOUT);
    add(&a, "--if-exists");
    add(&a, "del-port");
    add(&a, "%s", name);
    if (run_vswctl(&a, NULL)) {
        say("release: could not delete port %s (above)", name);
    }
    args_free(&a);
}

/* ---- What each operation does to one interface. ---- */

struct domain {
    char *uuid;
    char *user;                 /* QEMU's user. */
};

/* 's' as an OVSDB string (JSON's syntax: quoted, with '"', '\\' and
 * control characters escaped), so that no domain name or XML value can
 * end the value early.  Malloc()'d. */
static char *
quoted(const char *s)
{
    size_t len = strlen(s);
    char *q = malloc(len * 6 + 3), *p = q;
    if (!q) {
        abort();
    }
    *p++ = '"';
    for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            *p++ = '\\';
            *p++ = *c;
        } else if (*c < 0x20 || *c == 0x7f) {
            p += sprintf(p, "\\u%04x", *c);
        } else {
            *p++ = *c;
        }
    }
    *p++ = '"';
    *p = '\0';
    return q;
}

/* Appends KEY=VALUE with VALUE quoted(). */
static void
add_kv(struct args *a, const char *key, const char *value)
{
    char *q = quoted(value);
    add(a, "%s=%s", key, q);
    free(q);
}

/* Appends " -- set port NAME external_ids:..." with the VM's identity. */
static void
identity(struct args *a, const struct domain *d, const struct iface *i,
         const char *status)
{
    add(a, "--");
    add(a, "set");
    add(a, "port");
    add(a, "%s", i->target);
    if (d->uuid) {
        add_kv(a, "external_ids:vm-id", d->uuid);
        add_kv(a, "external_ids:vm-uuid", d->uuid);
    }
    add_kv(a, "external_ids:vm-name", domain_name);
    if (i->mac) {
        add_kv(a, "external_ids:attached-mac", i->mac);
        /* The guest's MAC: the port's guards need it (vswitchd checks
         * it, as any value from any client). */
        add_kv(a, "mac", i->mac);
    }
    if (i->interfaceid) {
        add_kv(a, "external_ids:iface-id", i->interfaceid);
    }
    add(a, "external_ids:iface-status=%s", status);
}

/* Adds to 'a' what operation 'op' does for interface 'i'; returns false
 * if the interface is none of vsw's (or nothing is to be done). */
static bool
plan(struct args *a, const char *op, const struct domain *d,
     const struct iface *i)
{
    bool begin = (!strcmp(op, "prepare") || !strcmp(op, "reconnect")
                  || !strcmp(op, "attach"));
    if (!i->target || !plain_ifname(i->target)) {
        /* No tap name yet (libvirt names vnetN at start): the started
         * call has it. */
        return false;
    }
    if (!strcmp(i->type, "ethernet") && i->managed_no) {
        /* A tap QEMU opens and vsw makes: a port in the database already,
         * or one the metadata asks for. */
        bool exists = i->row;
        if (!exists && !i->meta_switch) {
            return false;
        }
        if (begin) {
            if (!exists) {
                add(a, "--");
                add(a, "--may-exist");
                add(a, "add-port");
                add(a, "%s", i->meta_switch);
                add(a, "%s", i->target);
                add(a, "--owner=%s", d->user);
                if (i->mac) {
                    add(a, "--mac=%s", i->mac);
                }
            }
            if (!exists) {
                /* Made here: deleted at release (release_port()). */
                add(a, "--");
                add(a, "set");
                add(a, "port");
                add(a, "%s", i->target);
                add(a, "external_ids:vsw-made-by=libvirt-hook");
            }
            add(a, "--");
            add(a, "set");
            add(a, "port");
            add(a, "%s", i->target);
            add_kv(a, "owner", d->user);
            identity(a, d, i, "inactive");
            return true;
        } else if (!strcmp(op, "started")) {
            identity(a, d, i, "active");
            return true;
        } else if (!strcmp(op, "stopped")) {
            add(a, "--");
            add(a, "--if-exists");
            add(a, "set");
            add(a, "port");
            add(a, "%s", i->target);
            add(a, "external_ids:iface-status=inactive");
            return true;
        }
        return false;           /* release: release_port(). */
    }
    bool bridge = (!strcmp(i->type, "bridge") && i->bridge
                   && is_vsw_device(i->bridge, true));
    bool ethernet = !strcmp(i->type, "ethernet") && i->meta_switch;
    if ((bridge || ethernet)
        && (!strcmp(op, "started") || !strcmp(op, "reconnect")
            || !strcmp(op, "attach"))) {
        /* libvirt's tap: adopted (by vswitchd already, if libvirt put it
         * in the bridge), then given the VM's identity. */
        add(a, "--");
        add(a, "--may-exist");
        add(a, "add-port");
        add(a, "%s", bridge ? i->bridge : i->meta_switch);
        add(a, "%s", i->target);
        add(a, "--adopt");
        identity(a, d, i, "active");
        return true;
    }
    return false;
}

static void
iface_free(struct iface *i)
{
    xmlFree(i->mac);
    xmlFree(i->target);
    xmlFree(i->bridge);
    xmlFree(i->interfaceid);
    xmlFree(i->meta_switch);
    xmlFree(i->release);
}

static bool xml_too_big;

static char *
read_stdin(size_t *n)
{
    size_t allocated = 65536;
    char *buf = malloc(allocated);
    *n = 0;
    for (;;) {
        if (*n == allocated) {
            if (allocated >= MAX_XML) {
                xml_too_big = true;
                char sink[4096];    /* The rest is read and dropped. */
                while (read(STDIN_FILENO, sink, sizeof sink) > 0) {
                    continue;
                }
                break;
            }
            allocated *= 2;
            buf = realloc(buf, allocated);
        }
        ssize_t r = read(STDIN_FILENO, buf + *n, allocated - *n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        *n += r;
    }
    return buf;
}

int
main(int argc, char *argv[])
{
    domain_name = argc > 1 ? argv[1] : "?";
    const char *op = argc > 2 ? argv[2] : "";
    /* At reconnect and attach a failure would kill a running VM. */
    bool never_fail = !strcmp(op, "reconnect") || !strcmp(op, "attach");
    bool known = (!strcmp(op, "prepare") || !strcmp(op, "started")
                  || !strcmp(op, "stopped") || !strcmp(op, "release")
                  || never_fail);

    size_t n;
    char *xml = read_stdin(&n);     /* Read whole: libvirt writes it all. */
    if (!known) {
        /* migrate, restore (nothing printed: the XML stays as it is),
         * start, and operations of later libvirt versions. */
        free(xml);
        return 0;
    }
    if (xml_too_big) {
        say("%s: the domain XML is larger than %d MiB; nothing done", op,
            MAX_XML >> 20);
        free(xml);
        return 0;
    }
    xmlDocPtr doc = xmlReadMemory(xml, n, "domain.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR
                                  | XML_PARSE_NOWARNING);
    free(xml);
    if (!doc) {
        say("%s: the domain XML on stdin does not parse; nothing done", op);
        return 0;
    }
    xmlXPathContextPtr xp = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(xp, (const xmlChar *) "vsw",
                       (const xmlChar *) META_NS);

    struct domain d = { NULL, NULL };
    xmlNodePtr root = xmlDocGetRootElement(doc);
    d.uuid = text_of(child(root, "uuid"));
    d.user = qemu_user(xp);

    struct args a = { NULL, 0, 0 };
    add(&a, "vswctl");              /* argv[0], replaced by its path. */
    add(&a, "--timeout=%d", HOOK_TIMEOUT);
    if (!strcmp(op, "prepare")) {
        add(&a, "--wait");          /* QEMU opens the tap next. */
    }
    size_t n_base = a.n;
    xmlXPathObjectPtr r = xmlXPathEvalExpression(
        (const xmlChar *) "/domain/devices/interface", xp);
    for (int k = 0; r && r->nodesetval && k < r->nodesetval->nodeNr; k++) {
        xmlNodePtr node = r->nodesetval->nodeTab[k];
        struct iface i;
        memset(&i, 0, sizeof i);
        char *type = attr(node, "type");
        i.type = type ? type : "";
        i.mac = attr(child(node, "mac"), "address");
        i.target = attr(child(node, "target"), "dev");
        char *managed = attr(child(node, "target"), "managed");
        i.managed_no = managed && !strcmp(managed, "no");
        xmlFree(managed);
        i.bridge = attr(child(node, "source"), "bridge");
        i.interfaceid = attr(child(child(node, "virtualport"),
                                   "parameters"), "interfaceid");
        xmlNodePtr meta = meta_for(xp, i.target, i.mac);
        i.meta_switch = attr(meta, "switch");
        i.release = attr(meta, "release");

        bool ours = (!strcmp(i.type, "ethernet") && i.managed_no && i.target
                     && plain_ifname(i.target));
        if (ours && strcmp(op, "release")) {
            /* Whether the port exists is the database's to say, not the
             * kernel's (a port whose device is missing is still one). */
            char *uuid = port_get(i.target, "_uuid");
            i.row = uuid && uuid[0];
            if (!uuid) {
                /* The database did not answer: add-port --may-exist
                 * below is right either way, but not the made-by mark. */
                i.row = !i.meta_switch;
            }
            free(uuid);
        }
        plan(&a, op, &d, &i);
        if (!strcmp(op, "release") && ours
            && (!i.release || strcmp(i.release, "keep"))) {
            release_port(i.target, i.release);
        }
        iface_free(&i);
        xmlFree(type);
    }
    xmlXPathFreeObject(r);

    int status = 0;
    if (a.n > n_base) {
        /* The first "--" would make an empty first command. */
        if (!strcmp(a.v[n_base], "--")) {
            free(a.v[n_base]);
            memmove(&a.v[n_base], &a.v[n_base + 1],
                    (a.n - n_base) * sizeof *a.v);
            a.n--;
        }
        status = run_vswctl(&a, NULL);
        if (status) {
            say("%s: vswctl could not set up the domain's vsw ports "
                "(above)%s", op,
                never_fail ? "; the VM keeps running" : "");
        }
    }
    args_free(&a);
    xmlXPathFreeContext(xp);
    xmlFreeDoc(doc);
    xmlFree(d.uuid);
    free(d.user);
    return never_fail ? 0 : strcmp(op, "prepare") ? 0 : status ? 1 : 0;
}
