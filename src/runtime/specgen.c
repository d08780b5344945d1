/* specgen: Moat's default config.json (`moat-runtime spec`) and the OCI features document.
 * The defaults are SECURITY-BASELINE.md's: Moat's 11 capabilities, no_new_privs, the default
 * seccomp profile, masked and read-only paths, a device allow list and a pids limit. */
#include "internal.h"

#include "config.h"

static const char *const masked_paths[] = {
        "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats",
        "/sys/devices/virtual/powercap", "/sys/firmware", NULL,
};
static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static json_t *strv_json(const char *const *v)
{
        json_t *a = json_array();
        for (; v && *v; v++)
                json_array_append_new(a, json_string(*v));
        return a;
}

static json_t *mount_json(const char *dest, const char *type, const char *src, const char *const *opts)
{
        return json_pack("{s:s,s:s,s:s,s:o}", "destination", dest, "type", type, "source", src, "options",
                         strv_json(opts));
}

static json_t *device_rule(bool allow, const char *type, json_int_t major, json_int_t minor, const char *access)
{
        json_t *r = json_pack("{s:b,s:s}", "allow", allow, "access", access);
        if (type)
                json_object_set_new(r, "type", json_string(type));
        if (major >= 0)
                json_object_set_new(r, "major", json_integer(major));
        if (minor >= 0)
                json_object_set_new(r, "minor", json_integer(minor));
        return r;
}

/* The thermal_throttle directory of every CPU is masked too (Docker does the same). */
static void add_thermal_masks(json_t *masked)
{
        for (int cpu = 0; cpu < 4096; cpu++) {
                char p[96];
                snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%d/thermal_throttle", cpu);
                if (access(p, F_OK) < 0) {
                        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%d", cpu);
                        if (access(p, F_OK) < 0)
                                break;
                        continue;
                }
                json_array_append_new(masked, json_string(p));
        }
}

