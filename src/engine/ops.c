/* ops: the verbs on a container that need no monitor involvement — restart, pause and unpause
 * (the cgroup freezer), rename, top and stats (read from the cgroup), update (limits and restart
 * policy). */
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

/* The changed parts of resources (keys of the update), for the running container's cgroup. */
static json_t *resources_delta(json_t *res, const struct moat_update_opts *u)
{
        json_t *d = json_object();
        json_t *mem = json_object_get(res, "memory"), *cpu = json_object_get(res, "cpu");
        if (u->memory || u->memory_swap) {
                json_t *m = json_object();
                if (json_object_get(mem, "limit"))
                        json_object_set(m, "limit", json_object_get(mem, "limit"));
                if (json_object_get(mem, "swap"))
                        json_object_set(m, "swap", json_object_get(mem, "swap"));
                json_object_set_new(d, "memory", m);
        }
        if (u->cpu_shares || u->cpus > 0 || u->cpuset_cpus || u->cpuset_mems) {
                json_t *c = json_object();
                if (u->cpu_shares)
                        json_object_set(c, "shares", json_object_get(cpu, "shares"));
                if (u->cpuset_cpus)
                        json_object_set(c, "cpus", json_object_get(cpu, "cpus"));
                if (u->cpuset_mems)
                        json_object_set(c, "mems", json_object_get(cpu, "mems"));
                if (u->cpus > 0) {
                        json_object_set(c, "quota", json_object_get(cpu, "quota"));
                        json_object_set(c, "period", json_object_get(cpu, "period"));
                }
                json_object_set_new(d, "cpu", c);
        }
        if (u->pids_limit)
                json_object_set(d, "pids", json_object_get(res, "pids"));
        return d;
}

static int update_running(struct moat_engine *e, const char *id, json_t *res, const struct moat_update_opts *u,
                          struct moat_error *err)
{
        json_t *delta = resources_delta(res, u);
        struct moat_cgroup_resources cr;
        int r = moat_cgroup_resources_parse(delta, &cr, err);
        json_decref(delta);
        if (r < 0)
                return r;
        r = moat_runtime_update(&e->rt, id, &cr, err);
        moat_cgroup_resources_free(&cr);
        return r;
}

