/* frame: the attach socket's framing and docker's json-file log line, shared by the monitor and
 * the CLI side of the engine. Kept free of heavy dependencies: moat-monitor links it. */
#include <sys/socket.h>
#include <time.h>

#include "engine/attach.h"
#include "util/util.h"

int moat_frame_send(int fd, enum moat_frame_type t, const void *data, size_t len)
{
        if (len > MOAT_FRAME_MAX)
                return -1;
        unsigned char h[8] = { (unsigned char) t, 0, 0, 0, (unsigned char) len, (unsigned char) (len >> 8),
                               (unsigned char) (len >> 16), (unsigned char) (len >> 24) };
        struct iovec iov[2] = { { h, 8 }, { (void *) data, len } };
        struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
        size_t want = 8 + len;
        ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
        if (n < 0)
                return -1;
        if ((size_t) n < want) {
                /* finish a short write the slow way */
                size_t done = (size_t) n;
                if (done < 8) {
                        if (moat_write_all(fd, h + done, 8 - done) < 0)
                                return -1;
                        done = 8;
                }
                if (moat_write_all(fd, (const char *) data + (done - 8), want - done) < 0)
                        return -1;
        }
        return 0;
}

int moat_frame_recv(int fd, enum moat_frame_type *t, char *buf, size_t *len)
{
        unsigned char h[8];
        if (moat_read_all(fd, h, 8) != 8)
                return -1;
        size_t n = (size_t) h[4] | (size_t) h[5] << 8 | (size_t) h[6] << 16 | (size_t) h[7] << 24;
        if (n > MOAT_FRAME_MAX)
                return -1;
        if (n && moat_read_all(fd, buf, n) != (ssize_t) n)
                return -1;
        buf[n] = '\0';
        *t = (enum moat_frame_type) h[0];
        *len = n;
        return 0;
}

void moat_rfc3339_now(char *buf, size_t len)
{
        moat_format_rfc3339(moat_realtime_ns(), buf, len);
}

char *moat_log_line(const char *stream, const char *data, size_t len, const char *time_rfc3339)
{
        /* worst case every byte becomes \u00XX */
        size_t cap = len * 6 + strlen(stream) + strlen(time_rfc3339) + 64;
        char *out = xmalloc(cap), *p = out;
        p += sprintf(p, "{\"log\":\"");
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) data[i];
                switch (c) {
                case '"': *p++ = '\\'; *p++ = '"'; break;
                case '\\': *p++ = '\\'; *p++ = '\\'; break;
                case '\n': *p++ = '\\'; *p++ = 'n'; break;
                case '\r': *p++ = '\\'; *p++ = 'r'; break;
                case '\t': *p++ = '\\'; *p++ = 't'; break;
                default:
                        if (c < 0x20 || c == 0x7f)
                                p += sprintf(p, "\\u%04x", c);
                        else if (c < 0x80)
                                *p++ = (char) c;
                        else {
                                /* pass valid UTF-8 through, escape stray bytes as U+FFFD */
                                size_t need = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
                                bool ok = need && c < 0xf5 && i + need < len + 0;
                                for (size_t k = 1; ok && k <= need; k++)
                                        ok = ((unsigned char) data[i + k] & 0xc0) == 0x80;
                                if (ok) {
                                        memcpy(p, data + i, need + 1);
                                        p += need + 1;
                                        i += need;
                                } else
                                        p += sprintf(p, "\\ufffd");
                        }
                }
        }
        sprintf(p, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, time_rfc3339);
        return out;
}
