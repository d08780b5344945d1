/* volume: named volumes — a directory <root>/volumes/<name>/_data recorded in the state DB,
 * created on first use by `-v NAME:/dest`, kept until removed, refused removal while a container
 * refers to it. */
#include <ctype.h>
#include <regex.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/internal.h"

char *moat_engine_volume_path(struct moat_engine *e, const char *name)
{
        return xasprintf("%s/volumes/%s/_data", e->root, name);
}

int moat_engine_volume_make(struct moat_engine *e, const char *name, json_t *labels, struct moat_error *err)
{
        if (!moat_engine_name_valid(name))
                return moat_error_set(err, 0, "invalid volume name \"%s\": use [a-zA-Z0-9][a-zA-Z0-9_.-]", name);
        _cleanup_free_ char *p = moat_engine_volume_path(e, name);
        int r = moat_mkdir_p(p, 0755, err);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        if ((r = moat_db_prepare(e->db, "INSERT OR IGNORE INTO volumes(name, created, labels) VALUES(?, ?, ?)", &s,
                                 err)) < 0)
                return r;
        _cleanup_free_ char *lt = labels ? json_dumps(labels, JSON_COMPACT) : xstrdup("{}");
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (sqlite3_int64) time(NULL));
        sqlite3_bind_text(s, 3, lt, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
                return moat_db_error(e->db, rc, "record volume", err);
        return sqlite3_changes(moat_db_handle(e->db)) > 0 ? 1 : 0;
}

int moat_engine_volume_create(struct moat_engine *e, const char *name, json_t *labels, struct moat_error *err)
{
        int r = moat_engine_volume_make(e, name, labels, err);
        return r < 0 ? r : 0;
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

/* Check, remove and forget, under the write lock: a read and then a write in one implicit
 * transaction fails at once ("database is locked") when another process wrote in between. */
static int volume_remove_locked(struct moat_engine *e, const char *name, struct moat_error *err)
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

int moat_engine_volume_remove(struct moat_engine *e, const char *name, struct moat_error *err)
{
        int r = moat_db_begin(e->db, err);
        if (r < 0)
                return r;
        if ((r = volume_remove_locked(e, name, err)) < 0) {
                moat_db_rollback(e->db);
                return r;
        }
        return moat_db_commit(e->db, err);
}

int moat_engine_volume_inspect(struct moat_engine *e, const char *name, json_t **out, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r = moat_db_prepare(e->db, "SELECT created, labels FROM volumes WHERE name = ?", &s, err);
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
        json_t *labels = json_loads((const char *) sqlite3_column_text(s, 1), 0, NULL);
        *out = json_pack("{s:s,s:s,s:s,s:s,s:o,s:{},s:s}", "CreatedAt", created, "Driver", "local", "Mountpoint", mp,
                         "Name", name, "Labels", json_is_object(labels) ? labels : json_object(), "Options", "Scope",
                         "local");
        if (!json_is_object(labels))
                json_decref(labels);
        return 0;
}

static bool is_anonymous(struct moat_engine *e, const char *name)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        struct moat_error err;
        if (moat_db_prepare(e->db, "SELECT 1 FROM volumes WHERE name = ? AND json_type(labels, '$.\""
                                   MOAT_VOLUME_ANONYMOUS_LABEL "\"') IS NOT NULL", &s, &err) < 0)
                return false;
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        return sqlite3_step(s) == SQLITE_ROW;
}

void moat_engine_volumes_release(struct moat_engine *e, json_t *names, bool anonymous_only)
{
        size_t i;
        json_t *v;
        json_array_foreach(names, i, v)
        {
                const char *name = json_string_value(v);
                struct moat_error err;
                if (!name || (anonymous_only && !is_anonymous(e, name)))
                        continue;
                /* gone, or kept because another container (--volumes-from) still uses it */
                if (moat_engine_volume_remove(e, name, &err) < 0 && err.code != ENOENT && err.code != EBUSY)
                        moat_warn("volume %s: %s", name, err.msg);
        }
}

