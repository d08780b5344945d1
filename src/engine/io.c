/* io: what a user sees of a container's streams — attaching to the monitor, reading the json-file
 * log, exec — and the docker-style inspect document. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "engine/attach.h"
#include "engine/internal.h"

static void send_winsize(int fd, const struct moat_attach_io *io)
{
        struct winsize ws;
        if (ioctl(io->in_fd, TIOCGWINSZ, &ws) == 0 || ioctl(io->out_fd, TIOCGWINSZ, &ws) == 0) {
                char b[32];
                int n = snprintf(b, sizeof b, "%u %u", ws.ws_row, ws.ws_col);
                moat_frame_send(fd, FRAME_RESIZE, b, (size_t) n);
        }
}

int moat_engine_attach_stream(int fd, const struct moat_attach_io *io)
{
        bool tty = io->tty, stdin_open = io->in_fd >= 0;
        sigset_t set;
        sigemptyset(&set);
        int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
        for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
                sigaddset(&set, fwd[i]);
        sigprocmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        int sfd = signalfd(-1, &set, SFD_CLOEXEC);
        struct termios saved;
        bool raw = false;
        int term = io->in_fd >= 0 ? io->in_fd : io->out_fd;
        if (tty && isatty(term) && tcgetattr(term, &saved) == 0) {
                struct termios t = saved;
                cfmakeraw(&t);
                raw = tcsetattr(term, TCSANOW, &t) == 0;
        }
        if (tty)
                send_winsize(fd, io);
        int code = -1;
        static char buf[MOAT_FRAME_MAX + 1];
        for (;;) {
                struct pollfd p[3] = { { fd, POLLIN, 0 }, { stdin_open ? io->in_fd : -1, POLLIN, 0 }, { sfd, POLLIN, 0 } };
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[2].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof si) == sizeof si) {
                                if (si.ssi_signo == SIGWINCH) {
                                        if (tty)
                                                send_winsize(fd, io);
                                } else {
                                        char b[16];
                                        int n = snprintf(b, sizeof b, "%u", si.ssi_signo);
                                        moat_frame_send(fd, FRAME_SIGNAL, b, (size_t) n);
                                }
                        }
                }
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t n = read(io->in_fd, buf, MOAT_FRAME_MAX);
                        if (n > 0)
                                moat_frame_send(fd, FRAME_STDIN, buf, (size_t) n);
                        else if (n == 0 || errno != EINTR) {
                                moat_frame_send(fd, FRAME_STDIN_EOF, NULL, 0);
                                stdin_open = false;
                        }
                }
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        enum moat_frame_type t;
                        size_t len;
                        if (moat_frame_recv(fd, &t, buf, &len) < 0)
                                break;
                        if (t == FRAME_STDOUT)
                                (void) moat_write_all(io->out_fd, buf, len);
                        else if (t == FRAME_STDERR)
                                (void) moat_write_all(io->err_fd, buf, len);
                        else if (t == FRAME_EXIT) {
                                code = atoi(buf);
                                break;
                        } else if (t == FRAME_ERROR) {
                                if (raw)
                                        tcsetattr(term, TCSANOW, &saved);
                                raw = false;
                                (void) moat_write_all(io->err_fd, "moat: ", 6);
                                (void) moat_write_all(io->err_fd, buf, len);
                                (void) moat_write_all(io->err_fd, "\n", 1);
                        }
                }
        }
        if (raw)
                tcsetattr(term, TCSANOW, &saved);
        if (sfd >= 0)
                close(sfd);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        return code;
}

/* ---- logs ----------------------------------------------------------------------------------- */

