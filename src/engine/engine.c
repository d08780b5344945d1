/* engine: container records and lifecycle. A record lives in the state DB (table containers);
 * its files live in <root>/containers/<id>/ (config.json, rootfs mount, log, status.json written by
 * the monitor, attach.sock). Every change of a container happens under an exclusive flock on that
 * directory, and the DB row is updated in one statement, so two moat processes never interleave
 * and a kill -9 at any point leaves a row the next command repairs, once (see refresh_at()). */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "engine/attach.h"
#include "engine/health.h"
#include "engine/internal.h"

static const struct moat_db_migration migrations[] = {
        { 1, "CREATE TABLE containers ("
             " id TEXT PRIMARY KEY,"
             " name TEXT NOT NULL UNIQUE,"
             " image TEXT NOT NULL,"
             " image_id TEXT NOT NULL DEFAULT '',"
             " config TEXT NOT NULL DEFAULT '{}',"
             " created INTEGER NOT NULL,"
             " state TEXT NOT NULL,"
             " exit_code INTEGER NOT NULL DEFAULT 0,"
             " pid INTEGER NOT NULL DEFAULT 0,"
             " started INTEGER NOT NULL DEFAULT 0,"
             " finished INTEGER NOT NULL DEFAULT 0,"
             " oom_killed INTEGER NOT NULL DEFAULT 0,"
             " restart_count INTEGER NOT NULL DEFAULT 0,"
             " labels TEXT NOT NULL DEFAULT '{}',"
             " error TEXT NOT NULL DEFAULT '')" },
        { 2, "CREATE TABLE volumes (name TEXT PRIMARY KEY, created INTEGER NOT NULL, labels TEXT NOT NULL DEFAULT '{}')" },
        /* the container's range of host ids (userns.c); NULL: the host's user namespace */
        { 3, "ALTER TABLE containers ADD COLUMN userns_slot INTEGER;"
             "CREATE UNIQUE INDEX containers_userns_slot ON containers(userns_slot)" },
        /* boot.c: the boot the container last started in, and whether the user stopped it since */
        { 4, "ALTER TABLE containers ADD COLUMN boot_id TEXT NOT NULL DEFAULT '';"
             "ALTER TABLE containers ADD COLUMN stopped_by_user INTEGER NOT NULL DEFAULT 0" },
};

static int64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
        struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };
        nanosleep(&ts, NULL);
}

int moat_engine_open(const char *root, struct moat_engine **out, struct moat_error *err)
{
        struct moat_engine *e = XNEW(struct moat_engine, 1);
        e->root = xstrdup(root);
        e->containers = xasprintf("%s/containers", root);
        const char *rr = getenv("MOAT_RUNTIME_ROOT");
        e->run_root = rr && *rr ? xstrdup(rr) : streq(root, "/var/lib/moat") ? xstrdup("/run/moat/runtime")
                                                                           : xasprintf("%s/run", root);
        e->rt.root = e->run_root;
        int r = moat_image_store_open(root, &e->store, err);
        if (r < 0)
                goto fail;
        e->db = moat_image_store_db(e->store);
        if ((r = moat_db_migrate(e->db, "engine", migrations, ARRAY_SIZE(migrations), err)) < 0)
                goto fail;
        if ((r = moat_mkdir_p(e->containers, 0700, err)) < 0 || (r = moat_mkdir_p(e->run_root, 0700, err)) < 0)
                goto fail;
        *out = e;
        return 0;
fail:
        moat_engine_close(e);
        return r;
}

void moat_engine_close(struct moat_engine *e)
{
        if (!e)
                return;
        if (e->store)
                moat_image_store_close(e->store);
        free(e->root);
        free(e->containers);
        free(e->run_root);
        free(e);
}

void moat_container_info_clear(struct moat_container_info *c)
{
        free(c->id);
        free(c->name);
        free(c->image);
        free(c->image_id);
        free(c->state);
        free(c->command);
        free(c->error);
        json_decref(c->config);
        json_decref(c->labels);
        json_decref(c->health);
        free(c->boot_id);
        memset(c, 0, sizeof *c);
}

void moat_container_info_free(struct moat_container_info *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                moat_container_info_clear(&v[i]);
        free(v);
}

static char *cdir(struct moat_engine *e, const char *id)
{
        return xasprintf("%s/%s", e->containers, id);
}

void moat_engine_event(struct moat_engine *e, const char *action, const char *id, const char *name, json_t *extra)
{
        moat_event_append(e->root, action, id, name, extra);
        json_decref(extra);
}

/* ---- records ------------------------------------------------------------------------------- */

static const char *col_text(sqlite3_stmt *s, int i)
{
        const char *t = (const char *) sqlite3_column_text(s, i);
        return t ? t : "";
}

static char *command_string(json_t *cfg)
{
        json_t *args = json_object_get(json_object_get(cfg, "Process"), "args");
        size_t i, len = 0;
        json_t *v;
        char *out = xstrdup("");
        json_array_foreach(args, i, v)
        {
                const char *s = json_string_value(v);
                char *n = xasprintf("%s%s%s", out, i ? " " : "", s ? s : "");
                free(out);
                out = n;
                len++;
        }
        return out;
}

#define ROW_COLS "id, name, image, image_id, config, created, state, exit_code, pid, started, finished, " \
                 "oom_killed, restart_count, labels, error, boot_id, stopped_by_user"

static void row_to_info(sqlite3_stmt *s, struct moat_container_info *c)
{
        memset(c, 0, sizeof *c);
        c->id = xstrdup(col_text(s, 0));
        c->name = xstrdup(col_text(s, 1));
        c->image = xstrdup(col_text(s, 2));
        c->image_id = xstrdup(col_text(s, 3));
        c->config = json_loads(col_text(s, 4), 0, NULL);
        if (!c->config)
                c->config = json_object();
        c->created = sqlite3_column_int64(s, 5);
        c->state = xstrdup(col_text(s, 6));
        c->exit_code = sqlite3_column_int(s, 7);
        c->pid = (pid_t) sqlite3_column_int(s, 8);
        c->started = sqlite3_column_int64(s, 9);
        c->finished = sqlite3_column_int64(s, 10);
        c->oom_killed = sqlite3_column_int(s, 11) != 0;
        c->restart_count = sqlite3_column_int(s, 12);
        c->labels = json_loads(col_text(s, 13), 0, NULL);
        if (!c->labels)
                c->labels = json_object();
        c->error = xstrdup(col_text(s, 14));
        c->boot_id = xstrdup(col_text(s, 15));
        c->stopped_by_user = sqlite3_column_int(s, 16) != 0;
        c->command = command_string(c->config);
}

