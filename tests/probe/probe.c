/* moat-probe: an isolation probe that runs INSIDE a container and tries, harmlessly, what an
 * attacker would try first. One line per check: "PASS name", "FAIL name: detail" or
 * "SKIP name: reason"; exit status 1 if anything failed, 2 on a usage error, else 0.
 * Built static so it runs in any rootfs (even an empty one).
 *
 * Options:
 *   --skip PATTERN        skip checks whose name matches the fnmatch(3) PATTERN (repeatable;
 *                         e.g. --skip 'masked:*' --skip pids-limit)
 *   --expect-caps HEX     expected CapBnd, CapEff and CapPrm (default 800405fb: Moat's 11)
 *   --expect-bnd/--expect-eff/--expect-prm/--expect-inh/--expect-amb HEX
 *                         override one set (Inh and Amb default to 0)
 *   --pids-max N          the container's pids limit must be set and at most N (default 2048)
 *   --pids-fork           also fork (bounded: at most N+64 children) until the kernel says
 *                         EAGAIN, proving the limit is enforced, not merely written down
 *   --not-hostname NAME   the hostname must differ from NAME (the host's); skipped if absent
 *   --x86-socketcall      (x86_64) also check socket() through the i386 socketcall(2)
 *                         multiplexer. seccomp cannot read socketcall's arguments (they are in
 *                         memory), so Docker's profile and Moat's default both let a 32-bit
 *                         process reach AF_ALG/AF_VSOCK (and AF_PACKET, where NET_RAW allows)
 *                         this way; off by default until the default profile closes it.
 *   --list                print the check names and exit
 *
 * Every syscall check uses arguments that do nothing harmful if the call is NOT blocked (a
 * path that does not exist, an invalid flag, the current value, a scratch directory) and
 * tells "denied" (EPERM/EACCES, or ENOSYS) apart from "reached the kernel" (any other result),
 * so the probe can be run on a bare host to see it fail. Checks that would change the probe's
 * own state (unshare, personality, clone) run in a forked child. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 1
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x1
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#define MOAT_CAPS_MASK 0x800405fbULL

static const char *skips[64];
static int nskips;
static bool list_only;
static int passed, failed, skipped;
static char scratch[64] = "";
static int inherited_fds[32];
static int ninherited = -1;

static bool skipped_name(const char *name)
{
        for (int i = 0; i < nskips; i++)
                if (fnmatch(skips[i], name, 0) == 0)
                        return true;
        return false;
}

/* Returns whether the check should run; prints SKIP otherwise. */
static bool begin(const char *name)
{
        if (list_only) {
                printf("%s\n", name);
                return false;
        }
        if (skipped_name(name)) {
                printf("SKIP %s: --skip\n", name);
                skipped++;
                return false;
        }
        return true;
}

static void pass(const char *name)
{
        printf("PASS %s\n", name);
        passed++;
}

static void fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(const char *name, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        printf("FAIL %s: ", name);
        vprintf(fmt, ap);
        printf("\n");
        va_end(ap);
        failed++;
}

static void skip(const char *name, const char *why)
{
        printf("SKIP %s: %s\n", name, why);
        skipped++;
}

/* ---- syscalls that must be denied ---- */

/* r, e: the call's result and errno. fd results are closed. */
static void expect_denied(const char *name, long r, int e)
{
        if (r >= 0) {
                fail(name, "succeeded (returned %ld)", r);
                if (r > 2 && r < 65536)
                        close((int) r);
                return;
        }
        if (e == EPERM || e == EACCES || e == ENOSYS)
                pass(name);
        else
                fail(name, "reached the kernel: %s", strerror(e));
}

