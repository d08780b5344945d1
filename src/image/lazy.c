/* lazy: see lazy.h. */
#define MOAT_LAZY_IMPL 1
#include <dlfcn.h>

#include "image/lazy.h"

struct moat_curl_api moat_curl;
struct moat_archive_api moat_archive;

/* Fill the table from soname; all or nothing, so a half-loaded table is never used. */
static int load(const char *soname, void *handle_slot[1], const char *const *names, void **slots, size_t n,
                struct moat_error *err)
{
        if (*handle_slot)
                return 0;
        void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return moat_error_set(err, ENOENT, "cannot load %s (needed for this operation): %s", soname,
                                      dlerror());
        for (size_t i = 0; i < n; i++) {
                dlerror();
                slots[i] = dlsym(h, names[i]);
                if (!slots[i]) {
                        int rc = moat_error_set(err, ENOSYS, "%s has no %s: is it too old?", soname, names[i]);
                        memset(slots, 0, n * sizeof *slots);
                        dlclose(h);
                        return rc;
                }
        }
        *handle_slot = h;
        return 0;
}

#define NAME(sym) #sym,

int moat_curl_load(struct moat_error *err)
{
        static void *handle;
        static const char *const names[] = { MOAT_CURL_SYMS(NAME) };
        _Static_assert(sizeof names / sizeof *names == sizeof moat_curl / sizeof(void *), "table shape");
        bool first = !handle;
        if (load("libcurl.so.4", &handle, names, (void **) &moat_curl, sizeof names / sizeof *names, err) < 0)
                return -1;
        if (first && moat_curl.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return moat_error_set(err, EIO, "libcurl failed to initialise");
        return 0;
}

int moat_archive_load(struct moat_error *err)
{
        static void *handle;
        static const char *const names[] = { MOAT_ARCHIVE_SYMS(NAME) };
        _Static_assert(sizeof names / sizeof *names == sizeof moat_archive / sizeof(void *), "table shape");
        return load("libarchive.so.13", &handle, names, (void **) &moat_archive, sizeof names / sizeof *names, err);
}
