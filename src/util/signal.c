/* signal: signal names and numbers as users and runc callers write them ("KILL", "SIGTERM",
 * "9", "RTMIN+3"). */
#include "util.h"

#include <signal.h>
#include <strings.h>

static const struct {
        const char *name;
        int sig;
} signals[] = {
        { "HUP", SIGHUP },   { "INT", SIGINT },     { "QUIT", SIGQUIT },   { "ILL", SIGILL },
        { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },   { "IOT", SIGIOT },     { "BUS", SIGBUS },
        { "FPE", SIGFPE },   { "KILL", SIGKILL },   { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
        { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },   { "ALRM", SIGALRM },   { "TERM", SIGTERM },
        { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
        { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },   { "URG", SIGURG },
        { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
        { "WINCH", SIGWINCH }, { "IO", SIGIO },     { "POLL", SIGPOLL },   { "PWR", SIGPWR },
        { "SYS", SIGSYS },
};

int moat_signal_parse(const char *s)
{
        long long n;
        if (moat_parse_int64(s, &n) == 0)
                return n > 0 && n <= SIGRTMAX ? (int) n : -1;
        if (startswith(s, "SIG"))
                s += 3;
        for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
                if (strcasecmp(s, signals[i].name) == 0)
                        return signals[i].sig;
        if (startswith(s, "RTMIN")) {
                if (!s[5])
                        return SIGRTMIN;
                if (s[5] == '+' && moat_parse_int64(s + 6, &n) == 0 && SIGRTMIN + n <= SIGRTMAX)
                        return SIGRTMIN + (int) n;
        }
        if (startswith(s, "RTMAX")) {
                if (!s[5])
                        return SIGRTMAX;
                if (s[5] == '-' && moat_parse_int64(s + 6, &n) == 0 && SIGRTMAX - n >= SIGRTMIN)
                        return SIGRTMAX - (int) n;
        }
        return -1;
}
