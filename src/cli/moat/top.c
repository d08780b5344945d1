/* moat top CONTAINER: the container's processes as the host sees them (UID PID PPID CMD). */
#include <fcntl.h>

#include "container.h"

static void proc_line(pid_t pid)
{
        char path[64], buf[4096];
        unsigned uid = 0;
        int ppid = 0;
        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return;
        while (fgets(buf, sizeof buf, f)) {
                if (startswith(buf, "Uid:"))
                        sscanf(buf + 4, "%u", &uid);
                else if (startswith(buf, "PPid:"))
                        sscanf(buf + 5, "%d", &ppid);
        }
        fclose(f);
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int) pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
                close(fd);
        if (n < 0)
                n = 0;
        for (ssize_t i = 0; i < n; i++)
                if (buf[i] == '\0')
                        buf[i] = i + 1 < n ? ' ' : '\0';
        buf[n] = '\0';
        printf("%-8u %-8d %-8d %s\n", uid, (int) pid, ppid, buf);
}

int cmd_top(int argc, char **argv)
{
        int r0 = cli_no_options(&argc, argv, "top CONTAINER");
        if (r0 >= 0)
                return r0;
        if (argc != 2)
                return cli_args("top CONTAINER", "requires 1 argument");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        pid_t *pids = NULL;
        size_t n = 0;
        if (moat_engine_top(e, argv[1], &pids, &n, &err) < 0)
                return cli_fail(&err);
        printf("%-8s %-8s %-8s %s\n", "UID", "PID", "PPID", "CMD");
        for (size_t i = 0; i < n; i++)
                proc_line(pids[i]);
        free(pids);
        return 0;
}
