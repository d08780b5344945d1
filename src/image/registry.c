/* registry: the OCI distribution client. Every reply is untrusted: bodies are size-bounded,
 * manifests and blobs are checked against their digests (and announced sizes) as they stream,
 * tokens are checked before they go into a header, and plain HTTP is used only for registries
 * the user named insecure. Authentication: anonymous, Bearer (from the WWW-Authenticate
 * challenge) and Basic, with credentials from a Docker-style auths file. */
#include <fcntl.h>
#include <sys/stat.h>
#include <dirent.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include "image/image.h"
#include "image/internal.h"
#include "image/lazy.h"

#define TOKEN_MAX (1u << 20)
#define HEADER_MAX 8192
#define MAX_ATTEMPTS 4
#define SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

struct conn {
        struct moat_image_store *s;
        const struct moat_registry_opts *o;
        char *host;
        char *repo;
        char *base;
        char *scope;
        char *scope2; /* the source repository of a cross-repository mount */
        bool insecure;
        char *authz; /* "Authorization: ..." */
        char *user, *pass;
        char *ca;
        size_t ca_len;
        char *cert, *key;
};

struct stream;
static void stream_feed(struct stream *st, size_t n);

struct resp {
        long status;
        char *ctype, *digest, *location, *www_auth;
        long retry_after;
        char *body;
        size_t len, max;
        bool overflow;
        struct moat_blob_writer *w;
        struct moat_error werr;
        bool werr_set;
        /* upload source */
        int in_fd;
        uint64_t in_off, in_left;
        const char *in_buf;
        size_t in_len;
        char errbuf[CURL_ERROR_SIZE];
        struct stream *stream; /* unpack-while-downloading reader of this blob */
        /* progress */
        const struct moat_registry_opts *o;
        const char *pdigest;
        uint64_t ptotal;
};

static void resp_reset(struct resp *r)
{
        free(r->ctype);
        free(r->digest);
        free(r->location);
        free(r->www_auth);
        r->ctype = r->digest = r->location = r->www_auth = NULL;
        r->status = 0;
        r->retry_after = 0;
        r->len = 0;
        r->overflow = false;
        r->werr_set = false;
        r->errbuf[0] = '\0';
}

static void resp_free(struct resp *r)
{
        resp_reset(r);
        free(r->body);
        r->body = NULL;
}

static void conn_free(struct conn *c)
{
        free(c->host);
        free(c->repo);
        free(c->base);
        free(c->scope);
        free(c->scope2);
        free(c->authz);
        free(c->user);
        if (c->pass) {
                explicit_bzero(c->pass, strlen(c->pass));
                free(c->pass);
        }
        free(c->ca);
        free(c->cert);
        free(c->key);
        memset(c, 0, sizeof *c);
}

static char *b64(const void *in, size_t n)
{
        char *out = xmalloc(4 * ((n + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *) out, in, (int) n);
        return out;
}

static char *unb64(const char *in, size_t *outlen)
{
        size_t n = strlen(in);
        if (n == 0 || n % 4 || n > 8192)
                return NULL;
        char *out = xmalloc(n / 4 * 3 + 1);
        int l = EVP_DecodeBlock((unsigned char *) out, (const unsigned char *) in, (int) n);
        if (l < 0) {
                free(out);
                return NULL;
        }
        while (n && in[n - 1] == '=') {
                l--;
                n--;
        }
        out[l] = '\0';
        *outlen = (size_t) l;
        return out;
}

/* ---- credentials ---- */

static char *default_auth_file(struct moat_image_store *s)
{
        const char *e = getenv("MOAT_AUTH_FILE");
        if (e && *e)
                return xstrdup(e);
        return s ? xasprintf("%s/auth.json", moat_image_store_root(s)) : xstrdup("/var/lib/moat/auth.json");
}

static int load_auths(const char *path, json_t **out, struct moat_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = moat_read_file(path, 1 << 20, &buf, &len, err);
        if (r == -ENOENT) {
                *out = json_pack("{s:{}}", "auths");
                return 0;
        }
        if (r < 0)
                return r;
        json_error_t je;
        json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(root) || (json_object_get(root, "auths") && !json_is_object(json_object_get(root, "auths")))) {
                json_decref(root);
                return moat_error_set(err, 0, "%s: not a Docker-style auths file", path);
        }
        if (!json_object_get(root, "auths"))
                json_object_set_new(root, "auths", json_object());
        *out = root;
        return 0;
}

static void conn_load_creds(struct conn *c)
{
        _cleanup_free_ char *path = c->o->auth_file ? xstrdup(c->o->auth_file) : default_auth_file(c->s);
        json_t *root = NULL;
        struct moat_error err;
        if (load_auths(path, &root, &err) < 0)
                return; /* unreadable credentials mean anonymous access */
        json_t *auths = json_object_get(root, "auths");
        json_t *ent = json_object_get(auths, c->host);
        if (!ent) {
                _cleanup_free_ char *https = xasprintf("https://%s", c->host);
                ent = json_object_get(auths, https);
        }
        if (!ent && streq(c->host, "registry-1.docker.io")) /* where docker keeps Docker Hub's */
                ent = json_object_get(auths, "https://index.docker.io/v1/");
        const char *a = json_is_object(ent) ? json_string_value(json_object_get(ent, "auth")) : NULL;
        if (a) {
                size_t n;
                _cleanup_free_ char *dec = unb64(a, &n);
                char *colon = dec ? memchr(dec, ':', n) : NULL;
                if (colon && strlen(dec) == n) {
                        *colon = '\0';
                        c->user = xstrdup(dec);
                        c->pass = xstrdup(colon + 1);
                        explicit_bzero(dec, n);
                }
        } else if (json_is_object(ent)) {
                const char *u = json_string_value(json_object_get(ent, "username"));
                const char *p = json_string_value(json_object_get(ent, "password"));
                if (u && p) {
                        c->user = xstrdup(u);
                        c->pass = xstrdup(p);
                }
        }
        json_decref(root);
}

/* ---- TLS material: system CAs plus certs.d/<host>/ ---- */

