/* archive: images in and out of tarballs — docker-archive (docker save / docker load), OCI image
 * layouts in a tar, a rootfs tarball imported as a one-layer image, and the built-in busybox
 * image loaded on first use. Archive members are untrusted like registry replies: every member is
 * streamed into the verifying content store, names and counts are bounded, and layers go through
 * the same safe unpack. */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "image/image.h"
#include "image/internal.h"
#include "image/lazy.h"

#define MAX_MEMBERS 100000
#define MAX_MEMBER_NAME 1024
#define SMALL_JSON_MAX (16u << 20)

struct member {
        char *name;
        char digest[MOAT_DIGEST_LEN + 1];
        int64_t size;
        char *link; /* symlink members (old docker save dedups layers this way) */
};

struct members {
        struct member *v;
        size_t n;
};

static void members_free(struct members *m)
{
        for (size_t i = 0; i < m->n; i++) {
                free(m->v[i].name);
                free(m->v[i].link);
        }
        free(m->v);
}

static char *clean_name(const char *n)
{
        while (startswith(n, "./"))
                n += 2;
        return xstrdup(n);
}

static const struct member *find(const struct members *m, const char *name, int depth)
{
        _cleanup_free_ char *c = clean_name(name);
        for (size_t i = 0; i < m->n; i++) {
                if (!streq(m->v[i].name, c))
                        continue;
                if (!m->v[i].link)
                        return &m->v[i];
                if (depth > 8)
                        return NULL;
                /* resolve the link relative to the member's directory, without leaving the archive */
                const char *slash = strrchr(c, '/');
                _cleanup_free_ char *dir = slash ? xstrndup(c, (size_t) (slash - c)) : xstrdup("");
                const char *t = m->v[i].link;
                while (startswith(t, "../")) {
                        char *ds = strrchr(dir, '/');
                        if (ds)
                                *ds = '\0';
                        else if (*dir)
                                dir[0] = '\0';
                        else
                                return NULL;
                        t += 3;
                }
                _cleanup_free_ char *target = *dir ? xasprintf("%s/%s", dir, t) : xstrdup(t);
                return find(m, target, depth + 1);
        }
        return NULL;
}

static int read_members(struct moat_image_store *s, int fd, struct members *out, struct moat_error *err)
{
        if (moat_archive_load(err) < 0)
                return -1;
        struct archive *a = archive_read_new();
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_xz(a);
        archive_read_support_format_tar(a);
        int r = 0;
        if (archive_read_open_fd(a, fd, 256 * 1024) != ARCHIVE_OK) {
                r = moat_error_set(err, 0, "open archive: %s", archive_error_string(a));
                goto out;
        }
        static char buf[256 * 1024];
        struct archive_entry *e;
        for (;;) {
                int ar = archive_read_next_header(a, &e);
                if (ar == ARCHIVE_EOF)
                        break;
                if (ar < ARCHIVE_WARN) {
                        r = moat_error_set(err, 0, "read archive: %s", archive_error_string(a));
                        goto out;
                }
                const char *name = archive_entry_pathname(e);
                if (!name || strlen(name) > MAX_MEMBER_NAME) {
                        r = moat_error_set(err, 0, "archive member with a bad name");
                        goto out;
                }
                if (out->n >= MAX_MEMBERS) {
                        r = moat_error_set(err, E2BIG, "archive has more than %d members", MAX_MEMBERS);
                        goto out;
                }
                mode_t type = archive_entry_filetype(e);
                if (type != AE_IFREG && type != AE_IFLNK)
                        continue;
                struct member m = { .name = clean_name(name), .size = archive_entry_size(e) };
                if (type == AE_IFLNK) {
                        const char *t = archive_entry_symlink(e);
                        if (!t || t[0] == '/' || strlen(t) > MAX_MEMBER_NAME) {
                                free(m.name);
                                r = moat_error_set(err, 0, "archive member %s: bad link", name);
                                goto out;
                        }
                        m.link = xstrdup(t);
                } else {
                        struct moat_blob_writer *w;
                        r = moat_image_blob_writer_new(s, NULL, m.size, &w, err);
                        if (r < 0) {
                                free(m.name);
                                goto out;
                        }
                        for (;;) {
                                la_ssize_t k = archive_read_data(a, buf, sizeof buf);
                                if (k < 0) {
                                        r = moat_error_set(err, 0, "read %s: %s", name, archive_error_string(a));
                                        break;
                                }
                                if (k == 0)
                                        break;
                                r = moat_image_blob_writer_write(w, buf, (size_t) k, err);
                                if (r < 0)
                                        break;
                        }
                        if (r == 0)
                                r = moat_image_blob_writer_commit(w, m.digest, err);
                        moat_image_blob_writer_free(w);
                        if (r < 0) {
                                free(m.name);
                                goto out;
                        }
                }
                out->v = xrealloc(out->v, sizeof *out->v * (out->n + 1));
                out->v[out->n++] = m;
        }
out:
        archive_read_free(a);
        return r;
}

