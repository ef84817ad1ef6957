/* Status files (docs/design.md, "Status files"): status.json, state, ready and lock in
 * the status directory, written atomically (temp file + rename, O_NOFOLLOW),
 * readable by uid 1000; and the upward sd_notify when hfinit itself was given
 * a NOTIFY_SOCKET.
 *
 * The supervisor fills a struct status_snapshot (plain data, no ownership)
 * and calls status_publish() at most once per loop turn, after the last state
 * change of the turn; status_write.c owns the files, status_render.c the
 * formats, status_read.c the reading side. */
#ifndef HFINIT_STATUS_H
#define HFINIT_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "base/err.h"
#include "plan/python.h"

#define STATUS_SCHEMA 1

struct status_service {
	const char *name;
	const char
	    *state; /* pending|starting|ready|done|retrying|restarting|failed|stopped|disabled */
	unsigned stage;
	bool required;
	pid_t pid;	   /* 0: none (JSON null) */
	unsigned attempt;  /* current attempt, 0 before the first */
	unsigned attempts; /* attempts in all (retries) */
	unsigned restarts;
	unsigned requested_restarts; /* restarts asked for (control, watch): not in restarts */
	const char *stopped_by;	     /* "request" when a request stopped it, else NULL: null */
	struct timespec started_at;  /* CLOCK_REALTIME; tv_sec == 0: null */
	struct timespec ready_at;    /* CLOCK_REALTIME; tv_sec == 0: null */
	struct timespec finished_at; /* a one-shot's clean exit (state done); tv_sec 0: null */
	bool oneshot;		     /* type = oneshot */
	int64_t ready_ms;	     /* start -> ready of the current run; -1: null */
	bool has_exit;		     /* last_exit known */
	int exit_code;		     /* -1: null (killed by a signal) */
	int exit_signal;	     /* 0: null */
	const char *last_error;	     /* NULL or "": null */
	const char *error_category;  /* NULL: null */
	const char *error_hint;	     /* NULL: null */
	unsigned errors, warnings;
	const char *script;	   /* resolved script path, NULL for command services */
	const char *command;	   /* the argv joined, for a person */
	const char *sandbox;	   /* seccomp profile name, NULL: none */
	unsigned sandbox_rules;	   /* rules in that profile */
	int sandbox_landlock;	   /* Landlock ABI of its domain; 0: none (null) */
	const char *notify_status; /* STATUS= text from sd_notify, NULL: null */
	const char *ready_spec;	   /* the ready = value */
	/* state disabled: why ("enabled = no", "condition ... failed (...)"); else NULL */
	const char *disabled_reason;
};

/* The string fields of struct status_service that point into buffers
 * changing in place (a service's last error line). The writer re-renders only
 * the services whose fields changed (status_doc.c): these are compared by
 * their text, every other field byte for byte, so a string not listed here
 * (the name, the state, the plan's command and script) must not change while
 * its pointer stays the same. A new string field that points into a buffer is
 * added here. */
#define STATUS_SERVICE_TEXTS(X) X(last_error), X(error_hint), X(notify_status), X(disabled_reason)

struct status_stage {
	unsigned stage;
	int64_t ready_ms; /* from hfinit's start to the stage's gate opening; -1: not yet */
};

/* Output hfinit could not pass on, per stream: stdout [0], stderr [1]. */
struct status_output {
	uint64_t dropped_lines, dropped_bytes;
	const char *reason; /* why the last were dropped; NULL: none dropped */
};

struct status_snapshot {
	const char *state;		  /* starting|ready|degraded|stopping|stopped|failed */
	unsigned stage;			  /* highest stage started (0 before any) */
	struct timespec started_at;	  /* hfinit's start, CLOCK_REALTIME */
	int exit_code;			  /* -1 while running */
	bool all_required_ready;	  /* drives the `ready` file and upward READY=1 */
	const struct python_plan *python; /* NULL: no service needs Python */
	const struct status_service *services;
	size_t nservices;
	/* per service: nonzero when its fields may differ from the last publish;
	 * the writer compares only those (NULL: every service) */
	const unsigned char *changed;
	const struct status_stage *stages;
	size_t nstages;
	struct status_output output[2];
};

struct status_writer;

/* Choose the status dir (statusdir.c: $HFINIT_STATUS_DIR, config, /run/hfinit,
 * $XDG_RUNTIME_DIR/hfinit, /tmp/hfinit), create it (0755), take the flock on
 * `lock` for hfinit's whole life, and read $NOTIFY_SOCKET for the upward
 * notifications. Never fatal for the services: on failure it logs one clear
 * warning and returns a writer that does nothing (status_dir() returns NULL). */
struct status_writer *status_open(const char *conf_status_dir);
/* Single-child mode's writer: the same dir rules with no config; when
 * another running hfinit holds the dir's lock it writes nothing (said at -v
 * only, no waiting), and it sends nothing to $NOTIFY_SOCKET (the child gets
 * the variable and speaks for itself, as under tini). */
struct status_writer *status_open_single(void);
/* The directory in use, or NULL. Services get it as $HFINIT_STATUS_DIR. */
const char *status_dir(const struct status_writer *w);
/* Write status.json + state, create/remove `ready`, send upward sd_notify on
 * transitions (READY=1 once, STATUS= on change, STOPPING=1 when stopping). */
void status_publish(struct status_writer *w, const struct status_snapshot *snap);
/* An fd for the loop (EPOLLIN), -1 when none: readable when something in
 * the status dir was removed; then call status_watch_event(), which makes
 * the dir, its lock and files again (docs/status.md). Idle, it never wakes. */
int status_watch_fd(const struct status_writer *w);
void status_watch_event(struct status_writer *w);
/* At exit: the caller has published the final snapshot; release everything. */
void status_close(struct status_writer *w);

/* Write dirfd/name atomically: temp file ".NAME.tmp" created with
 * O_EXCL|O_NOFOLLOW (whatever sits there is removed first, never followed),
 * mode 0644 whatever the umask, renamed over NAME. 0 or -1 with errno. */
int status_write_atomic(int dirfd, const char *name, const char *data, size_t len);
/* The same from pieces (writev, IOV_MAX at a time). */
struct iovec;
int status_write_atomicv(int dirfd, const char *name, const struct iovec *iov, size_t n);

#endif