static int conn_load_certs(struct conn *c, struct moat_error *err)
{
        const char *root = c->o->certs_dir ? c->o->certs_dir : getenv("MOAT_CERTS_DIR");
        if (!root || !*root)
                root = "/etc/moat/certs.d";
        _cleanup_free_ char *dir = xasprintf("%s/%s", root, c->host);
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        size_t cap = 0;
        char *bundle = NULL;
        size_t blen = 0;
        char *sys = NULL;
        size_t slen = 0;
        struct moat_error e2;
        if (moat_read_file(SYSTEM_CA, 8 << 20, &sys, &slen, &e2) == 0) {
                bundle = sys;
                blen = slen;
                cap = slen;
        }
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d)) && r == 0) {
                size_t nl = strlen(de->d_name);
                if (nl > 4 && streq(de->d_name + nl - 4, ".crt")) {
                        _cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
                        _cleanup_free_ char *ca = NULL;
                        size_t cl;
                        r = moat_read_file(p, 1 << 20, &ca, &cl, err);
                        if (r < 0)
                                break;
                        if (blen + cl + 2 > cap) {
                                cap = blen + cl + 2;
                                bundle = xrealloc(bundle, cap + 1);
                        }
                        bundle[blen++] = '\n';
                        memcpy(bundle + blen, ca, cl);
                        blen += cl;
                } else if (nl > 5 && streq(de->d_name + nl - 5, ".cert")) {
                        free(c->cert);
                        free(c->key);
                        c->cert = xasprintf("%s/%s", dir, de->d_name);
                        c->key = xasprintf("%s/%.*s.key", dir, (int) (nl - 5), de->d_name);
                        if (access(c->key, R_OK) < 0)
                                r = moat_error_set(err, errno, "client certificate %s without key %s", c->cert, c->key);
                }
        }
        closedir(d);
        if (r < 0) {
                free(bundle);
                return r;
        }
        if (bundle && blen > slen) {
                c->ca = bundle;
                c->ca_len = blen;
        } else {
                free(bundle);
        }
        return 0;
}

static bool host_insecure(const struct moat_registry_opts *o, const char *host)
{
        for (char *const *p = o->insecure; p && *p; p++)
                if (streq(*p, host))
                        return true;
        return false;
}

static int conn_init(struct conn *c, struct moat_image_store *s, const struct moat_registry_opts *o,
                     const struct moat_image_ref *ref, const char *actions, struct moat_error *err)
{
        memset(c, 0, sizeof *c);
        int lr = moat_curl_load(err);
        if (lr < 0)
                return lr;
        c->s = s;
        c->o = o;
        c->host = xstrdup(ref ? moat_image_ref_api_host(ref) : "");
        c->repo = ref ? xstrdup(ref->path) : NULL;
        c->insecure = host_insecure(o, c->host) || (ref && host_insecure(o, ref->domain));
        c->base = xasprintf("%s://%s", c->insecure ? "http" : "https", c->host);
        c->scope = c->repo ? xasprintf("repository:%s:%s", c->repo, actions) : NULL;
        conn_load_creds(c);
        return conn_load_certs(c, err);
}

/* ---- curl plumbing ---- */

static char *header_value(const char *line, size_t n, const char *name)
{
        size_t nl = strlen(name);
        if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
                return NULL;
        const char *v = line + nl + 1;
        size_t vl = n - nl - 1;
        while (vl && (*v == ' ' || *v == '\t'))
                v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
                vl--;
        if (vl > HEADER_MAX)
                return NULL;
        return xstrndup(v, vl);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
        struct resp *r = ud;
        size_t n = size * nitems;
        char *v;
        if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) { /* a new response (after a redirect) */
                free(r->ctype);
                free(r->digest);
                free(r->location);
                free(r->www_auth);
                r->ctype = r->digest = r->location = r->www_auth = NULL;
                const char *sp = memchr(buf, ' ', n);
                r->status = sp && sp + 4 <= buf + n ? strtol(sp + 1, NULL, 10) : 0;
                return n;
        }
        if ((v = header_value(buf, n, "Content-Type"))) {
                free(r->ctype);
                r->ctype = v;
        } else if ((v = header_value(buf, n, "Docker-Content-Digest"))) {
                free(r->digest);
                r->digest = v;
        } else if ((v = header_value(buf, n, "Location"))) {
                free(r->location);
                r->location = v;
        } else if ((v = header_value(buf, n, "WWW-Authenticate"))) {
                free(r->www_auth);
                r->www_auth = v;
        } else if ((v = header_value(buf, n, "Retry-After"))) {
                long long s;
                if (moat_parse_int64(v, &s) == 0 && s >= 0)
                        r->retry_after = s > 30 ? 30 : (long) s;
                free(v);
        }
        return n;
}

static size_t on_body(char *buf, size_t size, size_t nmemb, void *ud)
{
        struct resp *r = ud;
        size_t n = size * nmemb;
        if (r->w) {
                /* Only a 2xx body is content; error and redirect bodies are dropped. */
                if (r->status >= 200 && r->status < 300) {
                        if (moat_image_blob_writer_write(r->w, buf, n, &r->werr) < 0) {
                                r->werr_set = true;
                                return 0;
                        }
                        if (r->stream)
                                stream_feed(r->stream, n);
                }
                return n;
        }
        if (r->len + n > r->max) {
                r->overflow = true;
                return 0;
        }
        if (!r->body || r->len + n + 1 > r->max + 1) {
                r->body = xrealloc(r->body, r->max + 1);
        }
        memcpy(r->body + r->len, buf, n);
        r->len += n;
        r->body[r->len] = '\0';
        return n;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
        struct resp *r = ud;
        size_t n = size * nitems;
        if (r->in_buf) {
                size_t k = r->in_len < n ? r->in_len : n;
                memcpy(buf, r->in_buf, k);
                r->in_buf += k;
                r->in_len -= k;
                return k;
        }
        if (n > r->in_left)
                n = (size_t) r->in_left;
        if (n == 0)
                return 0;
        ssize_t k = pread(r->in_fd, buf, n, (off_t) r->in_off);
        if (k < 0)
                return CURL_READFUNC_ABORT;
        r->in_off += (uint64_t) k;
        r->in_left -= (uint64_t) k;
        return (size_t) k;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
        struct resp *r = ud;
        if (r->o && r->o->progress && r->pdigest) {
                uint64_t now = (uint64_t) (dlnow ? dlnow : ulnow);
                r->o->progress(r->o->progress_ud, r->pdigest, MOAT_PROGRESS_RUN, now, r->ptotal);
        }
        return 0;
}

/* No descriptor of ours may leak into a container: mark curl's sockets close-on-exec. */
static int on_sockopt(void *ud, curl_socket_t fd, curlsocktype purpose)
{
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0)
                fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
        return CURL_SOCKOPT_OK;
}

/* The same header is also needed when the request gets redirected to the same host. */
static struct curl_slist *make_headers(struct conn *c, const char *accept, const char *ctype,
                                       const char *extra)
{
        struct curl_slist *h = NULL;
        if (c->authz)
                h = curl_slist_append(h, c->authz);
        if (accept) {
                _cleanup_free_ char *a = xasprintf("Accept: %s", accept);
                h = curl_slist_append(h, a);
        }
        if (ctype) {
                _cleanup_free_ char *t = xasprintf("Content-Type: %s", ctype);
                h = curl_slist_append(h, t);
        }
        if (extra)
                h = curl_slist_append(h, extra);
        h = curl_slist_append(h, "Expect:");
        return h;
}