/* Run fn in a child; the child reports r and errno through a pipe. */
static void denied_in_child(const char *name, long (*fn)(void))
{
        if (!begin(name))
                return;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                fail(name, "pipe: %s", strerror(errno));
                return;
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
                fail(name, "fork: %s", strerror(errno));
                close(p[0]);
                close(p[1]);
                return;
        }
        if (pid == 0) {
                errno = 0;
                long res[2];
                res[0] = fn();
                res[1] = errno;
                if (write(p[1], res, sizeof res) != sizeof res)
                        _exit(1);
                _exit(0);
        }
        close(p[1]);
        long res[2] = { -1, EIO };
        ssize_t n = read(p[0], res, sizeof res);
        close(p[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        if (n != sizeof res && WIFSIGNALED(status)) {
                /* e.g. int $0x80 on a kernel without 32-bit emulation: the entry does not exist */
                res[0] = -2;
                n = sizeof res;
        }
        if (n != sizeof res) {
                fail(name, "the child reported nothing");
                return;
        }
        if (res[0] == -2) {
                skip(name, "not available here");
                return;
        }
        expect_denied(name, res[0] >= 0 ? 0 : -1, (int) res[1]);
}

#define DENIED(name, call)                                \
        do {                                              \
                if (begin(name)) {                        \
                        errno = 0;                        \
                        long _r = (long) (call);          \
                        expect_denied(name, _r, errno);   \
                }                                         \
        } while (0)

static long do_unshare_user(void) { return unshare(CLONE_NEWUSER); }
static long do_unshare_ns(void) { return unshare(CLONE_NEWNS); }
static long do_unshare_net(void) { return unshare(CLONE_NEWNET); }
static long do_personality(void)
{
        /* READ_IMPLIES_EXEC: makes every readable mapping executable */
        return personality(0x0400000);
}
static long do_clone_ns(unsigned long flag)
{
        long r = syscall(SYS_clone, flag | SIGCHLD, NULL, NULL, NULL, 0);
        if (r == 0)
                _exit(0);
        if (r > 0) {
                waitpid((pid_t) r, NULL, 0);
                return 0;
        }
        return -1;
}
static long do_clone_newuser(void) { return do_clone_ns(CLONE_NEWUSER); }
static long do_clone_newns(void) { return do_clone_ns(CLONE_NEWNS); }
static long do_clone3_newuser(void)
{
        struct {
                uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
        } args = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
        long r = syscall(SYS_clone3, &args, sizeof args);
        if (r == 0)
                _exit(0);
        if (r > 0) {
                waitpid((pid_t) r, NULL, 0);
                return 0;
        }
        return -1;
}

static void check_mounts(void)
{
        if (begin("mount")) {
                if (!scratch[0])
                        skip("mount", "no scratch directory");
                else {
                        errno = 0;
                        long r = mount("none", scratch, "tmpfs", 0, "size=4k");
                        int e = errno;
                        if (r == 0)
                                umount2(scratch, MNT_DETACH);
                        expect_denied("mount", r, e);
                }
        }
        if (begin("umount2")) {
                /* not a mount point: EINVAL if the call gets that far */
                errno = 0;
                long r = umount2(scratch[0] ? scratch : "/", scratch[0] ? 0 : MNT_EXPIRE);
                expect_denied("umount2", r, errno);
        }
        DENIED("fsopen", syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC));
        DENIED("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
        DENIED("move_mount", syscall(SYS_move_mount, AT_FDCWD, "/nonexistent-moat-probe", AT_FDCWD,
                                     "/nonexistent-moat-probe-2", 0));
        if (begin("mount_setattr")) {
                struct {
                        uint64_t attr_set, attr_clr, propagation, userns_fd;
                } attr = { .attr_set = MOUNT_ATTR_RDONLY };
                errno = 0;
                /* the scratch directory is no mount point: EINVAL if the call gets that far */
                long r = syscall(SYS_mount_setattr, AT_FDCWD, scratch[0] ? scratch : "/nonexistent-moat-probe", 0,
                                 &attr, sizeof attr);
                expect_denied("mount_setattr", r, errno);
        }
}

static void check_namespaces(void)
{
        denied_in_child("unshare-user", do_unshare_user);
        denied_in_child("unshare-mount", do_unshare_ns);
        denied_in_child("unshare-net", do_unshare_net);
        denied_in_child("clone-newuser", do_clone_newuser);
        denied_in_child("clone-newns", do_clone_newns);
        denied_in_child("clone3-newuser", do_clone3_newuser);
        if (begin("setns")) {
                int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        skip("setns", "cannot open /proc/self/ns/net");
                else {
                        errno = 0;
                        long r = setns(fd, CLONE_NEWNET); /* our own: a no-op if allowed */
                        expect_denied("setns", r, errno);
                        close(fd);
                }
        }
        if (begin("sethostname")) {
                char name[256] = "";
                gethostname(name, sizeof name - 1);
                errno = 0;
                long r = sethostname(name, strlen(name)); /* the current name: a no-op if allowed */
                expect_denied("sethostname", r, errno);
        }
}

static void check_kernel_syscalls(void)
{
        DENIED("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0, 0, 0));
        DENIED("add_key", syscall(SYS_add_key, "user", "moat-probe", "x", 1, -2 /* process keyring */));
        DENIED("request_key", syscall(SYS_request_key, "user", "moat-probe-absent", NULL, 0));
        if (begin("bpf")) {
                union bpf_attr attr;
                memset(&attr, 0, sizeof attr); /* BPF_MAP_TYPE_UNSPEC: EINVAL if it gets that far */
                errno = 0;
                long r = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
                expect_denied("bpf", r, errno);
        }
        if (begin("perf_event_open")) {
                struct perf_event_attr pe;
                memset(&pe, 0, sizeof pe);
                pe.size = sizeof pe;
                pe.type = PERF_TYPE_SOFTWARE;
                pe.config = PERF_COUNT_SW_CPU_CLOCK;
                pe.disabled = 1;
                pe.exclude_kernel = 1;
                pe.exclude_hv = 1;
                errno = 0;
                long r = syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0);
                expect_denied("perf_event_open", r, errno);
        }
        DENIED("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC));
        if (begin("io_uring_setup")) {
                struct io_uring_params p;
                memset(&p, 0, sizeof p);
                errno = 0;
                long r = syscall(SYS_io_uring_setup, 1, &p);
                expect_denied("io_uring_setup", r, errno);
        }
        DENIED("init_module", syscall(SYS_init_module, NULL, 0, ""));
        DENIED("finit_module", syscall(SYS_finit_module, -1, "", 0));
        DENIED("delete_module", syscall(SYS_delete_module, "moat_probe_absent", O_NONBLOCK));
        /* invalid flags: EINVAL, and nothing unloaded, if it gets that far */
        DENIED("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0xffff0000UL));
        if (begin("open_by_handle_at")) {
                int mfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                struct {
                        unsigned int handle_bytes;
                        int handle_type;
                        unsigned char f_handle[8];
                } h = { 0, 0, { 0 } };
                errno = 0;
                long r = syscall(SYS_open_by_handle_at, mfd, &h, O_RDONLY);
                expect_denied("open_by_handle_at", r, errno);
                if (mfd >= 0)
                        close(mfd);
        }
        if (begin("clock_settime")) {
                struct timespec ts = { .tv_sec = 0, .tv_nsec = 2000000000L }; /* invalid: EINVAL if reached */
                errno = 0;
                long r = syscall(SYS_clock_settime, CLOCK_REALTIME, &ts);
                expect_denied("clock_settime", r, errno);
        }
        if (begin("settimeofday")) {
                struct timeval tv = { .tv_sec = 0, .tv_usec = 2000000 }; /* invalid */
                errno = 0;
                long r = syscall(SYS_settimeofday, &tv, NULL);
                expect_denied("settimeofday", r, errno);
        }
        denied_in_child("personality", do_personality);
        /* wrong magic: EINVAL, and no reboot, if it gets that far */
        DENIED("reboot", syscall(SYS_reboot, 0xdead, 0xbeef, 0, NULL));
        DENIED("swapon", syscall(SYS_swapon, "/nonexistent-moat-probe", 0));
        DENIED("acct", syscall(SYS_acct, "/nonexistent-moat-probe/acct"));
        DENIED("kcmp", syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 0, 0));
#ifdef SYS_iopl
        DENIED("iopl", syscall(SYS_iopl, 0));
#endif
        DENIED("syslog", syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));
}

#if defined(__x86_64__)
/* The i386 entry point from a 64-bit process: seccomp sees AUDIT_ARCH_I386. */
static long int80(long nr, long a, long b, long c)
{
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
        return r;
}

static long i386_family;
static long do_i386_socket(void)
{
        long r = int80(359 /* i386 socket */, i386_family, i386_family == 40 ? SOCK_STREAM : SOCK_SEQPACKET, 0);
        if (r < 0 && r > -4096) {
                errno = (int) -r;
                return -1;
        }
        return r;
}
static long do_i386_socketcall(void)
{
        unsigned int *args = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (args == MAP_FAILED) {
                errno = EIO;
                return -1;
        }
        args[0] = (unsigned) i386_family;
        args[1] = i386_family == 40 ? SOCK_STREAM : i386_family == 17 ? SOCK_RAW : SOCK_SEQPACKET;
        args[2] = 0;
        long r = int80(102 /* socketcall */, 1 /* SYS_SOCKET */, (long) (uintptr_t) args, 0);
        if (r < 0 && r > -4096) {
                errno = (int) -r;
                return -1;
        }
        return r;
}
#endif

static bool x86_socketcall;

static void check_i386_sockets(void)
{
#if defined(__x86_64__)
        static const struct {
                const char *name;
                long family;
                bool socketcall;
        } c[] = {
                { "i386-socket-af-alg", 38, false },
                { "i386-socket-af-vsock", 40, false },
                { "i386-socketcall-af-alg", 38, true },
                { "i386-socketcall-af-vsock", 40, true },
                { "i386-socketcall-af-packet", 17, true },
        };
        for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
                if (c[i].socketcall && !x86_socketcall) {
                        if (list_only)
                                printf("%s\n", c[i].name);
                        else
                                skip(c[i].name, "needs --x86-socketcall");
                        continue;
                }
                i386_family = c[i].family;
                denied_in_child(c[i].name, c[i].socketcall ? do_i386_socketcall : do_i386_socket);
        }
#endif
}

