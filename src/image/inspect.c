/* inspect: the docker-style description of an image, built from its records and its config. */
#include <jansson.h>

#include "image/image.h"
#include "image/internal.h"

int moat_image_config_get(struct moat_image_store *s, const char *name_or_id, struct moat_image_config *c,
                          struct moat_error *err)
{
        char id[MOAT_DIGEST_LEN + 1];
        int r = moat_image_resolve(s, name_or_id, id, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        r = moat_image_blob_get(s, id, MOAT_CONFIG_MAX, &buf, &len, err);
        if (r < 0)
                return r;
        return moat_image_config_parse(buf, len, c, err);
}

int moat_image_inspect(struct moat_image_store *s, const char *name_or_id, char **out, struct moat_error *err)
{
        char id[MOAT_DIGEST_LEN + 1];
        int r = moat_image_resolve(s, name_or_id, id, err);
        if (r < 0)
                return r;
        struct moat_image_info info;
        r = moat_image_get(s, id, &info, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        json_t *cfg = NULL;
        r = moat_image_blob_get(s, id, MOAT_CONFIG_MAX, &buf, &len, err);
        if (r == 0) {
                json_error_t je;
                cfg = json_loadb(buf, len, 0, &je);
                if (!json_is_object(cfg))
                        r = moat_error_set(err, 0, "config of %s is not a JSON object", id);
        }
        if (r < 0) {
                json_decref(cfg);
                moat_image_info_clear(&info);
                return r;
        }
        json_t *tags = json_array(), *digests = json_array(), *layers = json_array();
        for (char **p = info.names; p && *p; p++) {
                json_array_append_new(tags, json_string(*p));
                char *sep = strrchr(*p, '@');
                if (!sep) {
                        char *slash = strrchr(*p, '/');
                        sep = strrchr(slash ? slash : *p, ':');
                }
                _cleanup_free_ char *rd = xasprintf("%.*s@%s", (int) (sep ? sep - *p : (long) strlen(*p)), *p,
                                                    info.manifest_digest);
                json_array_append_new(digests, json_string(rd));
        }
        _cleanup_strv_ char **ids = NULL;
        size_t n;
        if (moat_image_layers(s, id, &ids, &n, err) == 0)
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(layers, json_string(ids[i]));
        json_t *doc = json_pack("{s:s,s:o,s:o,s:s,s:s,s:s?,s:s?,s:s?,s:I,s:O?,s:{s:s,s:o}}", "Id", id, "RepoTags", tags,
                                "RepoDigests", digests, "ManifestDigest", info.manifest_digest, "ManifestMediaType",
                                info.manifest_media_type ? info.manifest_media_type : "", "Created", info.created,
                                "Os", info.os, "Architecture", info.arch, "Size", (json_int_t) info.size, "Config",
                                json_object_get(cfg, "config"), "RootFS", "Type", "layers", "Layers", layers);
        *out = json_dumps(doc, JSON_INDENT(2));
        json_decref(doc);
        json_decref(cfg);
        moat_image_info_clear(&info);
        return 0;
}