static void setup_easy(struct conn *c, CURL *h, const char *method, const char *url, struct curl_slist *hdrs,
                       struct resp *r)
{
        const char *protos = c->insecure ? "http,https" : "https";
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protos);
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protos);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "moat/" "0.1");
        curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
        if (c->ca) {
                struct curl_blob blob = { c->ca, c->ca_len, CURL_BLOB_COPY };
                curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
        }
        if (c->cert) {
                curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
                curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
        if (r->pdigest) {
                curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
                curl_easy_setopt(h, CURLOPT_XFERINFODATA, r);
                curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        }
        if (streq(method, "HEAD")) {
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (streq(method, "POST")) {
                curl_easy_setopt(h, CURLOPT_POST, 1L);
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        } else if (streq(method, "PUT") || streq(method, "PATCH")) {
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
                curl_easy_setopt(h, CURLOPT_READDATA, r);
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                                 (curl_off_t) (r->in_buf ? r->in_len : r->in_left));
                if (streq(method, "PATCH"))
                        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PATCH");
        } else if (streq(method, "DELETE")) {
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
        }
}

static bool retryable(CURLcode cc, long status)
{
        if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_RECV_ERROR ||
            cc == CURLE_SEND_ERROR || cc == CURLE_GOT_NOTHING || cc == CURLE_PARTIAL_FILE)
                return true;
        return cc == CURLE_OK && (status == 429 || status == 502 || status == 503 || status == 504 || status == 500);
}

static void backoff(int attempt, long retry_after)
{
        long ms = retry_after > 0 ? retry_after * 1000 : 250L << attempt;
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

/* Parse `Bearer realm="...",service="...",scope="..."` into its parameters (bounded). */
int moat_registry_parse_challenge(const char *h, char **scheme, char **realm, char **service, struct moat_error *err)
{
        *scheme = *realm = *service = NULL;
        size_t sl = strcspn(h, " ");
        if (sl == 0 || sl > 16)
                return moat_error_set(err, 0, "bad WWW-Authenticate challenge");
        *scheme = xstrndup(h, sl);
        const char *p = h + sl;
        for (int guard = 0; *p && guard < 32; guard++) {
                while (*p == ' ' || *p == ',')
                        p++;
                size_t kl = strcspn(p, "=");
                if (!p[kl])
                        break;
                const char *k = p;
                p += kl + 1;
                char *v;
                if (*p == '"') {
                        const char *e = strchr(p + 1, '"');
                        if (!e)
                                return moat_error_set(err, 0, "bad WWW-Authenticate challenge");
                        v = xstrndup(p + 1, (size_t) (e - p - 1));
                        p = e + 1;
                } else {
                        size_t vl = strcspn(p, ",");
                        v = xstrndup(p, vl);
                        p += vl;
                }
                if (kl == 5 && strncasecmp(k, "realm", 5) == 0 && !*realm)
                        *realm = v;
                else if (kl == 7 && strncasecmp(k, "service", 7) == 0 && !*service)
                        *service = v;
                else
                        free(v);
        }
        return 0;
}

static bool token_ok(const char *t)
{
        size_t n = strlen(t);
        if (n == 0 || n > 16384)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) t[i] <= ' ' || (unsigned char) t[i] >= 0x7f)
                        return false;
        return true;
}

static int fetch_token(struct conn *c, const char *realm, const char *service, const char *extra_scope,
                       struct moat_error *err)
{
        CURLU *u = curl_url();
        if (curl_url_set(u, CURLUPART_URL, realm, 0) != CURLUE_OK) {
                curl_url_cleanup(u);
                return moat_error_set(err, 0, "bad token realm %s", realm);
        }
        char *scheme = NULL;
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
        bool https = scheme && streq(scheme, "https");
        curl_free(scheme);
        if (!https && !c->insecure) {
                curl_url_cleanup(u);
                return moat_error_set(err, 0, "token realm %s is not https", realm);
        }
        if (service) {
                _cleanup_free_ char *q = xasprintf("service=%s", service);
                curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE);
        }
        if (c->scope) {
                _cleanup_free_ char *q = xasprintf("scope=%s", c->scope);
                curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE);
        }
        if (!extra_scope)
                extra_scope = c->scope2;
        if (extra_scope) {
                _cleanup_free_ char *q = xasprintf("scope=%s", extra_scope);
                curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE);
        }
        char *url = NULL;
        curl_url_get(u, CURLUPART_URL, &url, 0);
        curl_url_cleanup(u);
        struct resp r = { .max = TOKEN_MAX };
        CURL *h = curl_easy_init();
        free(c->authz);
        c->authz = NULL;
        struct curl_slist *hd = make_headers(c, NULL, NULL, NULL);
        setup_easy(c, h, "GET", url, hd, &r);
        /* The token server may live on another host; it is a redirect target we allow only on https. */
        if (c->user) {
                curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
                curl_easy_setopt(h, CURLOPT_PASSWORD, c->pass);
                curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        }
        CURLcode cc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
        curl_easy_cleanup(h);
        curl_slist_free_all(hd);
        int rc = 0;
        if (cc != CURLE_OK)
                rc = moat_error_set(err, EIO, "token request to %s: %s", url, r.errbuf[0] ? r.errbuf : curl_easy_strerror(cc));
        else if (r.status != 200)
                rc = moat_error_set(err, r.status == 401 || r.status == 403 ? EACCES : EIO,
                                    "token request to %s: HTTP %ld", realm, r.status);
        else {
                json_error_t je;
                json_t *j = json_loadb(r.body ? r.body : "", r.len, 0, &je);
                const char *t = json_string_value(json_object_get(j, "token"));
                if (!t)
                        t = json_string_value(json_object_get(j, "access_token"));
                if (!t || !token_ok(t))
                        rc = moat_error_set(err, EPROTO, "token server %s returned no usable token", realm);
                else
                        c->authz = xasprintf("Authorization: Bearer %s", t);
                json_decref(j);
        }
        curl_free(url);
        resp_free(&r);
        return rc;
}

/* Answer a 401 challenge: returns 0 when the request should be retried with new credentials. */
static int authenticate(struct conn *c, const char *challenge, const char *extra_scope, struct moat_error *err)
{
        if (!challenge)
                return moat_error_set(err, EACCES, "%s: unauthorized (no challenge)", c->host);
        _cleanup_free_ char *scheme = NULL, *realm = NULL, *service = NULL;
        int r = moat_registry_parse_challenge(challenge, &scheme, &realm, &service, err);
        if (r < 0)
                return r;
        if (strcasecmp(scheme, "Basic") == 0) {
                if (!c->user)
                        return moat_error_set(err, EACCES, "%s: authentication required (moat login %s)", c->host, c->host);
                _cleanup_free_ char *up = xasprintf("%s:%s", c->user, c->pass);
                _cleanup_free_ char *enc = b64(up, strlen(up));
                explicit_bzero(up, strlen(up));
                free(c->authz);
                c->authz = xasprintf("Authorization: Basic %s", enc);
                return 0;
        }
        if (strcasecmp(scheme, "Bearer") == 0 && realm)
                return fetch_token(c, realm, service, extra_scope, err);
        return moat_error_set(err, EACCES, "%s: unsupported authentication scheme %s", c->host, scheme);
}

