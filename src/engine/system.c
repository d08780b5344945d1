/* system: the verbs about the whole engine rather than one container's life — diff (a container's
 * filesystem against its image), system df (what uses disk), the prunes (stopped containers,
 * unused images and volumes), info and version (docker's documents). */
#include <archive.h>
#include <fcntl.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <seccomp.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include "config.h"
#include "engine/internal.h"
#include "runtime/landlock.h"

int moat_engine_diff(struct moat_engine *e, const char *name_or_id, struct moat_change **out, size_t *n,
                     struct moat_error *err)
{
        struct moat_container_info c;
        int r = moat_engine_get(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        r = moat_image_snapshot_changes(e->store, c.id, out, n, err);
        moat_container_info_clear(&c);
        return r < 0 ? moat_error_wrap(err, "diff %s", name_or_id) : 0;
}

static bool is_stopped(const struct moat_container_info *c)
{
        return !streq(c->state, "running") && !streq(c->state, "paused") && !streq(c->state, "restarting") &&
               !streq(c->state, "creating");
}

/* ---- df ------------------------------------------------------------------------------------- */

static int volume_links(struct moat_engine *e, const char *name, int *links, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r = moat_db_prepare(e->db,
                                "SELECT COUNT(DISTINCT containers.id) FROM containers, "
                                "json_each(containers.config, '$.Volumes') WHERE json_each.value = ?",
                                &s, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        *links = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
        return 0;
}

int moat_engine_df(struct moat_engine *e, struct moat_system_df *d, struct moat_error *err)
{
        memset(d, 0, sizeof *d);
        struct moat_image_info *imgs = NULL;
        size_t ni = 0;
        int r = moat_engine_list(e, true, &d->containers_info, &d->n_containers, err);
        if (r < 0)
                return r;
        d->container_size = XNEW(int64_t, d->n_containers + 1);
        for (size_t i = 0; i < d->n_containers; i++) {
                struct moat_error e2;
                if (moat_image_snapshot_size(e->store, d->containers_info[i].id, &d->container_size[i], &e2) < 0)
                        d->container_size[i] = 0; /* removed meanwhile, or never mounted (dead) */
        }
        if ((r = moat_image_list(e->store, &imgs, &ni, err)) < 0)
                goto fail;
        d->images = imgs;
        d->n_images = ni;
        if ((r = moat_image_layers_size(e->store, &d->images_total, err)) < 0)
                goto fail;
        d->image_shared = XNEW(int64_t, ni + 1);
        d->image_containers = XNEW(int, ni + 1);
        for (size_t i = 0; i < ni; i++) {
                if ((r = moat_image_shared_size(e->store, imgs[i].id, &d->image_shared[i], err)) < 0)
                        goto fail;
                for (size_t k = 0; k < d->n_containers; k++)
                        if (streq(d->containers_info[k].image_id, imgs[i].id))
                                d->image_containers[i]++;
        }
        if ((r = moat_engine_volume_list(e, &d->volumes, &d->n_volumes, err)) < 0)
                goto fail;
        d->volume_size = XNEW(int64_t, d->n_volumes + 1);
        d->volume_links = XNEW(int, d->n_volumes + 1);
        for (size_t i = 0; i < d->n_volumes; i++) {
                _cleanup_free_ char *p = moat_engine_volume_path(e, d->volumes[i]);
                struct moat_error e2;
                if (moat_disk_usage(p, &d->volume_size[i], &e2) < 0)
                        d->volume_size[i] = 0;
                if ((r = volume_links(e, d->volumes[i], &d->volume_links[i], err)) < 0)
                        goto fail;
        }
        return 0;
fail:
        moat_system_df_clear(d);
        return r;
}

void moat_system_df_clear(struct moat_system_df *d)
{
        moat_container_info_free(d->containers_info, d->n_containers);
        moat_image_info_free(d->images, d->n_images);
        strv_free(d->volumes);
        free(d->container_size);
        free(d->image_shared);
        free(d->image_containers);
        free(d->volume_size);
        free(d->volume_links);
        memset(d, 0, sizeof *d);
}

/* ---- prune ---------------------------------------------------------------------------------- */

static void strv_push(char ***v, size_t *n, char *s)
{
        *v = xrealloc(*v, sizeof(char *) * (*n + 2));
        (*v)[(*n)++] = s;
        (*v)[*n] = NULL;
}

int moat_engine_container_prune(struct moat_engine *e, char ***removed, uint64_t *freed, struct moat_error *err)
{
        struct moat_container_info *v;
        size_t n, k = 0;
        int r = moat_engine_list(e, true, &v, &n, err);
        if (r < 0)
                return r;
        char **out = XNEW(char *, 1);
        *freed = 0;
        for (size_t i = 0; i < n; i++) {
                if (!is_stopped(&v[i]))
                        continue;
                int64_t size = 0;
                struct moat_error e2;
                if (moat_image_snapshot_size(e->store, v[i].id, &size, &e2) < 0)
                        size = 0;
                if (moat_engine_remove(e, v[i].id, false, &e2) < 0) {
                        /* started or removed by someone else meanwhile: not ours to report */
                        moat_warn("%s", e2.msg);
                        continue;
                }
                *freed += (uint64_t) size;
                strv_push(&out, &k, xstrdup(v[i].id));
        }
        moat_container_info_free(v, n);
        *removed = out;
        return 0;
}

int moat_engine_image_prune(struct moat_engine *e, bool all, char ***untagged, char ***deleted, uint64_t *freed,
                            struct moat_error *err)
{
        struct moat_image_info *before;
        size_t nb;
        int r = moat_image_list(e->store, &before, &nb, err);
        if (r < 0)
                return r;
        size_t removed;
        if ((r = moat_image_prune(e->store, all, freed, &removed, err)) < 0) {
                moat_image_info_free(before, nb);
                return r;
        }
        char **u = XNEW(char *, 1), **d = XNEW(char *, 1);
        size_t nu = 0, nd = 0;
        for (size_t i = 0; i < nb; i++) {
                struct moat_image_info x;
                struct moat_error e2;
                if (moat_image_get(e->store, before[i].id, &x, &e2) == 0) {
                        moat_image_info_clear(&x);
                        continue; /* still there */
                }
                for (size_t k = 0; before[i].names && before[i].names[k]; k++)
                        strv_push(&u, &nu, xstrdup(before[i].names[k]));
                strv_push(&d, &nd, xstrdup(before[i].id));
        }
        moat_image_info_free(before, nb);
        *untagged = u;
        *deleted = d;
        return 0;
}

void moat_prune_report_clear(struct moat_prune_report *p)
{
        strv_free(p->containers);
        strv_free(p->untagged);
        strv_free(p->images);
        strv_free(p->volumes);
        memset(p, 0, sizeof *p);
}

int moat_engine_system_prune(struct moat_engine *e, bool all_images, bool volumes, struct moat_prune_report *p,
                             struct moat_error *err)
{
        memset(p, 0, sizeof *p);
        uint64_t f = 0;
        int r = moat_engine_container_prune(e, &p->containers, &f, err);
        if (r < 0)
                return r;
        p->reclaimed += f;
        if (volumes) {
                if ((r = moat_engine_volume_prune(e, false, &p->volumes, &f, err)) < 0)
                        goto fail;
                p->reclaimed += f;
        }
        if ((r = moat_engine_image_prune(e, all_images, &p->untagged, &p->images, &f, err)) < 0)
                goto fail;
        p->reclaimed += f;
        return 0;
fail:
        moat_prune_report_clear(p);
        return r;
}

/* ---- info and version ----------------------------------------------------------------------- */

/* docker's (Go's) names for the machine */
static const char *go_arch(const char *m)
{
        if (streq(m, "x86_64"))
                return "amd64";
        if (streq(m, "aarch64"))
                return "arm64";
        if (streq(m, "i686") || streq(m, "i386"))
                return "386";
        if (startswith(m, "armv7"))
                return "arm";
        return m;
}

static char *os_pretty_name(void)
{
        char *buf = NULL;
        size_t len;
        struct moat_error err;
        if (moat_read_file("/etc/os-release", 65536, &buf, &len, &err) < 0 &&
            moat_read_file("/usr/lib/os-release", 65536, &buf, &len, &err) < 0)
                return xstrdup("Linux");
        char *out = NULL;
        for (char *line = strtok(buf, "\n"); line && !out; line = strtok(NULL, "\n")) {
                if (!startswith(line, "PRETTY_NAME="))
                        continue;
                char *v = line + 12;
                size_t l = strlen(v);
                if (l >= 2 && (v[0] == '"' || v[0] == '\'') && v[l - 1] == v[0])
                        out = xstrndup(v + 1, l - 2);
                else
                        out = xstrdup(v);
        }
        free(buf);
        return out ? out : xstrdup("Linux");
}

static const char *backing_fs(const char *root)
{
        struct statfs sf;
        if (statfs(root, &sf) < 0)
                return "unknown";
        switch ((unsigned long) sf.f_type) {
        case 0xEF53: return "extfs";
        case 0x58465342: return "xfs";
        case 0x9123683E: return "btrfs";
        case 0x01021994: return "tmpfs";
        case 0x794c7630: return "overlayfs";
        case 0x2fc12fc1: return "zfs";
        default: return "unknown";
        }
}

/* the overlay module's defaults: a snapshot gets them (it sets neither option) */
static const char *overlay_param(const char *name)
{
        _cleanup_free_ char *p = xasprintf("/sys/module/overlay/parameters/%s", name);
        char b[8] = "";
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, b, sizeof b - 1) <= 0)
                return "unknown";
        return b[0] == 'Y' ? "true" : "false";
}

