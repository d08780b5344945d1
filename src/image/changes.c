/* changes: what a snapshot's upper directory changes in its image (docker diff), and sizes of
 * snapshots and of the layers images share (docker system df). The upper directory and the layers
 * are walked through directory fds opened O_NOFOLLOW, so a symlink a container made never leads
 * the walk anywhere else. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "image/image.h"
#include "image/internal.h"

/* Bounds a hostile upper directory: depth (each level holds one fd per layer) and entries. */
#define MAX_DEPTH 256
#define MAX_CHANGES 1000000

struct walk {
        struct moat_change *v;
        size_t n, cap;
        size_t nlayers;
        struct moat_error *err;
};

static bool is_whiteout(const struct stat *st)
{
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int dirfd)
{
        char v[2];
        ssize_t n = fgetxattr(dirfd, "trusted.overlay.opaque", v, sizeof v);
        return n == 1 && v[0] == 'y';
}

static int push(struct walk *w, const char *path, enum moat_change_kind kind)
{
        if (w->n >= MAX_CHANGES)
                return moat_error_set(w->err, E2BIG, "more than %d changes", MAX_CHANGES);
        if (w->n == w->cap) {
                w->cap = w->cap ? w->cap * 2 : 64;
                w->v = xrealloc(w->v, sizeof *w->v * w->cap);
        }
        w->v[w->n].path = xstrdup(path);
        w->v[w->n].kind = kind;
        w->n++;
        return 0;
}