/* One request with authentication and retries. The response goes to r (body buffer or writer). */
static int request(struct conn *c, const char *method, const char *url, const char *accept, const char *ctype,
                   const char *extra_header, struct resp *r, struct moat_error *err)
{
        bool authed = false;
        uint64_t in_off = r->in_off, in_left = r->in_left;
        const char *in_buf = r->in_buf;
        size_t in_len = r->in_len;
        for (int attempt = 0;; attempt++) {
                resp_reset(r);
                r->in_off = in_off;
                r->in_left = in_left;
                r->in_buf = in_buf;
                r->in_len = in_len;
                if (r->w && moat_image_blob_writer_reset(r->w, err) < 0)
                        return -EIO;
                CURL *h = curl_easy_init();
                if (!h)
                        abort();
                struct curl_slist *hd = make_headers(c, accept, ctype, extra_header);
                setup_easy(c, h, method, url, hd, r);
                CURLcode cc = curl_easy_perform(h);
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
                curl_easy_cleanup(h);
                curl_slist_free_all(hd);
                if (r->werr_set) {
                        memcpy(err, &r->werr, sizeof *err);
                        return -err->code;
                }
                if (r->overflow)
                        return moat_error_set(err, EFBIG, "%s %s: response larger than %zu bytes", method, url, r->max);
                if (cc == CURLE_OK && r->status == 401 && !authed) {
                        authed = true;
                        int q = authenticate(c, r->www_auth, NULL, err);
                        if (q < 0)
                                return q;
                        attempt--;
                        continue;
                }
                if (retryable(cc, r->status) && attempt + 1 < MAX_ATTEMPTS) {
                        if (c->o->progress && r->pdigest)
                                c->o->progress(c->o->progress_ud, r->pdigest, MOAT_PROGRESS_RETRY, 0, 0);
                        backoff(attempt, r->retry_after);
                        continue;
                }
                if (cc != CURLE_OK)
                        return moat_error_set(err, EIO, "%s %s: %s", method, url, r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
                return 0;
        }
}

static int http_error(struct resp *r, const char *what, struct moat_error *err)
{
        int e = r->status == 404 ? ENOENT : r->status == 401 || r->status == 403 ? EACCES : EIO;
        /* Registries put an {"errors":[{"code","message"}]} body on failures; show its first message. */
        const char *msg = NULL;
        json_t *j = NULL;
        if (r->body && r->len) {
                json_error_t je;
                j = json_loadb(r->body, r->len, 0, &je);
                json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
                msg = json_string_value(json_object_get(e0, "message"));
        }
        int rc = moat_error_set(err, e, "%s: HTTP %ld%s%.200s", what, r->status, msg ? ": " : "", msg ? msg : "");
        json_decref(j);
        return rc;
}

/* ---- pull ---- */

static int fetch_manifest(struct conn *c, const char *reference, const char *expect_digest, int64_t expect_size,
                          char **body, size_t *len, char **ctype, char digest[MOAT_DIGEST_LEN + 1],
                          struct moat_error *err)
{
        _cleanup_free_ char *url = xasprintf("%s/v2/%s/manifests/%s", c->base, c->repo, reference);
        struct resp r = { .max = MOAT_MANIFEST_MAX };
        int rc = request(c, "GET", url, MOAT_MANIFEST_ACCEPT, NULL, NULL, &r, err);
        if (rc == 0 && r.status != 200)
                rc = http_error(&r, "get manifest", err);
        if (rc == 0) {
                moat_sha256_digest(r.body ? r.body : "", r.len, digest);
                if (expect_digest && !streq(digest, expect_digest))
                        rc = moat_error_set(err, EBADMSG, "manifest content does not match its digest %s (got %s)",
                                            expect_digest, digest);
                else if (expect_size >= 0 && (int64_t) r.len != expect_size)
                        rc = moat_error_set(err, EBADMSG, "manifest %s: size %zu, index says %lld", digest, r.len,
                                            (long long) expect_size);
                else if (!expect_digest && r.digest && moat_digest_valid(r.digest) && !streq(r.digest, digest))
                        rc = moat_error_set(err, EBADMSG, "manifest hashes to %s, registry says %s", digest, r.digest);
        }
        if (rc == 0) {
                *body = r.body ? STEAL(r.body) : xstrdup("");
                *len = r.len;
                *ctype = r.ctype ? STEAL(r.ctype) : NULL;
        }
        resp_free(&r);
        return rc < 0 ? moat_error_wrap(err, "%s/%s:%s", c->host, c->repo, reference) : 0;
}

static int fetch_small_blob(struct conn *c, const struct moat_descriptor *d, size_t max, struct moat_error *err)
{
        if (moat_image_blob_exists(c->s, d->digest, d->size))
                return 0;
        if (d->size < 0 || (uint64_t) d->size > max)
                return moat_error_set(err, EFBIG, "blob %s: size %lld over %zu", d->digest, (long long) d->size, max);
        struct moat_blob_writer *w;
        int rc = moat_image_blob_writer_new(c->s, d->digest, d->size, &w, err);
        if (rc < 0)
                return rc;
        _cleanup_free_ char *url = xasprintf("%s/v2/%s/blobs/%s", c->base, c->repo, d->digest);
        struct resp r = { .max = 65536, .w = w };
        rc = request(c, "GET", url, NULL, NULL, NULL, &r, err);
        if (rc == 0 && r.status != 200)
                rc = http_error(&r, "get blob", err);
        if (rc == 0)
                rc = moat_image_blob_writer_commit(w, NULL, err);
        moat_image_blob_writer_free(w);
        resp_free(&r);
        return rc < 0 ? moat_error_wrap(err, "fetch %s", d->digest) : 0;
}

/* Layer unpacking overlaps the downloads: a layer is unpacked (in its own thread, at most one per
 * CPU at a time) as soon as its blob is complete and verified. */
struct unpack_job {
        struct moat_image_store *s;
        const char *blob, *diff_id;
        struct moat_error err;
        int rc;
        pthread_t t;
        bool started;
        sem_t *slots;
};

struct unpacker {
        struct unpack_job *jobs;
        size_t n;
        sem_t slots;
        const struct moat_manifest *m;
        const struct moat_image_config *c;
        const struct moat_registry_opts *o;
};

static void *unpack_thread(void *p)
{
        struct unpack_job *j = p;
        while (sem_wait(j->slots) < 0 && errno == EINTR)
                ;
        j->rc = moat_image_layer_ensure(j->s, j->blob, j->diff_id, &j->err);
        sem_post(j->slots);
        return NULL;
}

static void unpacker_init(struct unpacker *u, struct moat_image_store *s, const struct moat_manifest *m,
                          const struct moat_image_config *c, const struct moat_registry_opts *o)
{
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        u->n = m->n_layers;
        u->jobs = XNEW(struct unpack_job, u->n ? u->n : 1);
        u->m = m;
        u->c = c;
        u->o = o;
        sem_init(&u->slots, 0, cpus > 0 ? (unsigned) cpus : 1);
        for (size_t i = 0; i < u->n; i++)
                u->jobs[i] = (struct unpack_job) { .s = s, .blob = m->layers[i].digest, .diff_id = c->diff_ids[i],
                                                   .slots = &u->slots };
}

static void unpacker_start(struct unpacker *u, size_t i)
{
        struct unpack_job *j = &u->jobs[i];
        if (j->started)
                return;
        for (size_t k = 0; k < u->n; k++) /* the same layer twice in one image: unpack it once */
                if (k != i && u->jobs[k].started && streq(u->jobs[k].diff_id, j->diff_id)) {
                        j->started = true;
                        return;
                }
        j->started = true;
        if (u->o && u->o->progress)
                u->o->progress(u->o->progress_ud, j->blob, MOAT_PROGRESS_UNPACK, 0, 0);
        if (pthread_create(&j->t, NULL, unpack_thread, j) != 0) {
                j->t = 0;
                unpack_thread(j);
        }
}

/* Start what has not started, wait for all; the first failure wins. */
static int unpacker_finish(struct unpacker *u, bool start_rest, struct moat_error *err)
{
        int rc = 0;
        for (size_t i = 0; i < u->n && start_rest; i++)
                unpacker_start(u, i);
        for (size_t i = 0; i < u->n; i++) {
                if (u->jobs[i].t)
                        pthread_join(u->jobs[i].t, NULL);
                if (u->jobs[i].rc < 0 && rc == 0) {
                        memcpy(err, &u->jobs[i].err, sizeof *err);
                        rc = u->jobs[i].rc;
                }
        }
        sem_destroy(&u->slots);
        free(u->jobs);
        return rc;
}

int moat_image_unpack_layers(struct moat_image_store *s, const struct moat_manifest *m, const struct moat_image_config *c,
                             const struct moat_registry_opts *o, struct moat_error *err)
{
        struct unpacker u;
        unpacker_init(&u, s, m, c, o);
        return unpacker_finish(&u, true, err);
}

/* Unpacking while downloading: a thread reads the blob's temporary file as it grows and unpacks
 * it into a scratch directory. Nothing it produces is used unless the blob then verifies against
 * its digest and the stream against its diff id; on any trouble (a retried download, an error) the
 * layer is unpacked again from the verified blob, which gives the definitive answer. */
struct stream {
        pthread_mutex_t mu;
        pthread_cond_t cv;
        int fd;
        uint64_t avail, off;
        bool done, abort, running;
        char *tmp;
        char diff[MOAT_DIGEST_LEN + 1];
        int rc;
        struct moat_error err;
        pthread_t t;
        struct moat_image_store *s;
        char buf[256 * 1024];
};

static void stream_feed(struct stream *st, size_t n)
{
        pthread_mutex_lock(&st->mu);
        st->avail += n;
        pthread_cond_signal(&st->cv);
        pthread_mutex_unlock(&st->mu);
}

static void stream_end(struct stream *st, bool ok)
{
        pthread_mutex_lock(&st->mu);
        if (ok)
                st->done = true;
        else
                st->abort = true;
        pthread_cond_signal(&st->cv);
        pthread_mutex_unlock(&st->mu);
}

static ssize_t stream_read(void *a, void *ud, const void **out)
{
        struct stream *st = ud;
        pthread_mutex_lock(&st->mu);
        while (!st->abort && st->off >= st->avail && !st->done)
                pthread_cond_wait(&st->cv, &st->mu);
        bool aborted = st->abort;
        uint64_t avail = st->avail;
        pthread_mutex_unlock(&st->mu);
        if (aborted) {
                archive_set_error(a, ECANCELED, "download restarted");
                return -1;
        }
        uint64_t n = avail - st->off;
        if (n > sizeof st->buf)
                n = sizeof st->buf;
        if (n == 0)
                return 0;
        ssize_t k = pread(st->fd, st->buf, (size_t) n, (off_t) st->off);
        if (k <= 0) {
                archive_set_error(a, EIO, "read downloading blob");
                return -1;
        }
        st->off += (uint64_t) k;
        *out = st->buf;
        return k;
}

static void *stream_thread(void *p)
{
        struct stream *st = p;
        int dfd = open(st->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0 || fchmod(dfd, 0755) < 0)
                st->rc = moat_error_set(&st->err, errno, "open %s", st->tmp);
        else
                st->rc = moat_image_unpack_reader(stream_read, st, dfd, moat_image_store_limits(st->s), st->diff, &st->err);
        if (dfd >= 0)
                close(dfd);
        return NULL;
}

static struct stream *stream_start(struct moat_image_store *s, struct moat_blob_writer *w)
{
        struct stream *st = XNEW(struct stream, 1);
        pthread_mutex_init(&st->mu, NULL);
        pthread_cond_init(&st->cv, NULL);
        st->s = s;
        st->fd = moat_image_blob_writer_fd(w);
        st->tmp = xasprintf("%s/tmp/layer-XXXXXX", moat_image_store_root(s));
        if (!mkdtemp(st->tmp) || pthread_create(&st->t, NULL, stream_thread, st) != 0) {
                rmdir(st->tmp);
                free(st->tmp);
                free(st);
                return NULL;
        }
        st->running = true;
        return st;
}

/* Wait for the thread; returns true when its result is the verified layer diff_id (then moved
 * into place). Frees st. */
static bool stream_finish(struct moat_image_store *s, struct stream *st, const char *diff_id, bool use)
{
        if (!st)
                return false;
        if (!use)
                stream_end(st, false);
        pthread_join(st->t, NULL);
        bool ok = use && st->rc == 0 && !st->abort && streq(st->diff, diff_id);
        struct moat_error e2;
        if (ok && moat_image_layer_commit_dir(s, st->tmp, diff_id, &e2) < 0)
                ok = false;
        if (!ok)
                moat_rm_rf(st->tmp, &e2);
        pthread_mutex_destroy(&st->mu);
        pthread_cond_destroy(&st->cv);
        free(st->tmp);
        free(st);
        return ok;
}

struct xfer {
        const struct moat_descriptor *d;
        CURL *h;
        struct curl_slist *hd;
        struct resp r;
        struct moat_blob_writer *w;
        char *url;
        int attempts;
        bool active, done, authed, verified, unpack_here;
        struct stream *stream;
        uint64_t due_ns;
};

static int xfer_start(struct conn *c, CURLM *m, struct xfer *x, struct moat_error *err)
{
        resp_reset(&x->r);
        if (x->stream) /* a restarted download cannot feed the running unpack: abandon it */
                stream_end(x->stream, false);
        x->r.stream = NULL;
        int rc = moat_image_blob_writer_reset(x->w, err);
        if (rc < 0)
                return rc;
        if (x->attempts == 0 && x->unpack_here && !x->stream) {
                x->stream = stream_start(c->s, x->w);
                x->r.stream = x->stream;
        }
        x->h = curl_easy_init();
        if (!x->h)
                abort();
        curl_slist_free_all(x->hd);
        x->hd = make_headers(c, NULL, NULL, NULL);
        setup_easy(c, x->h, "GET", x->url, x->hd, &x->r);
        curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
        curl_multi_add_handle(m, x->h);
        x->active = true;
        x->attempts++;
        if (c->o->progress)
                c->o->progress(c->o->progress_ud, x->d->digest, MOAT_PROGRESS_RUN, 0, (uint64_t) x->d->size);
        return 0;
}

/* Download the layers not yet in the store, up to max_parallel at a time, each through a verifying
 * writer; retry transient failures with backoff; refresh the token once on 401. */
static int fetch_layers(struct conn *c, const struct moat_manifest *man, struct unpacker *up, struct moat_error *err)
{
        size_t n = man->n_layers;
        struct xfer *xs = XNEW(struct xfer, n ? n : 1);
        CURLM *m = curl_multi_init();
        int maxp = c->o->max_parallel > 0 ? c->o->max_parallel : 4;
        curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long) maxp);
        int rc = 0;
        size_t pending = 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
                xs[i].d = &man->layers[i];
                xs[i].r.o = c->o;
                xs[i].r.pdigest = man->layers[i].digest;
                xs[i].r.ptotal = (uint64_t) man->layers[i].size;
                bool dup = false;
                for (size_t j = 0; j < i; j++)
                        dup |= streq(man->layers[j].digest, man->layers[i].digest);
                if (dup || moat_image_blob_exists(c->s, xs[i].d->digest, xs[i].d->size)) {
                        xs[i].done = true;
                        if (!dup)
                                unpacker_start(up, i);
                        if (c->o->progress)
                                c->o->progress(c->o->progress_ud, xs[i].d->digest, MOAT_PROGRESS_EXISTS,
                                               (uint64_t) xs[i].d->size, (uint64_t) xs[i].d->size);
                        continue;
                }
                rc = moat_image_blob_writer_new(c->s, xs[i].d->digest, xs[i].d->size, &xs[i].w, err);
                xs[i].r.w = xs[i].w;
                _cleanup_free_ char *lp = moat_image_layer_path(c->s, up->c->diff_ids[i]);
                xs[i].unpack_here = access(lp, F_OK) < 0;
                xs[i].url = xasprintf("%s/v2/%s/blobs/%s", c->base, c->repo, xs[i].d->digest);
                pending++;
        }
        int active = 0;
        while (rc == 0 && pending > 0) {
                uint64_t now = moat_now_ns();
                for (size_t i = 0; i < n && rc == 0 && active < maxp; i++)
                        if (!xs[i].done && !xs[i].active && xs[i].due_ns <= now) {
                                rc = xfer_start(c, m, &xs[i], err);
                                active++;
                        }
                if (rc < 0)
                        break;
                int running;
                curl_multi_perform(m, &running);
                CURLMsg *msg;
                int left;
                while ((msg = curl_multi_info_read(m, &left)) && rc == 0) {
                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        struct xfer *x;
                        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &x);
                        CURLcode cc = msg->data.result;
                        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->r.status);
                        curl_multi_remove_handle(m, x->h);
                        curl_easy_cleanup(x->h);
                        x->h = NULL;
                        x->active = false;
                        active--;
                        if (x->r.werr_set) {
                                memcpy(err, &x->r.werr, sizeof *err);
                                rc = -err->code;
                        } else if (cc == CURLE_OK && x->r.status == 401 && !x->authed) {
                                x->authed = true;
                                rc = authenticate(c, x->r.www_auth, NULL, err);
                                x->attempts--;
                        } else if (retryable(cc, x->r.status) && x->attempts < MAX_ATTEMPTS) {
                                long ra = x->r.retry_after;
                                x->due_ns = moat_now_ns() + (uint64_t) (ra > 0 ? ra * 1000 : 250L << x->attempts) * 1000000ull;
                                if (c->o->progress)
                                        c->o->progress(c->o->progress_ud, x->d->digest, MOAT_PROGRESS_RETRY, 0, 0);
                        } else if (cc != CURLE_OK) {
                                rc = moat_error_set(err, EIO, "get blob %s: %s", x->d->digest,
                                                    x->r.errbuf[0] ? x->r.errbuf : curl_easy_strerror(cc));
                        } else if (x->r.status != 200) {
                                rc = http_error(&x->r, "get blob", err);
                                moat_error_wrap(err, "%s", x->d->digest);
                        } else {
                                rc = moat_image_blob_writer_commit(x->w, NULL, err);
                                x->done = true;
                                x->verified = rc == 0;
                                pending--;
                                if (x->stream)
                                        stream_end(x->stream, rc == 0);
                                else if (rc == 0)
                                        unpacker_start(up, (size_t) (x - xs));
                                if (rc == 0 && c->o->progress)
                                        c->o->progress(c->o->progress_ud, x->d->digest, MOAT_PROGRESS_DONE,
                                                       (uint64_t) x->d->size, (uint64_t) x->d->size);
                        }
                }
                if (rc == 0 && pending > 0)
                        curl_multi_poll(m, NULL, 0, 100, NULL);
        }
        for (size_t i = 0; i < n; i++) {
                if (xs[i].h) {
                        curl_multi_remove_handle(m, xs[i].h);
                        curl_easy_cleanup(xs[i].h);
                }
                /* streamed layers: keep the result only if the blob verified; else unpack from the blob */
                if (xs[i].stream && !stream_finish(c->s, xs[i].stream, up->c->diff_ids[i], rc == 0 && xs[i].verified) &&
                    rc == 0 && xs[i].verified)
                        unpacker_start(up, i);
                curl_slist_free_all(xs[i].hd);
                moat_image_blob_writer_free(xs[i].w);
                resp_free(&xs[i].r);
                free(xs[i].url);
        }
        curl_multi_cleanup(m);
        free(xs);
        return rc;
}

