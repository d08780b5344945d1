/* caps: capability names <-> numbers, parsing the five OCI capability sets, and applying them
 * with the raw capset/prctl syscalls (no libcap: one less dependency, and nothing to load at
 * start). A name the running kernel does not know is refused rather than silently dropped. */
#include "caps.h"
#include "util/log.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

const char *const moat_caps_default[] = {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT", NULL,
};

/* Indexed by capability number; the kernel's numbering is ABI and never changes. */
static const char *const cap_names[] = {
        [0] = "CAP_CHOWN",
        [1] = "CAP_DAC_OVERRIDE",
        [2] = "CAP_DAC_READ_SEARCH",
        [3] = "CAP_FOWNER",
        [4] = "CAP_FSETID",
        [5] = "CAP_KILL",
        [6] = "CAP_SETGID",
        [7] = "CAP_SETUID",
        [8] = "CAP_SETPCAP",
        [9] = "CAP_LINUX_IMMUTABLE",
        [10] = "CAP_NET_BIND_SERVICE",
        [11] = "CAP_NET_BROADCAST",
        [12] = "CAP_NET_ADMIN",
        [13] = "CAP_NET_RAW",
        [14] = "CAP_IPC_LOCK",
        [15] = "CAP_IPC_OWNER",
        [16] = "CAP_SYS_MODULE",
        [17] = "CAP_SYS_RAWIO",
        [18] = "CAP_SYS_CHROOT",
        [19] = "CAP_SYS_PTRACE",
        [20] = "CAP_SYS_PACCT",
        [21] = "CAP_SYS_ADMIN",
        [22] = "CAP_SYS_BOOT",
        [23] = "CAP_SYS_NICE",
        [24] = "CAP_SYS_RESOURCE",
        [25] = "CAP_SYS_TIME",
        [26] = "CAP_SYS_TTY_CONFIG",
        [27] = "CAP_MKNOD",
        [28] = "CAP_LEASE",
        [29] = "CAP_AUDIT_WRITE",
        [30] = "CAP_AUDIT_CONTROL",
        [31] = "CAP_SETFCAP",
        [32] = "CAP_MAC_OVERRIDE",
        [33] = "CAP_MAC_ADMIN",
        [34] = "CAP_SYSLOG",
        [35] = "CAP_WAKE_ALARM",
        [36] = "CAP_BLOCK_SUSPEND",
        [37] = "CAP_AUDIT_READ",
        [38] = "CAP_PERFMON",
        [39] = "CAP_BPF",
        [40] = "CAP_CHECKPOINT_RESTORE",
};

#define MOAT_CAP_MAX_KNOWN ((int) ARRAY_SIZE(cap_names) - 1)
/* A set lists each capability at most once; anything much longer is not a capability list. */
#define MOAT_CAPS_MAX_ENTRIES 256

int moat_cap_from_name(const char *name)
{
        if (!name)
                return -1;
        for (int i = 0; i <= MOAT_CAP_MAX_KNOWN; i++)
                if (streq(cap_names[i], name))
                        return i;
        return -1;
}

const char *moat_cap_name(int cap)
{
        if (cap < 0 || cap > MOAT_CAP_MAX_KNOWN)
                return NULL;
        return cap_names[cap];
}

static int read_cap_last(void)
{
        char buf[32];
        FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
        if (f) {
                bool ok = fgets(buf, sizeof buf, f) != NULL;
                fclose(f);
                long long v;
                buf[strcspn(buf, "\n")] = '\0';
                if (ok && moat_parse_int64(buf, &v) == 0 && v >= 0 && v < 64)
                        return (int) v;
        }
        /* No /proc (early in a container setup): ask the bounding set, which answers EINVAL
         * past the last capability the kernel knows. */
        int last = -1;
        for (int c = 0; c < 64; c++) {
                if (prctl(PR_CAPBSET_READ, (unsigned long) c, 0, 0, 0) < 0)
                        break;
                last = c;
        }
        return last >= 0 ? last : MOAT_CAP_MAX_KNOWN;
}

int moat_cap_last(void)
{
        static int cached = -1;
        int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
        if (v < 0) {
                v = read_cap_last();
                __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
        }
        return v;
}

static const char *const set_names[] = { "bounding", "effective", "inheritable", "permitted", "ambient" };

static uint64_t *set_field(struct moat_caps *c, int i)
{
        switch (i) {
        case 0: return &c->bounding;
        case 1: return &c->effective;
        case 2: return &c->inheritable;
        case 3: return &c->permitted;
        default: return &c->ambient;
        }
}

