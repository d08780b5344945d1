/* seccomp_default: Moat's built-in seccomp profile, built from the tables below as an OCI
 * linux.seccomp object (so `moat-runtime spec` can print it and users can edit it). It allows
 * what Docker's default allows, resolves the capability-gated rules against the bounding set,
 * and additionally denies socket(AF_PACKET) unless CAP_NET_RAW is in the bounding set. */
#include "seccomp.h"

#include <errno.h>

/* Allowed for every container: the ordinary syscalls of ordinary programs. Names a given arch
 * lacks are skipped by the compiler, so one list serves every ABI. */
static const char *const allow_always[] = {
        "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget", "capset",
        "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
        "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
        "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
        "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
        "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit",
        "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
        "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64",
        "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat",
        "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
        "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat", "getcpu",
        "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid",
        "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
        "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
        "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt",
        "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "getxattrat",
        "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl",
        "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set",
        "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
        "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
        "listmount", "listxattr", "listxattrat", "llistxattr", "_llseek", "lremovexattr", "lseek",
        "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create",
        "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall",
        "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
        "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "mseal",
        "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
        "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause",
        "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect",
        "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
        "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read",
        "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64",
        "recvmsg", "remap_file_pages", "removexattr", "removexattrat", "rename", "renameat", "renameat2",
        "restart_syscall", "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
        "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
        "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
        "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
        "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
        "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget",
        "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg",
        "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
        "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid",
        "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list",
        "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
        "setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
        "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64",
        "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
        "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
        "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
        "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill",
        "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe",
        "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid",
        "waitpid", "write", "writev",
        NULL,
};

/* Arch-specific helpers ordinary programs need on that architecture only. */
static const char *const allow_arch[] = {
#if defined(__x86_64__) || defined(__i386__)
        "arch_prctl", "modify_ldt",
#elif defined(__aarch64__) || defined(__arm__)
        "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls",
#elif defined(__s390x__) || defined(__s390__)
        "s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr",
#elif defined(__riscv)
        "riscv_flush_icache",
#elif defined(__powerpc64__)
        "sync_file_range2", "swapcontext",
#endif
        NULL,
};

/* Allowed only when the capability that makes them meaningful is in the bounding set. Anything
 * in neither list (keyctl, add_key, request_key, kexec_*, userfaultfd, io_uring_*, pivot_root,
 * swapon/swapoff, move_pages, migrate_pages, _sysctl, uselib, ustat, sysfs, nfsservctl, ...)
 * falls through to the default action. */
