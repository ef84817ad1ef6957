/* Syscall names of this architecture, as libseccomp knows them: the check of
 * the names a [seccomp:NAME] profile lists, with a did-you-mean. The config
 * parser calls it through config_set_syscall_check() (the parser itself stays
 * free of libseccomp); main installs it before any mode runs. */
#ifndef HFINIT_SYSCALLS_H
#define HFINIT_SYSCALLS_H

#include "base/err.h"

/* 0 when name is a syscall of this architecture; else -1 with e
 * "unknown syscall "NAME" (did you mean NEAR?); expected syscall names of
 * this architecture". */
int syscall_name_check(const char *name, struct err *e);

#endif
