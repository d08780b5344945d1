/* monitor: the body of moat-monitor, one per running container and its parent. It creates the
 * container through the runtime library, holds its stdio (pipes or a pty), writes the json-file
 * log, serves attach clients, reaps the container, applies the restart policy and hands the
 * outcome to the engine (status.json, then `moat _sync`). It never opens the state DB: that keeps
 * it small and leaves one writer of container records, the engine. */
#include <malloc.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "engine/attach.h"
#include "engine/engine.h"
#include "engine/health.h"
#include "runtime/runtime.h"
#include "util/log.h"

#define MAX_CLIENTS 16
#define DEFAULT_LOG_MAX (10ull << 20)

struct mon {
        const char *id, *dir, *moat, *root, *restart, *name;
        struct moat_runtime rt;
        struct moat_health *health; /* NULL without a health check */
        int dirfd, listen_fd, ready_fd, sfd;
        bool tty, stdin_open, wait_attach;
        int clients[MAX_CLIENTS];
        size_t n_clients;
        int out_fd, err_fd, in_fd, master;
        pid_t pid;
        int log_fd;
        uint64_t log_size, log_max;
        char linebuf[2][16384];
        size_t linelen[2];
        int restart_count;
        int64_t started, finished;
        int diag_fd; /* our stderr as the engine gave it (monitor.log) */
};

static int64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void write_status(struct mon *m, const char *state, int code, bool oom, const char *error)
{
        json_t *o = json_pack("{s:s,s:i,s:i,s:I,s:I,s:i,s:b,s:i}", "state", state, "monitor_pid", (int) getpid(), "pid",
                              (int) m->pid, "started", (json_int_t) m->started, "finished", (json_int_t) m->finished,
                              "exit_code", code, "oom_killed", oom, "restart_count", m->restart_count);
        if (error)
                json_object_set_new(o, "error", json_string(error));
        if (m->health)
                json_object_set_new(o, "health", moat_health_json(m->health));
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d/status.json", m->dirfd);
        struct moat_error err;
        /* replaced atomically but not fsynced: it describes processes, which a power loss ends
         * anyway (the engine then finds the monitor gone and records that) */
        if (s && moat_write_file_replace(path, s, strlen(s), 0600, &err) < 0)
                moat_warn("%s", err.msg);
        free(s);
}

