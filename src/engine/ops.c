/* ops: the verbs on a running container that need no monitor involvement — restart, pause and
 * unpause (the cgroup freezer), rename, top and stats (read from the cgroup). */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "engine/internal.h"

static int get_live(struct moat_engine *e, const char *name_or_id, struct moat_container_info *c,
                    struct moat_error *err)
{
        int r = moat_engine_get(e, name_or_id, c, err);
        if (r < 0)
                return r;
        if (!streq(c->state, "running") && !streq(c->state, "paused")) {
                r = moat_error_set(err, 0, "Container %s is not running", c->id);
                moat_container_info_clear(c);
                return r;
        }
        return 0;
}

int moat_engine_restart(struct moat_engine *e, const char *name_or_id, int timeout, struct moat_error *err)
{
        int r = moat_engine_stop(e, name_or_id, timeout, err);
        if (r < 0)
                return r;
        bool started;
        if ((r = moat_engine_start_once(e, name_or_id, &started, err)) < 0)
                return r;
        /* another restart (or start) got there first: that one restarted it, and says so */
        struct moat_container_info c;
        if (started && moat_engine_get(e, name_or_id, &c, err) == 0) {
                moat_engine_event(e, "restart", c.id, c.name, NULL);
                moat_container_info_clear(&c);
        }
        return 0;
}

static int set_paused(struct moat_engine *e, const char *name_or_id, bool pause, struct moat_error *err)
{
        struct moat_container_info c;
        int r = get_live(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *mark = xasprintf("%s/%s/paused", e->containers, c.id);
        if (pause == streq(c.state, "paused")) {
                r = moat_error_set(err, 0, "Container %s is %spaused", c.id, pause ? "already " : "not ");
        } else if (pause) {
                r = moat_runtime_pause(&e->rt, c.id, err);
                int fd = r == 0 ? open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) : -1;
                if (fd >= 0)
                        close(fd);
        } else {
                r = moat_runtime_resume(&e->rt, c.id, err);
                if (r == 0)
                        unlink(mark);
        }
        if (r == 0)
                moat_engine_event(e, pause ? "pause" : "unpause", c.id, c.name, NULL);
        moat_container_info_clear(&c);
        return r;
}

int moat_engine_pause(struct moat_engine *e, const char *name_or_id, struct moat_error *err)
{
        return set_paused(e, name_or_id, true, err);
}

int moat_engine_unpause(struct moat_engine *e, const char *name_or_id, struct moat_error *err)
{
        return set_paused(e, name_or_id, false, err);
}

int moat_engine_rename(struct moat_engine *e, const char *name_or_id, const char *new_name, struct moat_error *err)
{
        struct moat_container_info c;
        int r = moat_engine_get(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        const char *n = new_name[0] == '/' ? new_name + 1 : new_name;
        if (!moat_engine_name_valid(n)) {
                moat_container_info_clear(&c);
                return moat_error_set(err, 0, "invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                                      new_name);
        }
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        if ((r = moat_db_prepare(e->db, "UPDATE containers SET name = ?2 WHERE id = ?1", &s, err)) == 0) {
                sqlite3_bind_text(s, 1, c.id, -1, SQLITE_STATIC);
                sqlite3_bind_text(s, 2, n, -1, SQLITE_STATIC);
                int rc = sqlite3_step(s);
                if (rc != SQLITE_DONE) {
                        r = moat_db_error(e->db, rc, "rename", err);
                        if (r == -EEXIST)
                                moat_error_set(err, EEXIST, "Conflict. The container name \"/%s\" is already in use", n);
                } else
                        moat_engine_event(e, "rename", c.id, n, json_pack("{s:s}", "oldName", c.name));
        }
        moat_container_info_clear(&c);
        return r;
}

int moat_engine_top(struct moat_engine *e, const char *name_or_id, pid_t **pids, size_t *n, struct moat_error *err)
{
        struct moat_container_info c;
        int r = get_live(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        r = moat_runtime_ps(&e->rt, c.id, pids, n, err);
        moat_container_info_clear(&c);
        return r;
}

int moat_engine_stats(struct moat_engine *e, const char *name_or_id, struct moat_container_stats *st,
                      struct moat_error *err)
{
        struct moat_container_info c;
        int r = get_live(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = xasprintf("/moat/%s", c.id);
        moat_container_info_clear(&c);
        struct moat_cgroup *cg = NULL;
        if ((r = moat_cgroup_open(NULL, path, &cg, err)) < 0)
                return r;
        struct moat_cgroup_stats cs = { 0 };
        r = moat_cgroup_stats(cg, &cs, err);
        moat_cgroup_free(cg);
        if (r < 0)
                return r;
        *st = (struct moat_container_stats){ .cpu_ns = cs.cpu_usage_ns, .mem_usage = cs.memory_usage,
                                             .mem_limit = cs.memory_limit, .pids = cs.pids_current,
                                             .io_read = cs.io_read_bytes, .io_write = cs.io_write_bytes };
        return 0;
}