static void check_sockets(void)
{
        DENIED("socket-af-alg", socket(38, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
        DENIED("socket-af-vsock", socket(40, SOCK_STREAM | SOCK_CLOEXEC, 0));
        DENIED("socket-af-packet", socket(17, SOCK_RAW | SOCK_CLOEXEC, 0));
        /* The kernel truncates the family to an int: garbage in the upper half must not slip
         * past a filter that compares the whole register. */
        DENIED("socket-af-alg-highbits", syscall(SYS_socket, 0x100000026L, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
        DENIED("socket-af-vsock-highbits", syscall(SYS_socket, 0x100000028L, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (begin("socket-af-inet-works")) {
                int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (s < 0 && errno == EPERM)
                        fail("socket-af-inet-works", "an ordinary UDP socket was refused");
                else {
                        pass("socket-af-inet-works");
                        if (s >= 0)
                                close(s);
                }
        }
}

/* ---- /proc/self/status ---- */

static char *status_text;

static const char *status_field(const char *field)
{
        static char val[128];
        if (!status_text)
                return NULL;
        size_t fl = strlen(field);
        for (const char *p = status_text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                if (strncmp(p, field, fl) == 0 && p[fl] == ':') {
                        const char *v = p + fl + 1;
                        while (*v == ' ' || *v == '\t')
                                v++;
                        size_t n = strcspn(v, "\n");
                        if (n >= sizeof val)
                                n = sizeof val - 1;
                        memcpy(val, v, n);
                        val[n] = '\0';
                        return val;
                }
        }
        return NULL;
}

static void load_status(void)
{
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        status_text = calloc(1, 65536);
        if (status_text && read(fd, status_text, 65535) < 0) {
                free(status_text);
                status_text = NULL;
        }
        close(fd);
}

static void check_status_eq(const char *name, const char *field, const char *want)
{
        if (!begin(name))
                return;
        const char *v = status_field(field);
        if (!v)
                fail(name, "no %s in /proc/self/status", field);
        else if (strcmp(v, want) != 0)
                fail(name, "%s is %s, want %s", field, v, want);
        else
                pass(name);
}

static void check_caps(const char *name, const char *field, unsigned long long want)
{
        if (!begin(name))
                return;
        const char *v = status_field(field);
        if (!v) {
                fail(name, "no %s in /proc/self/status", field);
                return;
        }
        unsigned long long got = strtoull(v, NULL, 16);
        if (got != want)
                fail(name, "%s is %016llx, want %016llx (extra %llx, missing %llx)", field, got, want, got & ~want,
                     want & ~got);
        else
                pass(name);
}

/* ---- filesystems ---- */

static void check_masked(const char *path)
{
        char name[300];
        snprintf(name, sizeof name, "masked:%s", path);
        if (!begin(name))
                return;
        struct stat st;
        if (lstat(path, &st) < 0) {
                if (errno == ENOENT)
                        pass(name);
                else if (errno == EACCES || errno == EPERM)
                        pass(name);
                else
                        fail(name, "stat: %s", strerror(errno));
                return;
        }
        if (S_ISDIR(st.st_mode)) {
                DIR *d = opendir(path);
                if (!d) {
                        if (errno == EACCES || errno == EPERM)
                                pass(name);
                        else
                                fail(name, "opendir: %s", strerror(errno));
                        return;
                }
                struct dirent *de;
                const char *first = NULL;
                while ((de = readdir(d)))
                        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                                first = de->d_name;
                                break;
                        }
                if (first)
                        fail(name, "directory is not empty (holds %s)", first);
                else
                        pass(name);
                closedir(d);
                return;
        }
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
                if (errno == EACCES || errno == EPERM)
                        pass(name);
                else
                        fail(name, "open: %s", strerror(errno));
                return;
        }
        char buf[64];
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        if (n > 0)
                fail(name, "readable: %zd bytes from the first read", n);
        else if (n < 0 && errno != EACCES && errno != EPERM && errno != EINVAL && errno != EIO)
                fail(name, "read: %s", strerror(errno));
        else
                pass(name);
}

static void check_thermal_throttle(void)
{
        DIR *d = opendir("/sys/devices/system/cpu");
        if (!d)
                return;
        struct dirent *de;
        int n = 0;
        while ((de = readdir(d)) && n < 512) {
                if (strncmp(de->d_name, "cpu", 3) || de->d_name[3] < '0' || de->d_name[3] > '9')
                        continue;
                char p[300];
                snprintf(p, sizeof p, "/sys/devices/system/cpu/%s/thermal_throttle", de->d_name);
                if (access(p, F_OK) == 0)
                        check_masked(p);
                n++;
        }
        closedir(d);
}

static bool fs_readonly(const char *path, char *why, size_t wl)
{
        struct statvfs sv;
        if (statvfs(path, &sv) < 0) {
                snprintf(why, wl, "statvfs: %s", strerror(errno));
                return errno == ENOENT; /* absent is as good as read-only */
        }
        if (!(sv.f_flag & ST_RDONLY)) {
                snprintf(why, wl, "mounted read-write");
                return false;
        }
        return true;
}

static void check_readonly(const char *path)
{
        char name[300], why[128];
        snprintf(name, sizeof name, "readonly:%s", path);
        if (!begin(name))
                return;
        struct stat st;
        if (stat(path, &st) < 0) {
                if (errno == ENOENT)
                        pass(name);
                else
                        fail(name, "stat: %s", strerror(errno));
                return;
        }
        if (!S_ISDIR(st.st_mode)) {
                /* Only ever opened, never written: /proc/sysrq-trigger must not be poked. */
                int fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
                if (fd >= 0) {
                        close(fd);
                        fail(name, "opened for writing");
                } else
                        pass(name);
                return;
        }
        if (fs_readonly(path, why, sizeof why))
                pass(name);
        else
                fail(name, "%s", why);
}

static void check_proc_sys_write(void)
{
        if (!begin("readonly:/proc/sys/kernel/hostname"))
                return;
        int fd = open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                close(fd);
                fail("readonly:/proc/sys/kernel/hostname", "opened for writing");
        } else
                pass("readonly:/proc/sys/kernel/hostname");
}

static void check_sys_readonly(void)
{
        char why[128];
        if (begin("sys-readonly")) {
                if (fs_readonly("/sys", why, sizeof why))
                        pass("sys-readonly");
                else
                        fail("sys-readonly", "/sys: %s", why);
        }
        if (!begin("sys-fs-cgroup-readonly"))
                return;
        if (!fs_readonly("/sys/fs/cgroup", why, sizeof why)) {
                fail("sys-fs-cgroup-readonly", "/sys/fs/cgroup: %s", why);
                return;
        }
        /* cgroup v1: a tmpfs with one mount per controller below it; each must be read-only too. */
        DIR *d = opendir("/sys/fs/cgroup");
        if (d) {
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                continue;
                        char p[300];
                        snprintf(p, sizeof p, "/sys/fs/cgroup/%s", de->d_name);
                        struct stat st;
                        if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode))
                                continue;
                        if (!fs_readonly(p, why, sizeof why)) {
                                fail("sys-fs-cgroup-readonly", "%s: %s", p, why);
                                closedir(d);
                                return;
                        }
                }
                closedir(d);
        }
        pass("sys-fs-cgroup-readonly");
}