static void log_open(struct mon *m)
{
        char name[128];
        snprintf(name, sizeof name, "%s-json.log", m->id);
        m->log_fd = openat(m->dirfd, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        struct stat st;
        m->log_size = m->log_fd >= 0 && fstat(m->log_fd, &st) == 0 ? (uint64_t) st.st_size : 0;
}

static void log_write(struct mon *m, int stream, const char *data, size_t len)
{
        if (m->log_fd < 0 || len == 0)
                return;
        char t[48];
        moat_rfc3339_now(t, sizeof t);
        _cleanup_free_ char *line = moat_log_line(stream == 2 ? "stderr" : "stdout", data, len, t);
        size_t n = strlen(line);
        if (m->log_size + n > m->log_max) {
                /* size-capped: keep one rotated file beside the current one */
                char a[128], b[128];
                snprintf(a, sizeof a, "%s-json.log", m->id);
                snprintf(b, sizeof b, "%s-json.log.1", m->id);
                renameat(m->dirfd, a, m->dirfd, b);
                close(m->log_fd);
                log_open(m);
                if (m->log_fd < 0)
                        return;
        }
        if (moat_write_all(m->log_fd, line, n) == 0)
                m->log_size += n;
}

/* Docker logs line by line; a line longer than the buffer is split. */
static void log_data(struct mon *m, int stream, const char *data, size_t len, bool flush)
{
        int k = stream == 2 ? 1 : 0;
        for (size_t i = 0; i < len; i++) {
                m->linebuf[k][m->linelen[k]++] = data[i];
                if (data[i] == '\n' || m->linelen[k] == sizeof m->linebuf[k]) {
                        log_write(m, stream, m->linebuf[k], m->linelen[k]);
                        m->linelen[k] = 0;
                }
        }
        if (flush && m->linelen[k]) {
                log_write(m, stream, m->linebuf[k], m->linelen[k]);
                m->linelen[k] = 0;
        }
}

static void drop_client(struct mon *m, size_t i)
{
        close(m->clients[i]);
        m->clients[i] = m->clients[--m->n_clients];
}

static void broadcast(struct mon *m, enum moat_frame_type t, const char *data, size_t len)
{
        for (size_t i = 0; i < m->n_clients;) {
                if (moat_frame_send(m->clients[i], t, data, len) < 0)
                        drop_client(m, i);
                else
                        i++;
        }
}

/* Returns false at EOF. */
static bool pump(struct mon *m, int *fd, int stream)
{
        char buf[MOAT_FRAME_MAX];
        ssize_t n = read(*fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0) {
                log_data(m, stream, NULL, 0, true);
                close(*fd);
                *fd = -1;
                return false;
        }
        log_data(m, stream, buf, (size_t) n, false);
        broadcast(m, stream == 2 ? FRAME_STDERR : FRAME_STDOUT, buf, (size_t) n);
        return true;
}

static void accept_client(struct mon *m)
{
        int c = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return;
        if (m->n_clients == MAX_CLIENTS) {
                close(c);
                return;
        }
        m->clients[m->n_clients++] = c;
}

static void client_input(struct mon *m, size_t i)
{
        static char buf[MOAT_FRAME_MAX + 1];
        enum moat_frame_type t;
        size_t len;
        if (moat_frame_recv(m->clients[i], &t, buf, &len) < 0) {
                drop_client(m, i);
                return;
        }
        int in = m->tty ? m->master : m->in_fd;
        switch (t) {
        case FRAME_STDIN:
                if (in >= 0 && moat_write_all(in, buf, len) < 0 && !m->tty) {
                        close(m->in_fd);
                        m->in_fd = -1;
                }
                break;
        case FRAME_STDIN_EOF:
                if (m->tty && m->master >= 0)
                        (void) !write(m->master, "\004", 1);
                else if (m->in_fd >= 0) {
                        close(m->in_fd);
                        m->in_fd = -1;
                }
                break;
        case FRAME_SIGNAL: {
                int sig = atoi(buf);
                if (m->pid > 0 && sig > 0 && sig < 65)
                        kill(m->pid, sig);
                break;
        }
        case FRAME_RESIZE: {
                unsigned rows, cols;
                if (m->master >= 0 && sscanf(buf, "%u %u", &rows, &cols) == 2) {
                        struct winsize ws = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
                        ioctl(m->master, TIOCSWINSZ, &ws);
                }
                break;
        }
        default: break;
        }
}

static void report_ready(struct mon *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report_ready(struct mon *m, const char *fmt, ...)
{
        if (m->ready_fd < 0)
                return;
        char buf[MOAT_ERROR_MAX + 16];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (n > (int) sizeof buf - 1)
                n = (int) sizeof buf - 1;
        (void) moat_write_all(m->ready_fd, buf, (size_t) n + 1); /* with the NUL: one message */
}

/* Creating the container ran most of the runtime library (config parsing, seccomp, mounts); the
 * monitor's own loop needs little of it. Its code is clean file pages (a PIE has no text
 * relocations): MADV_DONTNEED drops them from our memory and the few the loop uses fault back in
 * from the page cache. Read-only data may hold relocated (dirty) pages, which must not be
 * discarded: those only get the best-effort MADV_PAGEOUT. */
static void drop_setup_pages(void)
{
#ifdef MADV_PAGEOUT
        FILE *f = fopen("/proc/self/maps", "re");
        if (!f)
                return;
        char line[512], exe[256] = "";
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0)
                exe[n] = '\0';
        while (fgets(line, sizeof line, f)) {
                unsigned long lo, hi;
                char perms[8], path[256] = "";
                if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perms, path) < 3)
                        continue;
                /* only our own read-only, private file mappings: never writable data */
                if (!*exe || strcmp(path, exe) != 0 || perms[1] == 'w' || perms[3] != 'p')
                        continue;
                madvise((void *) lo, hi - lo, perms[2] == 'x' ? MADV_DONTNEED : MADV_PAGEOUT);
        }
        fclose(f);
#endif
}

