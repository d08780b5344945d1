/* events: <root>/events.log (one JSON object a line, appended by moat_engine_event) read back as
 * docker's event messages, filtered, and followed with inotify as new lines are appended. */
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "engine/internal.h"

/* the keys of a log line that are not actor attributes */
static bool is_envelope(const char *k)
{
        return streq(k, "time") || streq(k, "type") || streq(k, "action") || streq(k, "id");
}

/* Attributes are strings in docker's messages. */
static json_t *attr_string(json_t *v)
{
        if (json_is_string(v))
                return json_string_length(v) ? json_incref(v) : NULL;
        if (json_is_integer(v)) {
                char b[32];
                snprintf(b, sizeof b, "%lld", (long long) json_integer_value(v));
                return json_string(b);
        }
        if (json_is_boolean(v))
                return json_string(json_is_true(v) ? "true" : "false");
        if (json_is_array(v) && json_array_size(v)) {
                char *out = xstrdup("");
                size_t i;
                json_t *x;
                json_array_foreach(v, i, x)
                {
                        const char *s = json_string_value(x);
                        char *n = xasprintf("%s%s%s", out, i ? "," : "", s ? s : "");
                        free(out);
                        out = n;
                }
                json_t *r = json_string(out);
                free(out);
                return r;
        }
        return NULL;
}

struct reader {
        const struct moat_events_filter *f;
        json_t *known; /* id -> {"image","name"}: what later lines of a container leave out */
        moat_event_fn fn;
        void *ud;
        bool stop;
};

static bool match_any(char **v, bool (*eq)(const char *want, const char *have, const char *have2), const char *a,
                      const char *b)
{
        if (!v || !v[0])
                return true;
        for (size_t i = 0; v[i]; i++)
                if (eq(v[i], a, b))
                        return true;
        return false;
}

static bool eq_container(const char *want, const char *id, const char *name)
{
        return (name && streq(want, name)) || (want[0] && startswith(id, want));
}

static bool eq_action(const char *want, const char *action, const char *unused)
{
        (void) unused;
        size_t l = strlen(want);
        return strncmp(action, want, l) == 0 && (action[l] == '\0' || action[l] == ':');
}

static bool eq_plain(const char *want, const char *have, const char *unused)
{
        (void) unused;
        return streq(want, have);
}

/* One log line: parse, remember, filter, convert, send. Lines that are not events are skipped. */
static void line(struct reader *r, const char *text)
{
        json_t *ev = json_loads(text, 0, NULL);
        const char *t = json_string_value(json_object_get(ev, "time"));
        const char *action = json_string_value(json_object_get(ev, "action"));
        const char *id = json_string_value(json_object_get(ev, "id"));
        const char *type = json_string_value(json_object_get(ev, "type"));
        int64_t ns;
        if (!ev || !t || !action || !id || moat_parse_timestamp(t, 0, &ns) < 0) {
                json_decref(ev);
                return;
        }
        if (!type)
                type = "container";
        json_t *k = json_object_get(r->known, id);
        if (!k) {
                k = json_object();
                json_object_set_new(r->known, id, k);
        }
        json_t *attrs = json_object();
        const char *key;
        json_t *val;
        json_object_foreach(ev, key, val)
        {
                if (is_envelope(key))
                        continue;
                json_t *s = attr_string(val);
                if (s)
                        json_object_set_new(attrs, key, s);
        }
        /* a rename's line carries the new name; every line may lack what the create line had */
        if (json_object_get(attrs, "image"))
                json_object_set(k, "image", json_object_get(attrs, "image"));
        if (json_object_get(attrs, "name"))
                json_object_set(k, "name", json_object_get(attrs, "name"));
        json_object_update_missing(attrs, k);
        const char *name = json_string_value(json_object_get(attrs, "name"));
        const struct moat_events_filter *f = r->f;
        bool keep = (!f->since || ns >= f->since) && (!f->until || ns <= f->until) &&
                    match_any(f->containers, eq_container, id, name) && match_any(f->actions, eq_action, action, NULL) &&
                    match_any(f->types, eq_plain, type, NULL);
        if (streq(action, "destroy"))
                json_object_del(r->known, id);
        if (keep) {
                json_t *img = json_object_get(attrs, "image");
                json_t *msg = json_pack("{s:s,s:s,s:O?,s:s,s:s,s:{s:s,s:O},s:s,s:I,s:I}", "status", action, "id", id,
                                        "from", img, "Type", type, "Action", action, "Actor", "ID", id, "Attributes",
                                        attrs, "scope", "local", "time", (json_int_t) (ns / 1000000000), "timeNano",
                                        (json_int_t) ns);
                if (!img)
                        json_object_del(msg, "from");
                if (msg && r->fn(r->ud, msg) < 0)
                        r->stop = true;
                json_decref(msg);
        }
        json_decref(attrs);
        json_decref(ev);
}