static int find_block(const char *dir, int depth, char *found, size_t fl, int *budget)
{
        if (depth > 4)
                return 0;
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        struct dirent *de;
        int r = 0;
        while (!r && (de = readdir(d)) && (*budget)-- > 0) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                char p[512];
                snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
                struct stat st;
                if (lstat(p, &st) < 0)
                        continue;
                if (S_ISBLK(st.st_mode)) {
                        snprintf(found, fl, "%s (%u:%u)", p, major(st.st_rdev), minor(st.st_rdev));
                        r = 1;
                } else if (S_ISDIR(st.st_mode))
                        r = find_block(p, depth + 1, found, fl, budget);
        }
        closedir(d);
        return r;
}

static void check_devices(void)
{
        if (begin("dev-no-block-devices")) {
                char found[600];
                int budget = 20000;
                if (find_block("/dev", 0, found, sizeof found, &budget))
                        fail("dev-no-block-devices", "%s", found);
                else
                        pass("dev-no-block-devices");
        }
        if (begin("mknod-block")) {
                char p[128];
                snprintf(p, sizeof p, "%s/blk", scratch[0] ? scratch : "/dev");
                errno = 0;
                long r = mknod(p, S_IFBLK | 0600, makedev(7, 0));
                int e = errno;
                if (r == 0)
                        unlink(p);
                expect_denied("mknod-block", r, e);
        }
}