/* An OCI image layout directory: index.json and blobs/sha256/<hex>, each a regular file opened
 * without following symlinks, streamed into the store like archive members. */
static int add_file_member(struct moat_image_store *s, int dirfd, const char *file, const char *name, struct members *out,
                           struct moat_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : moat_error_set(err, errno, "open %s", name);
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return moat_error_set(err, 0, "%s is not a regular file", name);
        if (out->n >= MAX_MEMBERS)
                return moat_error_set(err, E2BIG, "layout has more than %d blobs", MAX_MEMBERS);
        struct moat_blob_writer *w;
        int r = moat_image_blob_writer_new(s, NULL, st.st_size, &w, err);
        if (r < 0)
                return r;
        static char buf[256 * 1024];
        for (;;) {
                ssize_t k = read(fd, buf, sizeof buf);
                if (k < 0) {
                        r = moat_error_set(err, errno, "read %s", name);
                        break;
                }
                if (k == 0)
                        break;
                if ((r = moat_image_blob_writer_write(w, buf, (size_t) k, err)) < 0)
                        break;
        }
        struct member m = { .name = xstrdup(name), .size = st.st_size };
        if (r == 0)
                r = moat_image_blob_writer_commit(w, m.digest, err);
        moat_image_blob_writer_free(w);
        if (r < 0) {
                free(m.name);
                return r;
        }
        out->v = xrealloc(out->v, sizeof *out->v * (out->n + 1));
        out->v[out->n++] = m;
        return 0;
}

static int read_layout_dir(struct moat_image_store *s, int layout, struct members *out, struct moat_error *err)
{
        int r = add_file_member(s, layout, "index.json", "index.json", out, err);
        if (r < 0)
                return r;
        int bfd = openat(layout, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (bfd < 0)
                return moat_error_set(err, errno, "open blobs/sha256");
        DIR *d = fdopendir(bfd);
        if (!d) {
                close(bfd);
                return moat_error_set(err, errno, "read blobs/sha256");
        }
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char dg[MOAT_DIGEST_LEN + 8];
                if (strlen(de->d_name) != 64)
                        continue;
                snprintf(dg, sizeof dg, "sha256:%s", de->d_name);
                if (!moat_digest_valid(dg))
                        continue;
                _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", de->d_name);
                r = add_file_member(s, bfd, de->d_name, name, out, err);
        }
        closedir(d);
        return r;
}

static int member_json(struct moat_image_store *s, const struct members *ms, const char *name, json_t **out,
                       struct moat_error *err)
{
        const struct member *m = find(ms, name, 0);
        if (!m)
                return moat_error_set(err, ENOENT, "archive has no %s", name);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = moat_image_blob_get(s, m->digest, SMALL_JSON_MAX, &buf, &len, err);
        if (r < 0)
                return r;
        json_error_t je;
        *out = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!*out)
                return moat_error_set(err, 0, "%s: invalid JSON: %s", name, je.text);
        return 0;
}

static const char *sniff_layer_type(struct moat_image_store *s, const char *digest)
{
        _cleanup_close_ int fd = -1;
        struct moat_error err;
        unsigned char magic[4] = { 0 };
        if (moat_image_blob_open(s, digest, &fd, &err) < 0 || pread(fd, magic, 4, 0) < 2)
                return MT_OCI_LAYER;
        if (magic[0] == 0x1f && magic[1] == 0x8b)
                return MT_OCI_LAYER_GZIP;
        if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
                return MT_OCI_LAYER_ZSTD;
        return MT_OCI_LAYER;
}

