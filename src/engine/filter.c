/* filter: docker's `ps --filter` (and GET /containers/json?filters=) over the container list.
 * Values of one key are alternatives, except label, where every one must hold; keys combine with
 * AND. id and name are (unanchored) regular expressions, as docker's are. */
#include <regex.h>

#include "engine/internal.h"

static const char *const states[] = { "created", "restarting", "running", "removing", "paused", "exited", "dead" };
static const char *const healths[] = { "starting", "healthy", "unhealthy", "none" };
static const char *const policies[] = { "no", "always", "unless-stopped", "on-failure" };

struct filters {
        char **v; /* "key=value" as given */
        int64_t before, since; /* created times; 0: no such filter */
        char **ancestors;      /* resolved image ids */
        bool any_status;
};

static bool in(const char *s, const char *const *set, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (streq(s, set[i]))
                        return true;
        return false;
}

static int created_of(struct moat_engine *e, const char *name_or_id, int64_t *t, struct moat_error *err)
{
        struct moat_container_info c;
        int r = moat_engine_get(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        *t = c.created;
        moat_container_info_clear(&c);
        return 0;
}

static int check(struct moat_engine *e, char **v, struct filters *f, struct moat_error *err)
{
        for (size_t i = 0; v && v[i]; i++) {
                const char *eq = strchr(v[i], '=');
                if (!eq)
                        return moat_error_set(err, 0, "bad format of filter (expected name=value): %s", v[i]);
                _cleanup_free_ char *key = xstrndup(v[i], (size_t) (eq - v[i]));
                const char *val = eq + 1;
                long long code;
                int r;
                if (streq(key, "id") || streq(key, "name")) {
                        regex_t re;
                        if (regcomp(&re, val, REG_EXTENDED | REG_NOSUB) != 0)
                                return moat_error_set(err, 0, "invalid filter '%s': not a regular expression", v[i]);
                        regfree(&re);
                } else if (streq(key, "status")) {
                        if (!in(val, states, ARRAY_SIZE(states)))
                                return moat_error_set(err, 0, "invalid filter '%s': status is one of created, "
                                                              "restarting, running, removing, paused, exited, dead", v[i]);
                        f->any_status = true;
                } else if (streq(key, "health")) {
                        if (!in(val, healths, ARRAY_SIZE(healths)))
                                return moat_error_set(err, 0, "invalid filter '%s': health is one of starting, healthy, "
                                                              "unhealthy, none", v[i]);
                } else if (streq(key, "restart-policy")) {
                        if (!in(val, policies, ARRAY_SIZE(policies)))
                                return moat_error_set(err, 0, "invalid filter '%s': restart-policy is one of no, "
                                                              "always, unless-stopped, on-failure", v[i]);
                } else if (streq(key, "exited")) {
                        if (moat_parse_int64(val, &code) < 0)
                                return moat_error_set(err, 0, "invalid filter '%s': exited takes an exit code", v[i]);
                } else if (streq(key, "before") || streq(key, "since")) {
                        int64_t t;
                        if ((r = created_of(e, val, &t, err)) < 0)
                                return moat_error_wrap(err, "filter %s", v[i]);
                        /* several: docker keeps the last */
                        *(streq(key, "before") ? &f->before : &f->since) = t;
                } else if (streq(key, "ancestor")) {
                        char id[MOAT_DIGEST_LEN + 1];
                        struct moat_error e2;
                        size_t n = strv_len(f->ancestors);
                        f->ancestors = xrealloc(f->ancestors, sizeof(char *) * (n + 2));
                        /* an image that is not there matches nothing (as docker) */
                        f->ancestors[n] = xstrdup(moat_image_resolve(e->store, val, id, &e2) == 0 ? id : "");
                        f->ancestors[n + 1] = NULL;
                } else if (streq(key, "label")) {
                        if (!*val)
                                return moat_error_set(err, 0, "invalid filter '%s': label takes KEY or KEY=VALUE", v[i]);
                } else if (streq(key, "volume") || streq(key, "network") || streq(key, "publish") ||
                           streq(key, "expose") || streq(key, "isolation") || streq(key, "is-task"))
                        return moat_error_set(err, 0, "the filter '%s' is not supported yet (Moat filters on "
                                                            "id, name, label, status, exited, ancestor, before, since, "
                                                            "health, restart-policy)", key);
                else
                        return moat_error_set(err, 0, "invalid filter '%s' (the filters are id, name, label, status, "
                                                      "exited, ancestor, before, since, health, "
                                                      "restart-policy)", key);
        }
        return 0;
}

bool moat_filter_regex(const char *re, const char *s)
{
        regex_t x;
        if (regcomp(&x, re, REG_EXTENDED | REG_NOSUB) != 0)
                return false;
        bool m = regexec(&x, s, 0, NULL, 0) == 0;
        regfree(&x);
        return m;
}

bool moat_filter_label(json_t *labels, const char *want)
{
        const char *eq = strchr(want, '=');
        _cleanup_free_ char *k = eq ? xstrndup(want, (size_t) (eq - want)) : xstrdup(want);
        const char *have = json_string_value(json_object_get(labels, k));
        return have && (!eq || streq(have, eq + 1));
}

const char *moat_container_health_status(const struct moat_container_info *c)
{
        const char *h = json_string_value(json_object_get(c->health, "Status"));
        return h ? h : "none";
}

/* no | always | unless-stopped | on-failure (its :N left out) */
static const char *restart_policy(const struct moat_container_info *c)
{
        const char *p = json_string_value(json_object_get(json_object_get(c->config, "HostConfig"), "RestartPolicyString"));
        if (!p || !*p)
                return "no";
        return startswith(p, "on-failure") ? "on-failure" : p;
}

static bool match(const struct filters *f, const struct moat_container_info *c)
{
        /* per key: did any value of it appear, did one match */
        const char *keys[] = { "id", "name", "status", "health", "exited", "ancestor", "restart-policy" };
        bool seen[ARRAY_SIZE(keys)] = { 0 }, hit[ARRAY_SIZE(keys)] = { 0 };
        const char *state = streq(c->state, "creating") ? "created" : c->state;
        size_t anc = 0;
        for (size_t i = 0; f->v && f->v[i]; i++) {
                const char *eq = strchr(f->v[i], '=');
                const char *val = eq + 1;
                size_t kl = (size_t) (eq - f->v[i]);
                if (kl == 5 && startswith(f->v[i], "label")) {
                        if (!moat_filter_label(c->labels, val))
                                return false;
                        continue;
                }
                for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
                        if (strlen(keys[k]) != kl || strncmp(f->v[i], keys[k], kl) != 0)
                                continue;
                        seen[k] = true;
                        bool m = false;
                        switch (k) {
                        case 0: m = moat_filter_regex(val, c->id); break;
                        case 1: {
                                _cleanup_free_ char *slashed = xasprintf("/%s", c->name);
                                m = moat_filter_regex(val, c->name) || moat_filter_regex(val, slashed);
                                break;
                        }
                        case 2: m = streq(val, state); break;
                        case 3: m = streq(val, moat_container_health_status(c)); break;
                        case 4: m = streq(state, "exited") && c->started && c->exit_code == atoi(val); break;
                        case 5: {
                                const char *want = f->ancestors[anc++];
                                m = (*want && c->image_id && streq(want, c->image_id)) || streq(val, c->image);
                                break;
                        }
                        case 6: m = streq(val, restart_policy(c)); break;
                        default: break;
                        }
                        hit[k] |= m;
                }
        }
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
                if (seen[k] && !hit[k])
                        return false;
        if (f->before && c->created >= f->before)
                return false;
        if (f->since && c->created <= f->since)
                return false;
        return true;
}

int moat_engine_list_filtered(struct moat_engine *e, bool all, char **filters, struct moat_container_info **out,
                              size_t *n, struct moat_error *err)
{
        struct filters f = { .v = filters };
        int r = check(e, filters, &f, err);
        if (r < 0) {
                strv_free(f.ancestors);
                return r;
        }
        /* a status filter looks at every container, as docker's does */
        if ((r = moat_engine_list(e, all || f.any_status, out, n, err)) < 0) {
                strv_free(f.ancestors);
                return r;
        }
        size_t w = 0;
        for (size_t i = 0; i < *n; i++) {
                if (match(&f, &(*out)[i]))
                        (*out)[w++] = (*out)[i];
                else
                        moat_container_info_clear(&(*out)[i]);
        }
        *n = w;
        strv_free(f.ancestors);
        return 0;
}
