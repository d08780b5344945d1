/* manifest: OCI / Docker documents from untrusted registries and archives. Everything read is
 * bounded (body size, layer and index counts, string lengths) and typed; unknown media types are
 * refused rather than guessed at. */
#include <jansson.h>

#include "image/manifest.h"

#define STR_MAX 4096

static const char *jstr(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);
        if (!json_is_string(v) || json_string_length(v) > STR_MAX || strlen(json_string_value(v)) != json_string_length(v))
                return NULL;
        return json_string_value(v);
}

static char *jdup(json_t *o, const char *key)
{
        const char *s = jstr(o, key);
        return s ? xstrdup(s) : NULL;
}

bool moat_layer_media_type_ok(const char *mt)
{
        return mt && (streq(mt, MT_OCI_LAYER) || streq(mt, MT_OCI_LAYER_GZIP) || streq(mt, MT_OCI_LAYER_ZSTD) ||
                      streq(mt, MT_DOCKER_LAYER_GZIP) || streq(mt, MT_DOCKER_LAYER));
}

static int parse_descriptor(json_t *o, struct moat_descriptor *d, const char *what, struct moat_error *err)
{
        if (!json_is_object(o))
                return moat_error_set(err, 0, "%s: not an object", what);
        const char *mt = jstr(o, "mediaType"), *dg = jstr(o, "digest");
        json_t *sz = json_object_get(o, "size");
        if (!mt)
                return moat_error_set(err, 0, "%s: missing mediaType", what);
        if (!dg || !moat_digest_valid(dg))
                return moat_error_set(err, 0, "%s: missing or unsupported digest (only sha256)", what);
        if (!json_is_integer(sz) || json_integer_value(sz) < 0)
                return moat_error_set(err, 0, "%s: missing or negative size", what);
        d->media_type = xstrdup(mt);
        memcpy(d->digest, dg, sizeof d->digest);
        d->size = json_integer_value(sz);
        json_t *pl = json_object_get(o, "platform");
        if (json_is_object(pl)) {
                d->platform.os = jdup(pl, "os");
                d->platform.arch = jdup(pl, "architecture");
                d->platform.variant = jdup(pl, "variant");
        }
        return 0;
}

static void descriptor_free(struct moat_descriptor *d)
{
        free(d->media_type);
        moat_platform_free(&d->platform);
}

void moat_manifest_free(struct moat_manifest *m)
{
        free(m->media_type);
        descriptor_free(&m->config);
        for (size_t i = 0; i < m->n_layers; i++)
                descriptor_free(&m->layers[i]);
        free(m->layers);
        for (size_t i = 0; i < m->n_manifests; i++)
                descriptor_free(&m->manifests[i]);
        free(m->manifests);
        memset(m, 0, sizeof *m);
}

static bool ct_equal(const char *ct, const char *mt)
{
        /* Content-Type may carry parameters ("; charset=utf-8"). */
        size_t n = strcspn(ct, "; \t");
        return strlen(mt) == n && strncmp(ct, mt, n) == 0;
}