/* Build, store and register an OCI manifest for config + layer blobs (unpacking the layers). */
static int assemble(struct moat_image_store *s, const char *config_digest, char layer_digests[][MOAT_DIGEST_LEN + 1],
                    size_t n, char *const *names, size_t n_names, char id[MOAT_DIGEST_LEN + 1], struct moat_error *err)
{
        _cleanup_free_ char *cbuf = NULL;
        size_t clen;
        int r = moat_image_blob_get(s, config_digest, MOAT_CONFIG_MAX, &cbuf, &clen, err);
        if (r < 0)
                return r;
        struct moat_image_config cfg;
        r = moat_image_config_parse(cbuf, clen, &cfg, err);
        if (r < 0)
                return r;
        if (cfg.n_diff_ids != n) {
                moat_image_config_free(&cfg);
                return moat_error_set(err, 0, "config lists %zu diff_ids for %zu layers", cfg.n_diff_ids, n);
        }
        json_t *layers = json_array();
        for (size_t i = 0; i < n && r == 0; i++) {
                struct stat st;
                _cleanup_close_ int fd = -1;
                r = moat_image_blob_open(s, layer_digests[i], &fd, err);
                if (r == 0 && fstat(fd, &st) < 0)
                        r = moat_error_set(err, errno, "stat blob");
                if (r == 0)
                        r = moat_image_layer_ensure(s, layer_digests[i], cfg.diff_ids[i], err);
                if (r == 0)
                        json_array_append_new(layers, json_pack("{s:s,s:s,s:I}", "mediaType",
                                                                sniff_layer_type(s, layer_digests[i]), "digest",
                                                                layer_digests[i], "size", (json_int_t) st.st_size));
        }
        moat_image_config_free(&cfg);
        if (r < 0) {
                json_decref(layers);
                return r;
        }
        json_t *man = json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:o}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST, "config",
                                "mediaType", MT_OCI_CONFIG, "digest", config_digest, "size", (json_int_t) clen, "layers",
                                layers);
        char *text = json_dumps(man, JSON_COMPACT);
        json_decref(man);
        char mdigest[MOAT_DIGEST_LEN + 1];
        r = moat_image_blob_put(s, NULL, text, strlen(text), mdigest, err);
        free(text);
        if (r < 0)
                return r;
        if (n_names == 0)
                return moat_image_register(s, mdigest, NULL, id, err);
        for (size_t i = 0; i < n_names && r == 0; i++)
                r = moat_image_register(s, mdigest, names[i], id, err);
        return r;
}

static char *full_name(const char *tagname)
{
        struct moat_image_ref ref;
        struct moat_error err;
        if (moat_image_ref_parse(tagname, &ref, &err) < 0 || !ref.tag) {
                if (ref.domain)
                        moat_image_ref_free(&ref);
                return NULL;
        }
        char *s = moat_image_ref_string(&ref);
        moat_image_ref_free(&ref);
        return s;
}

static void strv_push(char ***v, size_t *n, char *s)
{
        *v = xrealloc(*v, sizeof(char *) * (*n + 2));
        (*v)[(*n)++] = s;
        (*v)[*n] = NULL;
}