/* Send the complete lines of buf[0..*len) and keep an unfinished last line for later. */
static void drain(struct reader *r, char *buf, size_t *len)
{
        size_t start = 0;
        for (size_t i = 0; i < *len && !r->stop; i++) {
                if (buf[i] != '\n')
                        continue;
                buf[i] = '\0';
                line(r, buf + start);
                start = i + 1;
        }
        memmove(buf, buf + start, *len - start);
        *len -= start;
}

int moat_engine_events(struct moat_engine *e, const struct moat_events_filter *f, bool follow, moat_event_fn fn,
                       void *ud, struct moat_error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/events.log", e->root);
        int64_t start = moat_realtime_ns();
        /* without --since only what comes from now on; the lines before are still read, for the
         * names and images that later lines of the same container leave out */
        struct moat_events_filter ef = *f;
        if (!ef.since)
                ef.since = start;
        struct reader r = { .f = &ef, .known = json_object(), .fn = fn, .ud = ud };
        if (f->until && f->until <= start)
                follow = false;
        /* watch the directory: it reports writes to the log, and its creation */
        _cleanup_close_ int in = -1;
        if (follow) {
                in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                if (in < 0 || inotify_add_watch(in, e->root, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
                        json_decref(r.known);
                        return moat_error_set(err, errno, "watch %s", e->root);
                }
        }
        size_t cap = 1 << 16, len = 0;
        char *buf = xmalloc(cap);
        int fd = -1, rc = 0;
        while (!r.stop) {
                if (fd < 0)
                        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd >= 0) {
                        for (;;) {
                                if (len == cap) {
                                        if (cap >= (1u << 24)) { /* a line longer than 16 MiB is no event */
                                                len = 0;
                                                continue;
                                        }
                                        cap *= 2;
                                        buf = xrealloc(buf, cap);
                                }
                                ssize_t n = read(fd, buf + len, cap - len);
                                if (n < 0 && errno == EINTR)
                                        continue;
                                if (n <= 0)
                                        break;
                                len += (size_t) n;
                                drain(&r, buf, &len);
                                if (r.stop)
                                        break;
                        }
                }
                int64_t now = moat_realtime_ns();
                if (!follow || r.stop || (f->until && now > f->until))
                        break;
                int timeout = -1;
                if (f->until) {
                        int64_t ms = (f->until - now) / 1000000 + 1;
                        timeout = ms > 1000 ? 1000 : (int) ms;
                }
                struct pollfd p = { .fd = in, .events = POLLIN };
                int pr = poll(&p, 1, timeout);
                if (pr < 0 && errno != EINTR) {
                        rc = moat_error_set(err, errno, "wait for events");
                        break;
                }
                char ev[4096];
                while (read(in, ev, sizeof ev) > 0)
                        ;
        }
        if (fd >= 0)
                close(fd);
        free(buf);
        json_decref(r.known);
        return rc;
}