static int do_parse(json_t *root, const char *content_type, struct moat_manifest *m, struct moat_error *err)
{
        if (!json_is_object(root))
                return moat_error_set(err, 0, "not a JSON object");
        json_t *sv = json_object_get(root, "schemaVersion");
        if (!json_is_integer(sv) || json_integer_value(sv) != 2)
                return moat_error_set(err, 0, "unsupported schemaVersion (need 2)");
        const char *mt = jstr(root, "mediaType");
        if (mt && content_type && !ct_equal(content_type, mt) && !ct_equal(content_type, "application/json") &&
            !ct_equal(content_type, "application/octet-stream"))
                return moat_error_set(err, 0, "mediaType %s does not match content type %s", mt, content_type);
        if (!mt && content_type && !ct_equal(content_type, "application/json") &&
            !ct_equal(content_type, "application/octet-stream"))
                mt = content_type;
        json_t *layers = json_object_get(root, "layers"), *manifests = json_object_get(root, "manifests");
        if (!mt) /* OCI allows mediaType to be absent: tell by the fields present */
                mt = manifests ? MT_OCI_INDEX : MT_OCI_MANIFEST;
        size_t mtlen = strcspn(mt, "; \t");
        m->media_type = xstrndup(mt, mtlen);
        if (streq(m->media_type, MT_OCI_MANIFEST) || streq(m->media_type, MT_DOCKER_MANIFEST)) {
                m->kind = MOAT_KIND_MANIFEST;
                if (manifests)
                        return moat_error_set(err, 0, "manifest has both layers and manifests");
                int r = parse_descriptor(json_object_get(root, "config"), &m->config, "config", err);
                if (r < 0)
                        return r;
                if (!streq(m->config.media_type, MT_OCI_CONFIG) && !streq(m->config.media_type, MT_DOCKER_CONFIG))
                        return moat_error_set(err, 0, "config media type %s is not an image config", m->config.media_type);
                if (m->config.size > MOAT_CONFIG_MAX)
                        return moat_error_set(err, 0, "config larger than %u bytes", MOAT_CONFIG_MAX);
                if (!json_is_array(layers))
                        return moat_error_set(err, 0, "manifest without layers array");
                size_t n = json_array_size(layers);
                if (n > MOAT_MAX_LAYERS)
                        return moat_error_set(err, 0, "manifest has %zu layers, more than %d", n, MOAT_MAX_LAYERS);
                m->layers = XNEW(struct moat_descriptor, n ? n : 1);
                for (size_t i = 0; i < n; i++) {
                        char what[32];
                        snprintf(what, sizeof what, "layer %zu", i);
                        r = parse_descriptor(json_array_get(layers, i), &m->layers[i], what, err);
                        m->n_layers = i + 1;
                        if (r < 0)
                                return r;
                        if (!moat_layer_media_type_ok(m->layers[i].media_type))
                                return moat_error_set(err, 0, "layer %zu: unsupported media type %s", i,
                                                      m->layers[i].media_type);
                }
                return 0;
        }
        if (streq(m->media_type, MT_OCI_INDEX) || streq(m->media_type, MT_DOCKER_LIST)) {
                m->kind = MOAT_KIND_INDEX;
                if (!json_is_array(manifests))
                        return moat_error_set(err, 0, "index without manifests array");
                size_t n = json_array_size(manifests);
                if (n > MOAT_MAX_INDEX_ENTRIES)
                        return moat_error_set(err, 0, "index has %zu entries, more than %d", n, MOAT_MAX_INDEX_ENTRIES);
                m->manifests = XNEW(struct moat_descriptor, n ? n : 1);
                for (size_t i = 0; i < n; i++) {
                        char what[32];
                        snprintf(what, sizeof what, "index entry %zu", i);
                        int r = parse_descriptor(json_array_get(manifests, i), &m->manifests[i], what, err);
                        m->n_manifests = i + 1;
                        if (r < 0)
                                return r;
                        if (m->manifests[i].size > MOAT_MANIFEST_MAX)
                                return moat_error_set(err, 0, "%s: larger than %u bytes", what, MOAT_MANIFEST_MAX);
                }
                return 0;
        }
        return moat_error_set(err, 0, "unsupported manifest media type %s", m->media_type);
}

static json_t *load_bounded(const char *buf, size_t len, size_t max, struct moat_error *err)
{
        if (len > max) {
                moat_error_set(err, EFBIG, "document of %zu bytes", len);
                return NULL;
        }
        json_error_t je;
        /* REJECT_DUPLICATES: two "layers" keys must not mean different things to different parsers. */
        json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!root)
                moat_error_set(err, 0, "invalid JSON at line %d: %s", je.line, je.text);
        return root;
}

int moat_manifest_parse(const char *buf, size_t len, const char *content_type, struct moat_manifest *m,
                        struct moat_error *err)
{
        memset(m, 0, sizeof *m);
        json_t *root = load_bounded(buf, len, MOAT_MANIFEST_MAX, err);
        if (!root)
                return moat_error_wrap(err, "parse manifest");
        int r = do_parse(root, content_type, m, err);
        json_decref(root);
        if (r < 0) {
                moat_manifest_free(m);
                return moat_error_wrap(err, "parse manifest");
        }
        return 0;
}

void moat_image_config_free(struct moat_image_config *c)
{
        free(c->os);
        free(c->arch);
        free(c->variant);
        free(c->created);
        free(c->diff_ids);
        for (size_t i = 0; i < c->n_history; i++) {
                free(c->history[i].created);
                free(c->history[i].created_by);
                free(c->history[i].comment);
        }
        free(c->history);
        memset(c, 0, sizeof *c);
}