static int load_docker(struct moat_image_store *s, const struct members *ms, json_t *manifest, char ***names, size_t *nn,
                       struct moat_error *err)
{
        if (!json_is_array(manifest) || json_array_size(manifest) > 1024)
                return moat_error_set(err, 0, "manifest.json is not an array of images");
        size_t i;
        json_t *img;
        json_array_foreach(manifest, i, img) {
                const char *cfgname = json_string_value(json_object_get(img, "Config"));
                json_t *layers = json_object_get(img, "Layers"), *tags = json_object_get(img, "RepoTags");
                if (!cfgname || !json_is_array(layers) || json_array_size(layers) > MOAT_MAX_LAYERS)
                        return moat_error_set(err, 0, "manifest.json entry %zu: bad Config or Layers", i);
                const struct member *cm = find(ms, cfgname, 0);
                if (!cm)
                        return moat_error_set(err, 0, "archive has no %s", cfgname);
                size_t n = json_array_size(layers);
                char (*ld)[MOAT_DIGEST_LEN + 1] = xzalloc(sizeof *ld * (n ? n : 1));
                int r = 0;
                for (size_t k = 0; k < n && r == 0; k++) {
                        const char *ln = json_string_value(json_array_get(layers, k));
                        const struct member *lm = ln ? find(ms, ln, 0) : NULL;
                        if (!lm)
                                r = moat_error_set(err, 0, "archive has no layer %s", ln ? ln : "(null)");
                        else
                                memcpy(ld[k], lm->digest, sizeof ld[k]);
                }
                _cleanup_strv_ char **full = XNEW(char *, 1);
                size_t nf = 0;
                for (size_t k = 0; r == 0 && json_is_array(tags) && k < json_array_size(tags) && k < 256; k++) {
                        const char *t = json_string_value(json_array_get(tags, k));
                        char *f = t ? full_name(t) : NULL;
                        if (!f) {
                                r = moat_error_set(err, 0, "invalid RepoTag %s", t ? t : "(null)");
                                break;
                        }
                        strv_push(&full, &nf, f);
                }
                char id[MOAT_DIGEST_LEN + 1];
                if (r == 0)
                        r = assemble(s, cm->digest, ld, n, full, nf, id, err);
                free(ld);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < nf; k++)
                        strv_push(names, nn, xstrdup(full[k]));
                if (nf == 0)
                        strv_push(names, nn, xstrdup(id));
        }
        return 0;
}

static int load_oci_manifest(struct moat_image_store *s, const struct members *ms, const char *digest, const char *name,
                             char ***names, size_t *nn, int depth, struct moat_error *err);

static const struct member *oci_blob(const struct members *ms, const char *digest)
{
        if (!moat_digest_valid(digest))
                return NULL;
        _cleanup_free_ char *p = xasprintf("blobs/sha256/%s", moat_digest_hex(digest));
        const struct member *m = find(ms, p, 0);
        /* the member's content must be what its name says */
        return m && streq(m->digest, digest) ? m : NULL;
}

static int load_oci_manifest(struct moat_image_store *s, const struct members *ms, const char *digest, const char *name,
                             char ***names, size_t *nn, int depth, struct moat_error *err)
{
        const struct member *m = oci_blob(ms, digest);
        if (!m)
                return moat_error_set(err, 0, "OCI layout: blob %s missing or not matching its digest", digest);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = moat_image_blob_get(s, digest, MOAT_MANIFEST_MAX, &buf, &len, err);
        if (r < 0)
                return r;
        struct moat_manifest man;
        r = moat_manifest_parse(buf, len, NULL, &man, err);
        if (r < 0)
                return r;
        if (man.kind == MOAT_KIND_INDEX) {
                struct moat_platform p;
                moat_platform_parse(NULL, &p, err);
                int i = depth < 2 ? moat_manifest_select(&man, &p, err) : moat_error_set(err, 0, "nested indexes");
                moat_platform_free(&p);
                if (i >= 0)
                        r = load_oci_manifest(s, ms, man.manifests[i].digest, name, names, nn, depth + 1, err);
                else
                        r = i;
                moat_manifest_free(&man);
                return r;
        }
        for (size_t i = 0; i <= man.n_layers && r == 0; i++) {
                const char *d = i < man.n_layers ? man.layers[i].digest : man.config.digest;
                if (!oci_blob(ms, d))
                        r = moat_error_set(err, 0, "OCI layout: blob %s missing or not matching its digest", d);
        }
        struct moat_image_config cfg = { 0 };
        _cleanup_free_ char *cb = NULL;
        size_t cl;
        if (r == 0)
                r = moat_image_blob_get(s, man.config.digest, MOAT_CONFIG_MAX, &cb, &cl, err);
        if (r == 0)
                r = moat_image_config_parse(cb, cl, &cfg, err);
        if (r == 0 && cfg.n_diff_ids != man.n_layers)
                r = moat_error_set(err, 0, "config lists %zu diff_ids for %zu layers", cfg.n_diff_ids, man.n_layers);
        for (size_t i = 0; i < man.n_layers && r == 0; i++)
                r = moat_image_layer_ensure(s, man.layers[i].digest, cfg.diff_ids[i], err);
        char id[MOAT_DIGEST_LEN + 1];
        _cleanup_free_ char *full = name ? full_name(name) : NULL;
        if (r == 0)
                r = moat_image_register(s, digest, full, id, err);
        if (r == 0)
                strv_push(names, nn, xstrdup(full ? full : id));
        moat_image_config_free(&cfg);
        moat_manifest_free(&man);
        return r;
}