int moat_engine_info(struct moat_engine *e, json_t **out, struct moat_error *err)
{
        struct moat_container_info *v;
        size_t n;
        int r = moat_engine_list(e, true, &v, &n, err);
        if (r < 0)
                return r;
        int running = 0, paused = 0, stopped = 0;
        for (size_t i = 0; i < n; i++) {
                if (streq(v[i].state, "paused"))
                        paused++;
                else if (streq(v[i].state, "running") || streq(v[i].state, "restarting"))
                        running++;
                else
                        stopped++;
        }
        moat_container_info_free(v, n);
        struct moat_image_info *imgs;
        size_t ni;
        if ((r = moat_image_list(e->store, &imgs, &ni, err)) < 0)
                return r;
        moat_image_info_free(imgs, ni);
        enum moat_cgroup_mode cg = MOAT_CGROUP_V1;
        if ((r = moat_cgroup_detect(NULL, &cg, err)) < 0)
                return r;
        struct utsname u;
        uname(&u);
        struct sysinfo si;
        int64_t mem = sysinfo(&si) == 0 ? (int64_t) si.totalram * si.mem_unit : 0;
        _cleanup_free_ char *os = os_pretty_name();
        json_t *sec = json_array();
        json_array_append_new(sec, json_string("name=seccomp,profile=default"));
        json_array_append_new(sec, json_string("name=no-new-privileges"));
        json_array_append_new(sec, json_string("name=cgroupns"));
        /* each container's own user namespace and host id range (userns.c) */
        json_array_append_new(sec, json_string("name=userns"));
        int ll = moat_landlock_abi();
        if (ll > 0) {
                char b[48];
                snprintf(b, sizeof b, "name=landlock,abi=%d", ll);
                json_array_append_new(sec, json_string(b));
        }
        *out = json_pack("{s:i,s:i,s:i,s:i,s:i,s:s,s:s,s:[[s,s],[s,s],[s,s],[s,s]],s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
                         "s:i,s:I,s:s,s:s,s:o,s:{s:{s:s}},s:s,s:s,s:b,s:b}",
                         "Containers", running + paused + stopped, "ContainersRunning", running, "ContainersPaused",
                         paused, "ContainersStopped", stopped, "Images", (int) ni, "ServerVersion", MOAT_VERSION,
                         "Driver", "overlay", "DriverStatus", "Backing Filesystem", backing_fs(e->root),
                         "Using metacopy", overlay_param("metacopy"), "Using redirect_dir", overlay_param("redirect_dir"),
                         "Native Overlay Diff", "true",
                         "LoggingDriver", "json-file", "CgroupDriver", "cgroupfs", "CgroupVersion",
                         cg == MOAT_CGROUP_V2 ? "2" : "1", "KernelVersion", u.release, "OperatingSystem", os,
                         "OSType", "linux", "Architecture", u.machine, "NCPU", (int) sysconf(_SC_NPROCESSORS_ONLN),
                         "MemTotal", (json_int_t) mem, "Name", u.nodename, "DockerRootDir", e->root, "SecurityOptions",
                         sec, "Runtimes", "moat", "path", "libmoat (in-process)", "DefaultRuntime", "moat",
                         "UsernsMode", "private", "Debug", false, "LiveRestoreEnabled", true);
        if (!*out)
                return moat_error_set(err, ENOMEM, "build the info document");
        return 0;
}

