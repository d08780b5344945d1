/* health: docker's health checks, run by moat-monitor (health.c), and the event line the engine
 * and the monitor both append (event.c). Engine-private. */
#ifndef MOAT_ENGINE_HEALTH_H
#define MOAT_ENGINE_HEALTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/runtime.h"

/* Append {"time","type":"container","action","id","name",...extra} to <root>/events.log. */
void moat_event_append(const char *root, const char *action, const char *id, const char *name, json_t *extra);

struct moat_health;

/* The monitor's --health argument: {"Test":[argv...],"Interval","Timeout","StartPeriod",
 * "StartInterval" (ns),"Retries"}, docker's defaults applied. NULL when malformed. */
struct moat_health *moat_health_new(const char *config_json);
void moat_health_free(struct moat_health *h);
/* A (re)started container: status starting, failing streak 0; the first probe one interval on. */
void moat_health_reset(struct moat_health *h, int64_t started_ns);
/* Milliseconds until the next thing to do (a probe is due, or a probe overran), for poll. */
int moat_health_timeout_ms(const struct moat_health *h);
/* Start a probe when one is due (not while paused); kill a probe helper that overran. */
void moat_health_tick(struct moat_health *h, const struct moat_runtime *rt, const char *id, bool paused);
/* The helper pid was reaped with status: record the result. Returns true when it was ours;
 * *changed says whether the status changed (the caller writes status.json and an event). */
bool moat_health_reaped(struct moat_health *h, pid_t pid, int status, bool *changed);
/* The container stopped: end a running probe; docker then reports unhealthy. */
void moat_health_stop(struct moat_health *h);
const char *moat_health_status(const struct moat_health *h);
/* {"Status","FailingStreak","Log":[{"Start","End","ExitCode","Output"}...]} (a new reference) */
json_t *moat_health_json(const struct moat_health *h);

#endif