static void record_inherited_fds(void)
{
        ninherited = 0;
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return;
        int self = dirfd(d);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                int fd = atoi(de->d_name);
                if (fd > 2 && fd != self && ninherited < (int) (sizeof inherited_fds / sizeof inherited_fds[0]))
                        inherited_fds[ninherited++] = fd;
        }
        closedir(d);
}

static void check_fds(void)
{
        if (!begin("no-inherited-fds"))
                return;
        if (access("/proc/self/fd", F_OK) < 0) {
                skip("no-inherited-fds", "no /proc/self/fd");
                return;
        }
        if (ninherited == 0) {
                pass("no-inherited-fds");
                return;
        }
        char msg[1024] = "";
        size_t used = 0;
        for (int i = 0; i < ninherited && used < sizeof msg - 200; i++) {
                char link[64], target[160] = "?";
                snprintf(link, sizeof link, "/proc/self/fd/%d", inherited_fds[i]);
                ssize_t n = readlink(link, target, sizeof target - 1);
                if (n >= 0)
                        target[n] = '\0';
                used += (size_t) snprintf(msg + used, sizeof msg - used, "%s%d -> %s", i ? ", " : "",
                                          inherited_fds[i], target);
        }
        fail("no-inherited-fds", "%s", msg);
}

/* CVE-2019-5736 class: the executable of a visible process that is not a file of this
 * container (the runtime, a monitor) must not be writable, now or once it exits. Opening it
 * for writing must fail; if it fails only with ETXTBSY (busy while running), the file must
 * also be sealed (a sealed memfd copy), on a read-only mount, or not writable by permission. */
