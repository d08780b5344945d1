/* boot: what a host's reboot means for containers, with no daemon to notice it. The engine records
 * the boot id a container started in, so a monitor found gone in a later boot is reported as the
 * reboot it was; it records whether the user stopped the container (docker's
 * HasBeenManuallyStopped); and moat_engine_restore applies docker's daemon-start rules once at boot. */
#include <ctype.h>
#include <fcntl.h>

#include "engine/internal.h"

/* For tests only: another file to read the boot id from, so a reboot can be simulated. */
#define BOOT_ID_FILE_ENV "MOAT_TEST_BOOT_ID_FILE"

/* The kernel's random id of this boot ("" when it cannot be read). */
static void current_boot_id(char *buf, size_t len)
{
        const char *env = getenv(BOOT_ID_FILE_ENV);
        const char *path = env && *env ? env : "/proc/sys/kernel/random/boot_id";
        buf[0] = '\0';
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return;
        ssize_t n = read(fd, buf, len - 1);
        close(fd);
        if (n < 0)
                n = 0;
        buf[n] = '\0';
        /* a uuid: letters, digits and dashes; the newline and anything else end it */
        size_t k = 0;
        while (buf[k] && (isalnum((unsigned char) buf[k]) || buf[k] == '-'))
                k++;
        buf[k] = '\0';
}

bool moat_engine_rebooted_since(const struct moat_container_info *c)
{
        char now[64];
        current_boot_id(now, sizeof now);
        /* "" : started before Moat recorded boots, or the id cannot be read: no verdict */
        return c->boot_id && *c->boot_id && *now && !streq(c->boot_id, now);
}

int moat_engine_record_start(struct moat_engine *e, const char *id, struct moat_error *err)
{
        char boot[64];
        current_boot_id(boot, sizeof boot);
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r = moat_db_prepare(e->db, "UPDATE containers SET boot_id = ?2, stopped_by_user = 0 WHERE id = ?1", &s, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, boot, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
                return moat_db_error(e->db, rc, "record the start of the container", err);
        return 0;
}

void moat_engine_mark_stopped_by_user(struct moat_engine *e, const char *id)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        struct moat_error err;
        if (moat_db_prepare(e->db, "UPDATE containers SET stopped_by_user = 1 WHERE id = ?1", &s, &err) < 0) {
                moat_warn("%s", err.msg);
                return;
        }
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE && moat_db_error(e->db, rc, "record that the user stopped the container", &err) < 0)
                moat_warn("%s", err.msg);
}

int moat_engine_mount_rootfs(struct moat_engine *e, const struct moat_container_info *c, struct moat_error *err)
{
        json_t *uns = json_object_get(c->config, "MoatUserns");
        if (!uns)
                return moat_image_snapshot_remount(e->store, c->id, NULL, err);
        uint32_t uid = (uint32_t) json_integer_value(json_object_get(uns, "HostUid"));
        uint32_t gid = (uint32_t) json_integer_value(json_object_get(uns, "HostGid"));
        uint32_t size = (uint32_t) json_integer_value(json_object_get(uns, "Size"));
        struct moat_idmap um = { 0, uid, size }, gm = { 0, gid, size };
        _cleanup_close_ int nsfd = moat_userns_open(&um, 1, &gm, 1, err);
        if (nsfd < 0)
                return nsfd;
        struct moat_snapshot_ids ids = { nsfd, uid, gid };
        return moat_image_snapshot_remount(e->store, c->id, &ids, err);
}

bool moat_engine_restore_wanted(const struct moat_container_info *c)
{
        /* only what has run before and is not running now (docker's HasBeenStartedBefore) */
        if (!streq(c->state, "exited") || c->started == 0)
                return false;
        const char *p = json_string_value(json_object_get(json_object_get(c->config, "HostConfig"), "RestartPolicyString"));
        if (!p)
                return false;
        if (streq(p, "always"))
                return true; /* even when stopped by the user, as dockerd's start does */
        if (c->stopped_by_user)
                return false;
        if (streq(p, "unless-stopped"))
                return true;
        if (startswith(p, "on-failure")) {
                /* docker's rule: the last run failed (a reboot's 255 counts) and retries are left;
                 * unlike docker, not after the user stopped it (its stop signal's code is no failure) */
                long long max = 0;
                if (p[10] == ':' && moat_parse_int64(p + 11, &max) < 0)
                        return false;
                return c->exit_code != 0 && (max <= 0 || c->restart_count < max);
        }
        return false;
}

int moat_engine_restore(struct moat_engine *e, moat_restore_fn fn, void *ud, struct moat_error *err)
{
        struct moat_container_info *v = NULL;
        size_t n = 0;
        int r = moat_engine_list(e, true, &v, &n, err);
        if (r < 0)
                return r;
        /* oldest first, as they were made */
        for (size_t i = n; i-- > 0;) {
                struct moat_container_info *c = &v[i];
                struct moat_error e2 = { 0 };
                bool auto_remove = json_is_true(json_object_get(json_object_get(c->config, "HostConfig"), "AutoRemove"));
                if (moat_engine_restore_wanted(c)) {
                        r = moat_engine_start(e, c->id, NULL, &e2);
                        fn(ud, c, MOAT_RESTORE_STARTED, r < 0 ? &e2 : NULL);
                } else if (auto_remove && streq(c->state, "exited")) {
                        /* a --rm container whose end its monitor did not see (docker removes them too) */
                        r = moat_engine_remove(e, c->id, false, &e2);
                        fn(ud, c, MOAT_RESTORE_REMOVED, r < 0 ? &e2 : NULL);
                }
        }
        moat_container_info_free(v, n);
        return 0;
}