int moat_image_pull(struct moat_image_store *s, const char *refstr, const struct moat_registry_opts *o,
                    char out_id[MOAT_DIGEST_LEN + 1], struct moat_error *err)
{
        struct moat_image_ref ref;
        int rc = moat_image_ref_parse(refstr, &ref, err);
        if (rc < 0)
                return rc;
        struct moat_platform plat;
        rc = moat_platform_parse(o->platform, &plat, err);
        if (rc < 0) {
                moat_image_ref_free(&ref);
                return rc;
        }
        struct conn c;
        _cleanup_free_ char *body = NULL, *ctype = NULL, *name = moat_image_ref_string(&ref);
        struct moat_manifest man = { 0 }, idx = { 0 };
        struct moat_image_config cfg = { 0 };
        char digest[MOAT_DIGEST_LEN + 1];
        size_t len;
        rc = conn_init(&c, s, o, &ref, "pull", err);
        if (rc < 0)
                goto out;
        rc = fetch_manifest(&c, ref.digest ? ref.digest : ref.tag, ref.digest, -1, &body, &len, &ctype, digest, err);
        if (rc < 0)
                goto out;
        rc = moat_manifest_parse(body, len, ctype, &man, err);
        if (rc < 0)
                goto out;
        if (man.kind == MOAT_KIND_INDEX) {
                idx = man;
                memset(&man, 0, sizeof man);
                int i = moat_manifest_select(&idx, &plat, err);
                if (i < 0) {
                        rc = i;
                        goto out;
                }
                free(body);
                free(ctype);
                body = ctype = NULL;
                rc = fetch_manifest(&c, idx.manifests[i].digest, idx.manifests[i].digest, idx.manifests[i].size, &body,
                                    &len, &ctype, digest, err);
                if (rc == 0)
                        rc = moat_manifest_parse(body, len, ctype, &man, err);
                if (rc == 0 && man.kind != MOAT_KIND_MANIFEST)
                        rc = moat_error_set(err, 0, "index entry %s is not an image manifest", digest);
                if (rc < 0)
                        goto out;
        }
        rc = moat_image_blob_put(s, digest, body, len, NULL, err);
        if (rc < 0)
                goto out;
        rc = fetch_small_blob(&c, &man.config, MOAT_CONFIG_MAX, err);
        if (rc < 0)
                goto out;
        {
                _cleanup_free_ char *cb = NULL;
                size_t cl;
                rc = moat_image_blob_get(s, man.config.digest, MOAT_CONFIG_MAX, &cb, &cl, err);
                if (rc == 0)
                        rc = moat_image_config_parse(cb, cl, &cfg, err);
                if (rc < 0)
                        goto out;
        }
        if (cfg.n_diff_ids != man.n_layers) {
                rc = moat_error_set(err, 0, "config lists %zu diff_ids for %zu layers", cfg.n_diff_ids, man.n_layers);
                goto out;
        }
        if (cfg.os && cfg.arch && (!streq(cfg.os, plat.os) || !streq(cfg.arch, plat.arch)) && o->platform) {
                rc = moat_error_set(err, 0, "image is %s/%s, not the requested %s/%s", cfg.os, cfg.arch, plat.os, plat.arch);
                goto out;
        }
        {
                struct unpacker up;
                unpacker_init(&up, s, &man, &cfg, o);
                rc = fetch_layers(&c, &man, &up, err);
                struct moat_error uerr;
                int ur = unpacker_finish(&up, rc == 0, &uerr);
                if (rc == 0 && ur < 0) {
                        rc = ur;
                        memcpy(err, &uerr, sizeof *err);
                }
                if (rc < 0)
                        goto out;
        }
        rc = moat_image_register(s, digest, name, out_id, err);
out:
        if (rc < 0) {
                /* drop what this pull stored (skipped if another process holds the store) */
                struct moat_error e2;
                moat_image_gc(s, NULL, &e2);
                moat_error_wrap(err, "pull %s", refstr);
        }
        moat_manifest_free(&man);
        moat_manifest_free(&idx);
        moat_image_config_free(&cfg);
        moat_platform_free(&plat);
        moat_image_ref_free(&ref);
        conn_free(&c);
        return rc;
}

