/* format: docker's --format (see format.h). A template is parsed once into a list of nodes;
 * rendering walks them over each item's JSON. */
#include <ctype.h>

#include "format.h"

enum node_kind { N_TEXT, N_FIELD, N_JSON, N_INDEX };

struct node {
        enum node_kind kind;
        char *text;   /* N_TEXT: the text; otherwise the action as written, for messages */
        char **path;  /* field names after the dot; empty: the dot itself */
        char *arg;    /* N_FIELD with an argument (a method call), N_INDEX: the key */
        bool arg_num; /* N_INDEX: the key is an array position */
};

struct cli_format {
        bool table;
        struct node *nodes;
        size_t n;
        char *out;
        size_t len, cap;
};

static void append(struct cli_format *f, const char *s, size_t n)
{
        if (f->len + n + 1 > f->cap) {
                f->cap = (f->len + n + 1) * 2;
                f->out = xrealloc(f->out, f->cap);
        }
        memcpy(f->out + f->len, s, n);
        f->len += n;
        f->out[f->len] = '\0';
}

static void add_node(struct cli_format *f, struct node nd)
{
        f->nodes = xrealloc(f->nodes, sizeof *f->nodes * (f->n + 1));
        f->nodes[f->n++] = nd;
}

/* Split an action into words; a "quoted" or `raw` string is one word, kept with its quote. */
static int words(const char *s, char ***out)
{
        char **v = XNEW(char *, 1);
        size_t n = 0;
        const char *p = s;
        for (;;) {
                while (isspace((unsigned char) *p))
                        p++;
                if (!*p)
                        break;
                const char *start = p;
                if (*p == '"' || *p == '`') {
                        char q = *p++;
                        while (*p && *p != q)
                                p += *p == '\\' && q == '"' && p[1] ? 2 : 1;
                        if (*p != q) {
                                strv_free(v);
                                return -1;
                        }
                        p++;
                } else
                        while (*p && !isspace((unsigned char) *p))
                                p++;
                v = xrealloc(v, sizeof(char *) * (n + 2));
                v[n++] = xstrndup(start, (size_t) (p - start));
                v[n] = NULL;
        }
        *out = v;
        return (int) n;
}

/* ".A.B" -> {"A","B"}; "." -> {}. NULL when w is not a field path. */
static char **parse_path(const char *w)
{
        if (w[0] != '.')
                return NULL;
        char **v = XNEW(char *, 1);
        size_t n = 0;
        if (streq(w, "."))
                return v;
        const char *p = w;
        while (*p == '.') {
                const char *s = ++p;
                while (isalnum((unsigned char) *p) || *p == '_')
                        p++;
                if (p == s || (!isalpha((unsigned char) *s) && *s != '_'))
                        break;
                v = xrealloc(v, sizeof(char *) * (n + 2));
                v[n++] = xstrndup(s, (size_t) (p - s));
                v[n] = NULL;
        }
        if (*p || n == 0) {
                strv_free(v);
                return NULL;
        }
        return v;
}

/* A quoted string word -> its value; NULL when it is not one. */
static char *parse_string(const char *w)
{
        size_t l = strlen(w);
        if (l < 2 || (w[0] != '"' && w[0] != '`') || w[l - 1] != w[0])
                return NULL;
        if (w[0] == '`')
                return xstrndup(w + 1, l - 2);
        char *out = xmalloc(l), *o = out;
        for (const char *p = w + 1; p < w + l - 1; p++) {
                if (*p == '\\') {
                        p++;
                        switch (*p) {
                        case 'n': *o++ = '\n'; break;
                        case 't': *o++ = '\t'; break;
                        case '\\': case '"': *o++ = *p; break;
                        default: free(out); return NULL;
                        }
                } else
                        *o++ = *p;
        }
        *o = '\0';
        return out;
}

static int parse_action(struct cli_format *f, const char *act, struct moat_error *err)
{
        char **w = NULL;
        int n = words(act, &w);
        struct node nd = { .text = xasprintf("{{%s}}", act) };
        if (n >= 1 && n <= 2 && (nd.path = parse_path(w[0]))) {
                nd.kind = N_FIELD;
                if (n == 2 && !(nd.arg = parse_string(w[1])))
                        goto bad;
        } else if (n == 2 && streq(w[0], "json") && (nd.path = parse_path(w[1]))) {
                nd.kind = N_JSON;
        } else if (n == 3 && streq(w[0], "index") && (nd.path = parse_path(w[1]))) {
                nd.kind = N_INDEX;
                long long k;
                if ((nd.arg = parse_string(w[2])) == NULL) {
                        if (moat_parse_int64(w[2], &k) < 0 || k < 0)
                                goto bad;
                        nd.arg = xstrdup(w[2]);
                        nd.arg_num = true;
                }
        } else
                goto bad;
        strv_free(w);
        add_node(f, nd);
        return 0;
bad:
        strv_free(w);
        strv_free(nd.path);
        free(nd.arg);
        moat_error_set(err, 0, "template: unsupported construct %s: Moat's --format takes text, {{.Field}}, "
                               "{{.Field.Sub}}, {{json .Field}}, {{json .}}, {{index .Field \"key\"}} and "
                               "{{.Label \"key\"}}",
                       nd.text);
        free(nd.text);
        return -EINVAL;
}

