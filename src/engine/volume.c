/* volume: named volumes — a directory <root>/volumes/<name>/_data recorded in the state DB,
 * created on first use by `-v NAME:/dest`, kept until removed, refused removal while a container
 * refers to it. */
#include <ctype.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/internal.h"

char *moat_engine_volume_path(struct moat_engine *e, const char *name)
{
        return xasprintf("%s/volumes/%s/_data", e->root, name);
}

int moat_engine_volume_create(struct moat_engine *e, const char *name, struct moat_error *err)
{
        if (!moat_engine_name_valid(name))
                return moat_error_set(err, 0, "invalid volume name \"%s\": use [a-zA-Z0-9][a-zA-Z0-9_.-]", name);
        _cleanup_free_ char *p = moat_engine_volume_path(e, name);
        int r = moat_mkdir_p(p, 0755, err);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        if ((r = moat_db_prepare(e->db, "INSERT OR IGNORE INTO volumes(name, created) VALUES(?, ?)", &s, err)) < 0)
                return r;
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (sqlite3_int64) time(NULL));
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
                return moat_db_error(e->db, rc, "record volume", err);
        return 0;
}

int moat_engine_volume_list(struct moat_engine *e, char ***names, size_t *n, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r = moat_db_prepare(e->db, "SELECT name FROM volumes ORDER BY name", &s, err);
        if (r < 0)
                return r;
        char **v = XNEW(char *, 1);
        size_t k = 0;
        int rc;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                v = xrealloc(v, sizeof(char *) * (k + 2));
                v[k++] = xstrdup((const char *) sqlite3_column_text(s, 0));
                v[k] = NULL;
        }
        if (rc != SQLITE_DONE) {
                strv_free(v);
                return moat_db_error(e->db, rc, "list volumes", err);
        }
        *names = v;
        *n = k;
        return 0;
}

static int users_of(struct moat_engine *e, const char *name, char **first, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r = moat_db_prepare(e->db,
                                "SELECT containers.id FROM containers, json_each(containers.config, '$.Volumes') "
                                "WHERE json_each.value = ? LIMIT 1",
                                &s, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) {
                *first = xstrdup((const char *) sqlite3_column_text(s, 0));
                return 1;
        }
        return 0;
}

int moat_engine_volume_remove(struct moat_engine *e, const char *name, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r = moat_db_prepare(e->db, "SELECT 1 FROM volumes WHERE name = ?", &q, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_ROW)
                return moat_error_set(err, ENOENT, "no such volume: %s", name);
        _cleanup_free_ char *user = NULL;
        if ((r = users_of(e, name, &user, err)) < 0)
                return r;
        if (r > 0)
                return moat_error_set(err, EBUSY, "remove %s: volume is in use - [%s]", name, user);
        _cleanup_free_ char *dir = xasprintf("%s/volumes/%s", e->root, name);
        if ((r = moat_rm_rf(dir, err)) < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        if ((r = moat_db_prepare(e->db, "DELETE FROM volumes WHERE name = ?", &s, err)) < 0)
                return r;
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
                return moat_db_error(e->db, rc, "remove volume", err);
        return 0;
}

int moat_engine_volume_inspect(struct moat_engine *e, const char *name, json_t **out, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r = moat_db_prepare(e->db, "SELECT created FROM volumes WHERE name = ?", &s, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_ROW)
                return moat_error_set(err, ENOENT, "no such volume: %s", name);
        time_t t = (time_t) sqlite3_column_int64(s, 0);
        struct tm tm;
        gmtime_r(&t, &tm);
        char created[32];
        strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
        _cleanup_free_ char *mp = moat_engine_volume_path(e, name);
        *out = json_pack("{s:s,s:s,s:s,s:s,s:{},s:{},s:s}", "CreatedAt", created, "Driver", "local", "Mountpoint", mp,
                         "Name", name, "Labels", "Options", "Scope", "local");
        return 0;
}

/* -v NAME:/dest[:mode] -> the volume's directory (created on first use); absolute sources stay. */
int moat_engine_resolve_binds(struct moat_engine *e, char **binds, char ***out, json_t *used, struct moat_error *err)
{
        size_t n = strv_len(binds);
        char **v = XNEW(char *, n + 1);
        for (size_t i = 0; i < n; i++) {
                const char *b = binds[i];
                const char *colon = strchr(b, ':');
                if (b[0] == '/' || !colon) {
                        v[i] = xstrdup(b);
                        continue;
                }
                _cleanup_free_ char *name = xstrndup(b, (size_t) (colon - b));
                int r = moat_engine_volume_create(e, name, err);
                if (r < 0) {
                        strv_free(v);
                        return moat_error_wrap(err, "-v %s", b);
                }
                _cleanup_free_ char *p = moat_engine_volume_path(e, name);
                v[i] = xasprintf("%s%s", p, colon);
                json_array_append_new(used, json_string(name));
        }
        *out = v;
        return 0;
}
