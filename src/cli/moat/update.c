/* moat update [OPTIONS] CONTAINER...: docker update's limits and restart policy. */
#include "container.h"

static int update_one(struct moat_engine *e, const char *name, const void *arg, struct moat_error *err)
{
        return moat_engine_update(e, name, arg, err);
}

int cmd_update(int argc, char **argv)
{
        static const struct option opts[] = {
                { "memory", required_argument, NULL, 'm' },      { "memory-swap", required_argument, NULL, 'S' },
                { "cpus", required_argument, NULL, 'C' },        { "cpu-shares", required_argument, NULL, 'c' },
                { "pids-limit", required_argument, NULL, 'P' },  { "restart", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },              { "blkio-weight", required_argument, NULL, 'X' },
                { "cpu-period", required_argument, NULL, 'X' },  { "cpu-quota", required_argument, NULL, 'X' },
                { "cpu-rt-period", required_argument, NULL, 'X' }, { "cpu-rt-runtime", required_argument, NULL, 'X' },
                { "cpuset-cpus", required_argument, NULL, 'U' }, { "cpuset-mems", required_argument, NULL, 'M' },
                { "kernel-memory", required_argument, NULL, 'X' }, { "memory-reservation", required_argument, NULL, 'X' },
                {},
        };
        static const char usage[] = "update [-m BYTES] [--memory-swap BYTES] [--cpus N] [-c|--cpu-shares N] "
                                    "[--cpuset-cpus LIST] [--cpuset-mems LIST] [--pids-limit N] [--restart POLICY] "
                                    "CONTAINER...";
        struct moat_update_opts u = { 0 };
        int c, idx = 0;
        while ((c = cli_getopt(argc, argv, "m:c:h", opts, &idx)) != -1) {
                switch (c) {
                case 'm': case 'S': case 'C': case 'c': case 'P':
                        if (cli_parse_limit(c, optarg, &u.memory, &u.memory_swap, &u.cpus, &u.cpu_shares,
                                            &u.pids_limit) < 0)
                                return 125;
                        break;
                case 'r': u.restart = optarg; break;
                case 'U': u.cpuset_cpus = optarg; break;
                case 'M': u.cpuset_mems = optarg; break;
                case 'X':
                        fprintf(stderr, "moat: update --%s is not supported yet (Moat updates --memory, "
                                        "--memory-swap, --cpus, --cpu-shares, --cpuset-cpus, --cpuset-mems, "
                                        "--pids-limit and --restart)\n",
                                opts[idx].name);
                        return 125;
                case 'h': return cli_help(usage);
                default: return cli_usage(usage);
                }
        }
        return cli_each_container(argc, argv, usage, update_one, &u);
}
