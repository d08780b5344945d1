/* db: the SQLite state database every module shares (WAL, busy timeout, per-module ordered
 * migrations recorded in schema_version, a transaction helper). It knows no module's tables. */
#ifndef MOAT_DB_H
#define MOAT_DB_H

#include <sqlite3.h>

#include "util/util.h"

struct moat_db;

/* One step of a module's schema; versions start at 1 and must be listed in increasing order. */
struct moat_db_migration {
        int version;
        const char *sql;
};

/* Open (creating if needed) the database at path, in WAL mode with a busy timeout. */
int moat_db_open(const char *path, struct moat_db **out, struct moat_error *err);
void moat_db_close(struct moat_db *db);
static inline void moat_db_closep(struct moat_db **db)
{
        if (*db)
                moat_db_close(*db);
}
#define _cleanup_db_ _cleanup_(moat_db_closep)

sqlite3 *moat_db_handle(struct moat_db *db);

/* Apply, each in its own transaction, the migrations of `module` newer than its recorded version.
 * A database newer than the code (recorded version above the last step) is refused. */
int moat_db_migrate(struct moat_db *db, const char *module, const struct moat_db_migration *steps, size_t n,
                    struct moat_error *err);
/* The recorded schema version of module (0 when none). */
int moat_db_schema_version(struct moat_db *db, const char *module, int *version, struct moat_error *err);

/* Run SQL with no result rows. */
int moat_db_exec(struct moat_db *db, const char *sql, struct moat_error *err);
/* BEGIN IMMEDIATE (take the write lock up front, so busy waits happen here and not mid-way). */
int moat_db_begin(struct moat_db *db, struct moat_error *err);
int moat_db_commit(struct moat_db *db, struct moat_error *err);
/* Roll back if a transaction is open; never fails the caller. */
void moat_db_rollback(struct moat_db *db);

/* Prepare a statement; errors name the SQL's first words. */
int moat_db_prepare(struct moat_db *db, const char *sql, sqlite3_stmt **out, struct moat_error *err);
static inline void moat_db_finalizep(sqlite3_stmt **s)
{
        if (*s)
                sqlite3_finalize(*s);
}
#define _cleanup_stmt_ _cleanup_(moat_db_finalizep)
/* Map an sqlite result code to a negative errno and fill err with the db's message. */
int moat_db_error(struct moat_db *db, int rc, const char *what, struct moat_error *err);

#endif