static bool exe_is_container_file(const char *exe_link, int fd)
{
        char target[512];
        ssize_t n = readlink(exe_link, target, sizeof target - 1);
        if (n <= 0)
                return false;
        target[n] = '\0';
        struct stat a, b;
        return fstat(fd, &a) == 0 && stat(target, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void check_exes(void)
{
        if (!begin("runtime-exe-not-writable"))
                return;
        DIR *d = opendir("/proc");
        if (!d) {
                skip("runtime-exe-not-writable", "no /proc");
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                char p[300], target[256] = "?";
                snprintf(p, sizeof p, "/proc/%s/exe", de->d_name);
                ssize_t tn = readlink(p, target, sizeof target - 1);
                if (tn >= 0)
                        target[tn] = '\0';
                int fd = open(p, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
                if (fd >= 0) {
                        close(fd);
                        fail("runtime-exe-not-writable", "%s (%s) opened for writing", p, target);
                        closedir(d);
                        return;
                }
                if (errno != ETXTBSY)
                        continue;
                fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                if (fd < 0)
                        continue;
                struct statvfs sv;
                int seals = fcntl(fd, F_GET_SEALS);
                bool safe = exe_is_container_file(p, fd) || (seals >= 0 && (seals & F_SEAL_WRITE)) ||
                            (fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY)) || faccessat(AT_FDCWD, p, W_OK, AT_EACCESS) < 0;
                close(fd);
                if (!safe) {
                        fail("runtime-exe-not-writable", "%s (%s) is busy now but writable once it exits", p, target);
                        closedir(d);
                        return;
                }
        }
        closedir(d);
        pass("runtime-exe-not-writable");
}

static long read_pids_max(char *where, size_t wl)
{
        /* The pids controller's path from /proc/self/cgroup: "N:pids:/p" (v1) or "0::/p" (v2). */
        char cg[4096] = "";
        int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t n = read(fd, cg, sizeof cg - 1);
                cg[n > 0 ? n : 0] = '\0';
                close(fd);
        }
        char cg_copy[4096];
        memcpy(cg_copy, cg, sizeof cg_copy);
        char v1[1024] = "", v2[1024] = "";
        for (char *line = strtok(cg, "\n"); line; line = strtok(NULL, "\n")) {
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = '\0';
                const char *ctrls = c1 + 1, *path = c2 + 1;
                if (!*ctrls)
                        snprintf(v2, sizeof v2, "%s", path);
                else {
                        char tmp[256];
                        snprintf(tmp, sizeof tmp, ",%s,", ctrls);
                        if (strstr(tmp, ",pids,"))
                                snprintf(v1, sizeof v1, "%s", path);
                }
        }
        /* "/" (a cgroup namespace's root) adds nothing to the mount point's path */
        if (!strcmp(v1, "/"))
                v1[0] = '\0', v1[1] = '\0';
        if (!strcmp(v2, "/"))
                v2[0] = '\0', v2[1] = '\0';
        bool have_v1 = strchr(cg_copy, ':') && strstr(cg_copy, "pids"), have_v2 = strstr(cg_copy, "0::") != NULL;
        char cand[6][1200];
        int nc = 0;
        if (have_v1) {
                snprintf(cand[nc++], sizeof cand[0], "/sys/fs/cgroup/pids%s/pids.max", v1);
                snprintf(cand[nc++], sizeof cand[0], "/sys/fs/cgroup/pids/pids.max");
        }
        if (have_v2) {
                snprintf(cand[nc++], sizeof cand[0], "/sys/fs/cgroup%s/pids.max", v2);
                snprintf(cand[nc++], sizeof cand[0], "/sys/fs/cgroup/unified%s/pids.max", v2);
        }
        snprintf(cand[nc++], sizeof cand[0], "/sys/fs/cgroup/pids.max");
        for (int i = 0; i < nc; i++) {
                int f = open(cand[i], O_RDONLY | O_CLOEXEC);
                if (f < 0)
                        continue;
                char buf[32] = "";
                ssize_t n = read(f, buf, sizeof buf - 1);
                close(f);
                if (n <= 0)
                        continue;
                buf[n] = '\0';
                snprintf(where, wl, "%.1200s", cand[i]);
                if (!strncmp(buf, "max", 3))
                        return -1;
                return atol(buf);
        }
        snprintf(where, wl, "no pids.max found");
        return -2;
}

static void check_pids(long pids_max, bool fork_test)
{
        if (begin("pids-limit")) {
                char where[1300];
                long v = read_pids_max(where, sizeof where);
                if (v == -2)
                        fail("pids-limit", "%s", where);
                else if (v == -1)
                        fail("pids-limit", "%s is \"max\" (no limit)", where);
                else if (v > pids_max)
                        fail("pids-limit", "%s is %ld, want at most %ld", where, v, pids_max);
                else
                        pass("pids-limit");
        }
        if (!fork_test || !begin("pids-limit-enforced"))
                return;
        /* Children block reading a pipe; closing the write end releases them all. */
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                fail("pids-limit-enforced", "pipe: %s", strerror(errno));
                return;
        }
        fflush(stdout);
        long n = 0, limit = pids_max + 64;
        int e = 0;
        pid_t *kids = calloc((size_t) limit, sizeof *kids);
        while (kids && n < limit) {
                pid_t pid = fork();
                if (pid < 0) {
                        e = errno;
                        break;
                }
                if (pid == 0) {
                        char c;
                        close(p[1]);
                        (void) !read(p[0], &c, 1);
                        _exit(0);
                }
                kids[n++] = pid;
        }
        close(p[1]);
        close(p[0]);
        for (long i = 0; i < n; i++)
                waitpid(kids[i], NULL, 0);
        free(kids);
        if (e == EAGAIN)
                pass("pids-limit-enforced");
        else if (e)
                fail("pids-limit-enforced", "fork failed with %s after %ld children", strerror(e), n);
        else
                fail("pids-limit-enforced", "%ld children forked without hitting a limit", n);
}