/* docker's words, without the strerror that moat_error_set would add; the code stays ENOENT */
static int no_such_container(struct moat_error *err, const char *name_or_id)
{
        moat_error_set(err, 0, "No such container: %s", name_or_id);
        if (err)
                err->code = ENOENT;
        return -ENOENT;
}

static int load_row(struct moat_engine *e, const char *id, struct moat_container_info *c, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r = moat_db_prepare(e->db, "SELECT " ROW_COLS " FROM containers WHERE id = ?", &s, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
                return no_such_container(err, id);
        if (rc != SQLITE_ROW)
                return moat_db_error(e->db, rc, "read container", err);
        row_to_info(s, c);
        return 0;
}

/* name, full id or unique id prefix -> id. Docker's precedence: a full id, then an exact name,
 * then an id prefix that only one container has. */
static int lookup(struct moat_engine *e, const char *name_or_id, char **id, struct moat_error *err)
{
        const char *n = name_or_id[0] == '/' ? name_or_id + 1 : name_or_id;
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r = moat_db_prepare(e->db,
                                "SELECT id, id = ?1 OR name = ?1 FROM containers WHERE id = ?1 OR name = ?1 OR "
                                "(length(?1) >= 1 AND substr(id, 1, length(?1)) = ?1) "
                                "ORDER BY id = ?1 DESC, name = ?1 DESC LIMIT 2",
                                &s, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, n, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
                return no_such_container(err, name_or_id);
        if (rc != SQLITE_ROW)
                return moat_db_error(e->db, rc, "find container", err);
        _cleanup_free_ char *first = xstrdup(col_text(s, 0));
        bool exact = sqlite3_column_int(s, 1);
        if (!exact && (rc = sqlite3_step(s)) != SQLITE_DONE)
                return rc == SQLITE_ROW ? moat_error_set(err, 0, "multiple containers match the prefix %s", name_or_id)
                                        : moat_db_error(e->db, rc, "find container", err);
        *id = STEAL(first);
        return 0;
}

/* Exclusive lock on the container's directory; -1 when it does not exist. */
static int lock_dir(struct moat_engine *e, const char *id, bool wait)
{
        _cleanup_free_ char *d = cdir(e, id);
        int fd = open(d, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
                close(fd);
                return -2;
        }
        return fd;
}

int moat_engine_lock_container(struct moat_engine *e, const char *id)
{
        return lock_dir(e, id, true);
}

static bool monitor_alive(pid_t pid, const char *id)
{
        if (pid <= 0)
                return false;
        char path[64], buf[4096];
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int) pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        bool is_mon = false, has_id = false;
        for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
                const char *b = strrchr(p, '/');
                if (streq(b ? b + 1 : p, "moat-monitor"))
                        is_mon = true;
                if (streq(p, id))
                        has_id = true;
        }
        return is_mon && has_id;
}

static json_t *read_status(struct moat_engine *e, const char *id)
{
        _cleanup_free_ char *p = xasprintf("%s/%s/status.json", e->containers, id);
        return json_load_file(p, 0, NULL);
}

/* Write c's state to its record; only while the record's state is still if_state when that is not
 * NULL. Returns the number of records changed (0 or 1). */
