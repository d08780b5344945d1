/* moat system df [-v] | prune [-a] [-f] [--volumes] | info | events: docker's system verbs; and
 * restore, Moat's own: restart policies applied at boot, as dockerd applies them when it starts. */
#include <time.h>

#include "container.h"

static int refuse125(const char *what, const char *why)
{
        fprintf(stderr, "moat: %s is not supported yet%s%s\n", what, why ? ": " : "", why ? why : "");
        return 125;
}

static char *size_pct(int64_t part, int64_t total)
{
        _cleanup_free_ char *h = cli_human_size(part);
        if (total <= 0)
                return xstrdup(h);
        return xasprintf("%s (%lld%%)", h, (long long) (part * 100 / total));
}

static char **row(size_t n, ...)
{
        va_list ap;
        va_start(ap, n);
        char **r = XNEW(char *, n);
        for (size_t i = 0; i < n; i++)
                r[i] = va_arg(ap, char *);
        va_end(ap);
        return r;
}

static char *ago(int64_t now, int64_t then)
{
        if (then <= 0)
                return xstrdup("N/A");
        char h[64];
        cli_humanize((now - then) / 1000000000, h, sizeof h);
        return xasprintf("%s ago", h);
}

static void df_verbose(const struct moat_system_df *d, int64_t now)
{
        printf("Images space usage:\n\n");
        size_t nr = 1;
        char ***rows = XNEW(char **, 1);
        rows[0] = row(8, xstrdup("REPOSITORY"), xstrdup("TAG"), xstrdup("IMAGE ID"), xstrdup("CREATED"), xstrdup("SIZE"),
                      xstrdup("SHARED SIZE"), xstrdup("UNIQUE SIZE"), xstrdup("CONTAINERS"));
        for (size_t i = 0; i < d->n_images; i++) {
                const struct moat_image_info *m = &d->images[i];
                int64_t created = 0;
                if (!m->created || moat_parse_timestamp(m->created, now, &created) < 0)
                        created = 0;
                size_t names = strv_len(m->names);
                for (size_t k = 0; k < (names ? names : 1); k++) {
                        const char *tag = "<none>";
                        char *repo = names ? cli_repo_tag(m->names[k], &tag) : xstrdup("<none>");
                        rows = xrealloc(rows, sizeof *rows * (nr + 1));
                        rows[nr++] = row(8, repo, xstrdup(tag), xstrndup(m->id + 7, 12), ago(now, created),
                                         cli_human_size(m->size), cli_human_size(d->image_shared[i]),
                                         cli_human_size(m->size - d->image_shared[i]),
                                         xasprintf("%d", d->image_containers[i]));
                }
        }
        cli_table(rows, nr, 8);
        cli_table_free(rows, nr, 8);

        printf("\nContainers space usage:\n\n");
        nr = 1;
        rows = XNEW(char **, 1);
        rows[0] = row(8, xstrdup("CONTAINER ID"), xstrdup("IMAGE"), xstrdup("COMMAND"), xstrdup("LOCAL VOLUMES"),
                      xstrdup("SIZE"), xstrdup("CREATED"), xstrdup("STATUS"), xstrdup("NAMES"));
        for (size_t i = 0; i < d->n_containers; i++) {
                const struct moat_container_info *c = &d->containers_info[i];
                char status[96];
                cli_status_text(c, now, status, sizeof status);
                json_t *vols = json_object_get(c->config, "Volumes");
                rows = xrealloc(rows, sizeof *rows * (nr + 1));
                rows[nr++] = row(8, xstrndup(c->id, 12), xstrdup(c->image),
                                 strlen(c->command) > 19 ? xasprintf("\"%.19s…\"", c->command)
                                                         : xasprintf("\"%s\"", c->command),
                                 xasprintf("%zu", json_array_size(vols)), cli_human_size(d->container_size[i]),
                                 ago(now, c->created), xstrdup(status), xstrdup(c->name));
        }
        cli_table(rows, nr, 8);
        cli_table_free(rows, nr, 8);

        printf("\nLocal Volumes space usage:\n\n");
        nr = 1;
        rows = XNEW(char **, 1);
        rows[0] = row(3, xstrdup("VOLUME NAME"), xstrdup("LINKS"), xstrdup("SIZE"));
        for (size_t i = 0; i < d->n_volumes; i++) {
                rows = xrealloc(rows, sizeof *rows * (nr + 1));
                rows[nr++] = row(3, xstrdup(d->volumes[i]), xasprintf("%d", d->volume_links[i]),
                                 cli_human_size(d->volume_size[i]));
        }
        cli_table(rows, nr, 3);
        cli_table_free(rows, nr, 3);

        printf("\nBuild cache usage: 0B\n\n");
        rows = XNEW(char **, 1);
        rows[0] = row(7, xstrdup("CACHE ID"), xstrdup("CACHE TYPE"), xstrdup("SIZE"), xstrdup("CREATED"),
                      xstrdup("LAST USED"), xstrdup("USAGE"), xstrdup("SHARED"));
        cli_table(rows, 1, 7);
        cli_table_free(rows, 1, 7);
}

