/* health: docker's health checks, inside moat-monitor. A probe is a forked helper that execs the
 * check into the container through the runtime library (the same confinement as `moat exec`),
 * collects up to 4 KiB of its output, kills it (its whole process group) at the timeout and
 * writes one result to a pipe. The monitor itself only schedules, reaps and keeps docker's state
 * (status, failing streak, the last 5 results), so its own memory does not grow with the exec
 * code: that runs in the helper's copy. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "engine/attach.h"
#include "engine/health.h"

#define OUTPUT_MAX 4096
#define LOG_MAX 5

struct moat_health {
        char **argv;
        int64_t interval, timeout, start_period, start_interval; /* ns */
        int retries;
        const char *status;
        int failing;
        json_t *log;
        int64_t started;  /* the container's start, wall clock */
        int64_t next;     /* monotonic: the next probe */
        pid_t helper;     /* the running probe, or 0 */
        int result_fd;    /* its result pipe */
        int64_t probe_start, deadline; /* wall clock; monotonic */
};

static int64_t mono_ns(void)
{
        return (int64_t) moat_now_ns();
}

static int64_t wall_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct moat_health *moat_health_new(const char *config_json)
{
        json_t *c = json_loads(config_json, 0, NULL);
        json_t *test = json_object_get(c, "Test");
        if (!json_is_array(test) || json_array_size(test) == 0 || json_array_size(test) > 4096) {
                json_decref(c);
                return NULL;
        }
        struct moat_health *h = XNEW(struct moat_health, 1);
        h->argv = XNEW(char *, json_array_size(test) + 1);
        for (size_t i = 0; i < json_array_size(test); i++)
                h->argv[i] = xstrdup(json_string_value(json_array_get(test, i)) ?: "");
        h->interval = json_integer_value(json_object_get(c, "Interval"));
        h->timeout = json_integer_value(json_object_get(c, "Timeout"));
        h->start_period = json_integer_value(json_object_get(c, "StartPeriod"));
        h->start_interval = json_integer_value(json_object_get(c, "StartInterval"));
        h->retries = (int) json_integer_value(json_object_get(c, "Retries"));
        json_decref(c);
        if (h->interval <= 0 || h->timeout <= 0 || h->start_interval <= 0 || h->retries <= 0) {
                moat_health_free(h);
                return NULL;
        }
        h->status = "starting";
        h->log = json_array();
        h->result_fd = -1;
        return h;
}

void moat_health_free(struct moat_health *h)
{
        if (!h)
                return;
        moat_health_stop(h);
        strv_free(h->argv);
        json_decref(h->log);
        free(h);
}

/* docker's getInterval: the start interval while starting within the start period */
static int64_t interval(const struct moat_health *h)
{
        if (wall_ns() - h->started < h->start_period && streq(h->status, "starting"))
                return h->start_interval;
        return h->interval;
}

void moat_health_reset(struct moat_health *h, int64_t started_ns)
{
        h->started = started_ns;
        h->status = "starting";
        h->failing = 0;
        h->next = mono_ns() + interval(h);
}

int moat_health_timeout_ms(const struct moat_health *h)
{
        int64_t at = h->helper ? h->deadline : h->next;
        int64_t ms = (at - mono_ns()) / 1000000 + 1;
        return ms < 0 ? 0 : ms > 3600000 ? 3600000 : (int) ms;
}

/* Go's time.Duration.String, for docker's timeout message */
static void go_duration(int64_t ns, char *b, size_t len)
{
        if (ns < 1000) {
                snprintf(b, len, "%lldns", (long long) ns);
                return;
        }
        if (ns < 1000000000) {
                snprintf(b, len, ns < 1000000 ? "%gµs" : "%gms", ns < 1000000 ? ns / 1e3 : ns / 1e6);
                return;
        }
        long long h = ns / 3600000000000LL, m = ns / 60000000000LL % 60;
        double s = (double) (ns % 60000000000LL) / 1e9;
        if (h)
                snprintf(b, len, "%lldh%lldm%gs", h, m, s);
        else if (m)
                snprintf(b, len, "%lldm%gs", m, s);
        else
                snprintf(b, len, "%gs", s);
}

/* The helper: exec the check, wait for it until the timeout, report "CODE\nOUTPUT" (CODE -1:
 * it could not run or overran). Never returns. */