/* ---- push ---- */

static char *resolve_location(struct conn *c, const char *loc, const char *query)
{
        CURLU *u = curl_url();
        curl_url_set(u, CURLUPART_URL, c->base, 0);
        if (curl_url_set(u, CURLUPART_URL, loc, 0) != CURLUE_OK) {
                curl_url_cleanup(u);
                return NULL;
        }
        if (query)
                curl_url_set(u, CURLUPART_QUERY, query, CURLU_APPENDQUERY | CURLU_URLENCODE);
        char *url = NULL, *out = NULL;
        curl_url_get(u, CURLUPART_URL, &url, 0);
        curl_url_cleanup(u);
        if (url) {
                /* an upload location on another scheme/host than the registry is refused */
                if (startswith(url, c->base) && (url[strlen(c->base)] == '/' || url[strlen(c->base)] == '\0'))
                        out = xstrdup(url);
                curl_free(url);
        }
        return out;
}

static int push_blob(struct conn *c, const char *digest, int64_t size, const char *mount_from, struct moat_error *err)
{
        _cleanup_free_ char *head = xasprintf("%s/v2/%s/blobs/%s", c->base, c->repo, digest);
        struct resp r = { .max = 65536 };
        _cleanup_free_ char *start = NULL, *loc = NULL, *q = NULL, *put = NULL;
        _cleanup_close_ int fd = -1;
        int rc = request(c, "HEAD", head, NULL, NULL, NULL, &r, err);
        if (rc < 0)
                goto out;
        if (r.status == 200) {
                if (c->o->progress)
                        c->o->progress(c->o->progress_ud, digest, MOAT_PROGRESS_EXISTS, (uint64_t) size, (uint64_t) size);
                goto out;
        }
        if (mount_from)
                start = xasprintf("%s/v2/%s/blobs/uploads/?mount=%s&from=%s", c->base, c->repo, digest, mount_from);
        else
                start = xasprintf("%s/v2/%s/blobs/uploads/", c->base, c->repo);
        rc = request(c, "POST", start, NULL, NULL, NULL, &r, err);
        if (rc < 0)
                goto out;
        if (r.status == 201 && mount_from) {
                if (c->o->progress)
                        c->o->progress(c->o->progress_ud, digest, MOAT_PROGRESS_EXISTS, (uint64_t) size, (uint64_t) size);
                goto out;
        }
        if (r.status != 202 || !r.location) {
                rc = http_error(&r, "start upload", err);
                goto out;
        }
        rc = moat_image_blob_open(c->s, digest, &fd, err);
        if (rc < 0)
                goto out;
        loc = xstrdup(r.location);
        uint64_t off = 0, total = (uint64_t) size;
        if (c->o->chunk_size > 0) {
                while (off < total) {
                        uint64_t n = total - off < c->o->chunk_size ? total - off : c->o->chunk_size;
                        _cleanup_free_ char *url = resolve_location(c, loc, NULL);
                        if (!url) {
                                rc = moat_error_set(err, EPROTO, "upload location %.200s refused", loc);
                                goto out;
                        }
                        char range[96];
                        snprintf(range, sizeof range, "Content-Range: %llu-%llu", (unsigned long long) off,
                                 (unsigned long long) (off + n - 1));
                        struct resp pr = { .max = 65536, .in_fd = fd, .in_off = off, .in_left = n };
                        rc = request(c, "PATCH", url, NULL, "application/octet-stream", range, &pr, err);
                        if (rc == 0 && pr.status != 202)
                                rc = http_error(&pr, "upload chunk", err);
                        if (rc == 0 && pr.location) {
                                free(loc);
                                loc = xstrdup(pr.location);
                        }
                        resp_free(&pr);
                        if (rc < 0)
                                goto out;
                        off += n;
                        if (c->o->progress)
                                c->o->progress(c->o->progress_ud, digest, MOAT_PROGRESS_RUN, off, total);
                }
        }
        q = xasprintf("digest=%s", digest);
        put = resolve_location(c, loc, q);
        if (!put) {
                rc = moat_error_set(err, EPROTO, "upload location %.200s refused", loc);
                goto out;
        }
        struct resp pr = { .max = 65536, .in_fd = fd, .in_off = off, .in_left = total - off, .o = c->o,
                           .pdigest = digest, .ptotal = total };
        rc = request(c, "PUT", put, NULL, "application/octet-stream", NULL, &pr, err);
        if (rc == 0 && pr.status != 201)
                rc = http_error(&pr, "finish upload", err);
        resp_free(&pr);
        if (rc == 0 && c->o->progress)
                c->o->progress(c->o->progress_ud, digest, MOAT_PROGRESS_DONE, total, total);
out:
        resp_free(&r);
        return rc < 0 ? moat_error_wrap(err, "push blob %s", digest) : 0;
}

