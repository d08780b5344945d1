/* landlock: the filesystem ruleset from org.moat.landlock.{ro,rw}, with raw syscalls (no
 * liblandlock) and ABI detection: a right the kernel does not know is not asked for. */
#include "runtime/landlock.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

/* Rights by ABI version (Documentation/userspace-api/landlock.rst); defined here because the
 * build host's headers may predate them. */
#define LL_EXECUTE (1ULL << 0)
#define LL_WRITE_FILE (1ULL << 1)
#define LL_READ_FILE (1ULL << 2)
#define LL_READ_DIR (1ULL << 3)
#define LL_ABI1_ALL ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define LL_REFER (1ULL << 13)          /* ABI 2 */
#define LL_TRUNCATE (1ULL << 14)       /* ABI 3 */
#define LL_IOCTL_DEV (1ULL << 15)      /* ABI 5 */
/* the rights that make sense on a file that is not a directory */
#define LL_FILE_RIGHTS (LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV)
#define LL_MAX_PATHS 256

int moat_landlock_abi(void)
{
        long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
        return v < 0 ? 0 : (int) v;
}

static uint64_t handled_for(int abi)
{
        uint64_t r = LL_ABI1_ALL;
        if (abi >= 2)
                r |= LL_REFER;
        if (abi >= 3)
                r |= LL_TRUNCATE;
        if (abi >= 5)
                r |= LL_IOCTL_DEV;
        return r;
}

static const char *annotation(json_t *ann, const char *key)
{
        return ann ? json_string_value(json_object_get(ann, key)) : NULL;
}

/* Each comma-separated item of value, checked; *out is a malloc'd copy to be cut in place. */
static int split_paths(const char *key, const char *value, char **out, char **items, size_t *n,
                       struct moat_error *err)
{
        *out = xstrdup(value);
        *n = 0;
        for (char *save = NULL, *tok = strtok_r(*out, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                while (*tok == ' ')
                        tok++;
                if (!*tok)
                        continue;
                if (tok[0] != '/')
                        return moat_error_set(err, EINVAL, "annotations.%s: \"%s\" is not an absolute path", key, tok);
                if (*n == LL_MAX_PATHS)
                        return moat_error_set(err, E2BIG, "annotations.%s: more than %d paths", key, LL_MAX_PATHS);
                items[(*n)++] = tok;
        }
        return 0;
}

int moat_landlock_check(json_t *ann, struct moat_error *err)
{
        const char *keys[] = { MOAT_LANDLOCK_RO, MOAT_LANDLOCK_RW };
        bool any = false;
        for (size_t k = 0; k < 2; k++) {
                const char *v = annotation(ann, keys[k]);
                if (!v)
                        continue;
                any = true;
                _cleanup_free_ char *copy = NULL;
                char *items[LL_MAX_PATHS];
                size_t n;
                if (split_paths(keys[k], v, &copy, items, &n, err) < 0)
                        return -EINVAL;
        }
        if (any && moat_landlock_abi() < 1)
                return moat_error_set(err, EOPNOTSUPP,
                                      "annotations.%s: this kernel has no Landlock (or it is not in the lsm= list)",
                                      annotation(ann, keys[0]) ? keys[0] : keys[1]);
        return 0;
}

static int add_paths(int ruleset, const char *key, const char *value, uint64_t rights, struct moat_error *err)
{
        _cleanup_free_ char *copy = NULL;
        char *items[LL_MAX_PATHS];
        size_t n;
        int r = split_paths(key, value, &copy, items, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int fd = open(items[i], O_PATH | O_CLOEXEC);
                if (fd < 0)
                        return moat_error_set(err, errno, "annotations.%s: open %s in the container", key, items[i]);
                struct stat st;
                if (fstat(fd, &st) < 0)
                        return moat_error_set(err, errno, "annotations.%s: stat %s", key, items[i]);
                struct landlock_path_beneath_attr pb = {
                        .allowed_access = S_ISDIR(st.st_mode) ? rights : (rights & LL_FILE_RIGHTS),
                        .parent_fd = fd,
                };
                if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
                        return moat_error_set(err, errno, "annotations.%s: landlock rule for %s", key, items[i]);
        }
        return 0;
}

int moat_landlock_apply(json_t *ann, struct moat_error *err)
{
        const char *ro = annotation(ann, MOAT_LANDLOCK_RO), *rw = annotation(ann, MOAT_LANDLOCK_RW);
        if (!ro && !rw)
                return 0;
        int abi = moat_landlock_abi();
        if (abi < 1)
                return moat_error_set(err, EOPNOTSUPP, "landlock: not available on this kernel");
        uint64_t handled = handled_for(abi);
        struct landlock_ruleset_attr attr = { .handled_access_fs = handled };
        _cleanup_close_ int ruleset = (int) syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
        if (ruleset < 0)
                return moat_error_set(err, errno, "landlock_create_ruleset");
        int r;
        if (ro && (r = add_paths(ruleset, MOAT_LANDLOCK_RO, ro, handled & (LL_EXECUTE | LL_READ_FILE | LL_READ_DIR),
                                 err)) < 0)
                return r;
        if (rw && (r = add_paths(ruleset, MOAT_LANDLOCK_RW, rw, handled, err)) < 0)
                return r;
        if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
                return moat_error_set(err, errno, "landlock_restrict_self%s",
                                      errno == EPERM ? " (needs process.noNewPrivileges)" : "");
        return 0;
}
