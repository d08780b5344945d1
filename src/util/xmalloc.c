/* xmalloc: the only place allowed to abort, and only when memory runs out. */
#include "util.h"

static void oom(void)
{
        static const char msg[] = "moat: out of memory\n";
        (void) !write(2, msg, sizeof msg - 1);
        abort();
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xzalloc(size_t n)
{
        void *p = calloc(1, n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xrealloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p)
                oom();
        return p;
}

char *xstrdup(const char *s)
{
        char *p = strdup(s);
        if (!p)
                oom();
        return p;
}

char *xstrndup(const char *s, size_t n)
{
        char *p = strndup(s, n);
        if (!p)
                oom();
        return p;
}

char *xasprintf(const char *fmt, ...)
{
        char *p;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&p, fmt, ap);
        va_end(ap);
        if (r < 0)
                oom();
        return p;
}

void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

size_t strv_len(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

char *strv_join(char *const *v, const char *sep)
{
        size_t len = 1, sl = strlen(sep);
        for (size_t i = 0; v && v[i]; i++)
                len += strlen(v[i]) + (i ? sl : 0);
        char *out = xmalloc(len), *p = out;
        for (size_t i = 0; v && v[i]; i++) {
                if (i) {
                        memcpy(p, sep, sl);
                        p += sl;
                }
                size_t l = strlen(v[i]);
                memcpy(p, v[i], l);
                p += l;
        }
        *p = '\0';
        return out;
}