static int config_do(json_t *root, struct moat_image_config *c, struct moat_error *err)
{
        if (!json_is_object(root))
                return moat_error_set(err, 0, "not a JSON object");
        c->os = jdup(root, "os");
        c->arch = jdup(root, "architecture");
        c->variant = jdup(root, "variant");
        c->created = jdup(root, "created");
        json_t *rootfs = json_object_get(root, "rootfs");
        const char *type = json_is_object(rootfs) ? jstr(rootfs, "type") : NULL;
        if (!type || !streq(type, "layers"))
                return moat_error_set(err, 0, "rootfs.type is not \"layers\"");
        json_t *ids = json_object_get(rootfs, "diff_ids");
        if (!json_is_array(ids))
                return moat_error_set(err, 0, "rootfs.diff_ids is not an array");
        size_t n = json_array_size(ids);
        if (n > MOAT_MAX_LAYERS)
                return moat_error_set(err, 0, "%zu diff_ids, more than %d", n, MOAT_MAX_LAYERS);
        c->diff_ids = xzalloc(sizeof *c->diff_ids * (n ? n : 1));
        for (size_t i = 0; i < n; i++) {
                const char *d = json_string_value(json_array_get(ids, i));
                if (!d || !moat_digest_valid(d))
                        return moat_error_set(err, 0, "diff_id %zu is not a sha256 digest", i);
                memcpy(c->diff_ids[i], d, MOAT_DIGEST_LEN + 1);
        }
        c->n_diff_ids = n;
        json_t *hist = json_object_get(root, "history");
        if (json_is_array(hist)) {
                size_t hn = json_array_size(hist);
                if (hn > 4 * MOAT_MAX_LAYERS)
                        hn = 4 * MOAT_MAX_LAYERS;
                c->history = XNEW(struct moat_history, hn ? hn : 1);
                for (size_t i = 0; i < hn; i++) {
                        json_t *h = json_array_get(hist, i);
                        if (!json_is_object(h))
                                continue;
                        c->history[c->n_history].created = jdup(h, "created");
                        c->history[c->n_history].created_by = jdup(h, "created_by");
                        c->history[c->n_history].comment = jdup(h, "comment");
                        c->history[c->n_history].empty_layer = json_is_true(json_object_get(h, "empty_layer"));
                        c->n_history++;
                }
        }
        return 0;
}

int moat_image_config_parse(const char *buf, size_t len, struct moat_image_config *c, struct moat_error *err)
{
        memset(c, 0, sizeof *c);
        json_t *root = load_bounded(buf, len, MOAT_CONFIG_MAX, err);
        if (!root)
                return moat_error_wrap(err, "parse image config");
        int r = config_do(root, c, err);
        json_decref(root);
        if (r < 0) {
                moat_image_config_free(c);
                return moat_error_wrap(err, "parse image config");
        }
        return 0;
}

void moat_platform_free(struct moat_platform *p)
{
        free(p->os);
        free(p->arch);
        free(p->variant);
        memset(p, 0, sizeof *p);
}

int moat_platform_parse(const char *s, struct moat_platform *p, struct moat_error *err)
{
        memset(p, 0, sizeof *p);
        if (!s || !*s)
                s = "linux/amd64";
        if (strlen(s) > 64)
                return moat_error_set(err, 0, "invalid platform: too long");
        for (const char *q = s; *q; q++)
                if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_' || *q == '/' || *q == '-'))
                        return moat_error_set(err, 0, "invalid platform %s", s);
        const char *a = strchr(s, '/');
        if (!a || a == s || !a[1])
                return moat_error_set(err, 0, "invalid platform %s: want os/arch[/variant]", s);
        const char *v = strchr(a + 1, '/');
        if (v && (v == a + 1 || !v[1] || strchr(v + 1, '/')))
                return moat_error_set(err, 0, "invalid platform %s: want os/arch[/variant]", s);
        p->os = xstrndup(s, (size_t) (a - s));
        p->arch = v ? xstrndup(a + 1, (size_t) (v - a - 1)) : xstrdup(a + 1);
        p->variant = v ? xstrdup(v + 1) : NULL;
        return 0;
}

int moat_manifest_select(const struct moat_manifest *index, const struct moat_platform *p, struct moat_error *err)
{
        int fallback = -1;
        for (size_t i = 0; i < index->n_manifests; i++) {
                const struct moat_descriptor *d = &index->manifests[i];
                if (!streq(d->media_type, MT_OCI_MANIFEST) && !streq(d->media_type, MT_DOCKER_MANIFEST))
                        continue; /* attestations, nested indexes */
                if (!d->platform.os || !d->platform.arch || !streq(d->platform.os, p->os) ||
                    !streq(d->platform.arch, p->arch))
                        continue;
                if (!p->variant) {
                        /* no variant asked: prefer an entry without one, else the first */
                        if (!d->platform.variant)
                                return (int) i;
                        if (fallback < 0)
                                fallback = (int) i;
                } else if (d->platform.variant && streq(d->platform.variant, p->variant)) {
                        return (int) i;
                }
        }
        if (fallback >= 0)
                return fallback;
        return moat_error_set(err, ENOENT, "no manifest for platform %s/%s%s%s", p->os, p->arch,
                              p->variant ? "/" : "", p->variant ? p->variant : "");
}
