/* Unit tests for layer unpacking: whiteouts become overlayfs ones, and every hostile entry (.., /abs,
 * write through a symlink, hard link out, device node, size bomb, too many entries) is refused
 * without anything written outside the layer directory. Needs root for chown and whiteout mknod;
 * skipped otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "image/image.h"

struct ent {
        const char *name;
        mode_t type;
        const char *data;  /* file content, or link target */
        int64_t size;      /* -1: strlen(data) */
        bool hardlink;
};

static char dir[64];

/* Write a tar (gzip when gz) of ents to a memfd and return it rewound. */
static int make_tar(const struct ent *ents, size_t n, bool gz)
{
        int fd = memfd_create("layer", MFD_CLOEXEC);
        assert_true(fd >= 0);
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        if (gz)
                archive_write_add_filter_gzip(a);
        assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, ents[i].name);
                if (ents[i].hardlink) {
                        archive_entry_set_hardlink(e, ents[i].data);
                        archive_entry_set_filetype(e, AE_IFREG);
                } else {
                        archive_entry_set_filetype(e, ents[i].type);
                }
                archive_entry_set_perm(e, ents[i].type == AE_IFDIR ? 0755 : 0644);
                int64_t size = 0;
                if (ents[i].type == AE_IFREG && !ents[i].hardlink)
                        size = ents[i].size >= 0 ? ents[i].size : (int64_t) strlen(ents[i].data ? ents[i].data : "");
                if (ents[i].type == AE_IFLNK)
                        archive_entry_set_symlink(e, ents[i].data);
                if (ents[i].type == AE_IFCHR)
                        archive_entry_set_rdev(e, makedev(1, 3));
                archive_entry_set_size(e, size);
                assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
                if (size && ents[i].data)
                        archive_write_data(a, ents[i].data, strlen(ents[i].data));
                archive_entry_free(e);
        }
        archive_write_close(a);
        archive_write_free(a);
        lseek(fd, 0, SEEK_SET);
        return fd;
}

static int setup(void **state)
{
        if (geteuid() != 0)
                return 0;
        snprintf(dir, sizeof dir, "/tmp/moat-unit-unpack-XXXXXX");
        assert_non_null(mkdtemp(dir));
        return 0;
}

static int teardown(void **state)
{
        struct moat_error err;
        if (dir[0])
                moat_rm_rf(dir, &err);
        return 0;
}

/* Unpack into a fresh dir/layer; the "outside" canary dir must stay empty. */
static int unpack(const struct ent *ents, size_t n, bool gz, struct moat_image_limits *lim, struct moat_error *err)
{
        _cleanup_free_ char *layer = xasprintf("%s/layer", dir);
        _cleanup_free_ char *outside = xasprintf("%s/outside", dir);
        struct moat_error e2;
        moat_rm_rf(layer, &e2);
        moat_rm_rf(outside, &e2);
        assert_int_equal(mkdir(layer, 0755), 0);
        assert_int_equal(mkdir(outside, 0755), 0);
        int fd = make_tar(ents, n, gz);
        int dfd = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct moat_image_limits def = { 1 << 20, 1000 };
        char diff[MOAT_DIGEST_LEN + 1];
        int r = moat_image_unpack_fd(fd, dfd, lim ? lim : &def, diff, err);
        close(dfd);
        close(fd);
        /* nothing ever appears beside the layer */
        _cleanup_free_ char *canary = xasprintf("%s/outside/x", dir);
        assert_int_equal(access(canary, F_OK), -1);
        _cleanup_free_ char *top = xasprintf("%s/x", dir);
        assert_int_equal(access(top, F_OK), -1);
        assert_int_equal(access("/x-moat-unpack", F_OK), -1);
        return r;
}

#define SKIP_UNLESS_ROOT() do { if (geteuid() != 0) skip(); } while (0)

