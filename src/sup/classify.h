/* Classification of service output lines and exits (docs/design.md, "Logs").
 * Pure functions: no I/O, no allocation. */
#ifndef HFINIT_CLASSIFY_H
#define HFINIT_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

enum line_class { LINE_INFO, LINE_WARNING, LINE_ERROR };

/* Per-stream state: a Python traceback spans many lines but is one error. */
struct line_classifier {
	bool in_traceback;
};

struct line_verdict {
	enum line_class cls;
	bool counts;	/* count this line in the error/warning totals */
	bool is_detail; /* worth keeping as the service's last error text */
};

/* Classify one complete line (without its newline) of a service's stderr. */
struct line_verdict classify_line(struct line_classifier *st, const char *line, size_t len);

/* Where, at or after from, s[0..n) may hold one of the texts classify_line
 * and diagnose_line look for (where one's first four bytes are), or n: a
 * line of s that ends before it is plain for both (LINE_INFO, no signature),
 * unless the classifier is inside a traceback. One pass: the lines of a whole
 * read are looked at once. */
size_t classify_next(const char *s, size_t from, size_t n);
/* How many texts there are (tests: at most CLASSIFY_TEXTS_MAX, all kept). */
size_t classify_texts(void);
#define CLASSIFY_TEXTS_MAX 64

/* Match a line against the known failure signatures; true and d's category
 * and hint filled on a match (its code and message are not touched). */
bool diagnose_line(const char *line, size_t len, struct err *d);

/* Describe how a process ended, from a wait status. `oom_killed` says the cgroup's
 * oom_kill counter rose; `sandbox` names the seccomp profile (or NULL).
 * Writes a short text ("exited 3", "killed by SIGSEGV", ...) to text and, for the
 * notable cases (126, 127, SIGSYS, OOM, 128+N codes), a diagnosis; returns true
 * when d was filled. */
bool describe_exit(int wstatus, bool oom_killed, const char *sandbox, char *text, size_t textlen,
		   struct err *d);

#endif