static int update_row(struct moat_engine *e, const struct moat_container_info *c, const char *if_state,
                      struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r = moat_db_prepare(e->db,
                                "UPDATE containers SET state = ?2, exit_code = ?3, pid = ?4, started = ?5, finished = ?6, "
                                "oom_killed = ?7, restart_count = ?8, error = ?9 "
                                "WHERE id = ?1 AND (?10 IS NULL OR state = ?10)",
                                &s, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, c->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, c->state, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 3, c->exit_code);
        sqlite3_bind_int(s, 4, (int) c->pid);
        sqlite3_bind_int64(s, 5, c->started);
        sqlite3_bind_int64(s, 6, c->finished);
        sqlite3_bind_int(s, 7, c->oom_killed);
        sqlite3_bind_int(s, 8, c->restart_count);
        sqlite3_bind_text(s, 9, c->error ? c->error : "", -1, SQLITE_STATIC);
        if (if_state)
                sqlite3_bind_text(s, 10, if_state, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
                return moat_db_error(e->db, rc, "update container", err);
        return sqlite3_changes(moat_db_handle(e->db));
}

static void set_str(char **p, const char *v)
{
        free(*p);
        *p = xstrdup(v ? v : "");
}

/* What the record lacks, found by assess(). */
enum refresh_need {
        NEED_NOTHING,
        NEED_INTERRUPTED, /* a create that was killed: the record becomes dead */
        NEED_END,         /* the monitor recorded an end in status.json that the record has not */
        NEED_MONITOR_GONE /* the monitor was killed: the container is to be killed, its end recorded */
};

/* Bring c up to date with status.json and its monitor, in memory only; say what is to be written.
 * *stp: the status read (NULL when none), for the caller to release. */
static enum refresh_need assess(struct moat_engine *e, struct moat_container_info *c, json_t **stp)
{
        *stp = NULL;
        if (streq(c->state, "creating"))
                return NEED_INTERRUPTED;
        json_t *st = *stp = read_status(e, c->id);
        if (!st)
                return NEED_NOTHING;
        const char *s = json_string_value(json_object_get(st, "state"));
        pid_t mon = (pid_t) json_integer_value(json_object_get(st, "monitor_pid"));
        c->pid = (pid_t) json_integer_value(json_object_get(st, "pid"));
        c->started = json_integer_value(json_object_get(st, "started"));
        c->restart_count = (int) json_integer_value(json_object_get(st, "restart_count"));
        json_t *health = json_object_get(st, "health");
        json_decref(c->health);
        c->health = json_is_object(health) ? json_incref(health) : NULL;
        if (s && streq(s, "exited")) {
                int64_t finished = json_integer_value(json_object_get(st, "finished"));
                bool recorded = streq(c->state, "exited") && c->finished == finished;
                set_str(&c->state, "exited");
                c->exit_code = (int) json_integer_value(json_object_get(st, "exit_code"));
                c->finished = finished;
                c->oom_killed = json_is_true(json_object_get(st, "oom_killed"));
                set_str(&c->error, json_string_value(json_object_get(st, "error")));
                c->pid = 0;
                return recorded ? NEED_NOTHING : NEED_END;
        }
        if (monitor_alive(mon, c->id)) {
                set_str(&c->state, s ? s : "running");
                _cleanup_free_ char *pm = xasprintf("%s/%s/paused", e->containers, c->id);
                if (streq(c->state, "running") && access(pm, F_OK) == 0)
                        set_str(&c->state, "paused");
                if (s && streq(s, "restarting"))
                        c->exit_code = (int) json_integer_value(json_object_get(st, "exit_code"));
                return NEED_NOTHING;
        }
        /* the monitor was killed: the container has lost its parent and its log */
        set_str(&c->state, "exited");
        c->exit_code = 255; /* docker's code for a container whose end it did not see */
        c->pid = 0;
        c->finished = now_ns();
        set_str(&c->error, moat_engine_rebooted_since(c) ? MOAT_ERROR_HOST_REBOOTED
                                                        : "moat-monitor exited unexpectedly; the container was stopped");
        return NEED_MONITOR_GONE;
}

/* Bring c up to date with its monitor, and record in the DB what the record lacks: an end (with
 * its die event), a monitor found gone, an interrupted create. Each is recorded once: under the
 * container's lock (`locked`: the caller holds it), from the record read again under it, and by a
 * conditional UPDATE. A reader that finds the lock taken does not wait: the holder (create, start,
 * the monitor's _sync, rm, another refresh) records what there is, and c shows it meanwhile. */
static void refresh_at(struct moat_engine *e, struct moat_container_info *c, bool locked)
{
        _cleanup_free_ char *was = xstrdup(c->state);
        json_t *st;
        enum refresh_need need = assess(e, c, &st);
        if (need == NEED_NOTHING) {
                json_decref(st);
                return;
        }
        _cleanup_close_ int lk = -1;
        struct moat_error err;
        if (!locked) {
                json_decref(st);
                if ((lk = lock_dir(e, c->id, false)) == -2)
                        return;
                /* another process may have recorded it between our read and the lock */
                struct moat_container_info now;
                if (load_row(e, c->id, &now, &err) < 0)
                        return; /* removed meanwhile */
                moat_container_info_clear(c);
                *c = now;
                free(was);
                was = xstrdup(c->state);
                if ((need = assess(e, c, &st)) == NEED_NOTHING) {
                        json_decref(st);
                        return;
                }
        }
        if (need == NEED_INTERRUPTED) {
                set_str(&c->state, "dead");
                set_str(&c->error, "creation was interrupted (moat was killed); remove it with moat rm");
        } else if (need == NEED_MONITOR_GONE) {
                moat_runtime_kill(&e->rt, c->id, SIGKILL, true, &err);
                for (int i = 0; i < 50 && moat_runtime_delete(&e->rt, c->id, true, &err) < 0 && err.code != ENOENT; i++)
                        sleep_ms(20);
                /* status.json first: once it says exited, this outcome is the one any later refresh
                 * (after a kill -9 of ours too) records, as the end of the run */
                json_object_set_new(st, "state", json_string("exited"));
                json_object_set_new(st, "exit_code", json_integer(255));
                json_object_set_new(st, "finished", json_integer(c->finished));
                json_object_set_new(st, "error", json_string(c->error));
                _cleanup_free_ char *p = xasprintf("%s/%s/status.json", e->containers, c->id);
                _cleanup_free_ char *txt = json_dumps(st, JSON_COMPACT);
                if (moat_write_file_atomic(p, txt, strlen(txt), 0600, &err) < 0)
                        moat_warn("%s", err.msg);
        }
        json_decref(st);
        int r = update_row(e, c, was, &err);
        if (r < 0)
                moat_warn("%s", err.msg);
        if (r > 0 && need != NEED_INTERRUPTED)
                moat_engine_event(e, "die", c->id, c->name,
                                  json_pack("{s:i,s:b,s:s}", "exitCode", c->exit_code, "oomKilled", c->oom_killed,
                                            "error", c->error ? c->error : ""));
}

static void refresh(struct moat_engine *e, struct moat_container_info *c)
{
        refresh_at(e, c, false);
}

int moat_engine_get(struct moat_engine *e, const char *name_or_id, struct moat_container_info *out,
                    struct moat_error *err)
{
        _cleanup_free_ char *id = NULL;
        int r = lookup(e, name_or_id, &id, err);
        if (r < 0)
                return r;
        if ((r = load_row(e, id, out, err)) < 0)
                return r;
        refresh(e, out);
        return 0;
}

static bool row_exists(struct moat_engine *e, const char *id)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        struct moat_error err;
        if (moat_db_prepare(e->db, "SELECT 1 FROM containers WHERE id = ?", &s, &err) < 0)
                return true;
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        return sqlite3_step(s) != SQLITE_DONE;
}

/* A directory without a record is what a create killed before its INSERT leaves: nothing is
 * mounted there yet, so once nobody holds its lock it can go. */
static void remove_orphan_dirs(struct moat_engine *e)
{
        DIR *d = opendir(e->containers);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strlen(de->d_name) != 64 || row_exists(e, de->d_name))
                        continue;
                int fd = lock_dir(e, de->d_name, false);
                if (fd < 0)
                        continue;
                if (!row_exists(e, de->d_name)) {
                        _cleanup_free_ char *p = cdir(e, de->d_name);
                        struct moat_error err;
                        moat_rm_rf(p, &err);
                }
                close(fd);
        }
        closedir(d);
}