int moat_engine_version(json_t **out, struct moat_error *err)
{
        struct utsname u;
        uname(&u);
        char compiler[64];
#if defined(__clang__)
        snprintf(compiler, sizeof compiler, "clang %d.%d.%d", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
        snprintf(compiler, sizeof compiler, "gcc %d.%d.%d", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
        snprintf(compiler, sizeof compiler, "unknown");
#endif
        const struct scmp_version *sv = seccomp_version();
        char seccomp[32];
        snprintf(seccomp, sizeof seccomp, "%u.%u.%u", sv->major, sv->minor, sv->micro);
        /* libarchive and libcurl are loaded only when an image is pulled, pushed or unpacked
         * (image/lazy.h): the versions built against, whose sonames the loader asks for */
        const char *ar = ARCHIVE_VERSION_ONLY_STRING;
        *out = json_pack("{s:{s:s},s:s,s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:s,s:{s:s,s:s,s:s}},{s:s,s:s},{s:s,s:s},{s:s,s:s},"
                         "{s:s,s:s},{s:s,s:s},{s:s,s:s}]}",
                         "Platform", "Name", "Moat Engine (in-process, no daemon)", "Version", MOAT_VERSION, "GitCommit",
                         MOAT_COMMIT, "Os", "linux", "Arch", go_arch(u.machine), "KernelVersion", u.release,
                         "Compiler", compiler, "Components", "Name", "Engine", "Version", MOAT_VERSION, "Details",
                         "GitCommit", MOAT_COMMIT, "KernelVersion", u.release, "Compiler", compiler, "Name", "libseccomp",
                         "Version", seccomp, "Name", "jansson", "Version", jansson_version_str(), "Name", "SQLite",
                         "Version", sqlite3_libversion(), "Name", "libarchive", "Version", ar,
                         "Name", "libcurl", "Version", LIBCURL_VERSION, "Name", "OpenSSL",
                         "Version", OpenSSL_version(OPENSSL_VERSION));
        if (!*out)
                return moat_error_set(err, ENOMEM, "build the version document");
        return 0;
}
