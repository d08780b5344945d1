/* cgroup_bpf: the device allow list as a BPF_PROG_TYPE_CGROUP_DEVICE program, hand-assembled so
 * no libbpf or compiler is needed at run time. The kernel runs it on every open/mknod of a device
 * node by a process of the cgroup; returning 0 denies. */
#include "runtime/cgroup_bpf.h"
#include "util/util.h"

#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Registers: r1 = ctx (struct bpf_cgroup_dev_ctx), r2 = type, r3 = access, r4 = major, r5 = minor */
#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define MOV_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define AND_IMM(d, i) INSN(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, i)
#define RSH_IMM(d, i) INSN(BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0, i)
#define JNE_IMM(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define JSET_IMM(d, i, o) INSN(BPF_JMP | BPF_JSET | BPF_K, d, 0, o, i)
#define JEQ_IMM(d, i, o) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define MAX_RULES 4096

static unsigned access_bits(const char *a)
{
        unsigned b = 0;
        for (; *a; a++)
                b |= *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE : *a == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
        return b;
}

int moat_cgroup_bpf_devices_build(const struct moat_cgroup_device_rule *rules, size_t n, struct bpf_insn **out,
                                  size_t *n_insn, struct moat_error *err)
{
        if (n > MAX_RULES)
                return moat_error_set(err, E2BIG, "linux.resources.devices: %zu rules (at most %d)", n, MAX_RULES);
        /* prologue 6, at most 6 per rule, epilogue 2 */
        struct bpf_insn *p = XNEW(struct bpf_insn, 8 + 6 * n);
        size_t k = 0;
        p[k++] = LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
        p[k++] = AND_IMM(BPF_REG_2, 0xffff);
        p[k++] = LDX_W(BPF_REG_3, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
        p[k++] = RSH_IMM(BPF_REG_3, 16);
        p[k++] = LDX_W(BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major));
        p[k++] = LDX_W(BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor));
        /* The last rule that matches decides; so test them last to first and stop at the first hit. */
        for (size_t i = n; i-- > 0;) {
                const struct moat_cgroup_device_rule *r = &rules[i];
                unsigned acc = access_bits(r->access);
                if (!acc)
                        continue; /* matches nothing */
                if (r->type != 'a' && r->type != 'c' && r->type != 'b') {
                        free(p);
                        return moat_error_set(err, EINVAL, "linux.resources.devices[%zu]: type \"%c\" is not a, c or b",
                                              i, r->type);
                }
                size_t jumps[4], nj = 0;
                if (r->type != 'a') {
                        jumps[nj++] = k;
                        p[k++] = JNE_IMM(BPF_REG_2, r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, 0);
                }
                /* allow: every access asked for is in the rule; deny: any of them is */
                if (r->allow) {
                        jumps[nj++] = k;
                        p[k++] = JSET_IMM(BPF_REG_3, (int32_t) (~acc & 7u), 0);
                } else {
                        p[k++] = MOV_REG(BPF_REG_0, BPF_REG_3);
                        p[k++] = AND_IMM(BPF_REG_0, (int32_t) acc);
                        jumps[nj++] = k;
                        p[k++] = JEQ_IMM(BPF_REG_0, 0, 0);
                }
                if (r->major >= 0) {
                        jumps[nj++] = k;
                        p[k++] = JNE_IMM(BPF_REG_4, (int32_t) r->major, 0);
                }
                if (r->minor >= 0) {
                        jumps[nj++] = k;
                        p[k++] = JNE_IMM(BPF_REG_5, (int32_t) r->minor, 0);
                }
                p[k++] = MOV_IMM(BPF_REG_0, r->allow ? 1 : 0);
                p[k++] = EXIT();
                for (size_t j = 0; j < nj; j++)
                        p[jumps[j]].off = (int16_t) (k - jumps[j] - 1);
        }
        p[k++] = MOV_IMM(BPF_REG_0, 0);
        p[k++] = EXIT();
        *out = p;
        *n_insn = k;
        return 0;
}

static long bpf_(int cmd, union bpf_attr *attr)
{
        return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

int moat_cgroup_bpf_devices_apply(int cgfd, const struct moat_cgroup_device_rule *rules, size_t n,
                                  struct moat_error *err)
{
        _cleanup_free_ struct bpf_insn *insns = NULL;
        size_t n_insn;
        int r = moat_cgroup_bpf_devices_build(rules, n, &insns, &n_insn, err);
        if (r < 0)
                return r;
        char log[4096] = "";
        union bpf_attr load;
        memset(&load, 0, sizeof load);
        load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        load.insns = (uint64_t) (uintptr_t) insns;
        load.insn_cnt = (uint32_t) n_insn;
        load.license = (uint64_t) (uintptr_t) "Apache-2.0";
        load.log_buf = (uint64_t) (uintptr_t) log;
        load.log_size = sizeof log;
        load.log_level = 1;
        strncpy(load.prog_name, "moat_devices", sizeof load.prog_name - 1);
        _cleanup_close_ int prog = (int) bpf_(BPF_PROG_LOAD, &load);
        if (prog < 0 && errno == ENOSPC) { /* the log was too small: load again without it */
                load.log_buf = 0;
                load.log_size = 0;
                load.log_level = 0;
                prog = (int) bpf_(BPF_PROG_LOAD, &load);
        }
        if (prog < 0) fprintf(stderr, "LOG: %s\n", log + (strlen(log) > 600 ? strlen(log) - 600 : 0));
        if (prog < 0)
                return moat_error_set(err, errno, "load the device filter (BPF_PROG_TYPE_CGROUP_DEVICE)%s%s",
                                      log[0] ? ": " : "", log);

        /* the programs there now, which ours replaces */
        uint32_t old_ids[64], n_old = ARRAY_SIZE(old_ids);
        union bpf_attr q;
        memset(&q, 0, sizeof q);
        q.query.target_fd = (uint32_t) cgfd;
        q.query.attach_type = BPF_CGROUP_DEVICE;
        q.query.prog_ids = (uint64_t) (uintptr_t) old_ids;
        q.query.prog_cnt = n_old;
        if (bpf_(BPF_PROG_QUERY, &q) < 0)
                n_old = 0;
        else
                n_old = q.query.prog_cnt < ARRAY_SIZE(old_ids) ? q.query.prog_cnt : ARRAY_SIZE(old_ids);

        union bpf_attr at;
        memset(&at, 0, sizeof at);
        at.target_fd = (uint32_t) cgfd;
        at.attach_bpf_fd = (uint32_t) prog;
        at.attach_type = BPF_CGROUP_DEVICE;
        at.attach_flags = BPF_F_ALLOW_MULTI;
        if (bpf_(BPF_PROG_ATTACH, &at) < 0)
                return moat_error_set(err, errno, "attach the device filter to the container's cgroup");

        for (uint32_t i = 0; i < n_old; i++) {
                union bpf_attr g;
                memset(&g, 0, sizeof g);
                g.prog_id = old_ids[i];
                _cleanup_close_ int old = (int) bpf_(BPF_PROG_GET_FD_BY_ID, &g);
                if (old < 0)
                        continue; /* gone meanwhile */
                union bpf_attr d;
                memset(&d, 0, sizeof d);
                d.target_fd = (uint32_t) cgfd;
                d.attach_bpf_fd = (uint32_t) old;
                d.attach_type = BPF_CGROUP_DEVICE;
                if (bpf_(BPF_PROG_DETACH, &d) < 0 && errno != ENOENT)
                        return moat_error_set(err, errno, "detach the previous device filter (id %u)", old_ids[i]);
        }
        return 0;
}
