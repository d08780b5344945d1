/* db: opening the shared SQLite database and running each module's migrations. Modules own
 * their tables; this file owns only schema_version and the connection's settings. */
#include "util/db.h"

#define MOAT_DB_BUSY_TIMEOUT_MS 10000

struct moat_db {
        sqlite3 *h;
        int depth; /* open transactions (we never nest, but rollback must know) */
};

int moat_db_error(struct moat_db *db, int rc, const char *what, struct moat_error *err)
{
        int e;
        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED: e = EBUSY; break;
        case SQLITE_NOMEM: e = ENOMEM; break;
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH: e = EACCES; break;
        case SQLITE_FULL: e = ENOSPC; break;
        case SQLITE_CONSTRAINT: e = EEXIST; break;
        case SQLITE_CANTOPEN: e = ENOENT; break;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB: e = EUCLEAN; break;
        default: e = EIO; break;
        }
        const char *m = db && db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
        moat_error_set(err, 0, "%s: %s", what, m);
        if (err)
                err->code = e;
        return -e;
}

int moat_db_open(const char *path, struct moat_db **out, struct moat_error *err)
{
        struct moat_db *db = XNEW(struct moat_db, 1);
        int rc = sqlite3_open_v2(path, &db->h,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                         SQLITE_OPEN_EXRESCODE,
                                 NULL);
        if (rc != SQLITE_OK) {
                int r = moat_db_error(db, rc, "open database", err);
                moat_error_wrap(err, "%s", path);
                moat_db_close(db);
                return r;
        }
        sqlite3_busy_timeout(db->h, MOAT_DB_BUSY_TIMEOUT_MS);
        /* Every moat command is a short process: a checkpoint on each close would cost two
         * fdatasyncs per command. The WAL is checkpointed when it passes 64 pages instead (about
         * five `moat run --rm`), by whichever connection commits then; a crash never loses what
         * the WAL holds. Small, because the first connection of a process that finds no other
         * open re-reads the frames since the last checkpoint. */
        sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        sqlite3_wal_autocheckpoint(db->h, 64);
        /* WAL: readers never block the writer; synchronous=NORMAL is durable across crashes of
         * the process (kill -9) and loses at most the last commit on power loss. */
        static const char *const pragmas[] = {
                "PRAGMA journal_mode=WAL",
                "PRAGMA synchronous=NORMAL",
                "PRAGMA foreign_keys=ON",
                "PRAGMA trusted_schema=OFF",
                "CREATE TABLE IF NOT EXISTS schema_version (module TEXT PRIMARY KEY, version INTEGER NOT NULL)",
        };
        for (size_t i = 0; i < ARRAY_SIZE(pragmas); i++) {
                sqlite3_stmt *s = NULL;
                rc = sqlite3_prepare_v2(db->h, pragmas[i], -1, &s, NULL);
                if (rc == SQLITE_OK) {
                        do
                                rc = sqlite3_step(s);
                        while (rc == SQLITE_ROW);
                }
                sqlite3_finalize(s);
                if (rc != SQLITE_DONE && rc != SQLITE_OK) {
                        int r = moat_db_error(db, rc, pragmas[i], err);
                        moat_error_wrap(err, "open database %s", path);
                        moat_db_close(db);
                        return r;
                }
        }
        *out = db;
        return 0;
}

void moat_db_close(struct moat_db *db)
{
        if (!db)
                return;
        sqlite3_close_v2(db->h);
        free(db);
}

sqlite3 *moat_db_handle(struct moat_db *db)
{
        return db->h;
}

int moat_db_exec(struct moat_db *db, const char *sql, struct moat_error *err)
{
        char *msg = NULL;
        int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
                int r = moat_db_error(db, rc, "exec", err);
                if (msg)
                        moat_error_set(err, 0, "exec: %s", msg);
                if (err)
                        err->code = -r;
                sqlite3_free(msg);
                return r;
        }
        return 0;
}

int moat_db_prepare(struct moat_db *db, const char *sql, sqlite3_stmt **out, struct moat_error *err)
{
        int rc = sqlite3_prepare_v2(db->h, sql, -1, out, NULL);
        if (rc != SQLITE_OK) {
                char what[48];
                snprintf(what, sizeof what, "prepare '%.32s'", sql);
                return moat_db_error(db, rc, what, err);
        }
        return 0;
}

int moat_db_begin(struct moat_db *db, struct moat_error *err)
{
        int r = moat_db_exec(db, "BEGIN IMMEDIATE", err);
        if (r < 0)
                return moat_error_wrap(err, "begin transaction");
        db->depth++;
        return 0;
}

int moat_db_commit(struct moat_db *db, struct moat_error *err)
{
        int r = moat_db_exec(db, "COMMIT", err);
        if (r < 0) {
                moat_db_rollback(db);
                return moat_error_wrap(err, "commit");
        }
        db->depth--;
        return 0;
}

void moat_db_rollback(struct moat_db *db)
{
        if (!sqlite3_get_autocommit(db->h))
                sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
        db->depth = 0;
}

int moat_db_schema_version(struct moat_db *db, const char *module, int *version, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r = moat_db_prepare(db, "SELECT version FROM schema_version WHERE module = ?", &s, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, module, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
                *version = sqlite3_column_int(s, 0);
        else if (rc == SQLITE_DONE)
                *version = 0;
        else
                return moat_db_error(db, rc, "read schema_version", err);
        return 0;
}

static int apply_step(struct moat_db *db, const char *module, const struct moat_db_migration *step, int last,
                      struct moat_error *err)
{
        int cur;
        /* Read the version under the write lock: another process may have migrated meanwhile. */
        int r = moat_db_schema_version(db, module, &cur, err);
        if (r < 0)
                return r;
        if (cur > last)
                return moat_error_set(err, EPROTO, "database schema of %s is version %d, newer than this program (%d)",
                                      module, cur, last);
        if (step->version <= cur)
                return 0;
        r = moat_db_exec(db, step->sql, err);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        r = moat_db_prepare(db, "INSERT INTO schema_version(module, version) VALUES(?, ?) "
                                "ON CONFLICT(module) DO UPDATE SET version = excluded.version", &s, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, module, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 2, step->version);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
                return moat_db_error(db, rc, "record schema version", err);
        return 0;
}

int moat_db_migrate(struct moat_db *db, const char *module, const struct moat_db_migration *steps, size_t n,
                    struct moat_error *err)
{
        if (n == 0)
                return 0;
        for (size_t i = 1; i < n; i++)
                if (steps[i].version <= steps[i - 1].version)
                        return moat_error_set(err, 0, "migrations of %s out of order at version %d", module,
                                              steps[i].version);
        for (size_t i = 0; i < n; i++) {
                int r = moat_db_begin(db, err);
                if (r < 0)
                        return moat_error_wrap(err, "migrate %s", module);
                r = apply_step(db, module, &steps[i], steps[n - 1].version, err);
                if (r < 0) {
                        moat_db_rollback(db);
                        return moat_error_wrap(err, "migrate %s to version %d", module, steps[i].version);
                }
                r = moat_db_commit(db, err);
                if (r < 0)
                        return moat_error_wrap(err, "migrate %s to version %d", module, steps[i].version);
        }
        return 0;
}