json_t *moat_spec_default(bool rootless)
{
        static const char *const proc_o[] = { "nosuid", "noexec", "nodev", NULL };
        static const char *const dev_o[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
        static const char *const pts_o[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5",
                                             NULL };
        static const char *const pts_rootless_o[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                                                      NULL };
        static const char *const shm_o[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
        static const char *const mq_o[] = { "nosuid", "noexec", "nodev", NULL };
        static const char *const sys_o[] = { "nosuid", "noexec", "nodev", "ro", NULL };
        static const char *const sys_rootless_o[] = { "rbind", "nosuid", "noexec", "nodev", "ro", NULL };
        static const char *const cg_o[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
        static const char *const env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                           "TERM=xterm", NULL };
        static const char *const args[] = { "sh", NULL };
        static const char *const none[] = { NULL };

        json_t *caps = json_pack("{s:o,s:o,s:o,s:o,s:o}", "bounding", strv_json(moat_caps_default), "effective",
                                 strv_json(moat_caps_default), "permitted", strv_json(moat_caps_default),
                                 "inheritable", strv_json(none), "ambient", strv_json(none));
        json_t *process = json_pack(
                "{s:b,s:{s:i,s:i},s:o,s:o,s:s,s:o,s:[{s:s,s:i,s:i}],s:b}", "terminal", 1, "user", "uid", 0, "gid", 0,
                "args", strv_json(args), "env", strv_json(env), "cwd", "/", "capabilities", caps, "rlimits", "type",
                "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1);

        json_t *mounts = json_array();
        json_array_append_new(mounts, mount_json("/proc", "proc", "proc", proc_o));
        json_array_append_new(mounts, mount_json("/dev", "tmpfs", "tmpfs", dev_o));
        json_array_append_new(mounts, mount_json("/dev/pts", "devpts", "devpts", rootless ? pts_rootless_o : pts_o));
        json_array_append_new(mounts, mount_json("/dev/shm", "tmpfs", "shm", shm_o));
        json_array_append_new(mounts, mount_json("/dev/mqueue", "mqueue", "mqueue", mq_o));
        if (rootless)
                json_array_append_new(mounts, mount_json("/sys", "none", "/sys", sys_rootless_o));
        else {
                json_array_append_new(mounts, mount_json("/sys", "sysfs", "sysfs", sys_o));
                json_array_append_new(mounts, mount_json("/sys/fs/cgroup", "cgroup", "cgroup", cg_o));
        }

        json_t *ns = json_array();
        static const char *const ns_default[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", "time", NULL };
        for (const char *const *n = ns_default; *n; n++)
                json_array_append_new(ns, json_pack("{s:s}", "type", *n));

        json_t *linux_ = json_object();
        if (rootless) {
                json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
                json_object_set_new(linux_, "uidMappings",
                                    json_pack("[{s:i,s:I,s:i}]", "containerID", 0, "hostID", (json_int_t) getuid(),
                                              "size", 1));
                json_object_set_new(linux_, "gidMappings",
                                    json_pack("[{s:i,s:I,s:i}]", "containerID", 0, "hostID", (json_int_t) getgid(),
                                              "size", 1));
        } else {
                json_t *devices = json_array();
                json_array_append_new(devices, device_rule(false, NULL, -1, -1, "rwm"));
                static const int allow[][2] = { { 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 },
                                                { 5, 0 }, { 5, 1 }, { 5, 2 }, { 136, -1 } };
                for (size_t i = 0; i < ARRAY_SIZE(allow); i++)
                        json_array_append_new(devices, device_rule(true, "c", allow[i][0], allow[i][1], "rwm"));
                json_object_set_new(linux_, "resources",
                                    json_pack("{s:o,s:{s:i}}", "devices", devices, "pids", "limit", 2048));
        }
        json_object_set_new(linux_, "namespaces", ns);
        json_t *masked = strv_json(masked_paths);
        add_thermal_masks(masked);
        json_object_set_new(linux_, "maskedPaths", masked);
        json_object_set_new(linux_, "readonlyPaths", strv_json(readonly_paths));
        json_t *seccomp = moat_seccomp_default_profile(moat_caps_default);
        if (seccomp)
                json_object_set_new(linux_, "seccomp", seccomp);

        return json_pack("{s:s,s:o,s:{s:s,s:b},s:s,s:o,s:o}", "ociVersion", "1.2.0", "process", process, "root", "path",
                         "rootfs", "readonly", 1, "hostname", "moat", "mounts", mounts, "linux", linux_);
}

json_t *moat_runtime_features(void)
{
        static const char *const hooks[] = { "prestart", "createRuntime", "createContainer", "startContainer",
                                             "poststart", "poststop", NULL };
        static const char *const mount_opts[] = {
                "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "idmap", "lazytime",
                "loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "nolazytime", "nomand", "norelatime",
                "nostrictatime", "nosuid", "nosymfollow", "private", "rbind", "rdev", "rdiratime", "relatime",
                "remount", "rexec", "ridmap", "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnosuid",
                "rnosymfollow", "ro", "rprivate", "rro", "rrw", "rshared", "rslave", "rsuid", "rsymfollow",
                "runbindable", "rw", "shared", "silent", "slave", "src-nofollow", "strictatime", "suid", "symfollow",
                "sync", "unbindable", NULL,
        };
        static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
                                                  NULL };
        static const char *const actions[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                                               "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                                               "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP", NULL };
        static const char *const operators[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
                                                 "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL };
        static const char *const archs[] = { "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
                                             "SCMP_ARCH_ARM", NULL };
        static const char *const sflags[] = { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                              "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL };
        json_t *caps = json_array();
        for (int i = 0; i <= moat_cap_last(); i++) {
                const char *n = moat_cap_name(i);
                if (n)
                        json_array_append_new(caps, json_string(n));
        }
        json_t *linux_ = json_pack(
                "{s:o,s:o,s:{s:b,s:b,s:b,s:b,s:b},s:{s:b,s:o,s:o,s:o,s:o,s:o},s:{s:b},s:{s:b},s:{s:b},"
                "s:{s:{s:b}}}",
                "namespaces", strv_json(namespaces), "capabilities", caps, "cgroup", "v1", 1, "v2", 1, "systemd", 0,
                "systemdUser", 0, "rdma", 0, "seccomp", "enabled", 1, "actions", strv_json(actions), "operators",
                strv_json(operators), "archs", strv_json(archs), "knownFlags", strv_json(sflags), "supportedFlags",
                strv_json(sflags), "apparmor", "enabled", 0, "selinux", "enabled", 0, "intelRdt", "enabled", 0,
                "mountExtensions", "idmap", "enabled", 1);
        return json_pack("{s:s,s:s,s:o,s:o,s:o,s:{s:s}}", "ociVersionMin", "1.0.0", "ociVersionMax", "1.2.0", "hooks",
                         strv_json(hooks), "mountOptions", strv_json(mount_opts), "linux", linux_, "annotations",
                         "org.moat.runtime.version", MOAT_VERSION);
}