int moat_engine_list(struct moat_engine *e, bool all, struct moat_container_info **out, size_t *n,
                     struct moat_error *err)
{
        remove_orphan_dirs(e);
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r = moat_db_prepare(e->db, "SELECT " ROW_COLS " FROM containers ORDER BY created DESC", &s, err);
        if (r < 0)
                return r;
        struct moat_container_info *v = NULL;
        size_t k = 0;
        int rc;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                v = xrealloc(v, sizeof *v * (k + 1));
                row_to_info(s, &v[k++]);
        }
        if (rc != SQLITE_DONE) {
                moat_container_info_free(v, k);
                return moat_db_error(e->db, rc, "list containers", err);
        }
        size_t w = 0;
        for (size_t i = 0; i < k; i++) {
                refresh(e, &v[i]);
                if (all || streq(v[i].state, "running") || streq(v[i].state, "restarting") ||
                    streq(v[i].state, "paused"))
                        v[w++] = v[i];
                else
                        moat_container_info_clear(&v[i]);
        }
        *out = v;
        *n = w;
        return 0;
}

/* ---- removal -------------------------------------------------------------------------------- */

static int remove_locked(struct moat_engine *e, const char *id, struct moat_error *err)
{
        struct moat_error e2;
        if (moat_runtime_delete(&e->rt, id, true, &e2) < 0 && e2.code != ENOENT)
                moat_warn("runtime state of %s: %s", id, e2.msg);
        /* in one write transaction: snapshot_remove reads then writes, and a read transaction that
         * upgrades while another process writes fails at once (SQLITE_BUSY) instead of waiting */
        int r = moat_db_begin(e->db, err);
        if (r < 0)
                return r;
        r = moat_image_snapshot_remove(e->store, id, err);
        if (r < 0 && r != -ENOENT)
                moat_db_rollback(e->db);
        else if ((r = moat_db_commit(e->db, err)) < 0)
                return r;
        if (r < 0 && r != -ENOENT)
                return moat_error_wrap(err, "remove the root filesystem of %s", id);
        _cleanup_free_ char *d = cdir(e, id);
        if ((r = moat_rm_rf(d, err)) < 0 && r != -ENOENT)
                return moat_error_wrap(err, "remove %s", d);
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        if ((r = moat_db_prepare(e->db, "DELETE FROM containers WHERE id = ?", &s, err)) < 0)
                return r;
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
                return moat_db_error(e->db, rc, "delete container", err);
        /* the one that deleted the record says so */
        if (sqlite3_changes(moat_db_handle(e->db)) > 0)
                moat_engine_event(e, "destroy", id, NULL, NULL);
        return 0;
}

/* ---- create --------------------------------------------------------------------------------- */

/* container and volume names: docker's rule, [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 */
bool moat_engine_name_valid(const char *n)
{
        if (!n[0] || strlen(n) > 128 || !isalnum((unsigned char) n[0]))
                return false;
        for (const char *p = n; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("_.-", *p))
                        return false;
        return true;
}

