/* moat-runtime update [--resources FILE|-] [flags] ID: change a running container's limits. */
#include "cli.h"

int cmd_update(struct cli *c, int argc, char **argv)
{
        enum { O_RES = 256, O_MEM, O_MEMRES, O_SWAP, O_KMEM, O_KMEMTCP, O_SHARES, O_QUOTA, O_PERIOD, O_RTP, O_RTR,
               O_CPUS, O_MEMS, O_PIDS, O_BLKIO, O_L3, O_MBA, O_BURST, O_IDLE };
        static const struct option opts[] = {
                { "resources", required_argument, NULL, 'r' },
                { "memory", required_argument, NULL, O_MEM },
                { "memory-reservation", required_argument, NULL, O_MEMRES },
                { "memory-swap", required_argument, NULL, O_SWAP },
                { "kernel-memory", required_argument, NULL, O_KMEM },
                { "kernel-memory-tcp", required_argument, NULL, O_KMEMTCP },
                { "cpu-shares", required_argument, NULL, O_SHARES },
                { "cpu-quota", required_argument, NULL, O_QUOTA },
                { "cpu-period", required_argument, NULL, O_PERIOD },
                { "cpu-burst", required_argument, NULL, O_BURST },
                { "cpu-idle", required_argument, NULL, O_IDLE },
                { "cpu-rt-period", required_argument, NULL, O_RTP },
                { "cpu-rt-runtime", required_argument, NULL, O_RTR },
                { "cpuset-cpus", required_argument, NULL, O_CPUS },
                { "cpuset-mems", required_argument, NULL, O_MEMS },
                { "pids-limit", required_argument, NULL, O_PIDS },
                { "blkio-weight", required_argument, NULL, O_BLKIO },
                { "l3-cache-schema", required_argument, NULL, O_L3 },
                { "mem-bw-schema", required_argument, NULL, O_MBA },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        struct moat_error err;
        moat_error_clear(&err);
        json_t *res = NULL;
        json_t *flags = json_object();
        int o;
        long long v;
        int64_t b;
        opterr = 0;
#define SUB(name) (json_object_get(flags, name) ? json_object_get(flags, name) : (json_object_set_new(flags, name, json_object()), json_object_get(flags, name)))
        while ((o = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
                switch (o) {
                case 'r':
                        json_decref(res);
                        if (cli_read_json(optarg, &res, &err) < 0) {
                                json_decref(flags);
                                return cli_fail(&err);
                        }
                        break;
                case O_MEM: case O_MEMRES: case O_SWAP:
                        /* runc's: -1 is unlimited, anything else docker's sizes ("64m", binary units) */
                        if (streq(optarg, "-1"))
                                v = -1;
                        else if (moat_parse_bytes(optarg, &b) < 0)
                                goto bad_value;
                        else
                                v = b;
                        json_object_set_new(SUB("memory"), o == O_MEM ? "limit" : o == O_MEMRES ? "reservation" : "swap",
                                            json_integer(v));
                        break;
                case O_SHARES: case O_QUOTA: case O_PERIOD: case O_BURST: case O_IDLE:
                        if (moat_parse_int64(optarg, &v) < 0)
                                goto bad_value;
                        json_object_set_new(SUB("cpu"),
                                            o == O_SHARES ? "shares" : o == O_QUOTA ? "quota" : o == O_PERIOD ? "period"
                                                          : o == O_BURST ? "burst" : "idle",
                                            json_integer(v));
                        break;
                case O_CPUS: case O_MEMS:
                        json_object_set_new(SUB("cpu"), o == O_CPUS ? "cpus" : "mems", json_string(optarg));
                        break;
                case O_PIDS:
                        if (moat_parse_int64(optarg, &v) < 0)
                                goto bad_value;
                        json_object_set_new(SUB("pids"), "limit", json_integer(v));
                        break;
                case O_BLKIO:
                        if (moat_parse_int64(optarg, &v) < 0)
                                goto bad_value;
                        json_object_set_new(SUB("blockIO"), "weight", json_integer(v));
                        break;
                case O_KMEM: case O_KMEMTCP:
                        json_decref(flags);
                        json_decref(res);
                        return cli_usage_error("update", "%s: kernel memory limits are not supported by the kernel's "
                                               "cgroup v2 or recent v1", argv[optind - 1]);
                case O_RTP: case O_RTR:
                        json_decref(flags);
                        json_decref(res);
                        return cli_usage_error("update", "%s: real-time CPU limits are not supported", argv[optind - 1]);
                case O_L3: case O_MBA:
                        json_decref(flags);
                        json_decref(res);
                        return cli_usage_error("update", "%s: Intel RDT is not supported", argv[optind - 1]);
                case 'h':
                        printf("usage: moat-runtime update [--resources FILE|-] [--memory N] [--memory-reservation N]\n"
                               "       [--memory-swap N] [--cpu-shares N] [--cpu-quota N] [--cpu-period N]\n"
                               "       [--cpu-burst N] [--cpu-idle N] [--cpuset-cpus LIST] [--cpuset-mems LIST]\n"
                               "       [--pids-limit N] [--blkio-weight N] ID\n");
                        json_decref(flags);
                        json_decref(res);
                        return 0;
                default:
                        json_decref(flags);
                        json_decref(res);
                        return cli_usage_error("update", "unknown option \"%s\"", argv[optind - 1]);
                }
        }
#undef SUB
        const char *id;
        if (cli_one_id(argc, argv, "update", &id)) {
                json_decref(flags);
                json_decref(res);
                return 1;
        }
        /* flags win over the file, field by field */
        if (!res)
                res = json_object();
        if (!json_is_object(res)) {
                json_decref(flags);
                json_decref(res);
                return cli_usage_error("update", "--resources: expected a JSON object");
        }
        const char *k;
        json_t *sub;
        json_object_foreach(flags, k, sub)
        {
                json_t *dst = json_object_get(res, k);
                if (json_is_object(dst))
                        json_object_update(dst, sub);
                else
                        json_object_set(res, k, sub);
        }
        json_decref(flags);
        struct moat_cgroup_resources r;
        int rc = moat_cgroup_resources_parse(res, &r, &err);
        json_decref(res);
        if (rc < 0)
                return cli_fail(&err);
        rc = moat_runtime_update(&c->rt, id, &r, &err);
        moat_cgroup_resources_free(&r);
        if (rc < 0)
                return cli_fail(&err);
        return 0;
bad_value:
        json_decref(flags);
        json_decref(res);
        return cli_usage_error("update", "%s: invalid value \"%s\"", argv[optind - 1], optarg);
}
