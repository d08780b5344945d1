/* Unit tests for util/db: migrations apply in order once, a newer schema is refused, transactions
 * roll back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util/db.h"

static const struct moat_db_migration steps[] = {
        { 1, "CREATE TABLE t (a INTEGER)" },
        { 2, "ALTER TABLE t ADD COLUMN b TEXT" },
};

static void test_migrate(void **state)
{
        char dir[] = "/tmp/moat-unit-db-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *path = xasprintf("%s/moat.db", dir);
        struct moat_error err;
        struct moat_db *db;
        assert_int_equal(moat_db_open(path, &db, &err), 0);
        assert_int_equal(moat_db_migrate(db, "test", steps, 1, &err), 0);
        int v;
        assert_int_equal(moat_db_schema_version(db, "test", &v, &err), 0);
        assert_int_equal(v, 1);
        assert_int_equal(moat_db_migrate(db, "test", steps, 2, &err), 0);
        assert_int_equal(moat_db_migrate(db, "test", steps, 2, &err), 0); /* idempotent */
        assert_int_equal(moat_db_schema_version(db, "test", &v, &err), 0);
        assert_int_equal(v, 2);
        assert_int_equal(moat_db_schema_version(db, "other", &v, &err), 0);
        assert_int_equal(v, 0);
        /* code older than the database */
        assert_int_equal(moat_db_migrate(db, "test", steps, 1, &err), -EPROTO);
        /* out of order */
        static const struct moat_db_migration bad[] = { { 2, "SELECT 1" }, { 1, "SELECT 1" } };
        assert_true(moat_db_migrate(db, "bad", bad, 2, &err) < 0);
        /* a failing step rolls back and leaves the version alone */
        static const struct moat_db_migration fails[] = { { 1, "CREATE TABLE u (x); INSERT INTO nope VALUES(1)" } };
        assert_true(moat_db_migrate(db, "fails", fails, 1, &err) < 0);
        assert_int_equal(moat_db_schema_version(db, "fails", &v, &err), 0);
        assert_int_equal(v, 0);
        assert_int_equal(moat_db_exec(db, "INSERT INTO u VALUES(1)", &err) < 0, 1);
        /* transactions */
        assert_int_equal(moat_db_begin(db, &err), 0);
        assert_int_equal(moat_db_exec(db, "INSERT INTO t(a, b) VALUES(1, 'x')", &err), 0);
        moat_db_rollback(db);
        assert_int_equal(moat_db_begin(db, &err), 0);
        assert_int_equal(moat_db_exec(db, "INSERT INTO t(a, b) VALUES(2, 'y')", &err), 0);
        assert_int_equal(moat_db_commit(db, &err), 0);
        sqlite3_stmt *st;
        assert_int_equal(moat_db_prepare(db, "SELECT COUNT(*), SUM(a) FROM t", &st, &err), 0);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), 1);
        assert_int_equal(sqlite3_column_int(st, 1), 2);
        sqlite3_finalize(st);
        /* WAL is on */
        assert_int_equal(moat_db_prepare(db, "PRAGMA journal_mode", &st, &err), 0);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *) sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        moat_db_close(db);
        assert_int_equal(moat_rm_rf(dir, &err), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_migrate),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