static void check_hostname(const char *not_hostname)
{
        if (!begin("hostname-not-host"))
                return;
        if (!not_hostname) {
                skip("hostname-not-host", "no --not-hostname given");
                return;
        }
        char name[256] = "";
        gethostname(name, sizeof name - 1);
        if (!strcmp(name, not_hostname))
                fail("hostname-not-host", "hostname is the host's (%s)", name);
        else
                pass("hostname-not-host");
}

static int usage(void)
{
        fprintf(stderr, "usage: moat-probe [--skip PATTERN]... [--expect-caps HEX] [--expect-bnd|eff|prm|inh|amb HEX]\n"
                        "                  [--pids-max N] [--pids-fork] [--not-hostname NAME] [--list]\n");
        return 2;
}

static bool parse_hex(const char *s, unsigned long long *out)
{
        char *end;
        errno = 0;
        *out = strtoull(s, &end, 16);
        return errno == 0 && *s && !*end;
}

int main(int argc, char **argv)
{
        /* First, before this program opens anything. */
        record_inherited_fds();

        unsigned long long bnd = MOAT_CAPS_MASK, eff = MOAT_CAPS_MASK, prm = MOAT_CAPS_MASK, inh = 0, amb = 0;
        long pids_max = 2048;
        bool pids_fork = false;
        const char *not_hostname = NULL;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;
                unsigned long long m;
                if (!strcmp(a, "--list"))
                        list_only = true;
                else if (!strcmp(a, "--x86-socketcall"))
                        x86_socketcall = true;
                else if (!strcmp(a, "--pids-fork"))
                        pids_fork = true;
                else if (!v)
                        return usage();
                else if (!strcmp(a, "--skip") && nskips < 64)
                        skips[nskips++] = argv[++i];
                else if (!strcmp(a, "--not-hostname"))
                        not_hostname = argv[++i];
                else if (!strcmp(a, "--pids-max")) {
                        pids_max = atol(argv[++i]);
                        if (pids_max <= 0)
                                return usage();
                } else if (!strncmp(a, "--expect-", 9) && parse_hex(v, &m)) {
                        i++;
                        if (!strcmp(a, "--expect-caps"))
                                bnd = eff = prm = m;
                        else if (!strcmp(a, "--expect-bnd"))
                                bnd = m;
                        else if (!strcmp(a, "--expect-eff"))
                                eff = m;
                        else if (!strcmp(a, "--expect-prm"))
                                prm = m;
                        else if (!strcmp(a, "--expect-inh"))
                                inh = m;
                        else if (!strcmp(a, "--expect-amb"))
                                amb = m;
                        else
                                return usage();
                } else
                        return usage();
        }
        setvbuf(stdout, NULL, _IOLBF, 0);

        if (!list_only) {
                strcpy(scratch, "/tmp/moat-probe-XXXXXX");
                if (!mkdtemp(scratch)) {
                        strcpy(scratch, "/moat-probe-XXXXXX");
                        if (!mkdtemp(scratch))
                                scratch[0] = '\0';
                }
                load_status();
        }

        check_fds();
        check_status_eq("seccomp-filter", "Seccomp", "2");
        check_status_eq("no-new-privs", "NoNewPrivs", "1");
        check_caps("caps-bounding", "CapBnd", bnd);
        check_caps("caps-effective", "CapEff", eff);
        check_caps("caps-permitted", "CapPrm", prm);
        check_caps("caps-inheritable", "CapInh", inh);
        check_caps("caps-ambient", "CapAmb", amb);
        check_mounts();
        check_namespaces();
        check_kernel_syscalls();
        check_sockets();
        check_i386_sockets();
        static const char *const masked[] = { "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore",
                                              "/proc/keys", "/proc/latency_stats", "/proc/sched_debug",
                                              "/proc/scsi", "/proc/timer_list", "/proc/timer_stats",
                                              "/sys/devices/virtual/powercap", "/sys/firmware" };
        for (size_t i = 0; i < sizeof masked / sizeof masked[0]; i++)
                check_masked(masked[i]);
        if (!list_only)
                check_thermal_throttle();
        static const char *const ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" };
        for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++)
                check_readonly(ro[i]);
        check_proc_sys_write();
        check_sys_readonly();
        check_devices();
        check_exes();
        check_pids(pids_max, pids_fork);
        check_hostname(not_hostname);

        if (scratch[0])
                rmdir(scratch);
        if (list_only)
                return 0;
        printf("# %d passed, %d failed, %d skipped\n", passed, failed, skipped);
        return failed ? 1 : 0;
}