static void probe(const struct moat_health *h, const struct moat_runtime *rt, const char *id, int res)
{
        char out[OUTPUT_MAX + 512];
        size_t len = 0;
        int code = -1;
        int p[2];
        int dn = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (dn < 0 || pipe2(p, O_CLOEXEC) < 0)
                _exit(1);
        /* the check's stdio: no input, stdout and stderr into one pipe */
        dup2(dn, 0);
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[1]);
        pid_t pid = -1;
        int st = 0;
        struct moat_error err;
        moat_error_clear(&err);
        struct moat_exec_opts x = { .id = id, .args = h->argv, .tty = 0, .detach = true, .pid_out = &pid };
        int r = moat_runtime_exec(rt, &x, &st, &err);
        dup2(dn, 1);
        dup2(dn, 2);
        if (r < 0 || pid <= 0) {
                len = (size_t) snprintf(out, sizeof out, "-1\n%s", err.msg);
                (void) moat_write_all(res, out, len < sizeof out ? len : sizeof out - 1);
                _exit(0);
        }
        int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        int64_t end = mono_ns() + h->timeout;
        char buf[4096];
        bool done = false, timed_out = false;
        size_t hdr = 16; /* room for the code, written last */
        len = hdr;
        while (!done) {
                int64_t left = (end - mono_ns()) / 1000000;
                if (left <= 0) {
                        timed_out = true;
                        break;
                }
                struct pollfd pf[2] = { { p[0], POLLIN, 0 }, { pidfd, POLLIN, 0 } };
                /* without a pidfd (an old kernel): look every 10 ms */
                int wait_ms = pidfd < 0 && left > 10 ? 10 : left > 60000 ? 60000 : (int) left;
                if (poll(pf, 2, wait_ms) < 0 && errno != EINTR)
                        break;
                if (pf[0].revents & (POLLIN | POLLHUP)) {
                        ssize_t n = read(p[0], buf, sizeof buf);
                        if (n <= 0)
                                p[0] = (close(p[0]), -1);
                        for (ssize_t i = 0; i < n && len < hdr + OUTPUT_MAX; i++)
                                out[len++] = buf[i];
                }
                /* exited: keep what is in the pipe now, not what a leftover child writes later */
                if (pidfd < 0 || (pf[1].revents & POLLIN))
                        done = waitpid(pid, &st, WNOHANG) == pid;
        }
        if (timed_out) {
                kill(-pid, SIGKILL); /* the check called setsid: its group is everything it started */
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
                char d[32];
                go_duration(h->timeout, d, sizeof d);
                len = hdr + (size_t) snprintf(out + hdr, sizeof out - hdr, "Health check exceeded timeout (%s)", d);
        } else {
                fcntl(p[0], F_SETFL, O_NONBLOCK);
                ssize_t n;
                while (p[0] >= 0 && len < hdr + OUTPUT_MAX && (n = read(p[0], out + len, hdr + OUTPUT_MAX - len)) > 0)
                        len += (size_t) n;
                code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
        }
        char c[16];
        int cl = snprintf(c, sizeof c, "%d\n", code);
        memcpy(out + hdr - (size_t) cl, c, (size_t) cl);
        (void) moat_write_all(res, out + hdr - (size_t) cl, len - hdr + (size_t) cl);
        _exit(0);
}

void moat_health_tick(struct moat_health *h, const struct moat_runtime *rt, const char *id, bool paused)
{
        int64_t now = mono_ns();
        if (h->helper) {
                if (now >= h->deadline)
                        kill(h->helper, SIGKILL); /* stuck before the check even ran; reaped as a failure */
                return;
        }
        if (now < h->next)
                return;
        if (paused) {
                h->next = now + interval(h);
                return;
        }
        int p[2];
        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
                h->next = now + interval(h);
                return;
        }
        h->probe_start = wall_ns();
        pid_t pid = fork();
        if (pid == 0) {
                close(p[0]);
                fcntl(p[1], F_SETFL, 0);
                probe(h, rt, id, p[1]);
        }
        close(p[1]);
        if (pid < 0) {
                close(p[0]);
                h->next = now + interval(h);
                return;
        }
        h->helper = pid;
        h->result_fd = p[0];
        h->deadline = now + h->timeout + 10000000000LL;
}

static json_t *output_json(const char *s, size_t n)
{
        json_t *o = json_stringn(s, n);
        if (o)
                return o;
        /* not UTF-8 (or cut inside a character): the bytes outside ASCII become '?' */
        char *c = xstrndup(s, n);
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) c[i] >= 0x80 || !c[i])
                        c[i] = '?';
        o = json_stringn(c, n);
        free(c);
        return o ? o : json_string("");
}

bool moat_health_reaped(struct moat_health *h, pid_t pid, int status, bool *changed)
{
        *changed = false;
        if (!h || !h->helper || pid != h->helper)
                return false;
        char buf[OUTPUT_MAX + 512];
        ssize_t n = read(h->result_fd, buf, sizeof buf - 1);
        close(h->result_fd);
        h->result_fd = -1;
        h->helper = 0;
        int code = -1;
        const char *output = "";
        size_t olen = 0;
        if (n > 0) {
                buf[n] = '\0';
                char *nl = strchr(buf, '\n');
                code = atoi(buf);
                if (nl) {
                        output = nl + 1;
                        olen = (size_t) (buf + n - output);
                }
        } else {
                output = WIFSIGNALED(status) ? "health check helper killed: it did not start the check in time"
                                             : "health check helper failed";
                olen = strlen(output);
        }
        char t0[48], t1[48];
        moat_format_rfc3339(h->probe_start, t0, sizeof t0);
        moat_rfc3339_now(t1, sizeof t1);
        json_t *entry = json_pack("{s:s,s:s,s:i,s:o}", "Start", t0, "End", t1, "ExitCode", code, "Output",
                                  output_json(output, olen));
        if (json_array_size(h->log) >= LOG_MAX)
                json_array_remove(h->log, 0);
        json_array_append_new(h->log, entry);
        const char *old = h->status;
        if (code == 0) {
                h->failing = 0;
                h->status = "healthy";
        } else if (!(streq(h->status, "starting") && h->probe_start - h->started < h->start_period)) {
                /* a failure in the start period does not count while the container is starting */
                if (++h->failing >= h->retries)
                        h->status = "unhealthy";
        }
        *changed = !streq(old, h->status);
        h->next = mono_ns() + interval(h);
        return true;
}

void moat_health_stop(struct moat_health *h)
{
        if (!h)
                return;
        if (h->helper) {
                kill(h->helper, SIGKILL);
                while (waitpid(h->helper, NULL, 0) < 0 && errno == EINTR)
                        ;
                h->helper = 0;
        }
        if (h->result_fd >= 0)
                close(h->result_fd);
        h->result_fd = -1;
        h->status = "unhealthy";
}

const char *moat_health_status(const struct moat_health *h)
{
        return h->status;
}

json_t *moat_health_json(const struct moat_health *h)
{
        return json_pack("{s:s,s:i,s:O}", "Status", h->status, "FailingStreak", h->failing, "Log", h->log);
}
