/* Unit tests for image formats: OCI / Docker manifests and indexes, configs, media type checks,
 * bounds, platform selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "image/manifest.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static const char oci_manifest[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
        "\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"" D1 "\",\"size\":100},"
        "\"layers\":[{\"mediaType\":\"" MT_OCI_LAYER_GZIP "\",\"digest\":\"" D2 "\",\"size\":5},"
        "{\"mediaType\":\"" MT_OCI_LAYER_ZSTD "\",\"digest\":\"" D1 "\",\"size\":6}]}";

static void test_oci_manifest(void **state)
{
        struct moat_manifest m;
        struct moat_error err;
        assert_int_equal(moat_manifest_parse(oci_manifest, strlen(oci_manifest), MT_OCI_MANIFEST, &m, &err), 0);
        assert_int_equal(m.kind, MOAT_KIND_MANIFEST);
        assert_int_equal(m.n_layers, 2);
        assert_string_equal(m.config.digest, D1);
        assert_int_equal(m.layers[1].size, 6);
        moat_manifest_free(&m);
        /* the registry's Content-Type must agree with the body */
        assert_true(moat_manifest_parse(oci_manifest, strlen(oci_manifest), MT_DOCKER_MANIFEST, &m, &err) < 0);
        /* no content type: the body decides */
        assert_int_equal(moat_manifest_parse(oci_manifest, strlen(oci_manifest), NULL, &m, &err), 0);
        moat_manifest_free(&m);
}

static void expect_bad(const char *doc)
{
        struct moat_manifest m;
        struct moat_error err;
        if (moat_manifest_parse(doc, strlen(doc), NULL, &m, &err) == 0)
                fail_msg("accepted %s", doc);
}

static void test_bad_manifests(void **state)
{
        expect_bad("");
        expect_bad("[]");
        expect_bad("{\"schemaVersion\":1}");
        expect_bad("{\"schemaVersion\":2,\"mediaType\":\"text/html\"}");
        /* layer with a foreign media type */
        expect_bad("{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"config\":{\"mediaType\":\"" MT_DOCKER_CONFIG
                   "\",\"digest\":\"" D1 "\",\"size\":1},\"layers\":[{\"mediaType\":\"application/x-evil\",\"digest\":\"" D2
                   "\",\"size\":1}]}");
        /* weak digest algorithm */
        expect_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"md5:00\",\"size\":1},\"layers\":[]}");
        /* negative size */
        expect_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"" D1 "\",\"size\":-1},\"layers\":[]}");
        /* duplicate keys */
        expect_bad("{\"schemaVersion\":2,\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"" D1
                   "\",\"size\":1},\"layers\":[]}");
        /* config is not a config */
        expect_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_OCI_LAYER "\",\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}");
        /* too many layers */
        size_t cap = 300 * 200 + 1000;
        char *big = xmalloc(cap);
        int n = snprintf(big, cap, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"" D1
                                   "\",\"size\":1},\"layers\":[");
        for (int i = 0; i < 300; i++)
                n += snprintf(big + n, cap - n, "%s{\"mediaType\":\"" MT_OCI_LAYER "\",\"digest\":\"" D2 "\",\"size\":1}",
                              i ? "," : "");
        snprintf(big + n, cap - n, "]}");
        expect_bad(big);
        free(big);
}

static const char index_doc[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":["
        "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":10,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
        "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":10,\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}},"
        "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":11,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";

static void test_index_select(void **state)
{
        struct moat_manifest m;
        struct moat_error err;
        assert_int_equal(moat_manifest_parse(index_doc, strlen(index_doc), MT_DOCKER_LIST, &m, &err), 0);
        assert_int_equal(m.kind, MOAT_KIND_INDEX);
        assert_int_equal(m.n_manifests, 3);
        struct moat_platform p;
        assert_int_equal(moat_platform_parse(NULL, &p, &err), 0);
        assert_int_equal(moat_manifest_select(&m, &p, &err), 2);
        moat_platform_free(&p);
        assert_int_equal(moat_platform_parse("linux/arm64", &p, &err), 0);
        assert_int_equal(moat_manifest_select(&m, &p, &err), 0);
        moat_platform_free(&p);
        assert_int_equal(moat_platform_parse("linux/arm64/v8", &p, &err), 0);
        assert_int_equal(moat_manifest_select(&m, &p, &err), 0);
        moat_platform_free(&p);
        assert_int_equal(moat_platform_parse("linux/s390x", &p, &err), 0);
        assert_int_equal(moat_manifest_select(&m, &p, &err), -ENOENT);
        moat_platform_free(&p);
        assert_true(moat_platform_parse("linux", &p, &err) < 0);
        assert_true(moat_platform_parse("linux/amd64/v1/x", &p, &err) < 0);
        assert_true(moat_platform_parse("Linux/AMD64", &p, &err) < 0);
        moat_manifest_free(&m);
}

static void test_config(void **state)
{
        const char *c = "{\"os\":\"linux\",\"architecture\":\"amd64\",\"created\":\"2024-01-01T00:00:00Z\","
                        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]},"
                        "\"history\":[{\"created_by\":\"ADD x\"},{\"created_by\":\"CMD\",\"empty_layer\":true},{\"created_by\":\"RUN y\"}]}";
        struct moat_image_config cfg;
        struct moat_error err;
        assert_int_equal(moat_image_config_parse(c, strlen(c), &cfg, &err), 0);
        assert_int_equal(cfg.n_diff_ids, 2);
        assert_string_equal(cfg.diff_ids[1], D2);
        assert_int_equal(cfg.n_history, 3);
        assert_true(cfg.history[1].empty_layer);
        assert_string_equal(cfg.os, "linux");
        moat_image_config_free(&cfg);
        const char *bad = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:zz\"]}}";
        assert_true(moat_image_config_parse(bad, strlen(bad), &cfg, &err) < 0);
        const char *bad2 = "{\"rootfs\":{\"type\":\"other\",\"diff_ids\":[]}}";
        assert_true(moat_image_config_parse(bad2, strlen(bad2), &cfg, &err) < 0);
}

static void test_digest(void **state)
{
        char d[MOAT_DIGEST_LEN + 1];
        moat_sha256_digest("", 0, d);
        assert_string_equal(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_true(moat_digest_valid(d));
        assert_false(moat_digest_valid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
        assert_false(moat_digest_valid("sha256:e3b0"));
        assert_false(moat_digest_valid("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_oci_manifest),
                cmocka_unit_test(test_bad_manifests),
                cmocka_unit_test(test_index_select),
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_digest),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