static int df(int argc, char **argv)
{
        static const struct option opts[] = { { "verbose", no_argument, NULL, 'v' },
                                              { "format", required_argument, NULL, 'F' },
                                              { "help", no_argument, NULL, 'h' }, {} };
        static const char usage[] = "system df [-v|--verbose]";
        bool verbose = false;
        int c;
        while ((c = cli_getopt(argc, argv, "vh", opts, NULL)) != -1) {
                switch (c) {
                case 'v': verbose = true; break;
                case 'F': return refuse125("system df --format", NULL);
                case 'h': return printf("Usage: moat %s\n\nShow disk usage\n", usage), 0;
                default: return cli_usage(usage);
                }
        }
        if (optind != argc)
                return cli_args(usage, "accepts no arguments");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        struct moat_system_df d;
        if (moat_engine_df(e, &d, &err) < 0)
                return cli_fail(&err);
        int64_t now = moat_realtime_ns();
        if (verbose) {
                df_verbose(&d, now);
                moat_system_df_clear(&d);
                return 0;
        }
        /* images: what is not used by a container (its layers others share stay) is reclaimable */
        int64_t used = 0, c_total = 0, c_reclaim = 0, v_total = 0, v_reclaim = 0;
        int i_active = 0, c_active = 0, v_active = 0;
        for (size_t i = 0; i < d.n_images; i++)
                if (d.image_containers[i]) {
                        i_active++;
                        used += d.images[i].size - d.image_shared[i];
                }
        for (size_t i = 0; i < d.n_containers; i++) {
                c_total += d.container_size[i];
                if (streq(d.containers_info[i].state, "running") || streq(d.containers_info[i].state, "paused") ||
                    streq(d.containers_info[i].state, "restarting"))
                        c_active++;
                else
                        c_reclaim += d.container_size[i];
        }
        for (size_t i = 0; i < d.n_volumes; i++) {
                v_total += d.volume_size[i];
                if (d.volume_links[i])
                        v_active++;
                else
                        v_reclaim += d.volume_size[i];
        }
        int64_t i_reclaim = d.images_total - used;
        if (i_reclaim < 0)
                i_reclaim = 0;
        char ***rows = XNEW(char **, 5);
        rows[0] = row(5, xstrdup("TYPE"), xstrdup("TOTAL"), xstrdup("ACTIVE"), xstrdup("SIZE"), xstrdup("RECLAIMABLE"));
        rows[1] = row(5, xstrdup("Images"), xasprintf("%zu", d.n_images), xasprintf("%d", i_active),
                      cli_human_size(d.images_total), size_pct(i_reclaim, d.images_total));
        rows[2] = row(5, xstrdup("Containers"), xasprintf("%zu", d.n_containers), xasprintf("%d", c_active),
                      cli_human_size(c_total), size_pct(c_reclaim, c_total));
        rows[3] = row(5, xstrdup("Local Volumes"), xasprintf("%zu", d.n_volumes), xasprintf("%d", v_active),
                      cli_human_size(v_total), size_pct(v_reclaim, v_total));
        rows[4] = row(5, xstrdup("Build Cache"), xstrdup("0"), xstrdup("0"), xstrdup("0B"), xstrdup("0B"));
        cli_table(rows, 5, 5);
        cli_table_free(rows, 5, 5);
        moat_system_df_clear(&d);
        return 0;
}

static void list(const char *title, char **v)
{
        if (!v || !v[0])
                return;
        printf("%s:\n", title);
        for (size_t i = 0; v[i]; i++)
                printf("%s\n", v[i]);
        printf("\n");
}

