/* Unit tests for the content store: blobs are verified while written and nothing is kept on a
 * mismatch; images register, resolve by name and id prefix, and garbage collection removes what no
 * image refers to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>

#include "image/image.h"

static char root[64];

static int setup(void **state)
{
        snprintf(root, sizeof root, "/tmp/moat-unit-store-XXXXXX");
        assert_non_null(mkdtemp(root));
        return 0;
}

static int teardown(void **state)
{
        struct moat_error err;
        moat_rm_rf(root, &err);
        return 0;
}

static size_t count(const char *sub)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", root, sub);
        DIR *d = opendir(p);
        size_t n = 0;
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        if (d)
                closedir(d);
        return n;
}

static void test_blobs(void **state)
{
        struct moat_image_store *s;
        struct moat_error err;
        assert_int_equal(moat_image_store_open(root, &s, &err), 0);
        char d[MOAT_DIGEST_LEN + 1];
        assert_int_equal(moat_image_blob_put(s, NULL, "hello", 5, d, &err), 0);
        assert_true(moat_image_blob_exists(s, d, 5));
        assert_false(moat_image_blob_exists(s, d, 6));
        /* wrong digest: refused, nothing kept */
        char other[MOAT_DIGEST_LEN + 1];
        moat_sha256_digest("x", 1, other);
        assert_int_equal(moat_image_blob_put(s, other, "hello", 5, NULL, &err), -EBADMSG);
        assert_int_equal(moat_image_blob_put(s, other, "y", 1, NULL, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "does not match its digest"));
        assert_false(moat_image_blob_exists(s, other, -1));
        /* a writer announcing a size refuses more and less */
        struct moat_blob_writer *w;
        assert_int_equal(moat_image_blob_writer_new(s, NULL, 3, &w, &err), 0);
        assert_int_equal(moat_image_blob_writer_write(w, "ab", 2, &err), 0);
        assert_int_equal(moat_image_blob_writer_commit(w, NULL, &err), -EBADMSG);
        moat_image_blob_writer_free(w);
        assert_int_equal(count("blobs/sha256"), 1);
        assert_int_equal(count("tmp"), 0);
        /* read-back re-checks the content */
        char *buf;
        size_t len;
        assert_int_equal(moat_image_blob_get(s, d, 100, &buf, &len, &err), 0);
        assert_memory_equal(buf, "hello", 5);
        free(buf);
        _cleanup_free_ char *path = xasprintf("%s/blobs/sha256/%s", root, moat_digest_hex(d));
        assert_int_equal(moat_write_file_at(AT_FDCWD, path, "jello", 5, 0, 0, &err), 0);
        assert_int_equal(moat_image_blob_get(s, d, 100, &buf, &len, &err), -EUCLEAN);
        assert_true(moat_image_blob_get(s, "sha256:../../etc/passwd", 100, &buf, &len, &err) < 0);
        /* GC: nothing refers to these blobs */
        uint64_t freed = 0;
        assert_int_equal(moat_image_gc(s, &freed, &err), 0);
        assert_int_equal(count("blobs/sha256"), 0);
        moat_image_store_close(s);
}

static void test_register_resolve_remove(void **state)
{
        struct moat_image_store *s;
        struct moat_error err;
        assert_int_equal(moat_image_store_open(root, &s, &err), 0);
        /* an image with no layers: config + manifest */
        const char *cfg = "{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
        char cd[MOAT_DIGEST_LEN + 1], md[MOAT_DIGEST_LEN + 1], id[MOAT_DIGEST_LEN + 1];
        assert_int_equal(moat_image_blob_put(s, NULL, cfg, strlen(cfg), cd, &err), 0);
        _cleanup_free_ char *man = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
                                             "\"digest\":\"%s\",\"size\":%zu},\"layers\":[]}",
                                             MT_OCI_MANIFEST, MT_OCI_CONFIG, cd, strlen(cfg));
        assert_int_equal(moat_image_blob_put(s, NULL, man, strlen(man), md, &err), 0);
        assert_int_equal(moat_image_register(s, md, "docker.io/library/x:1", id, &err), 0);
        assert_string_equal(id, cd);
        char got[MOAT_DIGEST_LEN + 1];
        assert_int_equal(moat_image_resolve(s, "x:1", got, &err), 0);
        assert_string_equal(got, id);
        char prefix[16];
        snprintf(prefix, sizeof prefix, "%.8s", id + 7);
        assert_int_equal(moat_image_resolve(s, prefix, got, &err), 0);
        assert_int_equal(moat_image_resolve(s, "x:2", got, &err), -ENOENT);
        assert_int_equal(moat_image_tag(s, "x:1", "y/z:2", &err), 0);
        struct moat_image_info *v;
        size_t n;
        assert_int_equal(moat_image_list(s, &v, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_string_equal(v[0].names[0], "docker.io/library/x:1");
        assert_string_equal(v[0].names[1], "docker.io/y/z:2");
        moat_image_info_free(v, n);
        /* by id with two names: needs force */
        assert_int_equal(moat_image_remove(s, prefix, false, &err), -EBUSY);
        assert_int_equal(moat_image_remove(s, "x:1", false, &err), 0);
        assert_int_equal(moat_image_resolve(s, "y/z:2", got, &err), 0);
        assert_int_equal(moat_image_remove(s, "y/z:2", false, &err), 0);
        assert_int_equal(moat_image_resolve(s, prefix, got, &err), -ENOENT);
        assert_int_equal(count("blobs/sha256"), 0);
        moat_image_store_close(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_blobs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_register_resolve_remove, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