static int load_oci(struct moat_image_store *s, const struct members *ms, json_t *index, char ***names, size_t *nn,
                    struct moat_error *err)
{
        json_t *mans = json_object_get(index, "manifests");
        if (!json_is_array(mans) || json_array_size(mans) > MOAT_MAX_INDEX_ENTRIES)
                return moat_error_set(err, 0, "index.json has no manifests array");
        size_t i;
        json_t *d;
        json_array_foreach(mans, i, d) {
                const char *dg = json_string_value(json_object_get(d, "digest"));
                json_t *ann = json_object_get(d, "annotations");
                const char *name = json_string_value(json_object_get(ann, "io.containerd.image.name"));
                const char *tag = json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
                if (!name && tag && (strchr(tag, '/') || strchr(tag, ':')))
                        name = tag;
                int r = load_oci_manifest(s, ms, dg ? dg : "", name, names, nn, 0, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int moat_image_load(struct moat_image_store *s, int fd, char ***names, struct moat_error *err)
{
        struct members ms = { 0 };
        struct stat st;
        int r = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) ? read_layout_dir(s, fd, &ms, err) : read_members(s, fd, &ms, err);
        size_t nn = 0;
        *names = XNEW(char *, 1);
        json_t *doc = NULL;
        if (r == 0) {
                if (find(&ms, "manifest.json", 0)) {
                        r = member_json(s, &ms, "manifest.json", &doc, err);
                        if (r == 0)
                                r = load_docker(s, &ms, doc, names, &nn, err);
                } else if (find(&ms, "index.json", 0)) {
                        r = member_json(s, &ms, "index.json", &doc, err);
                        if (r == 0)
                                r = load_oci(s, &ms, doc, names, &nn, err);
                } else {
                        r = moat_error_set(err, 0, "neither a docker-archive (manifest.json) nor an OCI layout (index.json)");
                }
        }
        json_decref(doc);
        members_free(&ms);
        struct moat_error e2;
        moat_image_gc(s, NULL, &e2); /* members nothing refers to (and everything on failure) */
        if (r < 0) {
                strv_free(*names);
                *names = NULL;
                return moat_error_wrap(err, "load");
        }
        return 0;
}

/* ---- save ---- */

static int add_entry(struct archive *a, const char *name, int64_t size, struct moat_error *err)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, size);
        archive_entry_set_mtime(e, 0, 0);
        int r = archive_write_header(a, e) == ARCHIVE_OK ? 0 : moat_error_set(err, 0, "write archive: %s", archive_error_string(a));
        archive_entry_free(e);
        return r;
}

static int copy_fd(struct archive *a, int fd, struct moat_error *err)
{
        static char buf[256 * 1024];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0)
                        return moat_error_set(err, errno, "read");
                if (n == 0)
                        return 0;
                if (archive_write_data(a, buf, (size_t) n) != n)
                        return moat_error_set(err, 0, "write archive: %s", archive_error_string(a));
        }
}

/* Decompress a layer blob into an anonymous temp file: docker-archive layers are plain tar. */
static int decompress_layer(struct moat_image_store *s, const char *digest, int *out, struct moat_error *err)
{
        _cleanup_close_ int in = -1;
        int r = moat_image_blob_open(s, digest, &in, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *tmp = xasprintf("%s/tmp", s->root);
        int fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0)
                return moat_error_set(err, errno, "temp file in %s", tmp);
        if (moat_archive_load(err) < 0) {
                close(fd);
                return -1;
        }
        struct archive *a = archive_read_new();
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_format_raw(a);
        struct archive_entry *e;
        if (archive_read_open_fd(a, in, 256 * 1024) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK)
                r = moat_error_set(err, 0, "layer %s: %s", digest, archive_error_string(a));
        static char buf[256 * 1024];
        while (r == 0) {
                la_ssize_t n = archive_read_data(a, buf, sizeof buf);
                if (n < 0)
                        r = moat_error_set(err, 0, "layer %s: %s", digest, archive_error_string(a));
                if (n <= 0)
                        break;
                if (moat_write_all(fd, buf, (size_t) n) < 0)
                        r = moat_error_set(err, errno, "write temp");
        }
        archive_read_free(a);
        if (r < 0 || lseek(fd, 0, SEEK_SET) < 0) {
                close(fd);
                return r < 0 ? r : -errno;
        }
        *out = fd;
        return 0;
}

