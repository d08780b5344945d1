/* reference: the distribution reference grammar, hand-written and bounded (no regex engine):
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] component ( "/" component )*
 *   domain    := host [ ":" port ], recognised by a '.', a ':' or being "localhost"
 *   component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag       := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}                                         */
#include <ctype.h>

#include "image/reference.h"
#include "util/digest.h"

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool valid_component(const char *s, size_t n)
{
        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n;) {
                if (is_lower_alnum(s[i])) {
                        i++;
                        continue;
                }
                /* a separator run: ".", "_", "__" or "-"+, always followed by alnum */
                size_t j = i;
                if (s[i] == '.')
                        j = i + 1;
                else if (s[i] == '_')
                        j = (i + 1 < n && s[i + 1] == '_') ? i + 2 : i + 1;
                else if (s[i] == '-')
                        while (j < n && s[j] == '-')
                                j++;
                else
                        return false;
                if (j >= n || !is_lower_alnum(s[j]))
                        return false;
                i = j;
        }
        return true;
}

static bool valid_host_label(const char *s, size_t n)
{
        if (n == 0 || n > 63 || !isalnum((unsigned char) s[0]) || !isalnum((unsigned char) s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '-')
                        return false;
        return true;
}

static bool valid_domain(const char *s, size_t n)
{
        if (n == 0 || n > 253)
                return false;
        size_t hostlen = n;
        const char *colon = memchr(s, ':', n);
        if (s[0] == '[') { /* IPv6 literal: hex digits, ':' and '.' inside brackets */
                const char *close = memchr(s, ']', n);
                if (!close || close == s + 1)
                        return false;
                for (const char *p = s + 1; p < close; p++)
                        if (!isxdigit((unsigned char) *p) && *p != ':' && *p != '.')
                                return false;
                hostlen = (size_t) (close - s) + 1;
                if (hostlen != n && s[hostlen] != ':')
                        return false;
                colon = hostlen < n ? s + hostlen : NULL;
        } else {
                if (colon)
                        hostlen = (size_t) (colon - s);
                size_t start = 0;
                for (size_t i = 0; i <= hostlen; i++) {
                        if (i == hostlen || s[i] == '.') {
                                if (!valid_host_label(s + start, i - start))
                                        return false;
                                start = i + 1;
                        }
                }
        }
        if (colon) {
                size_t plen = n - (size_t) (colon - s) - 1;
                if (plen == 0 || plen > 5)
                        return false;
                unsigned port = 0;
                for (size_t i = 0; i < plen; i++) {
                        if (!isdigit((unsigned char) colon[1 + i]))
                                return false;
                        port = port * 10 + (unsigned) (colon[1 + i] - '0');
                }
                if (port == 0 || port > 65535)
                        return false;
        }
        return true;
}

static bool valid_tag(const char *s, size_t n)
{
        if (n == 0 || n > MOAT_REF_TAG_MAX)
                return false;
        if (!isalnum((unsigned char) s[0]) && s[0] != '_')
                return false;
        for (size_t i = 1; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
                        return false;
        return true;
}

static bool has_upper(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (isupper((unsigned char) s[i]))
                        return true;
        return false;
}

void moat_image_ref_free(struct moat_image_ref *ref)
{
        free(ref->domain);
        free(ref->path);
        free(ref->tag);
        free(ref->digest);
        memset(ref, 0, sizeof *ref);
}

int moat_image_ref_parse(const char *s, struct moat_image_ref *ref, struct moat_error *err)
{
        memset(ref, 0, sizeof *ref);
        size_t len = strnlen(s, MOAT_REF_MAX + 1);
        if (len == 0)
                return moat_error_set(err, 0, "invalid reference: empty");
        if (len > MOAT_REF_MAX)
                return moat_error_set(err, 0, "invalid reference: longer than %d bytes", MOAT_REF_MAX);
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) s[i] <= ' ' || (unsigned char) s[i] >= 0x7f)
                        return moat_error_set(err, 0, "invalid reference: control, space or non-ASCII character");

        size_t name_end = len;
        const char *at = memchr(s, '@', len);
        if (at) {
                name_end = (size_t) (at - s);
                if (!moat_digest_valid(at + 1))
                        return moat_error_set(err, 0, "invalid reference %s: digest must be sha256:<64 hex>", s);
        }
        /* A tag is after the last ':' that follows the last '/'. */
        const char *slash = memrchr(s, '/', name_end);
        const char *tagc = memrchr(slash ? slash : s, ':', name_end - (size_t) ((slash ? slash : s) - s));
        size_t repo_end = tagc ? (size_t) (tagc - s) : name_end;
        if (tagc && !valid_tag(tagc + 1, name_end - repo_end - 1))
                return moat_error_set(err, 0, "invalid reference %s: bad tag", s);
        if (repo_end == 0)
                return moat_error_set(err, 0, "invalid reference %s: empty name", s);

        const char *first_slash = memchr(s, '/', repo_end);
        const char *domain = "docker.io";
        size_t dlen = 9;
        const char *path = s;
        size_t plen = repo_end;
        if (first_slash) {
                size_t flen = (size_t) (first_slash - s);
                bool is_domain = memchr(s, '.', flen) || memchr(s, ':', flen) || memchr(s, '[', flen) ||
                                 (flen == 9 && memcmp(s, "localhost", 9) == 0) || has_upper(s, flen);
                if (is_domain) {
                        if (!valid_domain(s, flen))
                                return moat_error_set(err, 0, "invalid reference %s: bad registry host", s);
                        domain = s;
                        dlen = flen;
                        path = first_slash + 1;
                        plen = repo_end - flen - 1;
                }
        }
        /* validate each path component */
        size_t start = 0, ncomp = 0;
        for (size_t i = 0; i <= plen; i++) {
                if (i == plen || path[i] == '/') {
                        if (!valid_component(path + start, i - start))
                                return moat_error_set(err, 0, "invalid reference %s: bad repository name "
                                                      "(lowercase letters, digits, separators . _ __ -)", s);
                        ncomp++;
                        start = i + 1;
                }
        }
        bool docker_hub = (dlen == 9 && memcmp(domain, "docker.io", 9) == 0) ||
                          (dlen == 15 && memcmp(domain, "index.docker.io", 15) == 0);
        ref->domain = docker_hub ? xstrdup("docker.io") : xstrndup(domain, dlen);
        if (docker_hub && ncomp == 1)
                ref->path = xasprintf("library/%.*s", (int) plen, path);
        else
                ref->path = xstrndup(path, plen);
        if (strlen(ref->domain) + 1 + strlen(ref->path) > MOAT_REF_NAME_MAX) {
                moat_image_ref_free(ref);
                return moat_error_set(err, 0, "invalid reference: name longer than %d bytes", MOAT_REF_NAME_MAX);
        }
        if (tagc)
                ref->tag = xstrndup(tagc + 1, name_end - repo_end - 1);
        if (at)
                ref->digest = xstrdup(at + 1);
        if (!ref->tag && !ref->digest)
                ref->tag = xstrdup("latest");
        return 0;
}

char *moat_image_ref_name(const struct moat_image_ref *ref)
{
        return xasprintf("%s/%s", ref->domain, ref->path);
}

char *moat_image_ref_string(const struct moat_image_ref *ref)
{
        if (ref->tag)
                return xasprintf("%s/%s:%s", ref->domain, ref->path, ref->tag);
        return xasprintf("%s/%s@%s", ref->domain, ref->path, ref->digest);
}

char *moat_image_ref_familiar(const char *full)
{
        if (startswith(full, "docker.io/library/"))
                return xstrdup(full + 18);
        if (startswith(full, "docker.io/"))
                return xstrdup(full + 10);
        return xstrdup(full);
}

const char *moat_image_ref_api_host(const struct moat_image_ref *ref)
{
        return streq(ref->domain, "docker.io") ? "registry-1.docker.io" : ref->domain;
}
