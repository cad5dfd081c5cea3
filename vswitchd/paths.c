/* Resolution of vsw's directories and socket paths; see paths.h. */
#include <config.h>

#include "vswitchd/paths.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

static char *state_dir;
static char *run_dir;
static char *host_id;

static const char *
dir_from(char **override, const char *env, const char *fallback)
{
    if (!*override) {
        const char *value = getenv(env);
        *override = xstrdup(value && value[0] ? value : fallback);
    }
    return *override;
}

const char *
vsw_state_dir(void)
{
    return dir_from(&state_dir, "VSW_STATE_DIR", "/var/lib/vsw");
}

const char *
vsw_run_dir(void)
{
    return dir_from(&run_dir, "VSW_RUN_DIR", "/run/vsw");
}

void
vsw_set_state_dir(const char *dir)
{
    free(state_dir);
    state_dir = abs_file_name(NULL, dir);
}

void
vsw_set_run_dir(const char *dir)
{
    free(run_dir);
    run_dir = abs_file_name(NULL, dir);
}

char *
vsw_db_path(void)
{
    return xasprintf("%s/conf.db", vsw_state_dir());
}

char *
vsw_db_socket(void)
{
    return xasprintf("%s/db.sock", vsw_run_dir());
}

char *
vsw_default_db(void)
{
    return xasprintf("unix:%s/db.sock", vsw_run_dir());
}

char *
vsw_ctl_socket(void)
{
    return xasprintf("%s/vswitchd.ctl", vsw_run_dir());
}

const char *
vsw_host_id(void)
{
    return dir_from(&host_id, "VSW_HOST", "");
}

void
vsw_set_host_id(const char *id)
{
    free(host_id);
    host_id = xstrdup(id);
}

int
vsw_make_dir(const char *dir, unsigned int mode)
{
    struct ds path = DS_EMPTY_INITIALIZER;
    int error = 0;

    for (const char *p = dir; *p && !error; p++) {
        ds_put_char(&path, *p);
        if ((p[1] == '/' || p[1] == '\0')
            && mkdir(ds_cstr(&path), mode) && errno != EEXIST) {
            error = errno;
        }
    }
    ds_destroy(&path);
    return error;
}