int moat_image_save(struct moat_image_store *s, char *const *images, size_t n, int fd, struct moat_error *err)
{
        if (moat_archive_load(err) < 0)
                return -1;
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        archive_write_set_bytes_in_last_block(a, 1);
        int r = archive_write_open_fd(a, fd) == ARCHIVE_OK ? 0 : moat_error_set(err, 0, "open archive");
        json_t *manifest = json_array();
        _cleanup_strv_ char **written = XNEW(char *, 1);
        size_t nw = 0;
        for (size_t i = 0; i < n && r == 0; i++) {
                char id[MOAT_DIGEST_LEN + 1];
                r = moat_image_resolve(s, images[i], id, err);
                struct moat_manifest m = { 0 };
                struct moat_image_config c = { 0 };
                struct moat_image_info info = { 0 };
                if (r == 0)
                        r = moat_image_get(s, id, &info, err);
                if (r == 0)
                        r = moat_image_read_manifest(s, info.manifest_digest, &m, &c, err);
                _cleanup_free_ char *cfgname = xasprintf("%s.json", moat_digest_hex(id));
                json_t *layers = json_array(), *tags = json_array();
                for (size_t k = 0; r == 0 && k < m.n_layers; k++) {
                        _cleanup_free_ char *ln = xasprintf("%s/layer.tar", moat_digest_hex(c.diff_ids[k]));
                        json_array_append_new(layers, json_string(ln));
                        bool seen = false;
                        for (size_t w = 0; w < nw; w++)
                                seen |= streq(written[w], ln);
                        if (seen)
                                continue;
                        _cleanup_close_ int lfd = -1;
                        r = decompress_layer(s, m.layers[k].digest, &lfd, err);
                        struct stat st;
                        if (r == 0 && fstat(lfd, &st) < 0)
                                r = moat_error_set(err, errno, "stat");
                        if (r == 0)
                                r = add_entry(a, ln, st.st_size, err);
                        if (r == 0)
                                r = copy_fd(a, lfd, err);
                        strv_push(&written, &nw, xstrdup(ln));
                }
                if (r == 0) {
                        _cleanup_close_ int cfd = -1;
                        struct stat st;
                        r = moat_image_blob_open(s, id, &cfd, err);
                        if (r == 0 && fstat(cfd, &st) < 0)
                                r = moat_error_set(err, errno, "stat");
                        if (r == 0)
                                r = add_entry(a, cfgname, st.st_size, err);
                        if (r == 0)
                                r = copy_fd(a, cfd, err);
                }
                for (char **p = info.names; r == 0 && p && *p; p++) {
                        if (strchr(*p, '@'))
                                continue;
                        _cleanup_free_ char *fam = moat_image_ref_familiar(*p);
                        json_array_append_new(tags, json_string(fam));
                }
                json_array_append_new(manifest, json_pack("{s:s,s:o,s:o}", "Config", cfgname, "RepoTags", tags,
                                                          "Layers", layers));
                moat_manifest_free(&m);
                moat_image_config_free(&c);
                moat_image_info_clear(&info);
        }
        if (r == 0) {
                char *text = json_dumps(manifest, JSON_COMPACT);
                r = add_entry(a, "manifest.json", (int64_t) strlen(text), err);
                if (r == 0 && archive_write_data(a, text, strlen(text)) != (la_ssize_t) strlen(text))
                        r = moat_error_set(err, 0, "write archive: %s", archive_error_string(a));
                free(text);
        }
        json_decref(manifest);
        if (archive_write_close(a) != ARCHIVE_OK && r == 0)
                r = moat_error_set(err, EIO, "close archive: %s", archive_error_string(a));
        archive_write_free(a);
        return r < 0 ? moat_error_wrap(err, "save") : 0;
}