static int spawn(struct mon *m, struct moat_error *err)
{
        int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, in[2] = { -1, -1 };
        m->out_fd = m->err_fd = m->in_fd = m->master = -1;
        if (!m->tty) {
                if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
                        return moat_error_set(err, errno, "pipe");
                if (m->stdin_open && pipe2(in, O_CLOEXEC) < 0)
                        return moat_error_set(err, errno, "pipe");
                /* fds 0-2 are what the container inherits */
                if (in[0] >= 0)
                        dup2(in[0], 0);
                dup2(out[1], 1);
                dup2(errp[1], 2);
        }
        char bundle[PATH_MAX];
        snprintf(bundle, sizeof bundle, "%s", m->dir);
        struct moat_create_opts o = { .id = m->id, .bundle = bundle };
        pid_t pid = -1;
        int master = -1;
        int r = moat_runtime_spawn(&m->rt, &o, &pid, &master, err);
        int dn = open("/dev/null", O_RDWR | O_CLOEXEC);
        dup2(dn, 0);
        dup2(dn, 1);
        dup2(m->diag_fd >= 0 ? m->diag_fd : dn, 2);
        close(dn);
        if (!m->tty) {
                close(out[1]);
                close(errp[1]);
                if (in[0] >= 0)
                        close(in[0]);
                m->out_fd = out[0];
                m->err_fd = errp[0];
                m->in_fd = in[1];
        }
        if (r < 0) {
                if (m->out_fd >= 0)
                        close(m->out_fd);
                if (m->err_fd >= 0)
                        close(m->err_fd);
                if (m->in_fd >= 0)
                        close(m->in_fd);
                m->out_fd = m->err_fd = m->in_fd = -1;
                return r;
        }
        m->pid = pid;
        m->master = master;
        m->started = now_ns();
        m->finished = 0;
        /* the config, seccomp program and state were freed; give the heap back to the kernel so
         * a monitor that lives as long as its container stays small */
        malloc_trim(0);
        return 0;
}

static bool oom_killed(struct mon *m)
{
        char path[128];
        snprintf(path, sizeof path, "/moat/%s", m->id);
        struct moat_cgroup *cg = NULL;
        struct moat_error err;
        if (moat_cgroup_open(NULL, path, &cg, &err) < 0)
                return false;
        struct moat_cgroup_stats st = { 0 };
        bool oom = moat_cgroup_stats(cg, &st, &err) == 0 && st.oom_kills > 0;
        moat_cgroup_free(cg);
        return oom;
}

static bool should_restart(struct mon *m, int code)
{
        if (faccessat(m->dirfd, "stop-requested", F_OK, 0) == 0)
                return false;
        /* `moat update --restart` leaves the container's new policy here */
        const char *p = m->restart;
        char buf[64];
        int fd = openat(m->dirfd, "restart-policy", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
                ssize_t n = read(fd, buf, sizeof buf - 1);
                close(fd);
                if (n > 0) {
                        buf[n] = '\0';
                        p = buf;
                }
        }
        if (!p || streq(p, "no") || !*p)
                return false;
        if (streq(p, "always") || streq(p, "unless-stopped"))
                return true;
        if (startswith(p, "on-failure")) {
                if (code == 0)
                        return false;
                int max = p[10] == ':' ? atoi(p + 11) : 0;
                return max <= 0 || m->restart_count < max;
        }
        return false;
}

/* Run `moat --root ROOT _sync ID` and wait for it: the engine records the outcome (and removes
 * an --rm container) before attached clients learn the exit code. */
static void run_sync(struct mon *m)
{
        pid_t p = fork();
        if (p == 0) {
                execl(m->moat, m->moat, "--root", m->root, "_sync", m->id, (char *) NULL);
                _exit(127);
        }
        if (p > 0)
                while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
                        ;
}

/* A probe ended: its result is in status.json at once; a change of status is an event too,
 * appended by us (the event log is a plain O_APPEND file; no DB, no _sync needed). */
static void health_result(struct mon *m, bool changed)
{
        write_status(m, "running", 0, false, NULL);
        if (changed) {
                char action[64];
                snprintf(action, sizeof action, "health_status: %s", moat_health_status(m->health));
                moat_event_append(m->root, action, m->id, m->name, NULL);
        }
        /* forking, recording and writing faulted in code (64 KiB around each fault) and heap: give
         * them back, so a monitor with a health check is as small as one without between probes */
        malloc_trim(0);
        drop_setup_pages();
}