/* Another repository on the same registry holding this image: a cross-repository mount source. */
static char *mount_source(struct moat_image_store *s, const char *id, const struct moat_image_ref *dest)
{
        struct moat_image_info info;
        struct moat_error err;
        if (moat_image_get(s, id, &info, &err) < 0)
                return NULL;
        char *from = NULL;
        for (char **n = info.names; n && *n && !from; n++) {
                struct moat_image_ref r;
                if (moat_image_ref_parse(*n, &r, &err) < 0)
                        continue;
                if (streq(r.domain, dest->domain) && !streq(r.path, dest->path))
                        from = xstrdup(r.path);
                moat_image_ref_free(&r);
        }
        moat_image_info_clear(&info);
        return from;
}

int moat_image_push(struct moat_image_store *s, const char *image, const char *dest, const struct moat_registry_opts *o,
                    struct moat_error *err)
{
        char id[MOAT_DIGEST_LEN + 1];
        int rc = moat_image_resolve(s, image, id, err);
        if (rc < 0)
                return rc;
        struct moat_image_ref ref;
        rc = moat_image_ref_parse(dest ? dest : image, &ref, err);
        if (rc < 0)
                return rc;
        if (!ref.tag) {
                moat_image_ref_free(&ref);
                return moat_error_set(err, 0, "push %s: the destination needs a tag", dest ? dest : image);
        }
        struct moat_image_info info = { 0 };
        struct moat_manifest man = { 0 };
        struct conn c = { 0 };
        _cleanup_free_ char *body = NULL, *from = NULL;
        size_t len;
        rc = moat_image_get(s, id, &info, err);
        if (rc == 0)
                rc = moat_image_blob_get(s, info.manifest_digest, MOAT_MANIFEST_MAX, &body, &len, err);
        if (rc == 0)
                rc = moat_manifest_parse(body, len, NULL, &man, err);
        if (rc == 0)
                rc = conn_init(&c, s, o, &ref, "pull,push", err);
        if (rc < 0)
                goto out;
        from = mount_source(s, id, &ref);
        if (from)
                c.scope2 = xasprintf("repository:%s:pull", from);
        for (size_t i = 0; i <= man.n_layers && rc == 0; i++) {
                const struct moat_descriptor *d = i < man.n_layers ? &man.layers[i] : &man.config;
                rc = push_blob(&c, d->digest, d->size, from, err);
        }
        if (rc < 0)
                goto out;
        {
                _cleanup_free_ char *url = xasprintf("%s/v2/%s/manifests/%s", c.base, c.repo, ref.tag);
                struct resp r = { .max = 65536, .in_buf = body, .in_len = len };
                rc = request(&c, "PUT", url, NULL, man.media_type, NULL, &r, err);
                if (rc == 0 && r.status != 201)
                        rc = http_error(&r, "put manifest", err);
                if (rc == 0 && r.digest && !streq(r.digest, info.manifest_digest))
                        rc = moat_error_set(err, EBADMSG, "registry stored the manifest as %s, expected %s", r.digest,
                                            info.manifest_digest);
                resp_free(&r);
        }
out:
        if (rc < 0)
                moat_error_wrap(err, "push %s", dest ? dest : image);
        moat_image_info_clear(&info);
        moat_manifest_free(&man);
        moat_image_ref_free(&ref);
        conn_free(&c);
        return rc;
}

