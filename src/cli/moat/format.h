/* format: docker's --format for the listing verbs and inspect. A subset of Go's text/template
 * over a JSON document: text, {{.Field.Sub}}, {{.Method "arg"}}, {{json .Field}} (or {{json .}}),
 * {{index .Field "key"}}; the `table` prefix (a header row, columns aligned as docker's
 * tabwriter aligns them), `json` (one {{json .}} per line) and \t / \n escapes. Anything else
 * ({{if}}, {{range}}, pipes, other functions) is refused when parsed, never printed wrong. */
#ifndef MOAT_CLI_FORMAT_H
#define MOAT_CLI_FORMAT_H

#include <jansson.h>
#include <stdbool.h>

#include "util/util.h"

struct cli_format;

/* spec: what the user gave; "table" alone means default_table (a "table ..." spec itself). */
int cli_format_parse(const char *spec, const char *default_table, struct cli_format **out, struct moat_error *err);
void cli_format_free(struct cli_format *f);
bool cli_format_is_table(const struct cli_format *f);
/* A table's header row: each field's title from headers (field name -> title); nothing for a
 * format that is not a table. */
int cli_format_header(struct cli_format *f, json_t *headers, struct moat_error *err);
/* One item: dot is the item; methods (may be NULL) maps a method name to an object that
 * {{.Method "key"}} indexes. The output is kept until cli_format_flush. */
int cli_format_add(struct cli_format *f, json_t *dot, json_t *methods, struct moat_error *err);
/* Print what was added (aligned for a table) to stdout. */
void cli_format_flush(struct cli_format *f);

#endif
