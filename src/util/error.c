/* error: the caller-provided error object. Messages are built innermost first and wrapped on
 * their way up, so the user reads the whole chain: "create container: mount /proc: EPERM". */
#include "util.h"

int moat_error_set(struct moat_error *err, int errnum, const char *fmt, ...)
{
        if (err) {
                va_list ap;
                va_start(ap, fmt);
                int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
                va_end(ap);
                if (errnum && n >= 0 && (size_t) n < sizeof err->msg)
                        snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(errnum));
                err->code = errnum ? errnum : EINVAL;
        }
        return -(errnum ? errnum : EINVAL);
}

int moat_error_wrap(struct moat_error *err, const char *fmt, ...)
{
        if (!err)
                return -EINVAL;
        char prefix[512], old[MOAT_ERROR_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        size_t pl = strnlen(prefix, sizeof prefix - 1);
        if (pl + 2 >= sizeof err->msg)
                pl = sizeof err->msg - 3;
        memcpy(err->msg, prefix, pl);
        memcpy(err->msg + pl, ": ", 2);
        size_t room = sizeof err->msg - pl - 3;
        size_t ol = strnlen(old, room);
        memcpy(err->msg + pl + 2, old, ol);
        err->msg[pl + 2 + ol] = '\0';
        if (!err->code)
                err->code = EINVAL;
        return -err->code;
}