struct gate {
        const char *cap;
        const char *const *names;
};
static const char *const g_sys_admin[] = {
        "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
        "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mount", "mount_setattr", "move_mount",
        "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog",
        "umount", "umount2", "unshare", NULL,
};
static const char *const g_dac_read_search[] = { "open_by_handle_at", NULL };
static const char *const g_sys_boot[] = { "reboot", NULL };
static const char *const g_sys_chroot[] = { "chroot", NULL };
static const char *const g_sys_module[] = { "delete_module", "init_module", "finit_module", NULL };
static const char *const g_sys_pacct[] = { "acct", NULL };
static const char *const g_sys_ptrace[] = { "kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                                            "process_vm_writev", "ptrace", NULL };
static const char *const g_sys_rawio[] = { "iopl", "ioperm", NULL };
static const char *const g_sys_time[] = { "settimeofday", "stime", "clock_settime", "clock_settime64", NULL };
static const char *const g_sys_tty_config[] = { "vhangup", NULL };
static const char *const g_sys_nice[] = { "get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node",
                                          NULL };
static const char *const g_syslog[] = { "syslog", NULL };
static const char *const g_bpf[] = { "bpf", NULL };
static const char *const g_perfmon[] = { "perf_event_open", NULL };
/* Docker allows these to everyone on kernels >= 4.8, where ptrace no longer bypasses seccomp. */
static const char *const g_always_ptrace[] = { "process_vm_readv", "process_vm_writev", "ptrace", NULL };

static const struct gate gates[] = {
        { NULL, g_always_ptrace },
        { "CAP_SYS_ADMIN", g_sys_admin },
        { "CAP_DAC_READ_SEARCH", g_dac_read_search },
        { "CAP_SYS_BOOT", g_sys_boot },
        { "CAP_SYS_CHROOT", g_sys_chroot },
        { "CAP_SYS_MODULE", g_sys_module },
        { "CAP_SYS_PACCT", g_sys_pacct },
        { "CAP_SYS_PTRACE", g_sys_ptrace },
        { "CAP_SYS_RAWIO", g_sys_rawio },
        { "CAP_SYS_TIME", g_sys_time },
        { "CAP_SYS_TTY_CONFIG", g_sys_tty_config },
        { "CAP_SYS_NICE", g_sys_nice },
        { "CAP_SYSLOG", g_syslog },
        { "CAP_BPF", g_bpf },
        { "CAP_PERFMON", g_perfmon },
};

/* personality(2) values programs really use: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32,
 * and 0xffffffff (query). Anything else could turn on READ_IMPLIES_EXEC or ADDR_NO_RANDOMIZE. */
static const unsigned long long personalities[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };

/* clone(2) flags that create namespaces (NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET). */
#define CLONE_NS_FLAGS 0x7E020000ULL

#define AF_PACKET_NR 17
#define AF_ALG_NR 38
#define AF_VSOCK_NR 40
/* Families above this are allowed up to it; the kernel knows 46 (AF_MAX) today. */
#define AF_LAST_ALLOWED 63

static bool has_cap(const char *const *caps, const char *cap)
{
        for (size_t i = 0; caps && caps[i]; i++)
                if (streq(caps[i], cap))
                        return true;
        return false;
}

static void add_names(json_t *names, json_t *seen, const char *const *list)
{
        for (size_t i = 0; list[i]; i++) {
                if (json_object_get(seen, list[i]))
                        continue;
                json_object_set_new(seen, list[i], json_true());
                json_array_append_new(names, json_string(list[i]));
        }
}

static json_t *arg_cmp(unsigned index, unsigned long long value, unsigned long long value2, const char *op)
{
        json_t *a = json_pack("{s:i, s:I, s:s}", "index", (int) index, "value", (json_int_t) value, "op", op);
        if (value2)
                json_object_set_new(a, "valueTwo", json_integer((json_int_t) value2));
        return a;
}

static json_t *rule(const char *name, const char *action, json_t *args, const char *comment)
{
        json_t *r = json_pack("{s:[s], s:s}", "names", name, "action", action);
        if (args)
                json_object_set_new(r, "args", args);
        if (comment)
                json_object_set_new(r, "comment", json_string(comment));
        return r;
}

/* socket(2) is allowed for every address family in [0, AF_LAST_ALLOWED] except the denied ones.
 * The kernel truncates the family to an int, so compares on the whole 64-bit register (Docker's
 * LT 38 / EQ 39 / GT 40) can be passed with garbage in the upper half: 0x1_00000026 is > 40
 * yet reaches AF_ALG. Masked compares on the low 32 bits, one per aligned block of allowed
 * families, do not have that hole. */
static void add_socket_rules(json_t *syscalls, bool deny_packet)
{
        unsigned start = 0;
        while (start <= AF_LAST_ALLOWED) {
                bool denied = start == AF_ALG_NR || start == AF_VSOCK_NR || (deny_packet && start == AF_PACKET_NR);
                if (denied) {
                        start++;
                        continue;
                }
                unsigned size = 1;
                for (;;) {
                        unsigned next = size * 2;
                        if (start % next != 0 || start + next - 1 > AF_LAST_ALLOWED)
                                break;
                        bool clash = false;
                        for (unsigned f = start; f < start + next; f++)
                                clash = clash || f == AF_ALG_NR || f == AF_VSOCK_NR ||
                                        (deny_packet && f == AF_PACKET_NR);
                        if (clash)
                                break;
                        size = next;
                }
                unsigned long long mask = 0xffffffffULL & ~(unsigned long long) (size - 1);
                char comment[96];
                snprintf(comment, sizeof comment, "address families %u-%u (low 32 bits of the family)", start,
                         start + size - 1);
                json_array_append_new(syscalls,
                                      rule("socket", "SCMP_ACT_ALLOW",
                                           json_pack("[o]", arg_cmp(0, mask, start, "SCMP_CMP_MASKED_EQ")),
                                           comment));
                start += size;
        }
}

json_t *moat_seccomp_default_profile(const char *const *bounding_caps)
{
        json_t *profile = json_pack("{s:s, s:i}", "defaultAction", "SCMP_ACT_ERRNO", "defaultErrnoRet", EPERM);
        json_t *arches = json_array();
#if defined(__x86_64__)
        json_array_append_new(arches, json_string("SCMP_ARCH_X86_64"));
        json_array_append_new(arches, json_string("SCMP_ARCH_X86"));
        json_array_append_new(arches, json_string("SCMP_ARCH_X32"));
#elif defined(__aarch64__)
        json_array_append_new(arches, json_string("SCMP_ARCH_AARCH64"));
        json_array_append_new(arches, json_string("SCMP_ARCH_ARM"));
#elif defined(__s390x__)
        json_array_append_new(arches, json_string("SCMP_ARCH_S390X"));
        json_array_append_new(arches, json_string("SCMP_ARCH_S390"));
#elif defined(__riscv) && __riscv_xlen == 64
        json_array_append_new(arches, json_string("SCMP_ARCH_RISCV64"));
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        json_array_append_new(arches, json_string("SCMP_ARCH_PPC64LE"));
#endif
        json_object_set_new(profile, "architectures", arches);

        json_t *syscalls = json_array();
        json_t *names = json_array();
        json_t *seen = json_object();
        add_names(names, seen, allow_always);
        add_names(names, seen, allow_arch);
        for (size_t i = 0; i < ARRAY_SIZE(gates); i++)
                if (!gates[i].cap || has_cap(bounding_caps, gates[i].cap))
                        add_names(names, seen, gates[i].names);
        json_decref(seen);
        json_array_append_new(syscalls, json_pack("{s:o, s:s}", "names", names, "action", "SCMP_ACT_ALLOW"));

        for (size_t i = 0; i < ARRAY_SIZE(personalities); i++)
                json_array_append_new(syscalls, rule("personality", "SCMP_ACT_ALLOW",
                                                     json_pack("[o]", arg_cmp(0, personalities[i], 0, "SCMP_CMP_EQ")),
                                                     NULL));

        add_socket_rules(syscalls, !has_cap(bounding_caps, "CAP_NET_RAW"));

        if (!has_cap(bounding_caps, "CAP_SYS_ADMIN")) {
#if defined(__s390x__) || defined(__s390__)
                unsigned flags_arg = 1; /* s390 swaps clone's first two arguments */
#else
                unsigned flags_arg = 0;
#endif
                json_array_append_new(syscalls,
                                      rule("clone", "SCMP_ACT_ALLOW",
                                           json_pack("[o]", arg_cmp(flags_arg, CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ")),
                                           "clone without namespace flags"));
                /* clone3 passes its flags in memory seccomp cannot read: ENOSYS makes libcs fall
                 * back to clone, whose flags the rule above can check. */
                json_t *c3 = rule("clone3", "SCMP_ACT_ERRNO", NULL, "ENOSYS: callers fall back to clone");
                json_object_set_new(c3, "errnoRet", json_integer(ENOSYS));
                json_array_append_new(syscalls, c3);
        }
        json_object_set_new(profile, "syscalls", syscalls);
        return profile;
}