int cli_format_parse(const char *spec, const char *default_table, struct cli_format **out, struct moat_error *err)
{
        struct cli_format *f = XNEW(struct cli_format, 1);
        _cleanup_free_ char *s = NULL;
        if (streq(spec, "json"))
                s = xstrdup("{{json .}}");
        else if (streq(spec, "table") && default_table)
                s = xstrdup(default_table);
        else
                s = xstrdup(spec);
        const char *p = s;
        while (*p == ' ')
                p++;
        if (startswith(p, "table") && (p[5] == '\0' || isspace((unsigned char) p[5]) || p[5] == '\\')) {
                f->table = true;
                p += 5;
        }
        /* docker trims the spaces around and turns the two-character escapes \t and \n into the real ones */
        _cleanup_free_ char *t = xstrdup(p);
        char *a = t, *b = t;
        while (*a == ' ')
                a++;
        for (; *a; a++) {
                if (a[0] == '\\' && (a[1] == 't' || a[1] == 'n')) {
                        *b++ = a[1] == 't' ? '\t' : '\n';
                        a++;
                } else
                        *b++ = *a;
        }
        while (b > t && b[-1] == ' ')
                b--;
        *b = '\0';
        for (const char *q = t; *q;) {
                const char *open = strstr(q, "{{");
                const char *close = strstr(q, "}}");
                if (close && (!open || close < open)) {
                        cli_format_free(f);
                        return moat_error_set(err, 0, "template: unexpected \"}}\" in %s", spec);
                }
                if (!open) {
                        add_node(f, (struct node){ .kind = N_TEXT, .text = xstrdup(q) });
                        break;
                }
                if (open > q)
                        add_node(f, (struct node){ .kind = N_TEXT, .text = xstrndup(q, (size_t) (open - q)) });
                close = strstr(open + 2, "}}");
                if (!close) {
                        cli_format_free(f);
                        return moat_error_set(err, 0, "template: unclosed action in %s", spec);
                }
                _cleanup_free_ char *act = xstrndup(open + 2, (size_t) (close - open - 2));
                if (parse_action(f, act, err) < 0) {
                        cli_format_free(f);
                        return -EINVAL;
                }
                q = close + 2;
        }
        *out = f;
        return 0;
}

void cli_format_free(struct cli_format *f)
{
        if (!f)
                return;
        for (size_t i = 0; i < f->n; i++) {
                free(f->nodes[i].text);
                strv_free(f->nodes[i].path);
                free(f->nodes[i].arg);
        }
        free(f->nodes);
        free(f->out);
        free(f);
}

bool cli_format_is_table(const struct cli_format *f)
{
        return f->table;
}

/* A scalar as Go's fmt prints it; false for objects and arrays of them. */
static bool scalar_text(struct cli_format *f, json_t *v)
{
        char b[64];
        switch (json_typeof(v)) {
        case JSON_STRING: append(f, json_string_value(v), json_string_length(v)); return true;
        case JSON_INTEGER: snprintf(b, sizeof b, "%lld", (long long) json_integer_value(v)); break;
        case JSON_REAL: {
                /* Go's %v of a float64: the shortest form that reads back the same */
                double d = json_real_value(v);
                for (int prec = 1; prec <= 17; prec++) {
                        snprintf(b, sizeof b, "%.*g", prec, d);
                        if (strtod(b, NULL) == d)
                                break;
                }
                break;
        }
        case JSON_TRUE: snprintf(b, sizeof b, "true"); break;
        case JSON_FALSE: snprintf(b, sizeof b, "false"); break;
        case JSON_NULL: snprintf(b, sizeof b, "<nil>"); break;
        default: return false;
        }
        append(f, b, strlen(b));
        return true;
}

static int value_text(struct cli_format *f, const struct node *nd, json_t *v, struct moat_error *err)
{
        if (scalar_text(f, v))
                return 0;
        if (json_is_array(v)) {
                /* Go prints a slice of scalars as [a b c] */
                size_t i;
                json_t *x;
                append(f, "[", 1);
                json_array_foreach(v, i, x)
                {
                        if (i)
                                append(f, " ", 1);
                        if (!scalar_text(f, x))
                                return moat_error_set(err, 0, "template: %s is a list of objects: use {{json ...}}",
                                                      nd->text);
                }
                append(f, "]", 1);
                return 0;
        }
        return moat_error_set(err, 0, "template: %s is an object: use {{json ...}} to print it", nd->text);
}

static json_t *resolve(const struct node *nd, json_t *dot, struct moat_error *err)
{
        json_t *v = dot;
        for (size_t i = 0; nd->path[i]; i++) {
                json_t *next = json_is_object(v) ? json_object_get(v, nd->path[i]) : NULL;
                if (!next) {
                        moat_error_set(err, 0, "template: %s: can't evaluate field %s", nd->text, nd->path[i]);
                        return NULL;
                }
                v = next;
        }
        return v;
}