/* name in the lower directories (fds topmost last, -1 where hidden): the entry that shows, if any */
static bool lower_lookup(int *lower, size_t n, const char *name, struct stat *out)
{
        for (size_t i = n; i-- > 0;) {
                if (lower[i] < 0)
                        continue;
                struct stat st;
                if (fstatat(lower[i], name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                        if (is_whiteout(&st))
                                return false;
                        *out = st;
                        return true;
                }
        }
        return false;
}

/* The child directory name in each lower directory, hidden below a layer where it is not a
 * directory, a whiteout, or opaque. */
static void lower_children(int *lower, size_t n, const char *name, int *child)
{
        bool hidden = false;
        for (size_t i = n; i-- > 0;) {
                child[i] = -1;
                if (hidden || lower[i] < 0)
                        continue;
                struct stat st;
                if (fstatat(lower[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (!S_ISDIR(st.st_mode)) {
                        hidden = true;
                        continue;
                }
                child[i] = openat(lower[i], name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (child[i] >= 0 && is_opaque(child[i]))
                        hidden = true;
        }
}

static void close_all(int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

struct entry {
        char *name;
        bool deleted; /* a lower entry an opaque directory hides */
};

static int cmp_entry(const void *a, const void *b)
{
        return strcmp(((const struct entry *) a)->name, ((const struct entry *) b)->name);
}

static void add_names(int dirfd, struct entry **v, size_t *n, bool deleted, bool only_new)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                bool dup = false;
                for (size_t i = 0; only_new && i < *n && !dup; i++)
                        dup = streq((*v)[i].name, de->d_name);
                if (dup)
                        continue;
                if (deleted && de->d_type == DT_CHR) {
                        struct stat st;
                        if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && is_whiteout(&st))
                                continue; /* already gone below */
                }
                *v = xrealloc(*v, sizeof **v * (*n + 1));
                (*v)[*n].name = xstrdup(de->d_name);
                (*v)[*n].deleted = deleted;
                (*n)++;
        }
        closedir(d);
}

/* Walk one upper directory (path: its path in the container, "" for the root; lower: the same
 * directory in each layer, -1 where absent or hidden). An opaque directory hides what the layers
 * had below it: those entries are deleted, and its subdirectories have nothing below them.
 * Returns 1 when something below changed, 0 when not, negative on error. */
static int walk_dir(struct walk *w, int upper, int *lower, const char *path, bool opaque, int depth)
{
        if (depth > MAX_DEPTH)
                return moat_error_set(w->err, ELOOP, "%s: deeper than %d directories", path, MAX_DEPTH);
        struct entry *ents = NULL;
        size_t ne = 0;
        add_names(upper, &ents, &ne, false, false);
        if (opaque)
                for (size_t i = w->nlayers; i-- > 0;)
                        if (lower[i] >= 0)
                                add_names(lower[i], &ents, &ne, true, true);
        qsort(ents, ne, sizeof *ents, cmp_entry);
        int r = 0;
        int *child = XNEW(int, w->nlayers + 1);
        for (size_t k = 0; k < ne && r >= 0; k++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", path, ents[k].name);
                struct stat st, lst = { 0 };
                if (ents[k].deleted) {
                        r = push(w, p, MOAT_CHANGE_DELETED);
                        continue;
                }
                if (fstatat(upper, ents[k].name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue; /* gone since readdir (a running container) */
                bool in_lower = lower_lookup(lower, w->nlayers, ents[k].name, &lst);
                if (is_whiteout(&st)) {
                        r = push(w, p, MOAT_CHANGE_DELETED);
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        r = push(w, p, in_lower ? MOAT_CHANGE_MODIFIED : MOAT_CHANGE_ADDED);
                        continue;
                }
                int sub = openat(upper, ents[k].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        continue; /* replaced by a non-directory since */
                bool sub_opaque = is_opaque(sub);
                bool merged = in_lower && S_ISDIR(lst.st_mode) && !opaque;
                for (size_t i = 0; i < w->nlayers; i++)
                        child[i] = -1;
                if (merged)
                        lower_children(lower, w->nlayers, ents[k].name, child);
                /* the directory's line comes before its contents; whether it has one is known after */
                size_t slot = w->n;
                if ((r = push(w, p, in_lower ? MOAT_CHANGE_MODIFIED : MOAT_CHANGE_ADDED)) == 0) {
                        int below = walk_dir(w, sub, child, p, sub_opaque && merged, depth + 1);
                        if (below < 0)
                                r = below;
                        bool own = !merged || sub_opaque || st.st_mode != lst.st_mode || st.st_uid != lst.st_uid ||
                                   st.st_gid != lst.st_gid || st.st_mtim.tv_sec != lst.st_mtim.tv_sec ||
                                   st.st_mtim.tv_nsec != lst.st_mtim.tv_nsec;
                        if (r == 0 && !own && below == 0) { /* only copied up: no line */
                                free(w->v[slot].path);
                                memmove(&w->v[slot], &w->v[slot + 1], sizeof *w->v * (w->n - slot - 1));
                                w->n--;
                        }
                }
                close_all(child, w->nlayers);
                close(sub);
        }
        for (size_t k = 0; k < ne; k++)
                free(ents[k].name);
        free(ents);
        free(child);
        if (r < 0)
                return r;
        /* something below path was recorded when the last line is under it */
        size_t plen = strlen(path);
        return w->n && strncmp(w->v[w->n - 1].path, path, plen) == 0 && w->v[w->n - 1].path[plen] == '/';
}

void moat_change_free(struct moat_change *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i].path);
        free(v);
}

static int snapshot_image(struct moat_image_store *s, const char *id, char image_id[MOAT_DIGEST_LEN + 1],
                          struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = moat_db_prepare(s->db, "SELECT image_id FROM snapshots WHERE id = ?", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
                return moat_error_set(err, ENOENT, "no such snapshot %s", id);
        snprintf(image_id, MOAT_DIGEST_LEN + 1, "%s", (const char *) sqlite3_column_text(st, 0));
        return 0;
}

int moat_image_snapshot_changes(struct moat_image_store *s, const char *id, struct moat_change **out, size_t *n,
                                struct moat_error *err)
{
        char iid[MOAT_DIGEST_LEN + 1];
        int r = snapshot_image(s, id, iid, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **layers = NULL;
        size_t nl;
        if ((r = moat_image_layers(s, iid, &layers, &nl, err)) < 0)
                return r;
        _cleanup_free_ char *upath = xasprintf("%s/snapshots/%s/upper", s->root, id);
        _cleanup_close_ int upper = open(upath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (upper < 0)
                return moat_error_set(err, errno, "open %s", upath);
        int *lower = XNEW(int, nl + 1);
        for (size_t i = 0; i < nl; i++) {
                _cleanup_free_ char *lp = moat_image_layer_path(s, layers[i]);
                lower[i] = open(lp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        /* a layer above that is opaque at its root hides the ones below */
        for (size_t i = nl; i-- > 1;)
                if (lower[i] >= 0 && is_opaque(lower[i]))
                        for (size_t j = 0; j < i; j++)
                                if (lower[j] >= 0) {
                                        close(lower[j]);
                                        lower[j] = -1;
                                }
        struct walk w = { .nlayers = nl, .err = err };
        r = walk_dir(&w, upper, lower, "", is_opaque(upper), 0);
        close_all(lower, nl);
        free(lower);
        if (r < 0) {
                moat_change_free(w.v, w.n);
                return moat_error_wrap(err, "changes of %s", id);
        }
        *out = w.v;
        *n = w.n;
        return 0;
}

int moat_image_snapshot_size(struct moat_image_store *s, const char *id, int64_t *size, struct moat_error *err)
{
        _cleanup_free_ char *upath = xasprintf("%s/snapshots/%s/upper", s->root, id);
        return moat_disk_usage(upath, size, err);
}

int moat_image_shared_size(struct moat_image_store *s, const char *id, int64_t *shared, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = moat_db_prepare(s->db,
                                "SELECT COALESCE(SUM(blob_size), 0) FROM image_layers il WHERE image_id = ?1 AND EXISTS "
                                "(SELECT 1 FROM image_layers o WHERE o.diff_id = il.diff_id AND o.image_id != ?1)",
                                &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
                return moat_db_error(s->db, SQLITE_ERROR, "shared size", err);
        *shared = sqlite3_column_int64(st, 0);
        return 0;
}

int moat_image_layers_size(struct moat_image_store *s, int64_t *total, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = moat_db_prepare(s->db,
                                "SELECT COALESCE(SUM(size), 0) FROM (SELECT MAX(blob_size) AS size FROM image_layers "
                                "GROUP BY diff_id)",
                                &st, err);
        if (r < 0)
                return r;
        if (sqlite3_step(st) != SQLITE_ROW)
                return moat_db_error(s->db, SQLITE_ERROR, "layers size", err);
        *total = sqlite3_column_int64(st, 0);
        return 0;
}