/* ---- import ---- */

int moat_image_import(struct moat_image_store *s, int fd, const char *name, char out_id[MOAT_DIGEST_LEN + 1],
                      struct moat_error *err)
{
        _cleanup_free_ char *full = NULL;
        if (name && !(full = full_name(name)))
                return moat_error_set(err, 0, "invalid reference %s", name);
        /* 1. the tarball as a blob */
        struct moat_blob_writer *w;
        int r = moat_image_blob_writer_new(s, NULL, -1, &w, err);
        if (r < 0)
                return r;
        static char buf[256 * 1024];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0) {
                        r = moat_error_set(err, errno, "read tarball");
                        break;
                }
                if (n == 0)
                        break;
                if ((r = moat_image_blob_writer_write(w, buf, (size_t) n, err)) < 0)
                        break;
        }
        char blob[MOAT_DIGEST_LEN + 1];
        if (r == 0)
                r = moat_image_blob_writer_commit(w, blob, err);
        moat_image_blob_writer_free(w);
        if (r < 0)
                return moat_error_wrap(err, "import");
        /* 2. unpack it to learn its diff id */
        _cleanup_close_ int bfd = -1;
        r = moat_image_blob_open(s, blob, &bfd, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *tmp = xasprintf("%s/tmp/import-XXXXXX", s->root);
        if (!mkdtemp(tmp))
                return moat_error_set(err, errno, "create %s", tmp);
        char diff[MOAT_DIGEST_LEN + 1];
        _cleanup_close_ int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = dfd < 0 ? moat_error_set(err, errno, "open %s", tmp) : fchmod(dfd, 0755);
        if (r == 0)
                r = moat_image_unpack_fd(bfd, dfd, &s->limits, diff, err);
        if (r == 0) {
                _cleanup_free_ char *dest = moat_image_layer_path(s, diff);
                if (rename(tmp, dest) < 0 && errno != EEXIST && errno != ENOTEMPTY)
                        r = moat_error_set(err, errno, "rename %s", tmp);
        }
        struct moat_error e2;
        moat_rm_rf(tmp, &e2);
        if (r < 0) {
                moat_image_gc(s, NULL, &e2);
                return moat_error_wrap(err, "import");
        }
        /* 3. config and manifest */
        char now[32];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_t *cfg = json_pack("{s:s,s:s,s:s,s:{s:s,s:[s]},s:[{s:s,s:s}],s:{}}", "architecture", "amd64", "os", "linux",
                                "created", now, "rootfs", "type", "layers", "diff_ids", diff, "history", "created", now,
                                "created_by", "moat import", "config");
        char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(cfg);
        char cdigest[MOAT_DIGEST_LEN + 1];
        r = moat_image_blob_put(s, NULL, text, strlen(text), cdigest, err);
        free(text);
        char layers[1][MOAT_DIGEST_LEN + 1];
        memcpy(layers[0], blob, sizeof layers[0]);
        char *names[2] = { full, NULL };
        if (r == 0)
                r = assemble(s, cdigest, layers, 1, names, full ? 1 : 0, out_id, err);
        return r < 0 ? moat_error_wrap(err, "import") : 0;
}

/* ---- the built-in image ---- */

int moat_image_ensure_builtin(struct moat_image_store *s, const char *name, struct moat_error *err)
{
        struct moat_image_ref ref;
        if (moat_image_ref_parse(name, &ref, err) < 0)
                return 0;
        bool is_busybox = streq(ref.domain, "docker.io") && streq(ref.path, "library/busybox") && ref.tag &&
                          streq(ref.tag, "latest") && !ref.digest;
        moat_image_ref_free(&ref);
        if (!is_busybox)
                return 0;
        const char *dir = getenv("MOAT_BUILTIN_DIR");
        _cleanup_free_ char *path = xasprintf("%s/busybox.tar", dir && *dir ? dir : MOAT_DATADIR);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return moat_error_set(err, errno, "built-in image %s", path);
        _cleanup_strv_ char **names = NULL;
        int r = moat_image_load(s, fd, &names, err);
        return r < 0 ? moat_error_wrap(err, "load built-in busybox") : 1;
}
