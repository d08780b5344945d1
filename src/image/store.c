/* store: the content store. Blobs live at <root>/blobs/sha256/<hex>, written through a verifying
 * writer (O_TMPFILE or a temp name, digest and size checked, fsync, link/rename into place); the
 * records (references, images, layers with reference counts) live in the state DB. */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "image/image.h"
#include "image/internal.h"

static const struct moat_db_migration image_migrations[] = {
        { 1, "CREATE TABLE images (id TEXT PRIMARY KEY, manifest_digest TEXT NOT NULL,"
             " manifest_media_type TEXT NOT NULL, config_digest TEXT NOT NULL, created TEXT, os TEXT, arch TEXT,"
             " size INTEGER NOT NULL, added INTEGER NOT NULL);"
             "CREATE TABLE refs (name TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id));"
             "CREATE INDEX refs_image ON refs(image_id);"
             "CREATE TABLE layers (diff_id TEXT PRIMARY KEY, refcount INTEGER NOT NULL DEFAULT 0);"
             "CREATE TABLE image_layers (image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
             " idx INTEGER NOT NULL, diff_id TEXT NOT NULL REFERENCES layers(diff_id), blob_digest TEXT NOT NULL,"
             " blob_size INTEGER NOT NULL, media_type TEXT NOT NULL, PRIMARY KEY(image_id, idx));"
             "CREATE INDEX image_layers_blob ON image_layers(blob_digest);"
             "CREATE TABLE snapshots (id TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id),"
             " mountpoint TEXT NOT NULL);" },
};

static uint64_t env_u64(const char *name, uint64_t def)
{
        const char *v = getenv(name);
        unsigned long long u;
        if (v && moat_parse_uint64(v, &u) == 0 && u > 0)
                return u;
        return def;
}

int moat_image_store_open(const char *root, struct moat_image_store **out, struct moat_error *err)
{
        static const char *const dirs[] = { "", "/blobs/sha256", "/overlay", "/snapshots", "/tmp" };
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                _cleanup_free_ char *p = xasprintf("%s%s", root, dirs[i]);
                int r = moat_mkdir_p(p, 0700, err);
                if (r < 0)
                        return moat_error_wrap(err, "open image store %s", root);
        }
        struct moat_image_store *s = XNEW(struct moat_image_store, 1);
        s->root = xstrdup(root);
        s->lock_fd = -1;
        s->blobs_fd = -1;
        s->limits.max_layer_bytes = env_u64("MOAT_MAX_LAYER_BYTES", MOAT_DEFAULT_MAX_LAYER_BYTES);
        s->limits.max_entries = env_u64("MOAT_MAX_LAYER_ENTRIES", MOAT_DEFAULT_MAX_ENTRIES);
        _cleanup_free_ char *lock = xasprintf("%s/lock", root);
        s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (s->lock_fd < 0) {
                int r = moat_error_set(err, errno, "open %s", lock);
                moat_image_store_close(s);
                return r;
        }
        /* Shared while open; GC wants it exclusively so it never collects an in-flight pull's blobs. */
        flock(s->lock_fd, LOCK_SH);
        _cleanup_free_ char *bd = xasprintf("%s/blobs/sha256", root);
        s->blobs_fd = open(bd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->blobs_fd < 0) {
                int r = moat_error_set(err, errno, "open %s", bd);
                moat_image_store_close(s);
                return r;
        }
        _cleanup_free_ char *dbp = xasprintf("%s/moat.db", root);
        int r = moat_db_open(dbp, &s->db, err);
        if (r == 0)
                r = moat_db_migrate(s->db, "image", image_migrations, ARRAY_SIZE(image_migrations), err);
        if (r < 0) {
                moat_image_store_close(s);
                return moat_error_wrap(err, "open image store %s", root);
        }
        *out = s;
        return 0;
}

void moat_image_store_close(struct moat_image_store *s)
{
        if (!s)
                return;
        moat_db_close(s->db);
        if (s->lock_fd >= 0)
                close(s->lock_fd);
        if (s->blobs_fd >= 0)
                close(s->blobs_fd);
        free(s->root);
        free(s);
}

struct moat_db *moat_image_store_db(struct moat_image_store *s) { return s->db; }
const char *moat_image_store_root(struct moat_image_store *s) { return s->root; }
struct moat_image_limits *moat_image_store_limits(struct moat_image_store *s) { return &s->limits; }

/* ---- blob writer ---- */