/* Hand one json-file line to the caller, when its time is within the asked range; < 0: stop. */
static int emit(const char *line, const struct moat_engine_logs_opts *o)
{
        json_t *j = json_loads(line, 0, NULL);
        if (!j)
                return 0;
        const char *log = json_string_value(json_object_get(j, "log"));
        const char *stream = json_string_value(json_object_get(j, "stream"));
        const char *t = json_string_value(json_object_get(j, "time"));
        int64_t when = 0;
        bool in_range = true;
        if (o->since || o->until)
                in_range = t && moat_parse_rfc3339(t, &when) == 0 && (!o->since || when >= o->since) &&
                           (!o->until || when <= o->until);
        int r = 0;
        if (log && in_range)
                r = o->fn(o->ud, stream && streq(stream, "stderr") ? 2 : 1, o->timestamps ? t : NULL, log,
                          json_string_length(json_object_get(j, "log")));
        json_decref(j);
        return r;
}

struct lines {
        char **v;
        size_t n;
};

static void read_lines(const char *path, struct lines *l)
{
        char *buf = NULL;
        size_t len;
        struct moat_error err;
        if (moat_read_file(path, 256u << 20, &buf, &len, &err) < 0)
                return;
        char *save = NULL;
        for (char *p = strtok_r(buf, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
                l->v = xrealloc(l->v, sizeof(char *) * (l->n + 1));
                l->v[l->n++] = xstrdup(p);
        }
        free(buf);
}

static int64_t wall_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --tail picks the last lines first, then --since/--until filter them (as docker's json-file
 * reader does); -f stops when the container stops or the --until time has passed. */
int moat_engine_logs_ex(struct moat_engine *e, const char *name_or_id, const struct moat_engine_logs_opts *o,
                        struct moat_error *err)
{
        long tail = o->tail;
        struct moat_container_info c;
        int r = moat_engine_get(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = xasprintf("%s/%s/%s-json.log", e->containers, c.id, c.id);
        _cleanup_free_ char *old = xasprintf("%s.1", path);
        struct lines l = { 0 };
        read_lines(old, &l);
        read_lines(path, &l);
        size_t from = tail >= 0 && (size_t) tail < l.n ? l.n - (size_t) tail : 0;
        bool stop = false;
        for (size_t i = 0; i < l.n; i++) {
                if (i >= from && !stop)
                        stop = emit(l.v[i], o) < 0;
                free(l.v[i]);
        }
        free(l.v);
        if (stop || !o->follow || (o->until && wall_ns() > o->until)) {
                moat_container_info_clear(&c);
                return 0;
        }
        /* follow: keep reading what the monitor appends until the container stops */
        struct stat st;
        off_t pos = stat(path, &st) == 0 ? st.st_size : 0;
        ino_t ino = stat(path, &st) == 0 ? st.st_ino : 0;
        char *pending = xstrdup("");
        _cleanup_free_ char *id = xstrdup(c.id);
        moat_container_info_clear(&c);
        for (;;) {
                bool live = true;
                struct moat_container_info now;
                struct moat_error e2;
                if (moat_engine_get(e, id, &now, &e2) < 0)
                        live = false;
                else {
                        live = streq(now.state, "running") || streq(now.state, "restarting");
                        moat_container_info_clear(&now);
                }
                if (stat(path, &st) == 0 && st.st_ino != ino) {
                        ino = st.st_ino;
                        pos = 0;
                }
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        char b[65536];
                        ssize_t n;
                        while (!stop && (n = pread(fd, b, sizeof b, pos)) > 0) {
                                pos += n;
                                char *joined = xasprintf("%s%.*s", pending, (int) n, b);
                                free(pending);
                                char *p = joined, *nl;
                                while (!stop && (nl = strchr(p, '\n'))) {
                                        *nl = '\0';
                                        stop = emit(p, o) < 0;
                                        p = nl + 1;
                                }
                                pending = xstrdup(p);
                                free(joined);
                        }
                        close(fd);
                }
                if (stop || !live || (o->until && wall_ns() > o->until))
                        break;
                struct timespec ts = { 0, 100000000 };
                nanosleep(&ts, NULL);
        }
        free(pending);
        return 0;
}

/* ---- exec ----------------------------------------------------------------------------------- */

/* exec -d -t: nobody reads the terminal, yet its master must stay open while the process uses it
 * (a closed master hangs the process up), as docker's daemon keeps it: a detached process reads
 * and drops its output until the last user of the terminal closes it. */
static void drain_pty(int master)
{
        pid_t p = fork();
        if (p == 0) {
                setsid();
                if (fork() != 0)
                        _exit(0);
                prctl(PR_SET_NAME, "moat-exec-pty", 0, 0, 0);
                /* the master out of the way of 0-2 first, then at 3 and nothing else open */
                int m = fcntl(master, F_DUPFD, 10), dn = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (m < 0 || dn < 0 || dup2(dn, 0) < 0 || dup2(dn, 1) < 0 || dup2(dn, 2) < 0 || dup2(m, 3) < 0)
                        _exit(1);
                closefrom(4);
                char buf[4096];
                ssize_t n;
                while ((n = read(3, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
                        ;
                _exit(0);
        }
        close(master);
        if (p > 0)
                while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
                        ;
}

int moat_engine_exec(struct moat_engine *e, const char *name_or_id, const struct moat_engine_exec_opts *o,
                     int *exit_code, struct moat_error *err)
{
        struct moat_container_info c;
        int r = moat_engine_get(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        if (!streq(c.state, "running")) {
                r = moat_error_set(err, 0, "container %s is not running", c.id);
                moat_container_info_clear(&c);
                return r;
        }
        char user[64] = "";
        if (o->user) {
                _cleanup_free_ char *rootfs = xasprintf("%s/%s/rootfs", e->containers, c.id);
                uid_t uid;
                gid_t gid;
                if ((r = moat_engine_resolve_user(rootfs, o->user, &uid, &gid, err)) < 0) {
                        moat_container_info_clear(&c);
                        return r;
                }
                snprintf(user, sizeof user, "%u:%u", (unsigned) uid, (unsigned) gid);
        }
        int master = -1;
        struct moat_exec_opts x = { .id = c.id, .args = o->args, .env = o->env, .cwd = o->workdir,
                                    .user = o->user ? user : NULL, .tty = o->tty ? 1 : 0, .detach = o->detach,
                                    .pty_master_out = o->tty && o->detach ? &master : NULL };
        /* docker's exec events: "exec_create: CMD", "exec_start: CMD", then exec_die with the code */
        char exec_id[33];
        unsigned char rnd[16] = { 0 };
        if (getrandom(rnd, sizeof rnd, 0) < 0)
                memset(rnd, 0, sizeof rnd);
        for (size_t i = 0; i < sizeof rnd; i++)
                snprintf(exec_id + 2 * i, 3, "%02x", rnd[i]);
        _cleanup_free_ char *cmd = strv_join(o->args, " ");
        _cleanup_free_ char *a_create = xasprintf("exec_create: %s", cmd), *a_start = xasprintf("exec_start: %s", cmd);
        moat_engine_event(e, a_create, c.id, c.name, json_pack("{s:s}", "execID", exec_id));
        moat_engine_event(e, a_start, c.id, c.name, json_pack("{s:s}", "execID", exec_id));
        r = moat_runtime_exec(&e->rt, &x, exit_code, err);
        if (r == 0 && master >= 0)
                drain_pty(master);
        if (!o->detach)
                moat_engine_event(e, "exec_die", c.id, c.name,
                                  json_pack("{s:s,s:i}", "execID", exec_id, "exitCode", r < 0 ? -1 : *exit_code));
        moat_container_info_clear(&c);
        return r;
}

/* ---- inspect -------------------------------------------------------------------------------- */

static json_t *time_json(int64_t ns)
{
        if (ns <= 0)
                return json_string("0001-01-01T00:00:00Z");
        char out[48];
        moat_format_rfc3339(ns, out, sizeof out);
        return json_string(out);
}

int moat_engine_inspect(struct moat_engine *e, const char *name_or_id, json_t **out, struct moat_error *err)
{
        struct moat_container_info c;
        int r = moat_engine_get(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        json_t *cfg = c.config;
        json_t *args = json_deep_copy(json_object_get(json_object_get(cfg, "Process"), "args"));
        json_t *path = json_array_size(args) ? json_incref(json_array_get(args, 0)) : json_string("");
        if (json_array_size(args))
                json_array_remove(args, 0);
        else if (!args)
                args = json_array();
        json_t *state = json_pack("{s:s,s:b,s:b,s:b,s:b,s:b,s:i,s:i,s:s,s:o,s:o}", "Status", c.state, "Running",
                                  streq(c.state, "running"), "Paused", streq(c.state, "paused"), "Restarting",
                                  streq(c.state, "restarting"), "OOMKilled", c.oom_killed, "Dead",
                                  streq(c.state, "dead"), "Pid", (int) c.pid, "ExitCode", c.exit_code, "Error",
                                  c.error ? c.error : "", "StartedAt", time_json(c.started), "FinishedAt",
                                  time_json(c.finished));
        json_t *config = json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O,s:O?}", "Hostname",
                                   json_object_get(cfg, "Hostname"), "User", json_object_get(cfg, "User"), "Tty",
                                   json_object_get(cfg, "Tty"), "OpenStdin", json_object_get(cfg, "OpenStdin"), "Env",
                                   json_object_get(cfg, "Env"), "Cmd", json_object_get(cfg, "Cmd"), "Image",
                                   json_object_get(cfg, "Image"), "WorkingDir", json_object_get(cfg, "WorkingDir"),
                                   "Labels", c.labels, "Entrypoint", json_object_get(cfg, "Entrypoint"));
        json_object_set(config, "StopSignal", json_object_get(cfg, "StopSignal"));
        json_object_set(config, "StopTimeout", json_object_get(cfg, "StopTimeout"));
        if (json_object_get(cfg, "Healthcheck"))
                json_object_set(config, "Healthcheck", json_object_get(cfg, "Healthcheck"));
        if (c.health)
                json_object_set(state, "Health", c.health);
        json_t *hc = json_deep_copy(json_object_get(cfg, "HostConfig"));
        if (!hc)
                hc = json_object();
        json_object_del(hc, "RestartPolicyString");
        json_t *caps = json_object_get(json_object_get(cfg, "Process"), "capabilities");
        json_t *doc = json_pack("{s:s,s:o,s:o,s:o,s:o,s:s,s:s+,s:i,s:s,s:o,s:o,s:O?}", "Id", c.id, "Created",
                                time_json(c.created), "Path", path, "Args", args, "State", state, "Image", c.image_id,
                                "Name", "/", c.name, "RestartCount", c.restart_count, "Driver", "overlay", "Config",
                                config, "HostConfig", hc, "EffectiveCaps", json_object_get(caps, "bounding"));
        _cleanup_free_ char *lp = xasprintf("%s/%s/%s-json.log", e->containers, c.id, c.id);
        json_object_set_new(doc, "LogPath", json_string(lp));
        json_object_set_new(doc, "Platform", json_string("linux"));
        json_t *mounts = json_object_get(cfg, "Mounts");
        json_object_set_new(doc, "Mounts", mounts ? json_incref(mounts) : json_array());
        /* Moat's own: what this container gives up of the secure defaults */
        json_t *weak = json_object_get(cfg, "Weakenings");
        json_object_set_new(doc, "MoatWeakenings", weak ? json_incref(weak) : json_array());
        /* its own user namespace: the host ids its root and the rest of the range are */
        json_t *uns = json_object_get(cfg, "MoatUserns");
        if (uns)
                json_object_set(doc, "MoatUserns", uns);
        moat_container_info_clear(&c);
        *out = doc;
        return 0;
}