static int parse_set(json_t *arr, const char *setname, uint64_t *out, struct moat_error *err)
{
        if (!json_is_array(arr))
                return moat_error_set(err, 0, "process.capabilities.%s: must be an array of strings", setname);
        size_t n = json_array_size(arr);
        if (n > MOAT_CAPS_MAX_ENTRIES)
                return moat_error_set(err, 0, "process.capabilities.%s: %zu entries (at most %d)", setname, n,
                                      MOAT_CAPS_MAX_ENTRIES);
        int last = moat_cap_last();
        uint64_t mask = 0;
        for (size_t i = 0; i < n; i++) {
                json_t *v = json_array_get(arr, i);
                if (!json_is_string(v))
                        return moat_error_set(err, 0, "process.capabilities.%s[%zu]: must be a string", setname, i);
                const char *name = json_string_value(v);
                int cap = moat_cap_from_name(name);
                if (cap < 0)
                        return moat_error_set(err, 0, "process.capabilities.%s[%zu]: unknown capability \"%.64s\"",
                                              setname, i, name);
                if (cap > last)
                        return moat_error_set(err, 0,
                                              "process.capabilities.%s[%zu]: capability \"%s\" is not supported "
                                              "by the running kernel (its last capability is %s)",
                                              setname, i, name, moat_cap_name(last) ? moat_cap_name(last) : "?");
                mask |= UINT64_C(1) << cap;
        }
        *out = mask;
        return 0;
}

static const char *first_cap_name(uint64_t mask)
{
        for (int c = 0; c < 64; c++)
                if (mask & (UINT64_C(1) << c))
                        return moat_cap_name(c) ? moat_cap_name(c) : "?";
        return "?";
}

int moat_caps_parse(json_t *caps, struct moat_caps *out, struct moat_error *err)
{
        memset(out, 0, sizeof *out);
        if (!caps || json_is_null(caps))
                return 0;
        if (!json_is_object(caps))
                return moat_error_set(err, 0, "process.capabilities: must be an object");
        const char *key;
        json_t *val;
        json_object_foreach(caps, key, val)
        {
                int idx = -1;
                for (size_t i = 0; i < ARRAY_SIZE(set_names); i++)
                        if (streq(key, set_names[i]))
                                idx = (int) i;
                if (idx < 0)
                        return moat_error_set(err, 0, "process.capabilities.%.64s: unknown field", key);
                if (json_is_null(val))
                        continue;
                int r = parse_set(val, set_names[idx], set_field(out, idx), err);
                if (r < 0)
                        return r;
        }
        /* What the kernel would refuse later, said now with the field's name. */
        uint64_t bad = out->effective & ~out->permitted;
        if (bad)
                return moat_error_set(err, 0, "process.capabilities.effective: %s is not in the permitted set",
                                      first_cap_name(bad));
        /* The kernel only raises an ambient capability that is permitted and inheritable. runc
         * and crun drop the others without a word, and configs from `runc spec` list them, so we
         * drop them too, but say so. */
        bad = out->ambient & ~(out->permitted & out->inheritable);
        if (bad) {
                moat_warn("process.capabilities.ambient: %s (and any other not in both the permitted and "
                          "inheritable sets) cannot be raised; ignored, as runc does",
                          first_cap_name(bad));
                out->ambient &= ~bad;
        }
        out->set = true;
        return 0;
}

int moat_caps_drop_bounding(const struct moat_caps *caps, struct moat_error *err)
{
        int last = moat_cap_last();
        for (int c = 0; c <= last && c < 64; c++) {
                if (caps->bounding & (UINT64_C(1) << c))
                        continue;
                int in = prctl(PR_CAPBSET_READ, (unsigned long) c, 0, 0, 0);
                if (in == 0)
                        continue; /* already gone: dropping again would need CAP_SETPCAP for nothing */
                if (in < 0 && errno == EINVAL)
                        break; /* the kernel knows fewer capabilities than cap_last_cap said */
                if (prctl(PR_CAPBSET_DROP, (unsigned long) c, 0, 0, 0) < 0)
                        return moat_error_set(err, errno, "drop %s from the bounding set",
                                              moat_cap_name(c) ? moat_cap_name(c) : "capability");
        }
        return 0;
}

int moat_caps_apply(const struct moat_caps *caps, struct moat_error *err)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
        memset(data, 0, sizeof data);
        data[0].effective = (uint32_t) caps->effective;
        data[1].effective = (uint32_t) (caps->effective >> 32);
        data[0].permitted = (uint32_t) caps->permitted;
        data[1].permitted = (uint32_t) (caps->permitted >> 32);
        data[0].inheritable = (uint32_t) caps->inheritable;
        data[1].inheritable = (uint32_t) (caps->inheritable >> 32);
        if (syscall(SYS_capset, &hdr, data) < 0)
                return moat_error_set(err, errno, "capset (effective %#llx, permitted %#llx, inheritable %#llx)",
                                      (unsigned long long) caps->effective, (unsigned long long) caps->permitted,
                                      (unsigned long long) caps->inheritable);

        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
                /* Kernels before 4.3 have no ambient set: fine while nothing asks for one. */
                if (errno == EINVAL && caps->ambient == 0)
                        return 0;
                return moat_error_set(err, errno, "clear the ambient capability set");
        }
        int last = moat_cap_last();
        for (int c = 0; c <= last && c < 64; c++) {
                if (!(caps->ambient & (UINT64_C(1) << c)))
                        continue;
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long) c, 0, 0) < 0)
                        return moat_error_set(err, errno, "raise ambient capability %s",
                                              moat_cap_name(c) ? moat_cap_name(c) : "?");
        }
        return 0;
}