static int insert_row(struct moat_engine *e, const char *id, const char *name, const char *image, json_t *labels,
                      struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r = moat_db_prepare(e->db,
                                "INSERT INTO containers(id, name, image, created, state, labels) "
                                "VALUES(?, ?, ?, ?, 'creating', ?)",
                                &s, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *lt = json_dumps(labels, JSON_COMPACT);
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, image, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, now_ns());
        sqlite3_bind_text(s, 5, lt, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
                return moat_db_error(e->db, rc, "record container", err);
        return 0;
}

int moat_engine_restart_policy_check(const char *p, struct moat_error *err)
{
        bool ok = streq(p, "no") || streq(p, "always") || streq(p, "unless-stopped") || streq(p, "on-failure");
        long long n;
        if (startswith(p, "on-failure:"))
                ok = moat_parse_int64(p + 11, &n) == 0 && n >= 0;
        if (!ok)
                return moat_error_set(err, 0, "invalid restart policy \"%s\": use no, on-failure[:N], always or "
                                              "unless-stopped", p);
        return 0;
}

static int check_opts(const struct moat_container_opts *o, struct moat_error *err)
{
        if (o->network && !streq(o->network, "none") && !streq(o->network, "host"))
                return moat_error_set(err, ENOTSUP, "--network %s: not supported yet: only none (the default) and "
                                                    "host; bridge networking comes with a later release", o->network);
        if (o->restart) {
                int r = moat_engine_restart_policy_check(o->restart, err);
                if (r < 0)
                        return r;
                if (o->auto_remove && !streq(o->restart, "no"))
                        return moat_error_set(err, 0, "conflicting options: cannot specify both --restart and --rm");
        }
        if (o->stop_signal && moat_signal_parse(o->stop_signal) < 0)
                return moat_error_set(err, 0, "invalid stop signal \"%s\"", o->stop_signal);
        if (o->name && !moat_engine_name_valid(o->name[0] == '/' ? o->name + 1 : o->name))
                return moat_error_set(err, 0, "invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                                      o->name);
        return 0;
}

int moat_engine_create(struct moat_engine *e, const struct moat_container_opts *o, char **id_out,
                       struct moat_error *err)
{
        int r = check_opts(o, err);
        if (r < 0)
                return r;
        char image_id[MOAT_DIGEST_LEN + 1];
        if ((r = moat_image_resolve(e->store, o->image, image_id, err)) < 0)
                return moat_error_wrap(err, "Unable to find image '%s' locally (pull it with moat pull)", o->image);
        _cleanup_free_ char *ijson = NULL;
        if ((r = moat_image_inspect(e->store, image_id, &ijson, err)) < 0)
                return r;
        json_t *idoc = json_loads(ijson, 0, NULL);
        json_t *icfg = json_object_get(idoc, "Config");

        unsigned char rnd[32];
        char id[65];
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int lk = -1;
        /* mkdir, then lock; a sweep of record-less directories (remove_orphan_dirs) may take the
         * directory between the two: then it is gone (no links) and we take another id */
        for (int attempt = 0; lk < 0; attempt++) {
                if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd) {
                        json_decref(idoc);
                        return moat_error_set(err, errno, "getrandom");
                }
                for (size_t i = 0; i < 32; i++)
                        snprintf(id + 2 * i, 3, "%02x", rnd[i]);
                free(dir);
                dir = cdir(e, id);
                if (mkdir(dir, 0700) < 0) {
                        json_decref(idoc);
                        return moat_error_set(err, errno, "create %s", dir);
                }
                lk = lock_dir(e, id, true);
                struct stat st;
                if (lk >= 0 && (fstat(lk, &st) < 0 || st.st_nlink == 0)) {
                        close(lk);
                        lk = -1;
                }
                if (lk < 0 && attempt > 8) {
                        json_decref(idoc);
                        return moat_error_set(err, EAGAIN, "create %s: removed while being created", dir);
                }
        }
        json_t *labels = json_object();
        for (size_t i = 0; o->labels && o->labels[i]; i++) {
                const char *eq = strchr(o->labels[i], '=');
                _cleanup_free_ char *k = eq ? xstrndup(o->labels[i], (size_t) (eq - o->labels[i])) : xstrdup(o->labels[i]);
                json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
        }
        /* the name: given, or generated and retried on a clash with a concurrent create */
        _cleanup_free_ char *name = NULL;
        for (unsigned attempt = 0;; attempt++) {
                free(name);
                if (o->name)
                        name = xstrdup(o->name[0] == '/' ? o->name + 1 : o->name);
                else if (attempt < 16)
                        name = moat_engine_generate_name((unsigned) rnd[attempt] << 8 | rnd[attempt + 16]);
                else {
                        _cleanup_free_ char *b = moat_engine_generate_name(rnd[0]);
                        name = xasprintf("%s%u", b, attempt);
                }
                r = insert_row(e, id, name, o->image, labels, err);
                if (r == 0)
                        break;
                if (r != -EEXIST || o->name || attempt > 64) {
                        if (r == -EEXIST && o->name) {
                                _cleanup_free_ char *other = NULL;
                                struct moat_error e2;
                                lookup(e, name, &other, &e2);
                                moat_error_set(err, EEXIST,
                                               "Conflict. The container name \"/%s\" is already in use by container \"%s\". "
                                               "You have to remove (or rename) that container to be able to reuse that name.",
                                               name, other ? other : "?");
                        }
                        json_decref(labels);
                        json_decref(idoc);
                        moat_rm_rf(dir, &(struct moat_error){ 0 });
                        return r;
                }
        }
        json_decref(labels);
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir);
        _cleanup_free_ char *mp = NULL;
        json_t *spec = NULL, *rec = NULL, *made = NULL;
        if (mkdir(rootfs, 0755) < 0) {
                r = moat_error_set(err, errno, "create %s", rootfs);
                goto fail;
        }
        /* Moat's default: a user namespace of its own; --privileged and --network host need the
         * host's (they are weakenings already, and this shows with them) */
        bool own_userns = !(o->userns && streq(o->userns, "host")) && !o->privileged &&
                          !(o->network && streq(o->network, "host"));
        struct moat_userns uns = { 0 };
        if (own_userns) {
                _cleanup_close_ int nsfd = -1;
                if ((r = moat_engine_userns_allocate(e, id, &uns, err)) < 0 ||
                    (r = moat_engine_userns_prepare_dirs(e, dir, &uns, err)) < 0)
                        goto fail;
                struct moat_idmap um = { 0, uns.uid, uns.size }, gm = { 0, uns.gid, uns.size };
                if ((nsfd = r = moat_userns_open(&um, 1, &gm, 1, err)) < 0)
                        goto fail;
                struct moat_snapshot_ids ids = { nsfd, uns.uid, uns.gid };
                if ((r = moat_image_snapshot_mount(e->store, image_id, id, rootfs, &ids, &mp, err)) < 0)
                        goto fail;
        } else if ((r = moat_image_snapshot_mount(e->store, image_id, id, rootfs, NULL, &mp, err)) < 0)
                goto fail;
        {
                /* volumes (named, anonymous, the image's) are made and filled before the config is built;
                 * the ones made here go again if the create fails */
                struct moat_mount_req *mr = NULL;
                size_t n_mr = 0;
                json_t *used = json_array();
                made = json_array();
                if ((r = moat_mount_reqs_parse(e, o, icfg, &mr, &n_mr, err)) < 0 ||
                    (r = moat_mount_reqs_prepare(e, mr, n_mr, mp ? mp : rootfs, own_userns ? &uns : NULL, used, made, err)) < 0 ||
                    (r = moat_engine_build_spec(e, id, o, icfg, mp ? mp : rootfs, mr, n_mr, &spec, &rec, err)) < 0) {
                        moat_mount_reqs_free(mr, n_mr);
                        json_decref(used);
                        goto fail;
                }
                json_t *anon = json_array();
                for (size_t k = 0; k < n_mr; k++)
                        if (mr[k].anonymous)
                                json_array_append_new(anon, json_string(mr[k].source));
                moat_mount_reqs_free(mr, n_mr);
                if (own_userns)
                        moat_engine_userns_apply(e, spec, rec, &uns);
                json_object_set_new(rec, "Volumes", used);
                json_object_set_new(rec, "AnonymousVolumes", anon);
        }
        {
                _cleanup_free_ char *txt = json_dumps(spec, JSON_INDENT(1));
                _cleanup_free_ char *cj = xasprintf("%s/config.json", dir);
                if ((r = moat_write_file_atomic(cj, txt, strlen(txt), 0600, err)) < 0)
                        goto fail;
                _cleanup_free_ char *rt = json_dumps(rec, JSON_COMPACT);
                _cleanup_stmt_ sqlite3_stmt *s = NULL;
                if ((r = moat_db_prepare(e->db, "UPDATE containers SET state = 'created', config = ?2, image_id = ?3 "
                                                "WHERE id = ?1", &s, err)) < 0)
                        goto fail;
                sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
                sqlite3_bind_text(s, 2, rt, -1, SQLITE_STATIC);
                sqlite3_bind_text(s, 3, image_id, -1, SQLITE_STATIC);
                int rc = sqlite3_step(s);
                if (rc != SQLITE_DONE) {
                        r = moat_db_error(e->db, rc, "record container", err);
                        goto fail;
                }
        }
        {
                json_t *weak = json_object_get(rec, "Weakenings");
                moat_engine_event(e, "create", id, name,
                                  json_pack("{s:s,s:O}", "image", o->image, "weakenings", weak ? weak : json_null()));
        }
        json_decref(spec);
        json_decref(rec);
        json_decref(idoc);
        json_decref(made);
        *id_out = xstrdup(id);
        return 0;
fail:
        json_decref(spec);
        json_decref(rec);
        json_decref(idoc);
        {
                struct moat_error e2;
                if (remove_locked(e, id, &e2) < 0)
                        moat_warn("clean up %s: %s", id, e2.msg);
                /* the record is gone: volumes made for it are nobody's */
                moat_engine_volumes_release(e, made, false);
        }
        json_decref(made);
        return r;
}

