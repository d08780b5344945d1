/* event: one line of <root>/events.log. Shared by the engine and moat-monitor (which appends the
 * health_status events itself: it never opens the DB, and an event needs none). */
#include <fcntl.h>

#include "engine/health.h"
#include "engine/attach.h"

void moat_event_append(const char *root, const char *action, const char *id, const char *name, json_t *extra)
{
        char t[48];
        moat_rfc3339_now(t, sizeof t);
        json_t *ev = json_pack("{s:s,s:s,s:s,s:s,s:s}", "time", t, "type", "container", "action", action, "id", id,
                               "name", name ? name : "");
        if (extra)
                json_object_update(ev, extra);
        char *line = json_dumps(ev, JSON_COMPACT);
        json_decref(ev);
        if (!line)
                return;
        size_t n = strlen(line);
        line = xrealloc(line, n + 2);
        line[n++] = '\n';
        line[n] = '\0';
        char path[4096];
        snprintf(path, sizeof path, "%s/events.log", root);
        /* one O_APPEND write per event: concurrent writers never interleave within a line */
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0) {
                (void) moat_write_all(fd, line, n);
                close(fd);
        }
        free(line);
}
