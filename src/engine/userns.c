/* userns: each container's own user namespace. A container gets a slot in the pool of host ids
 * (the "moat" lines of /etc/subuid and /etc/subgid, else 2^30 .. 2^31-1): 65536 uids and gids
 * starting at pool + slot * 65536, so root inside is an unprivileged id outside that no other
 * container shares. The slot is a unique column of the container's row, taken in the same
 * statement that finds it free and released with the row. The image's layers stay shared on disk:
 * the snapshot mounts them idmapped into the range (image/snapshot.c). */
#include <fcntl.h>
#include <sys/stat.h>

#include "engine/internal.h"

#define SLOT_SIZE 65536u
#define DEFAULT_START 1073741824u /* 2^30 */
#define DEFAULT_COUNT 1073741824u

/* "moat:START:COUNT" (or the numeric uid of a "moat" user), the first one; 0 if there is none. */
static void subid_range(const char *file, uint32_t *start, uint32_t *count)
{
        *start = DEFAULT_START;
        *count = DEFAULT_COUNT;
        _cleanup_free_ char *text = NULL;
        if (moat_read_file_at(AT_FDCWD, file, 1 << 20, &text, NULL, NULL) < 0)
                return;
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                unsigned long long s, c;
                char name[64];
                if (sscanf(l, "%63[^:]:%llu:%llu", name, &s, &c) != 3 || !streq(name, "moat"))
                        continue;
                if (c >= SLOT_SIZE && s + c <= UINT32_MAX && s > 0) {
                        *start = (uint32_t) s;
                        *count = (uint32_t) c;
                }
                return;
        }
}

int moat_engine_userns_allocate(struct moat_engine *e, const char *id, struct moat_userns *u, struct moat_error *err)
{
        uint32_t us, uc, gs, gc;
        subid_range("/etc/subuid", &us, &uc);
        subid_range("/etc/subgid", &gs, &gc);
        int64_t slots = (int64_t) (uc < gc ? uc : gc) / SLOT_SIZE;
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        /* the lowest free slot: 0, or one past a used slot whose successor is free */
        int r = moat_db_prepare(e->db,
                                "UPDATE containers SET userns_slot = ("
                                " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM containers WHERE userns_slot = 0) THEN 0"
                                " ELSE (SELECT MIN(c.userns_slot) + 1 FROM containers c WHERE c.userns_slot IS NOT NULL"
                                "  AND NOT EXISTS (SELECT 1 FROM containers d WHERE d.userns_slot = c.userns_slot + 1))"
                                " END) WHERE id = ?1 RETURNING userns_slot",
                                &s, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_ROW)
                return moat_db_error(e->db, rc, "allocate a user namespace range", err);
        int64_t slot = sqlite3_column_int64(s, 0);
        if (slot >= slots)
                return moat_error_set(err, ENOSPC,
                                      "no free host id range for a user namespace: all %lld ranges of 65536 ids "
                                      "are in use (add a larger \"moat:START:COUNT\" line to /etc/subuid and "
                                      "/etc/subgid, or remove containers)",
                                      (long long) slots);
        u->uid = us + (uint32_t) slot * SLOT_SIZE;
        u->gid = gs + (uint32_t) slot * SLOT_SIZE;
        u->size = SLOT_SIZE;
        return 0;
}

/* The runtime, inside the namespace, walks to the bundle's rootfs as the container's root: every
 * directory above it must let that id through. Those the engine made get o+x (the state root,
 * containers/) or group x for the range's gid (the container's own directory); one above the
 * state root that does not is reported, never changed. */
int moat_engine_userns_prepare_dirs(struct moat_engine *e, const char *cdir, const struct moat_userns *u,
                                    struct moat_error *err)
{
        if (chown(cdir, 0, u->gid) < 0 || chmod(cdir, 0710) < 0)
                return moat_error_set(err, errno, "open %s to the container's root", cdir);
        const char *mine[] = { e->root, e->containers };
        for (size_t i = 0; i < ARRAY_SIZE(mine); i++) {
                struct stat st;
                if (stat(mine[i], &st) < 0)
                        return moat_error_set(err, errno, "stat %s", mine[i]);
                if (!(st.st_mode & S_IXOTH) && chmod(mine[i], (st.st_mode & 07777) | S_IXOTH) < 0)
                        return moat_error_set(err, errno, "chmod o+x %s", mine[i]);
        }
        _cleanup_free_ char *p = realpath(e->root, NULL);
        if (!p)
                return moat_error_set(err, errno, "resolve %s", e->root);
        for (char *slash = strrchr(p, '/'); slash; slash = strrchr(p, '/')) {
                *slash = '\0';
                const char *dir = *p ? p : "/";
                struct stat st;
                if (stat(dir, &st) < 0)
                        return moat_error_set(err, errno, "stat %s", dir);
                if (!(st.st_mode & S_IXOTH))
                        return moat_error_set(err, EACCES,
                                              "%s (mode %04o) is not searchable by others, so the root of a container "
                                              "with its own user namespace cannot reach its files under %s: chmod "
                                              "o+x %s, choose another --root, or run it with --userns=host",
                                              dir, st.st_mode & 07777, e->root, dir);
                if (!*p)
                        break;
        }
        return 0;
}

/* The namespace and its mappings in the OCI config; named volumes are mounted idmapped (what the
 * container's root writes there is root on disk, so any container may use the volume). */
void moat_engine_userns_apply(struct moat_engine *e, json_t *spec, json_t *rec, const struct moat_userns *u)
{
        json_t *linux_ = json_object_get(spec, "linux");
        json_array_append_new(json_object_get(linux_, "namespaces"), json_pack("{s:s}", "type", "user"));
        json_t *um = json_pack("[{s:i,s:I,s:I}]", "containerID", 0, "hostID", (json_int_t) u->uid, "size",
                               (json_int_t) u->size);
        json_t *gm = json_pack("[{s:i,s:I,s:I}]", "containerID", 0, "hostID", (json_int_t) u->gid, "size",
                               (json_int_t) u->size);
        json_object_set(linux_, "uidMappings", um);
        json_object_set(linux_, "gidMappings", gm);
        _cleanup_free_ char *volumes = xasprintf("%s/volumes/", e->root);
        json_t *m;
        size_t i;
        json_array_foreach(json_object_get(spec, "mounts"), i, m)
        {
                const char *src = json_string_value(json_object_get(m, "source"));
                if (!streq(json_string_value(json_object_get(m, "type")), "bind") || !src || !startswith(src, volumes))
                        continue;
                json_array_append_new(json_object_get(m, "options"), json_string("idmap"));
                json_object_set(m, "uidMappings", um);
                json_object_set(m, "gidMappings", gm);
        }
        json_t *hc = json_object_get(rec, "HostConfig");
        json_object_set_new(hc, "UsernsMode", json_string(""));
        json_object_set_new(rec, "MoatUserns", json_pack("{s:I,s:I,s:I}", "HostUid", (json_int_t) u->uid, "HostGid",
                                                         (json_int_t) u->gid, "Size", (json_int_t) u->size));
        json_decref(um);
        json_decref(gm);
}
