/* seccomp: the OCI linux.seccomp section, validated field by field, compiled to classic BPF with
 * libseccomp and cached by content hash, then loaded with the raw seccomp(2) syscall so the
 * flags (TSYNC, LOG, SPEC_ALLOW, NEW_LISTENER) are ours to choose. Compiling Docker's profile
 * costs milliseconds; a cache hit costs a hash and one small file read. */
#include "seccomp.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "caps.h"
#include "util/digest.h"
#include "config.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef BPF_MAXINSNS
#define BPF_MAXINSNS 4096
#endif

/* Bounds on what we accept: far above any real profile, far below what would hurt. */
#define MAX_RULES 4096
#define MAX_NAMES_PER_RULE 1024
#define MAX_ARGS 6
#define MAX_ARCHES 32
#define MAX_FLAGS 16
#define MAX_NAME_LEN 64
#define MAX_ERRNO 4095
#define MAX_METADATA 4096
#define MAX_STATE_JSON (1 << 20)

/* Bump when the cache file layout or the way a profile is compiled changes. */
#define CACHE_FORMAT 1
static const char cache_magic[8] = { 'M', 'O', 'A', 'T', 'B', 'P', 'F', '\1' };

struct cache_header {
        char magic[8];
        uint32_t header_size;
        uint32_t flags;
        uint32_t len;    /* instructions */
        uint32_t notify; /* 0 or 1 */
        uint8_t key[32]; /* the profile's cache key: a file renamed by mistake is not trusted */
        uint8_t sum[32]; /* SHA-256 of the instructions: a corrupt file is rebuilt */
};

void moat_seccomp_program_free(struct moat_seccomp_program *p)
{
        if (!p)
                return;
        free(p->filter);
        free(p->listener_path);
        free(p->listener_metadata);
        memset(p, 0, sizeof *p);
}

/* ---- names ---- */

struct name_value {
        const char *name;
        uint32_t value;
};

