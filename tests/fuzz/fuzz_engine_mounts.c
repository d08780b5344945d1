/* Fuzz target: the mount flags (-v, --mount, --tmpfs) and an image's Volumes. Input lines are
 * "v SPEC", "m SPEC", "t SPEC" or "i PATH"; whatever they hold must either parse into clean
 * absolute targets or fail cleanly. */
#include <assert.h>
#include <stdint.h>

#include "engine/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = xstrndup((const char *) data, size);
        char *v[9] = { 0 }, *m[9] = { 0 }, *t[9] = { 0 };
        size_t nv = 0, nm = 0, nt = 0;
        json_t *vols = json_object();
        char *save = NULL;
        for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (strlen(l) < 2)
                        continue;
                if (l[0] == 'v' && nv < 8)
                        v[nv++] = l + 2;
                else if (l[0] == 'm' && nm < 8)
                        m[nm++] = l + 2;
                else if (l[0] == 't' && nt < 8)
                        t[nt++] = l + 2;
                else if (l[0] == 'i')
                        json_object_set_new(vols, l + 2, json_object());
        }
        struct moat_container_opts o = { .binds = v, .mounts = m, .tmpfs = t };
        json_t *icfg = json_pack("{s:o}", "Volumes", vols);
        struct moat_mount_req *r = NULL;
        size_t n = 0;
        struct moat_error err;
        if (moat_mount_reqs_parse(NULL, &o, icfg, &r, &n, &err) == 0) {
                for (size_t i = 0; i < n; i++) {
                        assert(r[i].target[0] == '/' && !strstr(r[i].target, "//") && !strstr(r[i].target, "/.."));
                        assert(r[i].type != MOAT_MOUNT_REQ_BIND || (r[i].source[0] == '/' && r[i].source[1]));
                        for (size_t k = 0; k < i; k++)
                                assert(!streq(r[i].target, r[k].target));
                }
                moat_mount_reqs_free(r, n);
        }
        json_decref(icfg);
        free(s);
        return 0;
}