static int render(struct cli_format *f, json_t *dot, json_t *methods, json_t *headers, struct moat_error *err)
{
        for (size_t i = 0; i < f->n; i++) {
                const struct node *nd = &f->nodes[i];
                if (nd->kind == N_TEXT) {
                        append(f, nd->text, strlen(nd->text));
                        continue;
                }
                if (headers) {
                        const char *h = nd->path[0] ? json_string_value(json_object_get(headers, nd->path[0])) : NULL;
                        if (h)
                                append(f, h, strlen(h));
                        continue;
                }
                json_t *method = nd->path[0] && !nd->path[1] ? json_object_get(methods, nd->path[0]) : NULL;
                if (nd->kind == N_FIELD && method) {
                        if (!nd->arg)
                                return moat_error_set(err, 0, "template: %s takes an argument: {{.%s \"key\"}}", nd->text,
                                                      nd->path[0]);
                        json_t *v = json_object_get(method, nd->arg);
                        if (v && !scalar_text(f, v))
                                return moat_error_set(err, 0, "template: %s is not a value", nd->text);
                        continue;
                }
                if (nd->kind == N_FIELD && nd->arg)
                        return moat_error_set(err, 0, "template: %s: %s is a field, not a method taking an argument",
                                              nd->text, nd->path[0] ? nd->path[0] : ".");
                json_t *v = resolve(nd, dot, err);
                if (!v)
                        return -EINVAL;
                if (nd->kind == N_JSON) {
                        char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
                        append(f, s, strlen(s));
                        free(s);
                        continue;
                }
                if (nd->kind == N_INDEX) {
                        json_t *x = NULL;
                        if (nd->arg_num && json_is_array(v))
                                x = json_array_get(v, (size_t) atoll(nd->arg));
                        else if (!nd->arg_num && json_is_object(v))
                                x = json_object_get(v, nd->arg);
                        else if (!json_is_null(v))
                                return moat_error_set(err, 0, "template: %s: can't index %s with %s", nd->text,
                                                      json_is_array(v) ? "a list" : "a value", nd->arg);
                        if (nd->arg_num && json_is_array(v) && !x)
                                return moat_error_set(err, 0, "template: %s: index out of range", nd->text);
                        /* a missing map key is the zero value: nothing printed */
                        if (x && value_text(f, nd, x, err) < 0)
                                return -EINVAL;
                        continue;
                }
                if (value_text(f, nd, v, err) < 0)
                        return -EINVAL;
        }
        append(f, "\n", 1);
        return 0;
}

int cli_format_header(struct cli_format *f, json_t *headers, struct moat_error *err)
{
        return f->table ? render(f, NULL, NULL, headers, err) : 0;
}

int cli_format_add(struct cli_format *f, json_t *dot, json_t *methods, struct moat_error *err)
{
        size_t mark = f->len;
        int r = render(f, dot, methods, NULL, err);
        if (r < 0) {
                f->len = mark; /* nothing of a row that failed */
                if (f->out)
                        f->out[mark] = '\0';
        }
        return r;
}

/* characters on the screen: UTF-8 continuation bytes take no column */
static size_t width(const char *s, size_t n)
{
        size_t w = 0;
        for (size_t i = 0; i < n; i++)
                w += ((unsigned char) s[i] & 0xc0) != 0x80;
        return w;
}

void cli_format_flush(struct cli_format *f)
{
        if (!f->len)
                return;
        if (!f->table) {
                fputs(f->out, stdout);
                f->len = 0;
                return;
        }
        /* docker's tabwriter: a cell ended by a tab is padded to its column's width (widest + 3,
         * at least 10); the last cell of a line is printed as it is */
        size_t *w = NULL, nw = 0;
        for (int pass = 0; pass < 2; pass++) {
                for (char *line = f->out; *line;) {
                        char *eol = strchr(line, '\n');
                        size_t col = 0;
                        for (char *c = line; c < eol;) {
                                char *tab = memchr(c, '\t', (size_t) (eol - c));
                                size_t cw = width(c, (size_t) ((tab ? tab : eol) - c));
                                if (!tab) {
                                        if (pass)
                                                fwrite(c, 1, (size_t) (eol - c), stdout);
                                        break;
                                }
                                if (!pass) {
                                        if (col >= nw) {
                                                w = xrealloc(w, sizeof *w * (col + 1));
                                                w[nw++] = 10;
                                        }
                                        if (cw + 3 > w[col])
                                                w[col] = cw + 3;
                                } else
                                        printf("%.*s%*s", (int) (tab - c), c, (int) (w[col] - cw), "");
                                col++;
                                c = tab + 1;
                        }
                        if (pass)
                                putchar('\n');
                        line = eol + 1;
                }
        }
        free(w);
        f->len = 0;
}
