/* attach: the framing spoken on a monitor's attach socket (engine-private). Every message is an
 * 8-byte header (type, 3 pad bytes, little-endian length) and up to MOAT_FRAME_MAX bytes. */
#ifndef MOAT_ENGINE_ATTACH_H
#define MOAT_ENGINE_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#define MOAT_FRAME_MAX 32768

enum moat_frame_type {
        FRAME_STDIN = 0,    /* client -> monitor */
        FRAME_STDOUT = 1,   /* monitor -> client */
        FRAME_STDERR = 2,
        FRAME_EXIT = 3,     /* payload: the exit code in decimal */
        FRAME_STDIN_EOF = 4,
        FRAME_SIGNAL = 5,   /* payload: signal number in decimal */
        FRAME_RESIZE = 6,   /* payload: "ROWS COLS" */
        FRAME_ERROR = 7,    /* payload: message */
};

int moat_frame_send(int fd, enum moat_frame_type t, const void *data, size_t len);
/* Reads one frame into buf (MOAT_FRAME_MAX + 1 bytes, NUL terminated); -1 on EOF or error. */
int moat_frame_recv(int fd, enum moat_frame_type *t, char *buf, size_t *len);

/* Docker's json-file line for one chunk of output. */
char *moat_log_line(const char *stream, const char *data, size_t len, const char *time_rfc3339);
void moat_rfc3339_now(char *buf, size_t len);

#endif