/* Serve until the container's process has exited and its output is drained. Returns its wait status. */
static int serve(struct mon *m)
{
        int status = 0;
        bool exited = false;
        int64_t drain_deadline = 0;
        for (;;) {
                int out = m->tty ? m->master : m->out_fd;
                if (exited && out < 0 && m->err_fd < 0)
                        break;
                if (exited && now_ns() > drain_deadline)
                        break;
                struct pollfd p[4 + MAX_CLIENTS];
                size_t np = 0;
                p[np++] = (struct pollfd){ m->sfd, POLLIN, 0 };
                p[np++] = (struct pollfd){ m->listen_fd, POLLIN, 0 };
                p[np++] = (struct pollfd){ out, POLLIN, 0 };
                p[np++] = (struct pollfd){ m->tty ? -1 : m->err_fd, POLLIN, 0 };
                size_t nc = m->n_clients;
                for (size_t i = 0; i < nc; i++)
                        p[np++] = (struct pollfd){ m->clients[i], POLLIN, 0 };
                int timeout = exited ? 50 : m->health ? moat_health_timeout_ms(m->health) : -1;
                if (poll(p, np, timeout) < 0 && errno != EINTR)
                        break;
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(m->sfd, &si, sizeof si) == sizeof si)
                                ;
                        int st;
                        pid_t w;
                        /* a subreaper: orphans of the container land here too */
                        bool changed;
                        while ((w = waitpid(-1, &st, WNOHANG)) > 0)
                                if (moat_health_reaped(m->health, w, st, &changed)) {
                                        if (!exited)
                                                health_result(m, changed);
                                } else if (w == m->pid) {
                                        status = st;
                                        exited = true;
                                        m->finished = now_ns();
                                        drain_deadline = now_ns() + 2000000000ll;
                                }
                }
                if (m->health && !exited)
                        moat_health_tick(m->health, &m->rt, m->id, faccessat(m->dirfd, "paused", F_OK, 0) == 0);
                if (p[1].revents & POLLIN)
                        accept_client(m);
                if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
                        if (m->tty) {
                                if (!pump(m, &m->master, 1))
                                        m->master = -1;
                        } else
                                pump(m, &m->out_fd, 1);
                }
                if (p[3].revents & (POLLIN | POLLHUP | POLLERR))
                        pump(m, &m->err_fd, 2);
                /* clients: walk backwards, drop_client reorders */
                for (size_t i = nc; i-- > 0;)
                        if (p[4 + i].revents & (POLLIN | POLLHUP | POLLERR))
                                client_input(m, i);
        }
        if (m->out_fd >= 0)
                close(m->out_fd);
        if (m->err_fd >= 0)
                close(m->err_fd);
        if (m->in_fd >= 0)
                close(m->in_fd);
        if (m->master >= 0)
                close(m->master);
        m->out_fd = m->err_fd = m->in_fd = m->master = -1;
        moat_health_stop(m->health); /* docker: unhealthy once the container stopped */
        log_data(m, 1, NULL, 0, true);
        log_data(m, 2, NULL, 0, true);
        return status;
}

