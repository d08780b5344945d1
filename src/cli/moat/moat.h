/* moat CLI: what the verb files share — global options, opening the store, error output, and
 * the pull/push progress display. Verbs stay thin: parse, call one image function, render. */
#ifndef MOAT_CLI_H
#define MOAT_CLI_H

#include <getopt.h>

#include "image/image.h"

struct moat_cli {
        const char *root;
        char **insecure;
        size_t n_insecure;
        const char *certs_dir;
        const char *auth_file;
};

extern struct moat_cli cli;

int cli_open_store(struct moat_image_store **s);
int cli_fail(const struct moat_error *err);
/* docker's exit code for an engine error (and a bad --format): 125 */
int cli_fail125(const struct moat_error *err);
/* docker's human durations: "Less than a second", "About a minute", "3 hours", ... */
void cli_humanize(int64_t seconds, char *buf, size_t len);
/* docker's exit codes for the command line (docs/ENGINE.md "Verbs"): a bad flag prints the usage
 * and exits 125; a wrong number of arguments exits 1 with need ("requires at least 1 argument");
 * --help prints the usage on stdout and exits 0. An error from the engine or the store: 1. */
int cli_usage(const char *usage);
/* Append a copy of s to the NULL-terminated vector *v of *n entries (repeatable flags). */
void cli_strv_add(char ***v, size_t *n, const char *s);
int cli_args(const char *usage, const char *need);
int cli_help(const char *usage);
/* getopt_long for the verbs, with docker's (pflag's) order: flags anywhere among the arguments,
 * "--" ends the flags. At -1 the arguments, in their order, are argv[optind, argc). The verbs
 * whose trailing arguments are a command (run, create, exec; docker's SetInterspersed(false))
 * call getopt_long with "+" instead: flags only before the first argument. */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts, int *longindex);
/* For verbs without options: -1 to go on (optind at the first argument; a "--" is taken out of
 * argv and *argc), else the exit code for --help (0) or a flag (125). */
int cli_no_options(int *argc, char **argv, const char *usage);
void cli_registry_opts(struct moat_registry_opts *o);
/* Progress display for pull/push: bars on a terminal, plain lines otherwise (quiet: nothing). */
struct cli_progress;
struct cli_progress *cli_progress_new(bool quiet);
void cli_progress_attach(struct cli_progress *p, struct moat_registry_opts *o);
void cli_progress_free(struct cli_progress *p);
char *cli_human_size(int64_t n);
/* A reference's familiar repository (malloc'd) and its tag ("<none>" when it has none). */
char *cli_repo_tag(const char *name, const char **tag);
/* docker's tables (Go's tabwriter as docker sets it: columns at least 10 wide, 3 apart). */
void cli_table(char ***rows, size_t nrows, size_t ncols);
void cli_table_free(char ***rows, size_t nrows, size_t ncols);
/* docker's binary sizes (info's Total Memory): "3.831GiB" */
char *cli_human_bytes(int64_t n);

#define VERB(name) int cmd_##name(int argc, char **argv)
VERB(pull);
VERB(push);
VERB(images);
VERB(image);
VERB(inspect);
VERB(tag);
VERB(rmi);
VERB(history);
VERB(load);
VERB(save);
VERB(import);
VERB(prune);
VERB(login);
VERB(logout);
VERB(mount);
VERB(unmount);
VERB(run);
VERB(create);
VERB(start);
VERB(stop);
VERB(kill);
VERB(rm);
VERB(ps);
VERB(logs);
VERB(exec);
VERB(wait);
VERB(inspect_any);
VERB(sync);
VERB(restart);
VERB(pause);
VERB(unpause);
VERB(rename);
VERB(update);
VERB(top);
VERB(stats);
VERB(attach);
VERB(container);
VERB(volume);
VERB(cp);
VERB(diff);
VERB(system);
VERB(info);
VERB(version);
VERB(events);

#endif
