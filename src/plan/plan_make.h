/* Plan making: the part of the planner that turns the config and what was
 * resolved into svc_plan fields and verdicts (docs/design.md, "Plan"). */
#ifndef HFINIT_PLAN_MAKE_H
#define HFINIT_PLAN_MAKE_H

#include "plan/plan.h"

int svc_fail(struct svc_plan *sp, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int svc_warn(struct svc_plan *sp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char **argv_build(const char *first, const char *second, char *const *rest);
size_t python_users(const struct plan *plan, struct resolve_user *users);
int64_t ms_ns(uint64_t ms);
void svc_policy_make(const struct service_conf *sc, struct svc_policy *po);
void svc_spawn_build(struct svc_plan *sp);

#endif