int moat_monitor_main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' },
                { "runtime-root", required_argument, NULL, 'R' },
                { "id", required_argument, NULL, 'i' },
                { "dir", required_argument, NULL, 'd' },
                { "moat", required_argument, NULL, 'm' },
                { "restart", required_argument, NULL, 'p' },
                { "ready-fd", required_argument, NULL, 'f' },
                { "tty", no_argument, NULL, 't' },
                { "stdin", no_argument, NULL, 's' },
                { "wait-attach", no_argument, NULL, 'w' },
                { "health", required_argument, NULL, 'H' },
                { "name", required_argument, NULL, 'n' },
                {},
        };
        struct mon m = { .ready_fd = -1, .dirfd = -1, .log_max = DEFAULT_LOG_MAX, .out_fd = -1, .err_fd = -1,
                         .in_fd = -1, .master = -1 };
        const char *rtroot = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (c) {
                case 'r': m.root = optarg; break;
                case 'R': rtroot = optarg; break;
                case 'i': m.id = optarg; break;
                case 'd': m.dir = optarg; break;
                case 'm': m.moat = optarg; break;
                case 'p': m.restart = optarg; break;
                case 'f': m.ready_fd = atoi(optarg); break;
                case 't': m.tty = true; break;
                case 's': m.stdin_open = true; break;
                case 'w': m.wait_attach = true; break;
                case 'H':
                        if (!(m.health = moat_health_new(optarg))) {
                                fprintf(stderr, "moat-monitor: bad --health %s\n", optarg);
                                return 2;
                        }
                        break;
                case 'n': m.name = optarg; break;
                default: return 2;
                }
        }
        if (!m.root || !rtroot || !m.id || !m.dir || !m.moat) {
                fprintf(stderr, "moat-monitor: started by the engine only (missing arguments)\n");
                return 2;
        }
        const char *lm = getenv("MOAT_LOG_MAX_SIZE");
        unsigned long long v;
        if (lm && moat_parse_uint64(lm, &v) == 0 && v >= 1024)
                m.log_max = v;
        m.rt.root = rtroot;
        m.diag_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
        if (chdir("/") < 0)
                return 1;
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigprocmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        m.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        m.dirfd = open(m.dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (m.dirfd < 0 || m.sfd < 0) {
                report_ready(&m, "E open %s: %s", m.dir, strerror(errno));
                return 1;
        }
        log_open(&m);
        m.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/attach.sock", m.dirfd);
        unlinkat(m.dirfd, "attach.sock", 0);
        if (m.listen_fd < 0 || bind(m.listen_fd, (struct sockaddr *) &addr, sizeof addr) < 0 ||
            listen(m.listen_fd, 16) < 0) {
                report_ready(&m, "E attach socket: %s", strerror(errno));
                return 1;
        }
        unlinkat(m.dirfd, "stop-requested", 0);
        unlinkat(m.dirfd, "paused", 0);
        if (m.wait_attach) {
                report_ready(&m, "L");
                struct pollfd p = { m.listen_fd, POLLIN, 0 };
                if (poll(&p, 1, 30000) == 1)
                        accept_client(&m);
        }
        int code = 0;
        bool oom = false;
        int64_t backoff_ms = 100;
        _cleanup_free_ char *final_error = NULL;
        for (;;) {
                struct moat_error err;
                if (spawn(&m, &err) < 0) {
                        m.finished = now_ns();
                        write_status(&m, "exited", 127, false, err.msg);
                        /* the clients' and the starter's view: the same as the final status below */
                        report_ready(&m, "E %s", err.msg);
                        broadcast(&m, FRAME_ERROR, err.msg, strlen(err.msg));
                        code = strstr(err.msg, "not found") || strstr(err.msg, "No such file") ? 127 : 126;
                        final_error = xstrdup(err.msg);
                        break;
                }
                if (m.health)
                        moat_health_reset(m.health, m.started);
                write_status(&m, "running", 0, false, NULL);
                report_ready(&m, "S %d", (int) m.pid);
                if (m.ready_fd >= 0) {
                        close(m.ready_fd);
                        m.ready_fd = -1;
                }
                /* from here on only the serving loop runs until the container exits */
                drop_setup_pages();
                int st = serve(&m);
                unlinkat(m.dirfd, "paused", 0);
                code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
                oom = oom_killed(&m);
                if (moat_runtime_delete(&m.rt, m.id, true, &err) < 0)
                        moat_warn("delete %s: %s", m.id, err.msg);
                if (!should_restart(&m, code))
                        break;
                m.restart_count++;
                write_status(&m, "restarting", code, oom, NULL);
                run_sync(&m);
                /* docker's back-off: doubling from 100 ms, reset after a run of 10 s */
                if (m.finished - m.started > 10000000000ll)
                        backoff_ms = 100;
                struct timespec ts = { backoff_ms / 1000, (backoff_ms % 1000) * 1000000 };
                nanosleep(&ts, NULL);
                if (backoff_ms < 60000)
                        backoff_ms *= 2;
        }
        write_status(&m, "exited", code, oom, final_error);
        close(m.listen_fd);
        if (m.log_fd >= 0)
                close(m.log_fd);
        close(m.dirfd);
        run_sync(&m);
        char buf[16];
        int n = snprintf(buf, sizeof buf, "%d", code);
        broadcast(&m, FRAME_EXIT, buf, (size_t) n);
        for (size_t i = 0; i < m.n_clients; i++)
                close(m.clients[i]);
        moat_health_free(m.health);
        return 0;
}
