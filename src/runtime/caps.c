/* caps: (stub: filled in by the confinement work) */
#include "caps.h"

const char *const moat_caps_default[] = {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT", NULL,
};
int moat_cap_from_name(const char *name) { return -1; }
const char *moat_cap_name(int cap) { return NULL; }
int moat_cap_last(void) { return 40; }
int moat_caps_parse(json_t *caps, struct moat_caps *out, struct moat_error *err)
{
        memset(out, 0, sizeof *out);
        if (caps)
                return moat_error_set(err, ENOSYS, "process.capabilities: not implemented yet");
        return 0;
}
int moat_caps_drop_bounding(const struct moat_caps *caps, struct moat_error *err) { return 0; }
int moat_caps_apply(const struct moat_caps *caps, struct moat_error *err) { return 0; }
