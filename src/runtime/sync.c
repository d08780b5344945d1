/* sync: the one socket between the runtime and the container's first process. Messages are
 * SOCK_SEQPACKET records: a 4-byte type, then a payload; an fd may ride along (SCM_RIGHTS). */
#include "internal.h"

#include <stdint.h>
#include <sys/socket.h>

int moat_sync_send(int fd, enum moat_sync_type type, const void *data, size_t len, int pass_fd)
{
        if (len > MOAT_SYNC_MAX)
                return -EMSGSIZE;
        uint32_t t = (uint32_t) type;
        struct iovec iov[2] = { { &t, sizeof t }, { (void *) data, len } };
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
        char cbuf[CMSG_SPACE(sizeof(int))];
        if (pass_fd >= 0) {
                memset(cbuf, 0, sizeof cbuf);
                msg.msg_control = cbuf;
                msg.msg_controllen = sizeof cbuf;
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
        }
        ssize_t n;
        do
                n = sendmsg(fd, &msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : 0;
}

int moat_sync_recv(int fd, enum moat_sync_type *type, char **data, size_t *len, int *recv_fd)
{
        uint32_t t = 0;
        _cleanup_free_ char *buf = xmalloc(MOAT_SYNC_MAX + 1);
        struct iovec iov[2] = { { &t, sizeof t }, { buf, MOAT_SYNC_MAX } };
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        ssize_t n;
        do
                n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (recv_fd)
                *recv_fd = -1;
        if (n < 0)
                return -errno;
        if (n == 0)
                return -EPIPE;
        if ((size_t) n < sizeof t)
                return -EBADMSG;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        int got;
                        memcpy(&got, CMSG_DATA(c), sizeof got);
                        if (recv_fd)
                                *recv_fd = got;
                        else
                                close(got);
                }
        size_t plen = (size_t) n - sizeof t;
        buf[plen] = '\0';
        *type = (enum moat_sync_type) t;
        if (len)
                *len = plen;
        if (data)
                *data = STEAL(buf);
        return 0;
}

int moat_send_fd_to_socket(const char *path, int fd, const char *name, struct moat_error *err)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof addr.sun_path)
                return moat_error_set(err, ENAMETOOLONG, "console socket %s", path);
        strcpy(addr.sun_path, path);
        _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return moat_error_set(err, errno, "socket");
        if (connect(s, (struct sockaddr *) &addr, sizeof addr) < 0)
                return moat_error_set(err, errno, "connect to console socket %s", path);
        struct iovec iov = { (void *) name, strlen(name) };
        char cbuf[CMSG_SPACE(sizeof(int))];
        memset(cbuf, 0, sizeof cbuf);
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        if (sendmsg(s, &msg, MSG_NOSIGNAL) < 0)
                return moat_error_set(err, errno, "send the terminal to %s", path);
        return 0;
}