int moat_engine_volume_prune(struct moat_engine *e, bool all, char ***removed, uint64_t *freed,
                             struct moat_error *err)
{
        *freed = 0;
        _cleanup_strv_ char **names = NULL;
        size_t n;
        int r = moat_engine_volume_list(e, &names, &n, err);
        if (r < 0)
                return r;
        char **out = XNEW(char *, n + 1);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                if (!all && !is_anonymous(e, names[i]))
                        continue;
                _cleanup_free_ char *user = NULL;
                struct moat_error e2;
                if (users_of(e, names[i], &user, &e2) != 0)
                        continue; /* in use (or unknown): kept */
                _cleanup_free_ char *p = moat_engine_volume_path(e, names[i]);
                int64_t size = 0;
                if (moat_disk_usage(p, &size, &e2) < 0)
                        size = 0;
                if (moat_engine_volume_remove(e, names[i], &e2) == 0) {
                        out[k++] = xstrdup(names[i]);
                        *freed += (uint64_t) size;
                }
        }
        out[k] = NULL;
        *removed = out;
        return 0;
}

static int64_t links_of(struct moat_engine *e, const char *name)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        struct moat_error err;
        if (moat_db_prepare(e->db,
                            "SELECT count(DISTINCT containers.id) FROM containers, "
                            "json_each(containers.config, '$.Volumes') WHERE json_each.value = ?",
                            &s, &err) < 0)
                return 0;
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        return sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
}

static int volume_filters_check(char **filters, struct moat_error *err)
{
        for (size_t i = 0; filters && filters[i]; i++) {
                const char *f = filters[i], *eq = strchr(f, '=');
                if (!eq)
                        return moat_error_set(err, 0, "bad format of filter (expected name=value): %s", f);
                const char *val = eq + 1;
                size_t kl = (size_t) (eq - f);
                if (kl == 4 && startswith(f, "name")) {
                        regex_t re;
                        if (regcomp(&re, val, REG_EXTENDED | REG_NOSUB) != 0)
                                return moat_error_set(err, 0, "invalid filter '%s': not a regular expression", f);
                        regfree(&re);
                } else if (kl == 8 && startswith(f, "dangling")) {
                        if (!streq(val, "true") && !streq(val, "false") && !streq(val, "1") && !streq(val, "0"))
                                return moat_error_set(err, 0, "invalid filter '%s': dangling is true or false", f);
                } else if (kl == 5 && startswith(f, "label")) {
                        if (!*val)
                                return moat_error_set(err, 0, "invalid filter '%s': label takes KEY or KEY=VALUE", f);
                } else if (!(kl == 6 && startswith(f, "driver"))) {
                        return moat_error_set(err, 0, "invalid filter '%.*s' (the filters are name, label, dangling, "
                                                      "driver)", (int) kl, f);
                }
        }
        return 0;
}

/* Values of one key are alternatives, except label, where every one must hold; keys combine with
 * AND (as for ps). */
static bool volume_match(char **filters, json_t *v)
{
        const char *keys[] = { "name", "dangling", "driver" };
        bool seen[ARRAY_SIZE(keys)] = { 0 }, hit[ARRAY_SIZE(keys)] = { 0 };
        const char *name = json_string_value(json_object_get(v, "Name"));
        bool dangling = json_integer_value(json_object_get(v, "Links")) == 0;
        for (size_t i = 0; filters && filters[i]; i++) {
                const char *eq = strchr(filters[i], '='), *val = eq + 1;
                size_t kl = (size_t) (eq - filters[i]);
                if (kl == 5 && startswith(filters[i], "label")) {
                        if (!moat_filter_label(json_object_get(v, "Labels"), val))
                                return false;
                        continue;
                }
                for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
                        if (strlen(keys[k]) != kl || strncmp(filters[i], keys[k], kl) != 0)
                                continue;
                        seen[k] = true;
                        if (k == 0)
                                hit[k] |= moat_filter_regex(val, name);
                        else if (k == 1)
                                hit[k] |= dangling == (streq(val, "true") || streq(val, "1"));
                        else
                                hit[k] |= streq(val, "local");
                }
        }
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
                if (seen[k] && !hit[k])
                        return false;
        return true;
}

int moat_engine_volume_list_filtered(struct moat_engine *e, char **filters, json_t **out, struct moat_error *err)
{
        int r = volume_filters_check(filters, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **names = NULL;
        size_t n;
        if ((r = moat_engine_volume_list(e, &names, &n, err)) < 0)
                return r;
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++) {
                json_t *v;
                struct moat_error e2;
                if (moat_engine_volume_inspect(e, names[i], &v, &e2) < 0)
                        continue; /* removed meanwhile */
                json_object_set_new(v, "Links", json_integer(links_of(e, names[i])));
                if (volume_match(filters, v))
                        json_array_append(a, v);
                json_decref(v);
        }
        *out = a;
        return 0;
}