struct moat_blob_writer {
        struct moat_image_store *s;
        int fd;
        char *tmpname; /* when O_TMPFILE is unavailable */
        char expected[MOAT_DIGEST_LEN + 1];
        int64_t expected_size;
        uint64_t size;
        struct moat_sha256 *h;
        bool committed;
};

static int writer_open_file(struct moat_blob_writer *w, struct moat_error *err)
{
        /* O_TMPFILE: an interrupted write (even kill -9) leaves no file behind. */
        w->fd = openat(w->s->blobs_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
        if (w->fd >= 0)
                return 0;
        char name[] = "tmp/blob-XXXXXX";
        _cleanup_free_ char *tmpl = xasprintf("%s/%s", w->s->root, name);
        w->fd = mkostemp(tmpl, O_CLOEXEC);
        if (w->fd < 0)
                return moat_error_set(err, errno, "create temporary blob in %s/tmp", w->s->root);
        w->tmpname = STEAL(tmpl);
        return 0;
}

int moat_image_blob_writer_new(struct moat_image_store *s, const char *expected_digest, int64_t expected_size,
                               struct moat_blob_writer **out, struct moat_error *err)
{
        if (expected_digest && !moat_digest_valid(expected_digest))
                return moat_error_set(err, 0, "invalid digest");
        struct moat_blob_writer *w = XNEW(struct moat_blob_writer, 1);
        w->s = s;
        w->fd = -1;
        if (expected_digest)
                memcpy(w->expected, expected_digest, sizeof w->expected);
        w->expected_size = expected_size;
        w->h = moat_sha256_new();
        int r = writer_open_file(w, err);
        if (r < 0) {
                moat_image_blob_writer_free(w);
                return r;
        }
        *out = w;
        return 0;
}

uint64_t moat_image_blob_writer_size(struct moat_blob_writer *w)
{
        return w->size;
}

int moat_image_blob_writer_write(struct moat_blob_writer *w, const void *buf, size_t len, struct moat_error *err)
{
        if (w->expected_size >= 0 && w->size + len > (uint64_t) w->expected_size)
                return moat_error_set(err, EFBIG, "blob %s: more than the %lld bytes announced",
                                      w->expected[0] ? w->expected : "", (long long) w->expected_size);
        moat_sha256_update(w->h, buf, len);
        if (moat_write_all(w->fd, buf, len) < 0)
                return moat_error_set(err, errno, "write blob");
        w->size += len;
        return 0;
}

int moat_image_blob_writer_reset(struct moat_blob_writer *w, struct moat_error *err)
{
        if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
                return moat_error_set(err, errno, "reset blob");
        char dummy[MOAT_DIGEST_LEN + 1];
        moat_sha256_final(w->h, dummy); /* resets */
        w->size = 0;
        return 0;
}

int moat_image_blob_writer_commit(struct moat_blob_writer *w, char out[MOAT_DIGEST_LEN + 1], struct moat_error *err)
{
        char got[MOAT_DIGEST_LEN + 1];
        moat_sha256_final(w->h, got);
        if (w->expected_size >= 0 && w->size != (uint64_t) w->expected_size)
                return moat_error_set(err, EBADMSG, "blob %s: size %llu, expected %lld", got,
                                      (unsigned long long) w->size, (long long) w->expected_size);
        if (w->expected[0] && !streq(got, w->expected))
                return moat_error_set(err, EBADMSG, "blob content does not match its digest: expected %s, got %s",
                                      w->expected, got);
        if (fsync(w->fd) < 0)
                return moat_error_set(err, errno, "fsync blob");
        const char *hex = moat_digest_hex(got);
        int r;
        if (w->tmpname) {
                r = renameat(AT_FDCWD, w->tmpname, w->s->blobs_fd, hex);
                if (r == 0) {
                        free(w->tmpname);
                        w->tmpname = NULL;
                }
        } else {
                char proc[64];
                snprintf(proc, sizeof proc, "/proc/self/fd/%d", w->fd);
                r = linkat(AT_FDCWD, proc, w->s->blobs_fd, hex, AT_SYMLINK_FOLLOW);
                if (r < 0 && errno == EEXIST)
                        r = 0; /* same content already there */
        }
        if (r < 0)
                return moat_error_set(err, errno, "store blob %s", got);
        fsync(w->s->blobs_fd);
        w->committed = true;
        if (out)
                memcpy(out, got, MOAT_DIGEST_LEN + 1);
        return 0;
}

void moat_image_blob_writer_free(struct moat_blob_writer *w)
{
        if (!w)
                return;
        if (w->fd >= 0)
                close(w->fd);
        if (w->tmpname)
                unlink(w->tmpname);
        free(w->tmpname);
        if (w->h)
                moat_sha256_free(w->h);
        free(w);
}

int moat_image_blob_put(struct moat_image_store *s, const char *expected_digest, const void *buf, size_t len,
                        char out[MOAT_DIGEST_LEN + 1], struct moat_error *err)
{
        struct moat_blob_writer *w;
        int r = moat_image_blob_writer_new(s, expected_digest, (int64_t) len, &w, err);
        if (r < 0)
                return r;
        r = moat_image_blob_writer_write(w, buf, len, err);
        if (r == 0)
                r = moat_image_blob_writer_commit(w, out, err);
        moat_image_blob_writer_free(w);
        return r;
}

int moat_image_blob_open(struct moat_image_store *s, const char *digest, int *fd, struct moat_error *err)
{
        if (!moat_digest_valid(digest))
                return moat_error_set(err, 0, "invalid digest");
        *fd = openat(s->blobs_fd, moat_digest_hex(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (*fd < 0)
                return moat_error_set(err, errno, "open blob %s", digest);
        return 0;
}

bool moat_image_blob_exists(struct moat_image_store *s, const char *digest, int64_t size)
{
        struct stat st;
        if (!moat_digest_valid(digest) || fstatat(s->blobs_fd, moat_digest_hex(digest), &st, AT_SYMLINK_NOFOLLOW) < 0)
                return false;
        return S_ISREG(st.st_mode) && (size < 0 || st.st_size == size);
}

int moat_image_blob_get(struct moat_image_store *s, const char *digest, size_t max, char **buf, size_t *len,
                        struct moat_error *err)
{
        if (!moat_digest_valid(digest))
                return moat_error_set(err, 0, "invalid digest");
        int r = moat_read_file_at(s->blobs_fd, moat_digest_hex(digest), max, buf, len, err);
        if (r < 0)
                return moat_error_wrap(err, "read blob %s", digest);
        char got[MOAT_DIGEST_LEN + 1];
        moat_sha256_digest(*buf, *len, got);
        if (!streq(got, digest)) {
                free(*buf);
                *buf = NULL;
                return moat_error_set(err, EUCLEAN, "blob %s is corrupt (content hashes to %s)", digest, got);
        }
        return 0;
}

/* ---- records ---- */

char *moat_image_layer_path(struct moat_image_store *s, const char *diff_id)
{
        return xasprintf("%s/overlay/%s", s->root, moat_digest_hex(diff_id));
}

static int step_done(struct moat_image_store *s, sqlite3_stmt *st, const char *what, struct moat_error *err)
{
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                return moat_db_error(s->db, rc, what, err);
        return 0;
}

static int register_tx(struct moat_image_store *s, const char *manifest_digest, const char *mt,
                       const struct moat_manifest *m, const struct moat_image_config *c, const char *name,
                       struct moat_error *err)
{
        const char *id = m->config.digest;
        int64_t size = 0;
        for (size_t i = 0; i < m->n_layers; i++)
                size += m->layers[i].size;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r = moat_db_prepare(s->db, "SELECT 1 FROM images WHERE id = ?", &q, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
        bool exists = sqlite3_step(q) == SQLITE_ROW;
        if (!exists) {
                _cleanup_stmt_ sqlite3_stmt *ins = NULL;
                r = moat_db_prepare(s->db, "INSERT INTO images(id, manifest_digest, manifest_media_type, config_digest,"
                                           " created, os, arch, size, added) VALUES(?,?,?,?,?,?,?,?,?)", &ins, err);
                if (r < 0)
                        return r;
                sqlite3_bind_text(ins, 1, id, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 2, manifest_digest, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 3, mt, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 4, m->config.digest, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 5, c->created, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 6, c->os, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 7, c->arch, -1, SQLITE_STATIC);
                sqlite3_bind_int64(ins, 8, size);
                sqlite3_bind_int64(ins, 9, (int64_t) time(NULL));
                if ((r = step_done(s, ins, "insert image", err)) < 0)
                        return r;
                for (size_t i = 0; i < m->n_layers; i++) {
                        _cleanup_stmt_ sqlite3_stmt *l = NULL, *il = NULL;
                        r = moat_db_prepare(s->db, "INSERT INTO layers(diff_id, refcount) VALUES(?, 1) ON CONFLICT(diff_id)"
                                                   " DO UPDATE SET refcount = refcount + 1", &l, err);
                        if (r < 0)
                                return r;
                        sqlite3_bind_text(l, 1, c->diff_ids[i], -1, SQLITE_STATIC);
                        if ((r = step_done(s, l, "insert layer", err)) < 0)
                                return r;
                        r = moat_db_prepare(s->db, "INSERT INTO image_layers(image_id, idx, diff_id, blob_digest, blob_size,"
                                                   " media_type) VALUES(?,?,?,?,?,?)", &il, err);
                        if (r < 0)
                                return r;
                        sqlite3_bind_text(il, 1, id, -1, SQLITE_STATIC);
                        sqlite3_bind_int(il, 2, (int) i);
                        sqlite3_bind_text(il, 3, c->diff_ids[i], -1, SQLITE_STATIC);
                        sqlite3_bind_text(il, 4, m->layers[i].digest, -1, SQLITE_STATIC);
                        sqlite3_bind_int64(il, 5, m->layers[i].size);
                        sqlite3_bind_text(il, 6, m->layers[i].media_type, -1, SQLITE_STATIC);
                        if ((r = step_done(s, il, "insert image layer", err)) < 0)
                                return r;
                }
        } else {
                /* Same config pulled through another manifest (e.g. re-compressed): keep the newest manifest. */
                _cleanup_stmt_ sqlite3_stmt *u = NULL;
                r = moat_db_prepare(s->db, "UPDATE images SET manifest_digest = ?, manifest_media_type = ? WHERE id = ?",
                                    &u, err);
                if (r < 0)
                        return r;
                sqlite3_bind_text(u, 1, manifest_digest, -1, SQLITE_STATIC);
                sqlite3_bind_text(u, 2, mt, -1, SQLITE_STATIC);
                sqlite3_bind_text(u, 3, id, -1, SQLITE_STATIC);
                if ((r = step_done(s, u, "update image", err)) < 0)
                        return r;
        }
        if (name) {
                _cleanup_stmt_ sqlite3_stmt *rf = NULL;
                r = moat_db_prepare(s->db, "INSERT INTO refs(name, image_id) VALUES(?, ?) ON CONFLICT(name)"
                                           " DO UPDATE SET image_id = excluded.image_id", &rf, err);
                if (r < 0)
                        return r;
                sqlite3_bind_text(rf, 1, name, -1, SQLITE_STATIC);
                sqlite3_bind_text(rf, 2, id, -1, SQLITE_STATIC);
                if ((r = step_done(s, rf, "insert reference", err)) < 0)
                        return r;
        }
        return 0;
}

int moat_image_read_manifest(struct moat_image_store *s, const char *digest, struct moat_manifest *m,
                             struct moat_image_config *c, struct moat_error *err)
{
        _cleanup_free_ char *buf = NULL, *cbuf = NULL;
        size_t len, clen;
        int r = moat_image_blob_get(s, digest, MOAT_MANIFEST_MAX, &buf, &len, err);
        if (r < 0)
                return r;
        r = moat_manifest_parse(buf, len, NULL, m, err);
        if (r < 0)
                return r;
        if (m->kind != MOAT_KIND_MANIFEST) {
                moat_manifest_free(m);
                return moat_error_set(err, 0, "%s is an index, not an image manifest", digest);
        }
        if (!c)
                return 0;
        r = moat_image_blob_get(s, m->config.digest, MOAT_CONFIG_MAX, &cbuf, &clen, err);
        if (r == 0)
                r = moat_image_config_parse(cbuf, clen, c, err);
        if (r == 0 && c->n_diff_ids != m->n_layers) {
                moat_image_config_free(c);
                r = moat_error_set(err, 0, "config has %zu diff_ids for %zu layers", c->n_diff_ids, m->n_layers);
        }
        if (r < 0)
                moat_manifest_free(m);
        return r;
}

int moat_image_register(struct moat_image_store *s, const char *manifest_digest, const char *name,
                        char out_id[MOAT_DIGEST_LEN + 1], struct moat_error *err)
{
        struct moat_manifest m;
        struct moat_image_config c;
        int r = moat_image_read_manifest(s, manifest_digest, &m, &c, err);
        if (r < 0)
                return moat_error_wrap(err, "register image");
        for (size_t i = 0; i < m.n_layers && r == 0; i++) {
                _cleanup_free_ char *p = moat_image_layer_path(s, c.diff_ids[i]);
                if (access(p, F_OK) < 0)
                        r = moat_error_set(err, errno, "layer %s is not unpacked", c.diff_ids[i]);
        }
        if (r == 0)
                r = moat_db_begin(s->db, err);
        if (r == 0) {
                r = register_tx(s, manifest_digest, m.media_type, &m, &c, name, err);
                if (r == 0)
                        r = moat_db_commit(s->db, err);
                else
                        moat_db_rollback(s->db);
        }
        if (r == 0 && out_id)
                memcpy(out_id, m.config.digest, MOAT_DIGEST_LEN + 1);
        moat_manifest_free(&m);
        moat_image_config_free(&c);
        return r < 0 ? moat_error_wrap(err, "register image") : 0;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? xstrdup((const char *) t) : NULL;
}

static void col_digest(sqlite3_stmt *st, int i, char out[MOAT_DIGEST_LEN + 1])
{
        const unsigned char *t = sqlite3_column_text(st, i);
        snprintf(out, MOAT_DIGEST_LEN + 1, "%s", t ? (const char *) t : "");
}

void moat_image_info_clear(struct moat_image_info *v)
{
        strv_free(v->names);
        free(v->created);
        free(v->os);
        free(v->arch);
        free(v->manifest_media_type);
        memset(v, 0, sizeof *v);
}

void moat_image_info_free(struct moat_image_info *v, size_t n)
{
        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                moat_image_info_clear(&v[i]);
        free(v);
}

static int fill_info(struct moat_image_store *s, sqlite3_stmt *st, struct moat_image_info *v, struct moat_error *err)
{
        memset(v, 0, sizeof *v);
        col_digest(st, 0, v->id);
        col_digest(st, 1, v->manifest_digest);
        v->manifest_media_type = col_dup(st, 2);
        v->created = col_dup(st, 3);
        v->os = col_dup(st, 4);
        v->arch = col_dup(st, 5);
        v->size = sqlite3_column_int64(st, 6);
        v->added = sqlite3_column_int64(st, 7);
        v->n_layers = (size_t) sqlite3_column_int64(st, 8);
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r = moat_db_prepare(s->db, "SELECT name FROM refs WHERE image_id = ? ORDER BY name", &q, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, v->id, -1, SQLITE_STATIC);
        size_t n = 0;
        v->names = XNEW(char *, 1);
        while (sqlite3_step(q) == SQLITE_ROW) {
                v->names = xrealloc(v->names, sizeof(char *) * (n + 2));
                v->names[n++] = col_dup(q, 0);
                v->names[n] = NULL;
        }
        return 0;
}

#define INFO_COLS "id, manifest_digest, manifest_media_type, created, os, arch, size, added," \
                  " (SELECT COUNT(*) FROM image_layers WHERE image_id = images.id)"

int moat_image_list(struct moat_image_store *s, struct moat_image_info **out, size_t *n, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = moat_db_prepare(s->db, "SELECT " INFO_COLS " FROM images ORDER BY added DESC, id", &st, err);
        if (r < 0)
                return r;
        struct moat_image_info *v = NULL;
        size_t cnt = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
                v = xrealloc(v, sizeof *v * (cnt + 1));
                r = fill_info(s, st, &v[cnt++], err);
                if (r < 0) {
                        moat_image_info_free(v, cnt);
                        return r;
                }
        }
        *out = v;
        *n = cnt;
        return 0;
}

int moat_image_get(struct moat_image_store *s, const char *id, struct moat_image_info *out, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = moat_db_prepare(s->db, "SELECT " INFO_COLS " FROM images WHERE id = ?", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
                return moat_error_set(err, ENOENT, "no such image %s", id);
        return fill_info(s, st, out, err);
}

static bool is_hex(const char *s)
{
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

static int resolve_once(struct moat_image_store *s, const char *name_or_id, char out_id[MOAT_DIGEST_LEN + 1],
                        struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;
        struct moat_image_ref ref;
        struct moat_error perr;
        if (moat_image_ref_parse(name_or_id, &ref, &perr) == 0) {
                _cleanup_free_ char *full = moat_image_ref_string(&ref);
                bool by_digest = ref.digest != NULL;
                char dg[MOAT_DIGEST_LEN + 1] = "";
                if (by_digest)
                        memcpy(dg, ref.digest, sizeof dg);
                moat_image_ref_free(&ref);
                if (by_digest) {
                        /* name@digest: any image of that repository pulled by that manifest digest */
                        r = moat_db_prepare(s->db, "SELECT images.id FROM images WHERE manifest_digest = ?", &st, err);
                        if (r < 0)
                                return r;
                        sqlite3_bind_text(st, 1, dg, -1, SQLITE_STATIC);
                } else {
                        r = moat_db_prepare(s->db, "SELECT image_id FROM refs WHERE name = ?", &st, err);
                        if (r < 0)
                                return r;
                        sqlite3_bind_text(st, 1, full, -1, SQLITE_TRANSIENT);
                }
                if (sqlite3_step(st) == SQLITE_ROW) {
                        col_digest(st, 0, out_id);
                        return 0;
                }
                sqlite3_finalize(st);
                st = NULL;
        }
        const char *hex = startswith(name_or_id, "sha256:") ? name_or_id + 7 : name_or_id;
        size_t hl = strlen(hex);
        if (hl >= 4 && hl <= 64 && is_hex(hex)) {
                _cleanup_free_ char *pat = xasprintf("sha256:%s%%", hex);
                r = moat_db_prepare(s->db, "SELECT id FROM images WHERE id LIKE ? LIMIT 2", &st, err);
                if (r < 0)
                        return r;
                sqlite3_bind_text(st, 1, pat, -1, SQLITE_TRANSIENT);
                if (sqlite3_step(st) == SQLITE_ROW) {
                        col_digest(st, 0, out_id);
                        if (sqlite3_step(st) == SQLITE_ROW)
                                return moat_error_set(err, EINVAL, "image id prefix %s is ambiguous", name_or_id);
                        return 0;
                }
        }
        return moat_error_set(err, ENOENT, "no such image: %s", name_or_id);
}

int moat_image_resolve(struct moat_image_store *s, const char *name_or_id, char out_id[MOAT_DIGEST_LEN + 1],
                       struct moat_error *err)
{
        int r = resolve_once(s, name_or_id, out_id, err);
        if (r != -ENOENT)
                return r;
        /* busybox is built in: loaded on first use so it works offline */
        struct moat_error e2;
        if (moat_image_ensure_builtin(s, name_or_id, &e2) > 0)
                return resolve_once(s, name_or_id, out_id, err);
        return r;
}

int moat_image_layers(struct moat_image_store *s, const char *id, char ***diff_ids, size_t *n, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = moat_db_prepare(s->db, "SELECT diff_id FROM image_layers WHERE image_id = ? ORDER BY idx", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        char **v = XNEW(char *, 1);
        size_t cnt = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
                v = xrealloc(v, sizeof(char *) * (cnt + 2));
                v[cnt++] = col_dup(st, 0);
                v[cnt] = NULL;
        }
        *diff_ids = v;
        *n = cnt;
        return 0;
}

int moat_image_tag(struct moat_image_store *s, const char *src, const char *target, struct moat_error *err)
{
        char id[MOAT_DIGEST_LEN + 1];
        int r = moat_image_resolve(s, src, id, err);
        if (r < 0)
                return r;
        struct moat_image_ref ref;
        r = moat_image_ref_parse(target, &ref, err);
        if (r < 0)
                return r;
        if (!ref.tag) {
                moat_image_ref_free(&ref);
                return moat_error_set(err, 0, "tag %s: a tag cannot be a digest", target);
        }
        _cleanup_free_ char *full = moat_image_ref_string(&ref);
        moat_image_ref_free(&ref);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = moat_db_prepare(s->db, "INSERT INTO refs(name, image_id) VALUES(?, ?) ON CONFLICT(name)"
                                   " DO UPDATE SET image_id = excluded.image_id", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, full, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        return step_done(s, st, "tag", err);
}

static int count_where(struct moat_image_store *s, const char *sql, const char *arg, int64_t *out, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = moat_db_prepare(s->db, sql, &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
                return moat_db_error(s->db, SQLITE_ERROR, "count", err);
        *out = sqlite3_column_int64(st, 0);
        return 0;
}

static int exec1(struct moat_image_store *s, const char *sql, const char *arg, struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = moat_db_prepare(s->db, sql, &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        return step_done(s, st, sql, err);
}

/* Delete the image record and drop its layers' reference counts (inside a transaction). */
static int delete_image_tx(struct moat_image_store *s, const char *id, struct moat_error *err)
{
        /* one reference per occurrence: an image may list the same layer twice */
        int r = exec1(s, "UPDATE layers SET refcount = refcount - (SELECT COUNT(*) FROM image_layers il"
                         " WHERE il.image_id = ?1 AND il.diff_id = layers.diff_id)"
                         " WHERE diff_id IN (SELECT diff_id FROM image_layers WHERE image_id = ?1)", id, err);
        if (r == 0)
                r = exec1(s, "DELETE FROM refs WHERE image_id = ?", id, err);
        if (r == 0)
                r = exec1(s, "DELETE FROM image_layers WHERE image_id = ?", id, err);
        if (r == 0)
                r = exec1(s, "DELETE FROM images WHERE id = ?", id, err);
        return r;
}

static int remove_tx(struct moat_image_store *s, const char *name_or_id, bool force, struct moat_error *err)
{
        char id[MOAT_DIGEST_LEN + 1];
        int r = moat_image_resolve(s, name_or_id, id, err);
        if (r < 0)
                return r;
        int64_t in_use = 0, nrefs = 0;
        if ((r = count_where(s, "SELECT COUNT(*) FROM snapshots WHERE image_id = ?", id, &in_use, err)) < 0)
                return r;
        if ((r = count_where(s, "SELECT COUNT(*) FROM refs WHERE image_id = ?", id, &nrefs, err)) < 0)
                return r;
        /* Was a name given (and is it one of this image's names)? Then untag only that name. */
        struct moat_image_ref ref;
        struct moat_error perr;
        _cleanup_free_ char *full = NULL;
        if (moat_image_ref_parse(name_or_id, &ref, &perr) == 0) {
                if (ref.tag)
                        full = moat_image_ref_string(&ref);
                moat_image_ref_free(&ref);
        }
        int64_t named = 0;
        if (full && (r = count_where(s, "SELECT COUNT(*) FROM refs WHERE name = ?", full, &named, err)) < 0)
                return r;
        if (named && nrefs > 1)
                return exec1(s, "DELETE FROM refs WHERE name = ?", full, err);
        if (!named && nrefs > 1 && !force)
                return moat_error_set(err, EBUSY, "image %.19s is referenced by %lld names; remove them or use --force",
                                      id, (long long) nrefs);
        if (in_use && !force)
                return moat_error_set(err, EBUSY, "image %.19s is in use by %lld snapshot(s)", id, (long long) in_use);
        if (in_use) { /* forced: keep the content the snapshots mount, drop only the names */
                return exec1(s, "DELETE FROM refs WHERE image_id = ?", id, err);
        }
        return delete_image_tx(s, id, err);
}

int moat_image_remove(struct moat_image_store *s, const char *name_or_id, bool force, struct moat_error *err)
{
        int r = moat_db_begin(s->db, err);
        if (r < 0)
                return r;
        r = remove_tx(s, name_or_id, force, err);
        if (r < 0) {
                moat_db_rollback(s->db);
                return moat_error_wrap(err, "remove image %s", name_or_id);
        }
        r = moat_db_commit(s->db, err);
        if (r < 0)
                return r;
        return moat_image_gc(s, NULL, err);
}

int moat_image_prune(struct moat_image_store *s, bool all, uint64_t *freed, size_t *removed, struct moat_error *err)
{
        int r = moat_db_begin(s->db, err);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = moat_db_prepare(s->db, all ? "SELECT id FROM images WHERE id NOT IN (SELECT image_id FROM snapshots)"
                                       : "SELECT id FROM images WHERE id NOT IN (SELECT image_id FROM refs)"
                                         " AND id NOT IN (SELECT image_id FROM snapshots)", &st, err);
        _cleanup_strv_ char **ids = XNEW(char *, 1);
        size_t n = 0;
        while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
                ids = xrealloc(ids, sizeof(char *) * (n + 2));
                ids[n++] = col_dup(st, 0);
                ids[n] = NULL;
        }
        for (size_t i = 0; i < n && r == 0; i++)
                r = delete_image_tx(s, ids[i], err);
        if (r < 0) {
                moat_db_rollback(s->db);
                return moat_error_wrap(err, "prune images");
        }
        if ((r = moat_db_commit(s->db, err)) < 0)
                return r;
        if (removed)
                *removed = n;
        return moat_image_gc(s, freed, err);
}

static uint64_t du(const char *path)
{
        struct stat st;
        return lstat(path, &st) == 0 ? (uint64_t) st.st_blocks * 512 : 0;
}

int moat_image_gc(struct moat_image_store *s, uint64_t *freed, struct moat_error *err)
{
        uint64_t total = 0;
        /* Layers first: their rows are authoritative and need no lock beyond the transaction. */
        _cleanup_strv_ char **dead = XNEW(char *, 1);
        size_t n = 0;
        int r = moat_db_begin(s->db, err);
        if (r < 0)
                return r;
        {
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                r = moat_db_prepare(s->db, "SELECT diff_id FROM layers WHERE refcount <= 0", &st, err);
                while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
                        dead = xrealloc(dead, sizeof(char *) * (n + 2));
                        dead[n++] = col_dup(st, 0);
                        dead[n] = NULL;
                }
        }
        if (r == 0)
                r = moat_db_exec(s->db, "DELETE FROM layers WHERE refcount <= 0", err);
        if (r == 0)
                r = moat_db_commit(s->db, err);
        else
                moat_db_rollback(s->db);
        if (r < 0)
                return moat_error_wrap(err, "collect layers");
        for (size_t i = 0; i < n; i++) {
                if (!moat_digest_valid(dead[i]))
                        continue;
                _cleanup_free_ char *p = moat_image_layer_path(s, dead[i]);
                total += du(p);
                struct moat_error e2;
                moat_rm_rf(p, &e2);
        }
        /* Blobs: only when no other process has the store open (it may be mid-pull). */
        if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
                if (freed)
                        *freed = total;
                return 0;
        }
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        r = moat_db_prepare(s->db, "SELECT 1 WHERE EXISTS (SELECT 1 FROM images WHERE manifest_digest = ?1 OR config_digest = ?1)"
                                   " OR EXISTS (SELECT 1 FROM image_layers WHERE blob_digest = ?1)", &q, err);
        DIR *d = r == 0 ? fdopendir(dup(s->blobs_fd)) : NULL;
        if (d) {
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                continue;
                        char dg[sizeof de->d_name + 8];
                        snprintf(dg, sizeof dg, "sha256:%s", de->d_name);
                        sqlite3_reset(q);
                        sqlite3_bind_text(q, 1, dg, -1, SQLITE_TRANSIENT);
                        if (!moat_digest_valid(dg) || sqlite3_step(q) != SQLITE_ROW) {
                                struct stat st;
                                if (fstatat(s->blobs_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                                        total += (uint64_t) st.st_blocks * 512;
                                unlinkat(s->blobs_fd, de->d_name, 0);
                        }
                }
                closedir(d);
        }
        /* Unpacked layers no record refers to (a pull that failed or was killed after unpacking). */
        _cleanup_free_ char *ov = xasprintf("%s/overlay", s->root);
        DIR *od = opendir(ov);
        if (od) {
                _cleanup_stmt_ sqlite3_stmt *lq = NULL;
                if (moat_db_prepare(s->db, "SELECT 1 FROM layers WHERE diff_id = ?", &lq, err) == 0) {
                        struct dirent *de;
                        while ((de = readdir(od))) {
                                if (de->d_name[0] == '.')
                                        continue;
                                char dg[sizeof de->d_name + 8];
                                snprintf(dg, sizeof dg, "sha256:%s", de->d_name);
                                sqlite3_reset(lq);
                                sqlite3_bind_text(lq, 1, dg, -1, SQLITE_TRANSIENT);
                                if (sqlite3_step(lq) != SQLITE_ROW) {
                                        _cleanup_free_ char *p = xasprintf("%s/%s", ov, de->d_name);
                                        struct moat_error e2;
                                        total += du(p);
                                        moat_rm_rf(p, &e2);
                                }
                        }
                }
                closedir(od);
        }
        /* Leftover temp files of killed processes (when O_TMPFILE was unavailable). */
        _cleanup_free_ char *tmp = xasprintf("%s/tmp", s->root);
        DIR *td = opendir(tmp);
        if (td) {
                struct dirent *de;
                while ((de = readdir(td))) {
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        _cleanup_free_ char *p = xasprintf("%s/%s", tmp, de->d_name);
                        struct moat_error e2;
                        moat_rm_rf(p, &e2);
                }
                closedir(td);
        }
        flock(s->lock_fd, LOCK_SH);
        if (freed)
                *freed = total;
        return r;
}