int moat_engine_update(struct moat_engine *e, const char *name_or_id, const struct moat_update_opts *u,
                       struct moat_error *err)
{
        bool limits = u->memory || u->memory_swap || u->cpu_shares || u->cpus > 0 || u->pids_limit ||
                      u->cpuset_cpus || u->cpuset_mems;
        if (!limits && !u->restart)
                return moat_error_set(err, 0, "you must provide one or more flags when using this command");
        if (u->memory < 0 || u->memory_swap < -1 || u->cpus < 0 || u->pids_limit < -1)
                return moat_error_set(err, 0, "invalid value: limits are positive (-1: unlimited, for "
                                              "--memory-swap and --pids-limit)");
        struct moat_container_info c;
        int r = moat_engine_get(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        json_t *hc = json_object_get(c.config, "HostConfig");
        _cleanup_free_ char *path = xasprintf("%s/%s/config.json", e->containers, c.id), *text = NULL;
        _cleanup_free_ char *out_text = NULL, *policy_text = NULL, *weak_text = NULL;
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        _cleanup_close_ int lk = -1;
        json_t *spec = NULL, *weak = NULL, *policy = NULL;
        if (u->restart && (r = moat_engine_restart_policy_check(u->restart, err)) < 0)
                goto out;
        if (u->restart && !streq(u->restart, "no") && json_is_true(json_object_get(hc, "AutoRemove"))) {
                r = moat_error_set(err, 0, "Restart policy cannot be updated because AutoRemove is enabled for the "
                                           "container");
                goto out;
        }
        /* the bundle's config.json: what every later start of the container uses; read, changed
         * and replaced under the container's lock, so two updates do not lose one another's */
        if ((lk = moat_engine_lock_container(e, c.id)) < 0) {
                r = moat_error_set(err, ENOENT, "No such container: %s", name_or_id);
                goto out;
        }
        if ((r = moat_read_file(path, 16u << 20, &text, NULL, err)) < 0)
                goto out;
        json_error_t je;
        spec = json_loads(text, 0, &je);
        json_t *linux_ = json_object_get(spec, "linux");
        if (!json_is_object(linux_)) {
                r = moat_error_set(err, 0, "%s: not a container config: %s", path, je.text);
                goto out;
        }
        json_t *res = json_object_get(linux_, "resources");
        if (!json_is_object(res))
                json_object_set_new(linux_, "resources", res = json_object());
        struct moat_engine_limits lim = { u->memory,      u->memory_swap, u->cpu_shares, u->cpus,
                                          u->pids_limit, u->cpuset_cpus,  u->cpuset_mems };
        if ((r = moat_engine_set_resources(res, &lim, err)) < 0)
                goto out;
        /* the running container's cgroup first: a limit the kernel refuses changes nothing else */
        if (limits && (streq(c.state, "running") || streq(c.state, "paused")) &&
            (r = update_running(e, c.id, res, u, err)) < 0)
                goto out;
        out_text = json_dumps(spec, JSON_INDENT(1));
        if ((r = moat_write_file_atomic(path, out_text, strlen(out_text), 0600, err)) < 0)
                goto out;
        /* the record, as docker's inspect shows it */
        json_t *mem = json_object_get(res, "memory"), *cpu = json_object_get(res, "cpu");
        int64_t pids = (int64_t) json_integer_value(json_object_get(json_object_get(res, "pids"), "limit"));
        int64_t quota = (int64_t) json_integer_value(json_object_get(cpu, "quota"));
        const char *rp = u->restart ? u->restart : json_string_value(json_object_get(hc, "RestartPolicyString"));
        if (!rp)
                rp = "no";
        const char *colon = strchr(rp, ':');
        policy = json_pack("{s:s%,s:i}", "Name", rp, colon ? (size_t) (colon - rp) : strlen(rp), "MaximumRetryCount",
                           colon ? atoi(colon + 1) : 0);
        weak = json_array();
        size_t i;
        json_t *w;
        json_array_foreach(json_object_get(c.config, "Weakenings"), i, w)
                if (!streq(json_string_value(w) ? json_string_value(w) : "", "--pids-limit=-1"))
                        json_array_append(weak, w);
        if (pids < 0)
                json_array_append_new(weak, json_string("--pids-limit=-1"));
        policy_text = json_dumps(policy, JSON_COMPACT);
        weak_text = json_dumps(weak, JSON_COMPACT);
        if ((r = moat_db_prepare(e->db,
                                 "UPDATE containers SET config = json_set(config, '$.HostConfig.Memory', ?2, "
                                 "'$.HostConfig.MemorySwap', ?3, '$.HostConfig.CpuShares', ?4, "
                                 "'$.HostConfig.NanoCpus', ?5, '$.HostConfig.PidsLimit', ?6, "
                                 "'$.HostConfig.RestartPolicy', json(?7), '$.HostConfig.RestartPolicyString', ?8, "
                                 "'$.Weakenings', json(?9), '$.HostConfig.CpusetCpus', ?10, "
                                 "'$.HostConfig.CpusetMems', ?11) WHERE id = ?1",
                                 &s, err)) < 0)
                goto out;
        sqlite3_bind_text(s, 1, c.id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (sqlite3_int64) json_integer_value(json_object_get(mem, "limit")));
        sqlite3_bind_int64(s, 3, (sqlite3_int64) json_integer_value(json_object_get(mem, "swap")));
        sqlite3_bind_int64(s, 4, (sqlite3_int64) json_integer_value(json_object_get(cpu, "shares")));
        sqlite3_bind_int64(s, 5, (sqlite3_int64) quota * 10000); /* a quota over 100 ms, in nano-CPUs */
        sqlite3_bind_int64(s, 6, (sqlite3_int64) pids);
        sqlite3_bind_text(s, 7, policy_text, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 8, rp, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 9, weak_text, -1, SQLITE_STATIC);
        const char *cs = json_string_value(json_object_get(cpu, "cpus")), *ms = json_string_value(json_object_get(cpu, "mems"));
        sqlite3_bind_text(s, 10, cs ? cs : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 11, ms ? ms : "", -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE) {
                r = moat_db_error(e->db, rc, "record the update", err);
                goto out;
        }
        /* a running container's monitor reads the policy from here when the container ends */
        if (u->restart) {
                _cleanup_free_ char *rpf = xasprintf("%s/%s/restart-policy", e->containers, c.id);
                if ((r = moat_write_file_atomic(rpf, rp, strlen(rp), 0600, err)) < 0)
                        goto out;
        }
        moat_engine_event(e, "update", c.id, c.name, NULL);
        r = 0;
out:
        json_decref(spec);
        json_decref(weak);
        json_decref(policy);
        moat_container_info_clear(&c);
        return r;
}