static int prune(int argc, char **argv)
{
        enum { O_VOLUMES = 256 };
        static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { "force", no_argument, NULL, 'f' },
                                              { "volumes", no_argument, NULL, O_VOLUMES },
                                              { "filter", required_argument, NULL, 'F' },
                                              { "help", no_argument, NULL, 'h' }, {} };
        static const char usage[] = "system prune [-a|--all] [-f|--force] [--volumes]";
        bool all = false, force = false, volumes = false;
        int c;
        while ((c = cli_getopt(argc, argv, "afh", opts, NULL)) != -1) {
                switch (c) {
                case 'a': all = true; break;
                case 'f': force = true; break;
                case O_VOLUMES: volumes = true; break;
                case 'F': return refuse125("system prune --filter", "prune everything unused, or remove by name");
                case 'h': return printf("Usage: moat %s\n\nRemove unused data\n", usage), 0;
                default: return cli_usage(usage);
                }
        }
        if (optind != argc)
                return cli_args(usage, "accepts no arguments");
        if (!force) {
                printf("WARNING! This will remove:\n  - all stopped containers\n");
                if (volumes)
                        printf("  - all anonymous volumes not used by at least one container\n");
                printf(all ? "  - all images without at least one container associated to them\n"
                           : "  - all dangling images\n");
                printf("\nAre you sure you want to continue? [y/N] ");
                fflush(stdout);
                char answer[64] = "";
                if (!fgets(answer, sizeof answer, stdin))
                        answer[0] = '\0';
                answer[strcspn(answer, "\r\n")] = '\0';
                if (!streq(answer, "y") && !streq(answer, "Y") && strcasecmp(answer, "yes") != 0) {
                        if (!answer[0])
                                printf("\n");
                        return 0;
                }
        }
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        struct moat_prune_report p;
        if (moat_engine_system_prune(e, all, volumes, &p, &err) < 0)
                return cli_fail(&err);
        list("Deleted Containers", p.containers);
        list("Deleted Volumes", p.volumes);
        if (p.images && p.images[0]) {
                printf("Deleted Images:\n");
                for (size_t i = 0; p.untagged && p.untagged[i]; i++) {
                        _cleanup_free_ char *fam = moat_image_ref_familiar(p.untagged[i]);
                        printf("untagged: %s\n", fam);
                }
                for (size_t i = 0; p.images[i]; i++)
                        printf("deleted: %s\n", p.images[i]);
                printf("\n");
        }
        _cleanup_free_ char *h = cli_human_size((int64_t) p.reclaimed);
        printf("Total reclaimed space: %s\n", h);
        moat_prune_report_clear(&p);
        return 0;
}

struct restore_report {
        int failed;
};

static void restore_told(void *ud, const struct moat_container_info *c, enum moat_restore_action a,
                         const struct moat_error *failed)
{
        struct restore_report *rep = ud;
        const char *what = a == MOAT_RESTORE_STARTED ? "start" : "remove";
        if (failed) {
                fprintf(stderr, "moat: %s %s: %s\n", what, c->name, failed->msg);
                rep->failed++;
        } else
                printf("%s %s\n", a == MOAT_RESTORE_STARTED ? "started" : "removed", c->name);
}

/* moat system restore: what dockerd does with containers when it starts; run once at boot. */
static int restore(int argc, char **argv)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, {} };
        int c;
        while ((c = cli_getopt(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'h')
                        return printf("Usage: moat system restore\n\nStart the containers whose restart policy "
                                      "asks for it, as dockerd does when it starts (run it once at boot).\n"), 0;
                return cli_usage("system restore");
        }
        if (optind < argc) {
                fprintf(stderr, "moat: system restore takes no arguments\n");
                return 125;
        }
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct restore_report rep = { 0 };
        struct moat_error err;
        if (moat_engine_restore(e, restore_told, &rep, &err) < 0)
                return cli_fail125(&err);
        return rep.failed ? 1 : 0;
}

int cmd_system(int argc, char **argv)
{
        static const char usage[] = "system df [-v] | prune [-a] [-f] [--volumes] | info | events | restore";
        if (argc < 2) {
                fprintf(stderr, "Usage: moat %s\n", usage);
                return 0; /* docker shows a command group's help, without a subcommand too */
        }
        const char *sub = argv[1];
        optind = 0;
        if (streq(sub, "df"))
                return df(argc - 1, argv + 1);
        if (streq(sub, "prune"))
                return prune(argc - 1, argv + 1);
        if (streq(sub, "info"))
                return cmd_info(argc - 1, argv + 1);
        if (streq(sub, "events"))
                return cmd_events(argc - 1, argv + 1);
        if (streq(sub, "restore"))
                return restore(argc - 1, argv + 1);
        if (streq(sub, "--help") || streq(sub, "-h"))
                return cli_help(usage);
        fprintf(stderr, "moat: unknown command: moat system %s\n\nSee 'moat system --help'.\n", sub);
        return 1;
}