static const struct name_value arch_table[] = {
        { "SCMP_ARCH_NATIVE", SCMP_ARCH_NATIVE },
        { "SCMP_ARCH_X86", SCMP_ARCH_X86 },
        { "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
        { "SCMP_ARCH_X32", SCMP_ARCH_X32 },
        { "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
        { "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
        { "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
        { "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
        { "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
        { "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
        { "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
        { "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
        { "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
        { "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 },
        { "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
        { "SCMP_ARCH_S390", SCMP_ARCH_S390 },
        { "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
        { "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC },
        { "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
        { "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
#ifdef SCMP_ARCH_LOONGARCH64
        { "SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64 },
#endif
#ifdef SCMP_ARCH_M68K
        { "SCMP_ARCH_M68K", SCMP_ARCH_M68K },
#endif
#ifdef SCMP_ARCH_SH
        { "SCMP_ARCH_SH", SCMP_ARCH_SH },
        { "SCMP_ARCH_SHEB", SCMP_ARCH_SHEB },
#endif
};

/* Names newer libseccomp releases know: refused with a clear reason rather than "unknown". */
static const char *const arch_too_new[] = { "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH",
                                            "SCMP_ARCH_SHEB" };

static const struct name_value flag_table[] = {
        { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
        { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
        { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
        { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

static const struct name_value op_table[] = {
        { "SCMP_CMP_NE", SCMP_CMP_NE },         { "SCMP_CMP_LT", SCMP_CMP_LT },
        { "SCMP_CMP_LE", SCMP_CMP_LE },         { "SCMP_CMP_EQ", SCMP_CMP_EQ },
        { "SCMP_CMP_GE", SCMP_CMP_GE },         { "SCMP_CMP_GT", SCMP_CMP_GT },
        { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct name_value *lookup(const struct name_value *t, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (streq(t[i].name, name))
                        return &t[i];
        return NULL;
}

/* ---- parsing: every field checked, every error names it ---- */

struct parsed_rule {
        json_t *names; /* borrowed from the profile */
        uint32_t action;
        unsigned nargs;
        bool split; /* two conditions on one argument: one rule per condition, as runc does */
        struct scmp_arg_cmp args[MAX_ARGS];
};

struct parsed_profile {
        uint32_t default_action;
        uint32_t arches[MAX_ARCHES];
        size_t narches;
        uint32_t flags;
        bool notify;
        const char *listener_path;
        const char *listener_metadata;
        struct parsed_rule *rules;
        size_t nrules;
};

static void parsed_profile_free(struct parsed_profile *pp)
{
        free(pp->rules);
        pp->rules = NULL;
}

static int get_u64(json_t *v, uint64_t *out)
{
        if (!json_is_integer(v))
                return -1;
        /* jansson holds integers as long long: a negative number stands for its two's
         * complement, the only way to spell a mask with the top bit set. */
        *out = (uint64_t) json_integer_value(v);
        return 0;
}

static int parse_errno(json_t *v, const char *field, uint32_t *out, struct moat_error *err)
{
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > MAX_ERRNO)
                return moat_error_set(err, 0, "%s: must be an integer from 0 to %d", field, MAX_ERRNO);
        *out = (uint32_t) json_integer_value(v);
        return 0;
}

/* action name + optional errnoRet -> libseccomp action value */
static int parse_action(json_t *action, json_t *errno_ret, const char *field, const char *errno_field,
                        uint32_t *out, bool *notify, struct moat_error *err)
{
        if (!json_is_string(action))
                return moat_error_set(err, 0, "%s: must be a string", field);
        const char *a = json_string_value(action);
        uint32_t ret = EPERM;
        if (errno_ret && !json_is_null(errno_ret)) {
                if (!streq(a, "SCMP_ACT_ERRNO") && !streq(a, "SCMP_ACT_TRACE"))
                        return moat_error_set(err, 0, "%s: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not %s",
                                              errno_field, a);
                int r = parse_errno(errno_ret, errno_field, &ret, err);
                if (r < 0)
                        return r;
        }
        if (streq(a, "SCMP_ACT_KILL") || streq(a, "SCMP_ACT_KILL_THREAD"))
                *out = SCMP_ACT_KILL_THREAD;
        else if (streq(a, "SCMP_ACT_KILL_PROCESS"))
                *out = SCMP_ACT_KILL_PROCESS;
        else if (streq(a, "SCMP_ACT_TRAP"))
                *out = SCMP_ACT_TRAP;
        else if (streq(a, "SCMP_ACT_ERRNO"))
                *out = SCMP_ACT_ERRNO(ret);
        else if (streq(a, "SCMP_ACT_TRACE"))
                *out = SCMP_ACT_TRACE(ret);
        else if (streq(a, "SCMP_ACT_ALLOW"))
                *out = SCMP_ACT_ALLOW;
        else if (streq(a, "SCMP_ACT_LOG"))
                *out = SCMP_ACT_LOG;
        else if (streq(a, "SCMP_ACT_NOTIFY")) {
                *out = SCMP_ACT_NOTIFY;
                if (notify)
                        *notify = true;
        } else
                return moat_error_set(err, 0, "%s: unknown action \"%.64s\"", field, a);
        return 0;
}

static int parse_arg(json_t *arg, const char *field, struct scmp_arg_cmp *out, struct moat_error *err)
{
        if (!json_is_object(arg))
                return moat_error_set(err, 0, "%s: must be an object", field);
        const char *key;
        json_t *v;
        json_object_foreach(arg, key, v)
        {
                if (!streq(key, "index") && !streq(key, "value") && !streq(key, "valueTwo") && !streq(key, "op"))
                        return moat_error_set(err, 0, "%s.%.64s: unknown field", field, key);
        }
        json_t *index = json_object_get(arg, "index");
        if (!json_is_integer(index) || json_integer_value(index) < 0 || json_integer_value(index) >= MAX_ARGS)
                return moat_error_set(err, 0, "%s.index: must be an integer from 0 to %d", field, MAX_ARGS - 1);
        uint64_t value = 0, value2 = 0;
        json_t *jv = json_object_get(arg, "value"), *jv2 = json_object_get(arg, "valueTwo");
        if (!jv || get_u64(jv, &value) < 0)
                return moat_error_set(err, 0, "%s.value: must be an integer", field);
        if (jv2 && !json_is_null(jv2) && get_u64(jv2, &value2) < 0)
                return moat_error_set(err, 0, "%s.valueTwo: must be an integer", field);
        json_t *op = json_object_get(arg, "op");
        if (!json_is_string(op))
                return moat_error_set(err, 0, "%s.op: must be a string", field);
        const struct name_value *o = lookup(op_table, ARRAY_SIZE(op_table), json_string_value(op));
        if (!o)
                return moat_error_set(err, 0, "%s.op: unknown operator \"%.64s\"", field, json_string_value(op));
        out->arg = (unsigned) json_integer_value(index);
        out->op = (enum scmp_compare) o->value;
        /* OCI (like libseccomp) reads MASKED_EQ as (arg & value) == valueTwo. */
        out->datum_a = value;
        out->datum_b = value2;
        return 0;
}

static int parse_rule(json_t *rule, size_t i, uint32_t default_action, struct parsed_rule *out, bool *notify,
                      struct moat_error *err)
{
        char field[96], f2[128];
        snprintf(field, sizeof field, "linux.seccomp.syscalls[%zu]", i);
        if (!json_is_object(rule))
                return moat_error_set(err, 0, "%s: must be an object", field);
        const char *key;
        json_t *v;
        json_object_foreach(rule, key, v)
        {
                if (streq(key, "names") || streq(key, "action") || streq(key, "errnoRet") || streq(key, "args") ||
                    streq(key, "comment"))
                        continue;
                if (streq(key, "includes") || streq(key, "excludes"))
                        return moat_error_set(err, 0,
                                              "%s.%s: a Docker profile field, not OCI: resolve the profile for "
                                              "the container's capabilities and architecture first",
                                              field, key);
                return moat_error_set(err, 0, "%s.%.64s: unknown field", field, key);
        }
        json_t *names = json_object_get(rule, "names");
        snprintf(f2, sizeof f2, "%s.names", field);
        if (!json_is_array(names) || json_array_size(names) == 0)
                return moat_error_set(err, 0, "%s: must be a non-empty array of syscall names", f2);
        if (json_array_size(names) > MAX_NAMES_PER_RULE)
                return moat_error_set(err, 0, "%s: %zu names (at most %d)", f2, json_array_size(names),
                                      MAX_NAMES_PER_RULE);
        for (size_t j = 0; j < json_array_size(names); j++) {
                json_t *n = json_array_get(names, j);
                if (!json_is_string(n) || json_string_length(n) == 0 || json_string_length(n) > MAX_NAME_LEN)
                        return moat_error_set(err, 0, "%s[%zu]: must be a syscall name (1 to %d characters)", f2, j,
                                              MAX_NAME_LEN);
        }
        out->names = names;

        char fa[128], fe[128];
        snprintf(fa, sizeof fa, "%s.action", field);
        snprintf(fe, sizeof fe, "%s.errnoRet", field);
        int r = parse_action(json_object_get(rule, "action"), json_object_get(rule, "errnoRet"), fa, fe,
                             &out->action, notify, err);
        if (r < 0)
                return r;
        (void) default_action;

        json_t *args = json_object_get(rule, "args");
        out->nargs = 0;
        out->split = false;
        if (args && !json_is_null(args)) {
                snprintf(f2, sizeof f2, "%s.args", field);
                if (!json_is_array(args))
                        return moat_error_set(err, 0, "%s: must be an array", f2);
                if (json_array_size(args) > MAX_ARGS)
                        return moat_error_set(err, 0, "%s: %zu conditions (at most %d)", f2, json_array_size(args),
                                              MAX_ARGS);
                unsigned seen = 0;
                for (size_t j = 0; j < json_array_size(args); j++) {
                        char fj[160];
                        snprintf(fj, sizeof fj, "%s[%zu]", f2, j);
                        r = parse_arg(json_array_get(args, j), fj, &out->args[j], err);
                        if (r < 0)
                                return r;
                        if (seen & (1u << out->args[j].arg))
                                out->split = true;
                        seen |= 1u << out->args[j].arg;
                }
                out->nargs = (unsigned) json_array_size(args);
        }
        return 0;
}

static int parse_profile(json_t *profile, struct parsed_profile *pp, struct moat_error *err)
{
        memset(pp, 0, sizeof *pp);
        if (!json_is_object(profile))
                return moat_error_set(err, 0, "linux.seccomp: must be an object");
        const char *key;
        json_t *v;
        json_object_foreach(profile, key, v)
        {
                static const char *const known[] = { "defaultAction", "defaultErrnoRet", "architectures", "flags",
                                                     "listenerPath", "listenerMetadata", "syscalls" };
                bool ok = false;
                for (size_t i = 0; i < ARRAY_SIZE(known); i++)
                        ok = ok || streq(key, known[i]);
                if (!ok)
                        return moat_error_set(err, 0, "linux.seccomp.%.64s: unknown field%s", key,
                                              streq(key, "archMap") ? " (a Docker profile field, not OCI)" : "");
        }

        bool default_notify = false;
        int r = parse_action(json_object_get(profile, "defaultAction"), json_object_get(profile, "defaultErrnoRet"),
                             "linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet", &pp->default_action,
                             &default_notify, err);
        if (r < 0)
                return r;
        if (default_notify)
                return moat_error_set(err, 0, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default "
                                              "action (the runtime's own syscalls would wait on the agent)");

        json_t *arches = json_object_get(profile, "architectures");
        if (arches && !json_is_null(arches)) {
                if (!json_is_array(arches))
                        return moat_error_set(err, 0, "linux.seccomp.architectures: must be an array of strings");
                if (json_array_size(arches) > MAX_ARCHES)
                        return moat_error_set(err, 0, "linux.seccomp.architectures: %zu entries (at most %d)",
                                              json_array_size(arches), MAX_ARCHES);
                for (size_t i = 0; i < json_array_size(arches); i++) {
                        json_t *a = json_array_get(arches, i);
                        if (!json_is_string(a))
                                return moat_error_set(err, 0, "linux.seccomp.architectures[%zu]: must be a string", i);
                        const char *name = json_string_value(a);
                        const struct name_value *nv = lookup(arch_table, ARRAY_SIZE(arch_table), name);
                        if (!nv) {
                                for (size_t k = 0; k < ARRAY_SIZE(arch_too_new); k++)
                                        if (streq(arch_too_new[k], name))
                                                return moat_error_set(err, 0,
                                                                      "linux.seccomp.architectures[%zu]: %s is not "
                                                                      "supported by libseccomp %s",
                                                                      i, name, MOAT_LIBSECCOMP_VERSION);
                                return moat_error_set(err, 0,
                                                      "linux.seccomp.architectures[%zu]: unknown architecture \"%.64s\"",
                                                      i, name);
                        }
                        pp->arches[pp->narches++] = nv->value;
                }
        }

        json_t *flags = json_object_get(profile, "flags");
        if (flags && !json_is_null(flags)) {
                if (!json_is_array(flags) || json_array_size(flags) > MAX_FLAGS)
                        return moat_error_set(err, 0, "linux.seccomp.flags: must be an array of at most %d strings",
                                              MAX_FLAGS);
                for (size_t i = 0; i < json_array_size(flags); i++) {
                        json_t *f = json_array_get(flags, i);
                        if (!json_is_string(f))
                                return moat_error_set(err, 0, "linux.seccomp.flags[%zu]: must be a string", i);
                        const struct name_value *nv = lookup(flag_table, ARRAY_SIZE(flag_table), json_string_value(f));
                        if (!nv)
                                return moat_error_set(err, 0, "linux.seccomp.flags[%zu]: unknown flag \"%.64s\"", i,
                                                      json_string_value(f));
                        pp->flags |= nv->value;
                }
        }

        json_t *lp = json_object_get(profile, "listenerPath");
        if (lp && !json_is_null(lp)) {
                if (!json_is_string(lp) || json_string_length(lp) == 0 ||
                    json_string_length(lp) >= sizeof(((struct sockaddr_un *) 0)->sun_path))
                        return moat_error_set(err, 0, "linux.seccomp.listenerPath: must be a unix socket path "
                                                      "shorter than %zu bytes",
                                              sizeof(((struct sockaddr_un *) 0)->sun_path));
                pp->listener_path = json_string_value(lp);
        }
        json_t *lm = json_object_get(profile, "listenerMetadata");
        if (lm && !json_is_null(lm)) {
                if (!json_is_string(lm) || json_string_length(lm) > MAX_METADATA)
                        return moat_error_set(err, 0, "linux.seccomp.listenerMetadata: must be a string of at most "
                                                      "%d bytes",
                                              MAX_METADATA);
                pp->listener_metadata = json_string_value(lm);
        }

        json_t *syscalls = json_object_get(profile, "syscalls");
        if (syscalls && !json_is_null(syscalls)) {
                if (!json_is_array(syscalls))
                        return moat_error_set(err, 0, "linux.seccomp.syscalls: must be an array");
                size_t n = json_array_size(syscalls);
                if (n > MAX_RULES)
                        return moat_error_set(err, 0, "linux.seccomp.syscalls: %zu rules (at most %d)", n, MAX_RULES);
                pp->rules = XNEW(struct parsed_rule, n ? n : 1);
                for (size_t i = 0; i < n; i++) {
                        r = parse_rule(json_array_get(syscalls, i), i, pp->default_action, &pp->rules[i], &pp->notify,
                                       err);
                        if (r < 0) {
                                parsed_profile_free(pp);
                                return r;
                        }
                }
                pp->nrules = n;
        }
        if (pp->notify && !pp->listener_path) {
                parsed_profile_free(pp);
                return moat_error_set(err, 0, "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
        }
        if ((pp->flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) && !pp->notify) {
                parsed_profile_free(pp);
                return moat_error_set(err, 0, "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a "
                                              "rule with SCMP_ACT_NOTIFY");
        }
        return 0;
}

/* ---- compiling with libseccomp ---- */

static void ctx_releasep(scmp_filter_ctx *c)
{
        if (*c)
                seccomp_release(*c);
}

/* libseccomp lets an unconditional rule for a syscall win over every conditional rule for it,
 * silently: "allow socket" plus "deny socket(AF_ALG)" allows AF_ALG. A profile that says that
 * is refused, naming both rules, instead of quietly meaning something else. */
static int check_shadowed_rules(const struct parsed_profile *pp, struct moat_error *err)
{
        json_t *uncond = json_object(); /* name -> index of its unconditional rule */
        int r = 0;
        for (size_t i = 0; i < pp->nrules; i++) {
                const struct parsed_rule *rule = &pp->rules[i];
                if (rule->nargs || rule->action == pp->default_action)
                        continue;
                for (size_t j = 0; j < json_array_size(rule->names); j++) {
                        const char *name = json_string_value(json_array_get(rule->names, j));
                        if (!json_object_get(uncond, name))
                                json_object_set_new(uncond, name, json_integer((json_int_t) i));
                }
        }
        for (size_t i = 0; i < pp->nrules && r == 0; i++) {
                const struct parsed_rule *rule = &pp->rules[i];
                if (!rule->nargs)
                        continue;
                for (size_t j = 0; j < json_array_size(rule->names); j++) {
                        const char *name = json_string_value(json_array_get(rule->names, j));
                        json_t *at = json_object_get(uncond, name);
                        if (!at || pp->rules[json_integer_value(at)].action == rule->action)
                                continue;
                        r = moat_error_set(err, 0,
                                           "linux.seccomp.syscalls[%zu]: the conditional rule for \"%s\" would never "
                                           "apply: syscalls[%lld] matches \"%s\" unconditionally with another action",
                                           i, name, (long long) json_integer_value(at), name);
                        break;
                }
        }
        json_decref(uncond);
        return r;
}

static int compile_bpf(const struct parsed_profile *pp, struct sock_filter **filter, unsigned short *len,
                       struct moat_error *err)
{
        int cr = check_shadowed_rules(pp, err);
        if (cr < 0)
                return cr;
        _cleanup_(ctx_releasep) scmp_filter_ctx ctx = seccomp_init(pp->default_action);
        if (!ctx)
                return moat_error_set(err, 0, "linux.seccomp.defaultAction: libseccomp refused the default action");
        /* Turns the per-syscall if-chain into a binary search: cheaper syscalls in the container. */
        (void) seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        for (size_t i = 0; i < pp->narches; i++) {
                if (pp->arches[i] == SCMP_ARCH_NATIVE)
                        continue;
                int r = seccomp_arch_add(ctx, pp->arches[i]);
                if (r < 0 && r != -EEXIST)
                        return moat_error_set(err, -r, "linux.seccomp.architectures[%zu]: add to the filter", i);
        }
        for (size_t i = 0; i < pp->nrules; i++) {
                const struct parsed_rule *rule = &pp->rules[i];
                /* libseccomp refuses a rule that repeats the default; it would change nothing. */
                if (rule->action == pp->default_action)
                        continue;
                for (size_t j = 0; j < json_array_size(rule->names); j++) {
                        const char *name = json_string_value(json_array_get(rule->names, j));
                        int nr = seccomp_syscall_resolve_name(name);
                        if (nr == __NR_SCMP_ERROR)
                                continue; /* unknown here: profiles name syscalls of other arches and kernels */
                        int r = 0;
                        if (!rule->split)
                                r = seccomp_rule_add_array(ctx, rule->action, nr, rule->nargs, rule->args);
                        else
                                for (unsigned k = 0; k < rule->nargs && r == 0; k++)
                                        r = seccomp_rule_add_array(ctx, rule->action, nr, 1, &rule->args[k]);
                        if (r < 0)
                                return moat_error_set(err, -r, "linux.seccomp.syscalls[%zu]: add rule for \"%s\"", i,
                                                      name);
                }
        }

        /* libseccomp 2.5 can only export to an fd: a memfd keeps it off any filesystem. */
        _cleanup_close_ int fd = memfd_create("moat-seccomp-bpf", MFD_CLOEXEC);
        if (fd < 0)
                return moat_error_set(err, errno, "seccomp: memfd_create");
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return moat_error_set(err, -r, "seccomp: export the BPF program");
        off_t size = lseek(fd, 0, SEEK_END);
        if (size < 0)
                return moat_error_set(err, errno, "seccomp: size of the exported program");
        if (size == 0 || size % (off_t) sizeof(struct sock_filter) != 0)
                return moat_error_set(err, EIO, "seccomp: exported program has a bad size (%lld bytes)",
                                      (long long) size);
        size_t n = (size_t) size / sizeof(struct sock_filter);
        if (n > BPF_MAXINSNS)
                return moat_error_set(err, E2BIG,
                                      "linux.seccomp: the profile compiles to %zu BPF instructions, the kernel "
                                      "takes at most %d",
                                      n, BPF_MAXINSNS);
        _cleanup_free_ struct sock_filter *buf = xmalloc((size_t) size);
        ssize_t got = pread(fd, buf, (size_t) size, 0);
        if (got != size)
                return moat_error_set(err, got < 0 ? errno : EIO, "seccomp: read back the exported program");
        *filter = STEAL(buf);
        *len = (unsigned short) n;
        return 0;
}

/* ---- the cache ---- */

static void sha256(const void *data, size_t len, uint8_t out[32])
{
        _cleanup_(moat_sha256_freep) struct moat_sha256 *c = moat_sha256_new();
        moat_sha256_update(c, data, len);
        moat_sha256_final_raw(c, out);
}

static int cache_key(json_t *profile, uint8_t key[32], struct moat_error *err)
{
        /* not JSON_SORT_KEYS: sorting every object costs more than the rest of a cache hit; the same
         * document always dumps the same, and a reordered one only misses the cache once */
        _cleanup_free_ char *canon = json_dumps(profile, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!canon)
                return moat_error_set(err, ENOMEM, "linux.seccomp: serialize the profile");
        const struct scmp_version *v = seccomp_version();
        char prefix[160];
        int pl = snprintf(prefix, sizeof prefix, "moat-seccomp-cache/%d cap_last=%d libseccomp=%u.%u.%u arch=%u\n",
                          CACHE_FORMAT, moat_cap_last(), v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0,
                          seccomp_arch_native());
        _cleanup_(moat_sha256_freep) struct moat_sha256 *c = moat_sha256_new();
        moat_sha256_update(c, prefix, (size_t) pl);
        moat_sha256_update(c, canon, strlen(canon));
        moat_sha256_final_raw(c, key);
        return 0;
}

int moat_seccomp_cache_key(json_t *profile, char hex[65], struct moat_error *err)
{
        uint8_t key[32];
        int r = cache_key(profile, key, err);
        if (r < 0)
                return r;
        moat_hex(key, 32, hex);
        return 0;
}

/* A cached program is used only if everything about the file checks out; any doubt means a
 * rebuild, never a failure and never a guess. */
static bool cache_read(const char *path, const uint8_t key[32], uint32_t flags, bool notify,
                       struct sock_filter **filter, unsigned short *len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return false;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return false;
        /* Someone else's file, or one others may write, could hold any filter. */
        if (st.st_uid != geteuid() || (st.st_mode & 022))
                return false;
        size_t max = sizeof(struct cache_header) + (size_t) BPF_MAXINSNS * sizeof(struct sock_filter);
        if (st.st_size < (off_t) sizeof(struct cache_header) || (size_t) st.st_size > max)
                return false;
        _cleanup_free_ char *buf = xmalloc((size_t) st.st_size);
        if (moat_read_all(fd, buf, (size_t) st.st_size) != st.st_size)
                return false;
        struct cache_header h;
        memcpy(&h, buf, sizeof h);
        if (memcmp(h.magic, cache_magic, sizeof h.magic) != 0 || h.header_size != sizeof h)
                return false;
        if (h.len == 0 || h.len > BPF_MAXINSNS ||
            (size_t) st.st_size != sizeof h + (size_t) h.len * sizeof(struct sock_filter))
                return false;
        if (memcmp(h.key, key, 32) != 0 || h.flags != flags || h.notify != (notify ? 1u : 0u))
                return false;
        uint8_t sum[32];
        size_t body = (size_t) h.len * sizeof(struct sock_filter);
        sha256(buf + sizeof h, body, sum);
        if (memcmp(sum, h.sum, 32) != 0)
                return false;
        struct sock_filter *f = xmalloc(body);
        memcpy(f, buf + sizeof h, body);
        *filter = f;
        *len = (unsigned short) h.len;
        return true;
}

static int cache_write(const char *dir, const char *path, const uint8_t key[32], uint32_t flags, bool notify,
                       const struct sock_filter *filter, unsigned short len, struct moat_error *err)
{
        int r = moat_mkdir_p(dir, 0700, err);
        if (r < 0)
                return r;
        size_t body = (size_t) len * sizeof(struct sock_filter);
        struct cache_header h;
        memset(&h, 0, sizeof h);
        memcpy(h.magic, cache_magic, sizeof h.magic);
        h.header_size = sizeof h;
        h.flags = flags;
        h.len = len;
        h.notify = notify ? 1 : 0;
        memcpy(h.key, key, 32);
        sha256(filter, body, h.sum);
        _cleanup_free_ char *buf = xmalloc(sizeof h + body);
        memcpy(buf, &h, sizeof h);
        memcpy(buf + sizeof h, filter, body);
        return moat_write_file_atomic(path, buf, sizeof h + body, 0600, err);
}

int moat_seccomp_compile(json_t *profile, const char *cache_dir, struct moat_seccomp_program *out,
                         struct moat_error *err)
{
        memset(out, 0, sizeof *out);
        struct parsed_profile pp;
        int r = parse_profile(profile, &pp, err);
        if (r < 0)
                return r;

        uint8_t key[32];
        _cleanup_free_ char *path = NULL;
        if (cache_dir) {
                r = cache_key(profile, key, err);
                if (r < 0)
                        goto out;
                char hex[65];
                moat_hex(key, 32, hex);
                path = xasprintf("%s/%s.bpf", cache_dir, hex);
                if (cache_read(path, key, pp.flags, pp.notify, &out->filter, &out->len)) {
                        out->cached = true;
                        goto done;
                }
        }

        r = compile_bpf(&pp, &out->filter, &out->len, err);
        if (r < 0)
                goto out;
        if (path) {
                /* A cache that cannot be written costs speed, not correctness. */
                struct moat_error ignored;
                moat_error_clear(&ignored);
                (void) cache_write(cache_dir, path, key, pp.flags, pp.notify, out->filter, out->len, &ignored);
        }
done:
        out->flags = pp.flags;
        out->notify = pp.notify;
        out->listener_path = pp.listener_path ? xstrdup(pp.listener_path) : NULL;
        out->listener_metadata = pp.listener_metadata ? xstrdup(pp.listener_metadata) : NULL;
        r = 0;
out:
        parsed_profile_free(&pp);
        if (r < 0)
                moat_seccomp_program_free(out);
        return r;
}

/* ---- loading ---- */

static void describe_flags(uint32_t flags, char *buf, size_t size)
{
        static const struct name_value extra[] = {
                { "SECCOMP_FILTER_FLAG_NEW_LISTENER", SECCOMP_FILTER_FLAG_NEW_LISTENER },
                { "SECCOMP_FILTER_FLAG_TSYNC_ESRCH", SECCOMP_FILTER_FLAG_TSYNC_ESRCH },
        };
        size_t used = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < ARRAY_SIZE(flag_table) + ARRAY_SIZE(extra); i++) {
                const struct name_value *f = i < ARRAY_SIZE(flag_table) ? &flag_table[i]
                                                                         : &extra[i - ARRAY_SIZE(flag_table)];
                if (!(flags & f->value) || used + 1 >= size)
                        continue;
                int n = snprintf(buf + used, size - used, "%s%s", used ? "|" : "", f->name);
                used = n < 0 ? used : used + (size_t) n >= size ? size - 1 : used + (size_t) n;
        }
        if (!buf[0])
                snprintf(buf, size, "none");
}

int moat_seccomp_load(const struct moat_seccomp_program *p, struct moat_error *err)
{
        if (!p || !p->filter || p->len == 0)
                return moat_error_set(err, EINVAL, "load seccomp filter: empty program");
        unsigned long flags = p->flags;
        if (p->notify) {
                flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
                /* TSYNC returns a thread id on failure, which would collide with the listener fd. */
                if (flags & SECCOMP_FILTER_FLAG_TSYNC)
                        flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
        }
        struct sock_fprog prog = { .len = p->len, .filter = p->filter };
        long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
        if (r < 0 && errno == ENOSYS && flags == 0)
                r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
        if (r < 0) {
                int e = errno;
                char fl[256];
                describe_flags((uint32_t) flags, fl, sizeof fl);
                if (e == EACCES)
                        return moat_error_set(err, e, "load seccomp filter: no_new_privs is not set and the caller "
                                                      "lacks CAP_SYS_ADMIN");
                if (e == EINVAL)
                        return moat_error_set(err, e, "load seccomp filter (%u instructions, flags %s): the kernel "
                                                      "refused the program or one of the flags",
                                              p->len, fl);
                if (e == ESRCH)
                        return moat_error_set(err, e, "load seccomp filter: another thread could not be "
                                                      "synchronized (TSYNC)");
                return moat_error_set(err, e, "load seccomp filter (flags %s)", fl);
        }
        if (p->notify)
                return (int) r;
        if (flags & SECCOMP_FILTER_FLAG_TSYNC && r > 0)
                return moat_error_set(err, ESRCH, "load seccomp filter: thread %ld could not be synchronized (TSYNC)",
                                      r);
        return 0;
}

/* ---- the seccomp agent protocol ---- */

int moat_seccomp_send_listener(const struct moat_seccomp_program *p, int listener_fd, const char *state_json,
                               struct moat_error *err)
{
        if (!p || !p->listener_path)
                return moat_error_set(err, EINVAL, "seccomp listener: the profile has no listenerPath");
        if (listener_fd < 0)
                return moat_error_set(err, EBADF, "seccomp listener: no listener fd");
        if (!state_json || strlen(state_json) > MAX_STATE_JSON)
                return moat_error_set(err, EINVAL, "seccomp listener: missing or oversized container state");
        json_error_t jerr;
        json_t *state = json_loads(state_json, JSON_REJECT_DUPLICATES, &jerr);
        if (!state || !json_is_object(state)) {
                json_decref(state);
                return moat_error_set(err, EINVAL, "seccomp listener: container state is not a JSON object: %s",
                                      jerr.text);
        }
        json_t *ver = json_object_get(state, "ociVersion");
        json_t *pid = json_object_get(state, "pid");
        json_t *msg = json_pack("{s:s, s:[s], s:I, s:s, s:o}", "ociVersion",
                                json_is_string(ver) ? json_string_value(ver) : "1.2.0", "fds", "seccompFd", "pid",
                                (json_int_t) (json_is_integer(pid) ? json_integer_value(pid) : 0), "metadata",
                                p->listener_metadata ? p->listener_metadata : "", "state", state);
        if (!msg)
                return moat_error_set(err, ENOMEM, "seccomp listener: build the state message");
        _cleanup_free_ char *text = json_dumps(msg, JSON_COMPACT);
        json_decref(msg);
        if (!text)
                return moat_error_set(err, ENOMEM, "seccomp listener: serialize the state message");

        _cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return moat_error_set(err, errno, "seccomp listener: socket");
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        size_t pl = strlen(p->listener_path);
        if (pl >= sizeof addr.sun_path)
                return moat_error_set(err, ENAMETOOLONG, "seccomp listener: %s", p->listener_path);
        memcpy(addr.sun_path, p->listener_path, pl + 1);
        while (connect(sock, (struct sockaddr *) &addr, sizeof addr) < 0) {
                if (errno != EINTR)
                        return moat_error_set(err, errno, "seccomp listener: connect to %s", p->listener_path);
        }

        size_t len = strlen(text);
        struct iovec iov = { .iov_base = text, .iov_len = len };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control;
        memset(&control, 0, sizeof control);
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof control.buf };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &listener_fd, sizeof(int));
        ssize_t n;
        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return moat_error_set(err, errno, "seccomp listener: send to %s", p->listener_path);
        for (size_t done = (size_t) n; done < len; done += (size_t) n) {
                n = send(sock, text + done, len - done, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR) {
                        n = 0;
                        continue;
                }
                if (n <= 0)
                        return moat_error_set(err, n < 0 ? errno : EPIPE, "seccomp listener: send to %s",
                                              p->listener_path);
        }
        return 0;
}