/* ---- start ---------------------------------------------------------------------------------- */

/* This executable's path; NULL when /proc cannot say. */
static char *self_exe(void)
{
        char buf[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        if (n <= 0)
                return NULL;
        buf[n] = '\0';
        return xstrdup(buf);
}

static char *self_dir(void)
{
        char *p = self_exe();
        if (!p)
                return xstrdup("/usr/local/bin");
        char *sl = strrchr(p, '/');
        if (sl)
                *sl = '\0';
        return p;
}

char *moat_engine_find_helper(const char *name, const char *env, const char *build_dir)
{
        const char *v = env ? getenv(env) : NULL;
        if (v && *v)
                return xstrdup(v);
        _cleanup_free_ char *d = self_dir();
        char *p = xasprintf("%s/%s", d, name);
        if (access(p, X_OK) == 0)
                return p;
        free(p);
        p = xasprintf("%s/../%s/%s", d, build_dir, name); /* the build tree */
        if (access(p, X_OK) == 0)
                return p;
        free(p);
        return NULL;
}

static char *find_monitor(void)
{
        char *p = moat_engine_find_helper("moat-monitor", "MOAT_MONITOR", "monitor");
        return p ? p : xstrdup("moat-monitor");
}

/* What the monitor runs when its container ends: moat-monitor-sync beside the monitor, else moat. */
static char *find_sync_helper(const char *monitor)
{
        const char *sl = strrchr(monitor, '/');
        if (sl) {
                char *p = xasprintf("%.*s/moat-monitor-sync", (int) (sl - monitor), monitor);
                if (access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}


/* Read one NUL-terminated message of the monitor's ready pipe. */
static int read_msg(int fd, char *buf, size_t len)
{
        size_t k = 0;
        for (;;) {
                char ch;
                ssize_t n = read(fd, &ch, 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                if (ch == '\0')
                        break;
                if (k + 1 < len)
                        buf[k++] = ch;
        }
        buf[k] = '\0';
        return 0;
}

static int connect_attach(struct moat_engine *e, const char *id, struct moat_error *err)
{
        _cleanup_free_ char *d = cdir(e, id);
        _cleanup_close_ int dfd = open(d, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (dfd < 0)
                return moat_error_set(err, errno, "open %s", d);
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/attach.sock", dfd);
        if (s < 0 || connect(s, (struct sockaddr *) &addr, sizeof addr) < 0) {
                int en = errno;
                if (s >= 0)
                        close(s);
                return moat_error_set(err, en, "attach to %.12s", id);
        }
        return s;
}

static int spawn_monitor(struct moat_engine *e, const struct moat_container_info *c, bool wait_attach, int *ready_out,
                         struct moat_error *err)
{
        _cleanup_free_ char *mon = find_monitor(), *dir = cdir(e, c->id);
        _cleanup_free_ char *exe = find_sync_helper(mon);
        if (!exe && !(exe = self_exe()))
                exe = xstrdup("moat");
        json_t *hc = json_object_get(c->config, "HostConfig");
        const char *restart = json_string_value(json_object_get(hc, "RestartPolicyString"));
        bool tty = json_is_true(json_object_get(c->config, "Tty"));
        bool in = json_is_true(json_object_get(c->config, "OpenStdin"));
        const char *argv[24];
        size_t k = 0;
        argv[k++] = mon;
        argv[k++] = "--root";
        argv[k++] = e->root;
        argv[k++] = "--runtime-root";
        argv[k++] = e->run_root;
        argv[k++] = "--id";
        argv[k++] = c->id;
        argv[k++] = "--dir";
        argv[k++] = dir;
        argv[k++] = "--moat";
        argv[k++] = exe;
        argv[k++] = "--ready-fd";
        argv[k++] = "3";
        if (restart) {
                argv[k++] = "--restart";
                argv[k++] = restart;
        }
        if (tty)
                argv[k++] = "--tty";
        if (in)
                argv[k++] = "--stdin";
        if (wait_attach)
                argv[k++] = "--wait-attach";
        _cleanup_free_ char *health = moat_engine_health_arg(json_object_get(c->config, "Healthcheck"),
                                                                 json_object_get(c->config, "Shell"));
        if (health) {
                argv[k++] = "--health";
                argv[k++] = health;
                argv[k++] = "--name";
                argv[k++] = c->name;
        }
        argv[k] = NULL;
        int p[2];
        _cleanup_free_ char *dir_log = xasprintf("%s/monitor.log", dir);
        if (pipe2(p, O_CLOEXEC) < 0)
                return moat_error_set(err, errno, "pipe");
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return moat_error_set(err, errno, "fork");
        }
        if (pid == 0) {
                /* detach from moat: new session, reparented (double fork), own stdio */
                setsid();
                if (fork() != 0)
                        _exit(0);
                int dn = open("/dev/null", O_RDWR);
                dup2(dn, 0);
                dup2(dn, 1);
                /* the monitor's own diagnostics (and those of the _sync it runs) */
                int lf = open(dir_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
                dup2(lf >= 0 ? lf : dn, 2);
                if (p[1] == 3)
                        fcntl(3, F_SETFD, 0);
                else
                        dup2(p[1], 3);
                syscall(SYS_close_range, 4, ~0U, 0);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                execv(mon, (char *const *) argv);
                _exit(127);
        }
        close(p[1]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        *ready_out = p[0];
        return 0;
}

/* *started: whether this call started it (not when it was running already) */
static int start_container(struct moat_engine *e, const char *name_or_id, int *attach_fd, bool *started,
                           struct moat_error *err)
{
        *started = false;
        _cleanup_free_ char *id = NULL;
        int r = lookup(e, name_or_id, &id, err);
        if (r < 0)
                return r;
        _cleanup_close_ int lk = lock_dir(e, id, true);
        if (lk < 0)
                return no_such_container(err, name_or_id);
        struct moat_container_info c;
        if ((r = load_row(e, id, &c, err)) < 0)
                return r;
        refresh_at(e, &c, true);
        if (streq(c.state, "running") || streq(c.state, "restarting")) {
                moat_container_info_clear(&c);
                if (attach_fd)
                        return moat_error_set(err, 0, "container %s is already running", name_or_id);
                return 0;
        }
        if (!streq(c.state, "created") && !streq(c.state, "exited")) {
                r = moat_error_set(err, 0, "cannot start container %s in state %s", name_or_id, c.state);
                moat_container_info_clear(&c);
                return r;
        }
        /* after a reboot the overlay is gone: mount it again, upper dir kept */
        if ((r = moat_engine_mount_rootfs(e, &c, err)) < 0) {
                moat_container_info_clear(&c);
                return r;
        }
        _cleanup_free_ char *sp = xasprintf("%s/%s/status.json", e->containers, id);
        unlink(sp);
        int ready = -1;
        if ((r = spawn_monitor(e, &c, attach_fd != NULL, &ready, err)) < 0) {
                moat_container_info_clear(&c);
                return r;
        }
        char msg[MOAT_ERROR_MAX + 16];
        int afd = -1;
        if (attach_fd) {
                if (read_msg(ready, msg, sizeof msg) < 0 || msg[0] != 'L') {
                        r = moat_error_set(err, 0, "moat-monitor failed to start%s%s", msg[0] == 'E' ? ": " : "",
                                           msg[0] == 'E' ? msg + 2 : "");
                        goto out;
                }
                if ((afd = connect_attach(e, id, err)) < 0) {
                        r = afd;
                        goto out;
                }
        }
        if (read_msg(ready, msg, sizeof msg) < 0) {
                r = moat_error_set(err, 0, "moat-monitor exited before starting the container");
                goto out;
        }
        if (msg[0] == 'E') {
                r = moat_error_set(err, 0, "%s", msg + 2);
                goto out;
        }
        set_str(&c.state, "running");
        c.pid = (pid_t) atoi(msg + 2);
        c.started = now_ns();
        c.finished = 0;
        c.exit_code = 0;
        set_str(&c.error, "");
        if ((r = update_row(e, &c, NULL, err)) < 0 || (r = moat_engine_record_start(e, c.id, err)) < 0)
                goto out;
        moat_engine_event(e, "start", c.id, c.name, NULL);
        *started = true;
        if (attach_fd)
                *attach_fd = steal_fd(&afd);
        r = 0;
out:
        if (afd >= 0)
                close(afd);
        close(ready);
        moat_container_info_clear(&c);
        return r;
}

int moat_engine_start(struct moat_engine *e, const char *name_or_id, int *attach_fd, struct moat_error *err)
{
        bool started;
        return start_container(e, name_or_id, attach_fd, &started, err);
}

int moat_engine_start_once(struct moat_engine *e, const char *name_or_id, bool *started, struct moat_error *err)
{
        return start_container(e, name_or_id, NULL, started, err);
}

int moat_engine_attach(struct moat_engine *e, const char *name_or_id, int *fd, struct moat_error *err)
{
        struct moat_container_info c;
        int r = moat_engine_get(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        if (!streq(c.state, "running")) {
                r = moat_error_set(err, 0, "You cannot attach to a stopped container, start it first");
                moat_container_info_clear(&c);
                return r;
        }
        r = connect_attach(e, c.id, err);
        moat_container_info_clear(&c);
        if (r < 0)
                return r;
        *fd = r;
        return 0;
}

/* ---- stop, kill, wait, remove --------------------------------------------------------------- */

static bool is_live(const struct moat_container_info *c)
{
        return streq(c->state, "running") || streq(c->state, "restarting") || streq(c->state, "paused");
}

/* Wait until the monitor of id is gone (or timeout). It exits only after writing its final
 * status.json and running _sync, so once it is gone the record says how the container ended (and
 * a --rm container is removed); a monitor that was killed leaves its status as it was, and the next
 * refresh records it as crashed. Its state in status.json is not waited for: a killed monitor's
 * never becomes "exited". No status file: no monitor ever ran. */
static bool wait_monitor_gone(struct moat_engine *e, const char *id, int timeout_ms)
{
        /* the pid as first read: a --rm container's _sync removes its directory, status and all,
         * a moment before the monitor exits */
        pid_t mon = 0;
        for (int t = 0; t <= timeout_ms; t += 20) {
                if (mon <= 0) {
                        json_t *st = read_status(e, id);
                        mon = (pid_t) json_integer_value(json_object_get(st, "monitor_pid"));
                        json_decref(st);
                }
                if (!monitor_alive(mon, id))
                        return true;
                sleep_ms(20);
        }
        return false;
}

static bool wait_exited(struct moat_engine *e, const char *id, int timeout_ms)
{
        for (int t = 0; t <= timeout_ms; t += 20) {
                json_t *st = read_status(e, id);
                const char *s = st ? json_string_value(json_object_get(st, "state")) : NULL;
                pid_t mon = st ? (pid_t) json_integer_value(json_object_get(st, "monitor_pid")) : 0;
                bool done = !st || (s && streq(s, "exited")) || !monitor_alive(mon, id);
                json_decref(st);
                if (done)
                        return true;
                sleep_ms(20);
        }
        return false;
}

/* Tell the monitor that the end it is about to see is the user's: no restart policy applies. */
static void request_stop(struct moat_engine *e, const char *id)
{
        _cleanup_free_ char *mark = xasprintf("%s/%s/stop-requested", e->containers, id);
        int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
                close(fd);
}

/* A frozen cgroup holds signals until it thaws. */
static void thaw(struct moat_engine *e, struct moat_container_info *c)
{
        _cleanup_free_ char *pm = xasprintf("%s/%s/paused", e->containers, c->id);
        if (streq(c->state, "paused") || access(pm, F_OK) == 0) {
                struct moat_error e2;
                moat_runtime_resume(&e->rt, c->id, &e2);
                unlink(pm);
        }
}

int moat_engine_stop(struct moat_engine *e, const char *name_or_id, int timeout, struct moat_error *err)
{
        struct moat_container_info c;
        int r = moat_engine_get(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        if (!is_live(&c)) {
                moat_container_info_clear(&c);
                return 0;
        }
        request_stop(e, c.id);
        moat_engine_mark_stopped_by_user(e, c.id);
        thaw(e, &c);
        if (timeout < 0)
                timeout = (int) json_integer_value(json_object_get(c.config, "StopTimeout"));
        int sig = moat_signal_parse(json_string_value(json_object_get(c.config, "StopSignal")));
        if (sig < 0)
                sig = SIGTERM;
        struct moat_error e2;
        /* docker's sequence: kill (the stop signal), die (recorded by the monitor's _sync), stop */
        moat_runtime_kill(&e->rt, c.id, sig, false, &e2);
        moat_engine_event(e, "kill", c.id, c.name, json_pack("{s:i}", "signal", sig));
        if (!wait_exited(e, c.id, timeout * 1000)) {
                moat_runtime_kill(&e->rt, c.id, SIGKILL, true, &e2);
                moat_engine_event(e, "kill", c.id, c.name, json_pack("{s:i}", "signal", SIGKILL));
                wait_exited(e, c.id, 30000);
        }
        wait_monitor_gone(e, c.id, 30000);
        moat_engine_event(e, "stop", c.id, c.name, NULL);
        moat_container_info_clear(&c);
        return 0;
}

int moat_engine_kill(struct moat_engine *e, const char *name_or_id, int sig, struct moat_error *err)
{
        struct moat_container_info c;
        int r = moat_engine_get(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        if (!is_live(&c))
                r = moat_error_set(err, 0, "Cannot kill container: %s: container %s is not running", name_or_id, c.id);
        else {
                /* docker counts any signal the user sends as stopping it by hand, and the stop signal or
                 * SIGKILL as ending it: the restart policy does not bring it back */
                moat_engine_mark_stopped_by_user(e, c.id);
                int stop_sig = moat_signal_parse(json_string_value(json_object_get(c.config, "StopSignal")));
                if (sig == SIGKILL || sig == (stop_sig > 0 ? stop_sig : SIGTERM))
                        request_stop(e, c.id);
                if ((r = moat_runtime_kill(&e->rt, c.id, sig, false, err)) == 0)
                        moat_engine_event(e, "kill", c.id, c.name, json_pack("{s:i}", "signal", sig));
        }
        moat_container_info_clear(&c);
        return r;
}

int moat_engine_wait(struct moat_engine *e, const char *name_or_id, int *code, struct moat_error *err)
{
        _cleanup_free_ char *id = NULL;
        int r = lookup(e, name_or_id, &id, err);
        if (r < 0)
                return r;
        int last = 0;
        for (;;) {
                struct moat_container_info c;
                struct moat_error e2;
                if (load_row(e, id, &c, &e2) < 0) {
                        /* removed (--rm): the last code the monitor recorded */
                        *code = last;
                        return 0;
                }
                refresh(e, &c);
                last = c.exit_code;
                json_t *st = read_status(e, id);
                if (st && json_integer_value(json_object_get(st, "exit_code")))
                        last = (int) json_integer_value(json_object_get(st, "exit_code"));
                json_decref(st);
                bool done = streq(c.state, "exited") || streq(c.state, "dead");
                moat_container_info_clear(&c);
                if (done) {
                        *code = last;
                        return 0;
                }
                sleep_ms(50);
        }
}

static int remove_container(struct moat_engine *e, const char *name_or_id, bool force, bool volumes,
                            struct moat_error *err)
{
        struct moat_container_info c;
        int r = moat_engine_get(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        if (is_live(&c)) {
                if (!force) {
                        r = moat_error_set(err, EBUSY,
                                           "cannot remove container \"/%s\": container is %s: stop the container "
                                           "before removing or force remove", c.name, c.state);
                        moat_container_info_clear(&c);
                        return r;
                }
                request_stop(e, c.id);
                struct moat_error e2;
                moat_runtime_kill(&e->rt, c.id, SIGKILL, true, &e2);
                thaw(e, &c);
                wait_monitor_gone(e, c.id, 30000);
        }
        int lk = lock_dir(e, c.id, true);
        struct moat_container_info again;
        struct moat_error e3;
        if (load_row(e, c.id, &again, &e3) < 0) {
                /* --rm got there first */
                if (lk >= 0)
                        close(lk);
                moat_container_info_clear(&c);
                return 0;
        }
        moat_container_info_clear(&again);
        r = remove_locked(e, c.id, err);
        if (r == 0 && volumes)
                moat_engine_volumes_release(e, json_object_get(c.config, "AnonymousVolumes"), true);
        if (lk >= 0)
                close(lk);
        moat_container_info_clear(&c);
        return r;
}

int moat_engine_remove(struct moat_engine *e, const char *name_or_id, bool force, struct moat_error *err)
{
        return remove_container(e, name_or_id, force, false, err);
}

int moat_engine_remove_with_volumes(struct moat_engine *e, const char *name_or_id, bool force,
                                    struct moat_error *err)
{
        return remove_container(e, name_or_id, force, true, err);
}

int moat_engine_sync(struct moat_engine *e, const char *id, struct moat_error *err)
{
        _cleanup_close_ int lk = lock_dir(e, id, true);
        if (lk == -1)
                return 0; /* its directory is gone: removed already */
        struct moat_container_info c;
        int r = load_row(e, id, &c, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        refresh_at(e, &c, true);
        json_t *st = read_status(e, id);
        const char *s = json_string_value(json_object_get(st, "state"));
        if (s && !streq(s, "exited")) {
                /* restarting: record the run that ended */
                c.exit_code = (int) json_integer_value(json_object_get(st, "exit_code"));
                c.oom_killed = json_is_true(json_object_get(st, "oom_killed"));
                update_row(e, &c, NULL, err);
        }
        json_decref(st);
        if (streq(c.state, "exited") &&
            json_is_true(json_object_get(json_object_get(c.config, "HostConfig"), "AutoRemove"))) {
                /* docker's --rm takes the container's anonymous volumes with it */
                r = remove_locked(e, id, err);
                if (r == 0)
                        moat_engine_volumes_release(e, json_object_get(c.config, "AnonymousVolumes"), true);
        }
        moat_container_info_clear(&c);
        return r;
}