static void test_basic_and_whiteouts(void **state)
{
        SKIP_UNLESS_ROOT();
        const struct ent ents[] = {
                { "./", AE_IFDIR, NULL, 0, false },
                { "./etc/", AE_IFDIR, NULL, 0, false },
                { "./etc/passwd", AE_IFREG, "root:x:0:0::/root:/bin/sh\n", -1, false },
                { "bin/sh", AE_IFLNK, "busybox", 0, false },
                { "bin/ln", AE_IFREG, "/etc/passwd", 0, true }, /* hard link inside */
                { "deep/a/b/c", AE_IFREG, "c", -1, false },    /* parents created */
                { "var/.wh.gone", AE_IFREG, NULL, 0, false },
                { "opaque/.wh..wh..opq", AE_IFREG, NULL, 0, false },
                { "link-abs", AE_IFLNK, "/etc/shadow", 0, false }, /* fine: resolved in the container later */
        };
        struct moat_error err;
        /* hard link names are relative to the archive: "etc/passwd" */
        struct ent fixed[ARRAY_SIZE(ents)];
        memcpy(fixed, ents, sizeof ents);
        fixed[4].data = "etc/passwd";
        int r = unpack(fixed, ARRAY_SIZE(fixed), true, NULL, &err);
        if (r != 0)
                fail_msg("%s", err.msg);
        struct stat st;
        _cleanup_free_ char *w = xasprintf("%s/layer/var/gone", dir);
        assert_int_equal(lstat(w, &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(0, 0));
        _cleanup_free_ char *o = xasprintf("%s/layer/opaque", dir);
        char v[4] = "";
        assert_int_equal(getxattr(o, "trusted.overlay.opaque", v, sizeof v), 1);
        assert_int_equal(v[0], 'y');
        _cleanup_free_ char *ln = xasprintf("%s/layer/bin/ln", dir);
        _cleanup_free_ char *pw = xasprintf("%s/layer/etc/passwd", dir);
        struct stat a, b;
        assert_int_equal(stat(ln, &a), 0);
        assert_int_equal(stat(pw, &b), 0);
        assert_int_equal(a.st_ino, b.st_ino);
        _cleanup_free_ char *c = xasprintf("%s/layer/deep/a/b/c", dir);
        assert_int_equal(access(c, F_OK), 0);
}

static void expect_refused(const struct ent *ents, size_t n, const char *needle, struct moat_image_limits *lim)
{
        struct moat_error err;
        moat_error_clear(&err);
        int r = unpack(ents, n, false, lim, &err);
        if (r == 0)
                fail_msg("hostile layer accepted (expected %s)", needle);
        if (!strstr(err.msg, needle))
                fail_msg("error '%s' does not mention '%s'", err.msg, needle);
}

static void test_hostile(void **state)
{
        SKIP_UNLESS_ROOT();
        const struct ent dotdot[] = { { "../outside/x", AE_IFREG, "pwn", -1, false } };
        expect_refused(dotdot, 1, "\"..\"", NULL);
        const struct ent dotdot2[] = { { "a/../../x", AE_IFREG, "pwn", -1, false } };
        expect_refused(dotdot2, 1, "\"..\"", NULL);
        const struct ent abs[] = { { "/x-moat-unpack", AE_IFREG, "pwn", -1, false } };
        expect_refused(abs, 1, "absolute", NULL);
        char target[128];
        snprintf(target, sizeof target, "%s/outside", dir);
        const struct ent through[] = { { "ln", AE_IFLNK, target, 0, false }, { "ln/x", AE_IFREG, "pwn", -1, false } };
        expect_refused(through, 2, "symlink", NULL);
        const struct ent through_rel[] = { { "ln", AE_IFLNK, "../outside", 0, false }, { "ln/x", AE_IFREG, "pwn", -1, false } };
        expect_refused(through_rel, 2, "symlink", NULL);
        /* a symlink then a regular file of the same name replaces the link, it never writes through it */
        const struct ent hard_out[] = { { "h", AE_IFREG, "../outside/x", 0, true } };
        expect_refused(hard_out, 1, "\"..\"", NULL);
        const struct ent hard_abs[] = { { "h", AE_IFREG, "/etc/passwd", 0, true } };
        expect_refused(hard_abs, 1, "absolute", NULL);
        const struct ent hard_via_link[] = { { "l", AE_IFLNK, "/etc", 0, false }, { "h", AE_IFREG, "l/passwd", 0, true } };
        expect_refused(hard_via_link, 2, "symlink", NULL);
        const struct ent dev[] = { { "dev/null", AE_IFCHR, NULL, 0, false } };
        expect_refused(dev, 1, "device node", NULL);
        struct moat_image_limits lim = { 1 << 20, 1000 };
        struct moat_error err;
        {
                /* a header announcing 8 GiB (a sparse or compressed bomb looks the same): refused
                 * on the header, before a byte is written */
                char hdr[1024] = { 0 };
                strcpy(hdr, "bomb");
                memcpy(hdr + 100, "0000644", 8);
                memcpy(hdr + 108, "0000000", 8);
                memcpy(hdr + 116, "0000000", 8);
                memcpy(hdr + 124, "77777777777", 12);
                memcpy(hdr + 136, "00000000000", 12);
                hdr[156] = '0';
                memcpy(hdr + 257, "ustar", 6);
                memcpy(hdr + 263, "00", 2);
                memset(hdr + 148, ' ', 8);
                unsigned sum = 0;
                for (int i = 0; i < 512; i++)
                        sum += (unsigned char) hdr[i];
                snprintf(hdr + 148, 8, "%06o", sum);
                int fd = memfd_create("bomb", MFD_CLOEXEC);
                assert_int_equal(write(fd, hdr, sizeof hdr), (ssize_t) sizeof hdr);
                lseek(fd, 0, SEEK_SET);
                _cleanup_free_ char *layer = xasprintf("%s/layer", dir);
                moat_rm_rf(layer, &err);
                mkdir(layer, 0755);
                int dfd = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                char diff[MOAT_DIGEST_LEN + 1];
                assert_true(moat_image_unpack_fd(fd, dfd, &lim, diff, &err) < 0);
                assert_non_null(strstr(err.msg, "limit"));
                _cleanup_free_ char *b = xasprintf("%s/layer/bomb", dir);
                assert_int_equal(access(b, F_OK), -1);
                close(dfd);
                close(fd);
        }
        const struct ent many[] = { { "a", AE_IFREG, "", 0, false }, { "b", AE_IFREG, "", 0, false },
                                    { "c", AE_IFREG, "", 0, false } };
        struct moat_image_limits two = { 1 << 20, 2 };
        expect_refused(many, 3, "entries", &two);
        const struct ent size[] = { { "f", AE_IFREG, "0123456789", -1, false } };
        struct moat_image_limits small = { 5, 100 };
        expect_refused(size, 1, "limit", &small);
}

static void test_symlink_replaced_not_followed(void **state)
{
        SKIP_UNLESS_ROOT();
        char target[128];
        snprintf(target, sizeof target, "%s/outside/x", dir);
        /* "f" is a symlink to outside, then a file "f": the file must replace the link. */
        const struct ent ents[] = { { "f", AE_IFLNK, target, 0, false }, { "f", AE_IFREG, "data", -1, false } };
        struct moat_error err;
        int r = unpack(ents, 2, false, NULL, &err);
        if (r != 0)
                fail_msg("%s", err.msg);
        _cleanup_free_ char *f = xasprintf("%s/layer/f", dir);
        struct stat st;
        assert_int_equal(lstat(f, &st), 0);
        assert_true(S_ISREG(st.st_mode));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_basic_and_whiteouts),
                cmocka_unit_test(test_hostile),
                cmocka_unit_test(test_symlink_replaced_not_followed),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
