/* moat inspect NAME|ID...: containers first (docker-compatible JSON), then images. */
#include "container.h"

int cmd_inspect_any(int argc, char **argv)
{
        if (argc < 2 || streq(argv[1], "--help"))
                return argc < 2 ? cli_usage("inspect CONTAINER|IMAGE...") : (printf("Usage: moat inspect CONTAINER|IMAGE...\n"), 0);
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        _cleanup_store_ struct moat_image_store *s = NULL;
        json_t *all = json_array();
        int rc = 0;
        for (int i = 1; i < argc; i++) {
                struct moat_error err;
                json_t *doc = NULL;
                if (moat_engine_inspect(e, argv[i], &doc, &err) == 0) {
                        json_array_append_new(all, doc);
                        continue;
                }
                if (!s && cli_open_store(&s))
                        return 1;
                _cleanup_free_ char *txt = NULL;
                struct moat_error ierr;
                if (moat_image_inspect(s, argv[i], &txt, &ierr) == 0 && (doc = json_loads(txt, 0, NULL))) {
                        json_array_append_new(all, doc);
                        continue;
                }
                fprintf(stderr, "moat: Error: No such object: %s\n", argv[i]);
                rc = 1;
        }
        char *out = json_dumps(all, JSON_INDENT(4));
        printf("%s\n", out);
        free(out);
        json_decref(all);
        return rc;
}
