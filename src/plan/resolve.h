/* The resolution of users, Python and scripts, in one include for the files
 * that have not moved to plan/user.h, plan/python.h and plan/script.h. */
#ifndef HFINIT_RESOLVE_H
#define HFINIT_RESOLVE_H

#include "plan/python.h"
#include "plan/script.h"
#include "plan/user.h"

#endif