/* ---- login / logout ---- */

static int valid_server(const char *server, struct moat_error *err)
{
        _cleanup_free_ char *probe = xasprintf("%s/x", server);
        struct moat_image_ref r;
        int rc = moat_image_ref_parse(probe, &r, err);
        if (rc == 0) {
                bool same = strncmp(r.domain, server, strlen(server)) == 0 && strlen(r.domain) == strlen(server);
                moat_image_ref_free(&r);
                if (!same)
                        rc = moat_error_set(err, 0, "invalid registry %s", server);
        }
        return rc;
}

static int save_auths(const char *path, json_t *root, struct moat_error *err)
{
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!text)
                abort();
        int rc = moat_write_file_atomic(path, text, strlen(text), 0600, err);
        explicit_bzero(text, strlen(text));
        free(text);
        return rc;
}

int moat_image_login(const char *server, const char *user, const char *password, const struct moat_registry_opts *o,
                     struct moat_error *err)
{
        int rc = valid_server(server, err);
        if (rc < 0)
                return rc;
        if (!*user || strchr(user, ':'))
                return moat_error_set(err, 0, "invalid user name");
        struct moat_image_ref ref = { .domain = (char *) server, .path = (char *) "x" };
        struct conn c;
        rc = conn_init(&c, NULL, o, &ref, "pull", err);
        free(c.scope);
        c.scope = NULL;
        free(c.user);
        free(c.pass);
        c.user = xstrdup(user);
        c.pass = xstrdup(password);
        if (rc == 0) {
                _cleanup_free_ char *url = xasprintf("%s/v2/", c.base);
                struct resp r = { .max = 65536 };
                rc = request(&c, "GET", url, NULL, NULL, NULL, &r, err);
                if (rc == 0 && r.status != 200)
                        rc = http_error(&r, "check credentials", err);
                resp_free(&r);
        }
        conn_free(&c);
        if (rc < 0)
                return moat_error_wrap(err, "login to %s", server);
        _cleanup_free_ char *path = o->auth_file ? xstrdup(o->auth_file) : default_auth_file(NULL);
        json_t *root;
        rc = load_auths(path, &root, err);
        if (rc < 0)
                return rc;
        _cleanup_free_ char *up = xasprintf("%s:%s", user, password);
        _cleanup_free_ char *enc = b64(up, strlen(up));
        explicit_bzero(up, strlen(up));
        json_object_set_new(json_object_get(root, "auths"), server, json_pack("{s:s}", "auth", enc));
        explicit_bzero(enc, strlen(enc));
        rc = save_auths(path, root, err);
        json_decref(root);
        return rc;
}

int moat_image_logout(const char *server, const struct moat_registry_opts *o, struct moat_error *err)
{
        _cleanup_free_ char *path = o->auth_file ? xstrdup(o->auth_file) : default_auth_file(NULL);
        json_t *root;
        int rc = load_auths(path, &root, err);
        if (rc < 0)
                return rc;
        if (json_object_del(json_object_get(root, "auths"), server) < 0) {
                json_decref(root);
                return moat_error_set(err, ENOENT, "not logged in to %s", server);
        }
        rc = save_auths(path, root, err);
        json_decref(root);
        return rc;
}
