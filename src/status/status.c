/* Status files (DESIGN.md §6, docs/status.md) and the modes that read them.
 *
 * Writer: status.json, state and ready in the status dir, each written to a
 * temp file in the same dir (O_CREAT|O_EXCL|O_NOFOLLOW) and renamed over the
 * target, so a reader sees the old file or the new one, never a mix; rename
 * replaces whatever directory entry is at the target (a planted symlink
 * included) and never writes through it. No fsync: the files describe a
 * running process and live on tmpfs in practice; after a machine crash they
 * are stale by definition (and `health` says so through the lock).
 *
 * `lock` is flocked (LOCK_EX) for hfinit's whole life; `hfinit health`
 * tells a live writer from a stale file by failing to take LOCK_SH on it,
 * which works across PID namespaces where a pid number misleads.
 *
 * Upward sd_notify: when hfinit itself was given $NOTIFY_SOCKET, READY=1 once
 * every required service is ready, STATUS= when the summary changes,
 * STOPPING=1 once at shutdown. */
#include "status/status.h"

#include "base/json.h"
#include "base/log.h"
#include "base/fdio.h"
#include "run/runcmd.h"
#include "base/signame.h"
#include "plan/statusdir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef HFINIT_VERSION
#define HFINIT_VERSION "unknown"
#endif

/* updated_at is rendered as this placeholder, so that two renders of the same
 * state compare equal; the real time is patched in before writing. */
#define UPDATED_PLACEHOLDER "0000-00-00T00:00:00.000Z"
#define STATUS_MAX_READ	    (16u << 20) /* a status.json larger than this is refused */
#define LOCK_TRIES	    50		/* x 10 ms: a `health` probe holds LOCK_SH briefly */
#define NOTIFY_SEND_MS	    5000	/* `hfinit notify`: bound on a full receiver queue */

static const char *const overall_states[] = {"starting", "ready",   "degraded",
					     "stopping", "stopped", "failed"};

/* ------------------------------------------------------------------------- */
/* time */

void status_rfc3339(const struct timespec *ts, char *buf, size_t n)
{
	struct tm tm;
	time_t t = ts->tv_sec;

	if (!gmtime_r(&t, &tm)) {
		fmt_trunc(buf, n, "%s", UPDATED_PLACEHOLDER);
		return;
	}
	fmt_trunc(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ts->tv_nsec / 1000000));
}

/* n decimal digits at s, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Our own format back ("2026-11-27T00:17:23.123Z"); 0 or -1. Parsed by
 * hand: sscanf would pull libc's scanner into the binary. */
static int parse_rfc3339(const char *s, struct timespec *ts)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	struct tm tm;
	int ms;

	if (!s || strlen(s) != sizeof(shape) - 1)
		return -1;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] != 'd' && s[i] != shape[i])
			return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 5, 2) - 1;
	tm.tm_mday = digits(s + 8, 2);
	tm.tm_hour = digits(s + 11, 2);
	tm.tm_min = digits(s + 14, 2);
	tm.tm_sec = digits(s + 17, 2);
	ms = digits(s + 20, 3);
	if (tm.tm_year < -1900 || tm.tm_mon < -1 || tm.tm_mday < 0 || tm.tm_hour < 0 ||
	    tm.tm_min < 0 || tm.tm_sec < 0 || ms < 0)
		return -1;
	ts->tv_sec = timegm(&tm);
	ts->tv_nsec = (long)ms * 1000000;
	return ts->tv_sec == (time_t)-1 ? -1 : 0;
}

static void now_real(struct timespec *ts)
{
	if (clock_gettime(CLOCK_REALTIME, ts) != 0) {
		ts->tv_sec = time(NULL);
		ts->tv_nsec = 0;
	}
}

/* ------------------------------------------------------------------------- */
/* rendering */

static void kts(struct json *j, const char *key, const struct timespec *ts)
{
	char buf[40];

	if (ts->tv_sec == 0) {
		json_key(j, key);
		json_null(j);
		return;
	}
	status_rfc3339(ts, buf, sizeof(buf));
	json_kstr(j, key, buf);
}

static void kstr_nonempty(struct json *j, const char *key, const char *s)
{
	json_kstr(j, key, s && s[0] ? s : NULL);
}

static void kint_or_null(struct json *j, const char *key, long long v, int is_null)
{
	json_key(j, key);
	if (is_null)
		json_null(j);
	else
		json_int(j, v);
}

static void render_python(struct json *j, const struct python_plan *py)
{
	const struct py_candidate *c = py->chosen >= 0 ? &py->cands[py->chosen] : NULL;

	json_obj_begin(j);
	kstr_nonempty(j, "path", c ? c->path : NULL);
	kstr_nonempty(j, "executable", c ? c->executable : NULL);
	kstr_nonempty(j, "version", c ? c->version : NULL);
	kstr_nonempty(j, "source", c ? c->source : NULL);
	kstr_nonempty(j, "error", c ? NULL : py->error);
	kstr_nonempty(j, "hint", c ? NULL : py->hint);
	json_key(j, "candidates");
	json_arr_begin(j);
	for (size_t i = 0; i < py->ncands; i++) {
		const struct py_candidate *k = &py->cands[i];
		json_obj_begin(j);
		kstr_nonempty(j, "path", k->path);
		kstr_nonempty(j, "source", k->source);
		json_kstr(j, "verdict", py_verdict_name(k->verdict));
		kstr_nonempty(j, "detail", k->detail);
		kstr_nonempty(j, "version", k->verdict == PV_OK ? k->version : NULL);
		json_kint(j, "elapsed_ms", k->elapsed_ms);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

static void render_service(struct json *j, const struct status_service *s)
{
	char sig[24];

	json_key(j, s->name);
	json_obj_begin(j);
	json_kstr(j, "state", s->state);
	json_kint(j, "stage", s->stage);
	json_kbool(j, "required", s->required);
	kint_or_null(j, "pid", s->pid, s->pid <= 0);
	json_kint(j, "attempt", s->attempt);
	json_kint(j, "attempts", s->attempts);
	json_kint(j, "restarts", s->restarts);
	kts(j, "started_at", &s->started_at);
	kts(j, "ready_at", &s->ready_at);
	kint_or_null(j, "ready_ms", s->ready_ms, s->ready_ms < 0);
	json_key(j, "last_exit");
	json_obj_begin(j);
	kint_or_null(j, "code", s->exit_code, !s->has_exit || s->exit_code < 0);
	kint_or_null(j, "signal", s->exit_signal, !s->has_exit || s->exit_signal <= 0);
	if (s->has_exit && s->exit_signal > 0 && signame(s->exit_signal)) {
		fmt_trunc(sig, sizeof(sig), "SIG%s", signame(s->exit_signal));
		json_kstr(j, "signal_name", sig);
	} else {
		json_kstr(j, "signal_name", NULL);
	}
	json_obj_end(j);
	json_key(j, "last_error");
	json_obj_begin(j);
	kstr_nonempty(j, "text", s->last_error);
	kstr_nonempty(j, "category", s->error_category);
	kstr_nonempty(j, "hint", s->error_hint);
	json_obj_end(j);
	json_kint(j, "errors", s->errors);
	json_kint(j, "warnings", s->warnings);
	kstr_nonempty(j, "script", s->script);
	kstr_nonempty(j, "command", s->command);
	kstr_nonempty(j, "sandbox", s->sandbox);
	kint_or_null(j, "sandbox_rules", s->sandbox_rules, !s->sandbox || !s->sandbox[0]);
	kint_or_null(j, "sandbox_landlock", s->sandbox_landlock, s->sandbox_landlock <= 0);
	json_kstr(j, "notify_status", s->notify_status);
	kstr_nonempty(j, "ready_spec", s->ready_spec);
	json_obj_end(j);
}

/* "blame": services that became ready, slowest first (systemd-analyze blame). */
static void render_blame(struct json *j, const struct status_snapshot *snap)
{
	size_t *idx = NULL, n = 0;

	json_key(j, "blame");
	json_arr_begin(j);
	if (snap->nservices)
		idx = malloc(snap->nservices * sizeof(*idx));
	for (size_t i = 0; idx && i < snap->nservices; i++)
		if (snap->services[i].ready_ms >= 0)
			idx[n++] = i;
	/* insertion sort: a handful of services, stable for equal times */
	for (size_t i = 1; i < n; i++) {
		size_t v = idx[i], k = i;
		while (k > 0 && snap->services[idx[k - 1]].ready_ms < snap->services[v].ready_ms) {
			idx[k] = idx[k - 1];
			k--;
		}
		idx[k] = v;
	}
	for (size_t i = 0; i < n; i++) {
		const struct status_service *s = &snap->services[idx[i]];
		json_obj_begin(j);
		json_kstr(j, "service", s->name);
		json_kint(j, "stage", s->stage);
		json_kint(j, "ready_ms", s->ready_ms);
		json_obj_end(j);
	}
	json_arr_end(j);
	free(idx);
}

int status_render(const struct status_snapshot *snap, char **out, size_t *outlen,
		  size_t *updated_off)
{
	struct json j;
	char *buf, *nb;
	size_t len, off;
	const size_t phlen = sizeof(UPDATED_PLACEHOLDER) - 1;

	json_init(&j, 1);
	j.redact = 1; /* command lines, error lines, STATUS= texts: no secrets */
	json_obj_begin(&j);
	json_kint(&j, "schema", STATUS_SCHEMA);
	json_kstr(&j, "hfinit", HFINIT_VERSION);
	json_kint(&j, "pid", (long long)getpid());
	json_kstr(&j, "state", snap->state);
	json_kint(&j, "stage", snap->stage);
	kts(&j, "started_at", &snap->started_at);
	json_kstr(&j, "updated_at", UPDATED_PLACEHOLDER);
	/* offset of the placeholder: it is followed by the closing quote */
	off = j.len - 1 - phlen;
	kint_or_null(&j, "exit_code", snap->exit_code, snap->exit_code < 0);
	json_kbool(&j, "all_required_ready", snap->all_required_ready);
	json_key(&j, "python");
	if (snap->python)
		render_python(&j, snap->python);
	else
		json_null(&j);
	json_key(&j, "stages");
	json_arr_begin(&j);
	for (size_t i = 0; i < snap->nstages; i++) {
		json_obj_begin(&j);
		json_kint(&j, "stage", snap->stages[i].stage);
		kint_or_null(&j, "ready_ms", snap->stages[i].ready_ms,
			     snap->stages[i].ready_ms < 0);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	render_blame(&j, snap);
	json_key(&j, "output");
	json_obj_begin(&j);
	for (int i = 0; i < 2; i++) {
		json_key(&j, i ? "stderr" : "stdout");
		json_obj_begin(&j);
		json_kint(&j, "dropped_lines", (long long)snap->output[i].dropped_lines);
		json_kint(&j, "dropped_bytes", (long long)snap->output[i].dropped_bytes);
		json_kstr(&j, "reason", snap->output[i].reason);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	json_key(&j, "services");
	json_obj_begin(&j);
	for (size_t i = 0; i < snap->nservices; i++)
		render_service(&j, &snap->services[i]);
	json_obj_end(&j);
	json_obj_end(&j);
	if (json_finish(&j, &buf, &len) < 0)
		return -1;
	if (len < off + phlen || memcmp(buf + off, UPDATED_PLACEHOLDER, phlen) != 0) {
		free(buf); /* cannot happen: the writer appends */
		errno = EINVAL;
		return -1;
	}
	nb = realloc(buf, len + 2);
	if (!nb) {
		free(buf);
		errno = ENOMEM;
		return -1;
	}
	nb[len++] = '\n';
	nb[len] = '\0';
	*out = nb;
	*outlen = len;
	if (updated_off)
		*updated_off = off;
	return 0;
}

void status_summary(const struct status_snapshot *snap, char *buf, size_t n)
{
	size_t ready = 0, used;
	int first = 1;

	for (size_t i = 0; i < snap->nservices; i++)
		if (snap->services[i].state && strcmp(snap->services[i].state, "ready") == 0)
			ready++;
	if (strcmp(snap->state, "starting") == 0)
		fmt_trunc(buf, n, "starting: stage %u, %zu/%zu services ready", snap->stage, ready,
			  snap->nservices);
	else
		fmt_trunc(buf, n, "%s: %zu/%zu services ready", snap->state, ready,
			  snap->nservices);
	for (size_t i = 0; i < snap->nservices; i++) {
		const struct status_service *s = &snap->services[i];
		if (!s->state || strcmp(s->state, "failed") != 0)
			continue;
		used = strlen(buf);
		fmt_trunc(buf + used, n - used, "%s%s", first ? "; failed: " : ", ", s->name);
		first = 0;
	}
	if (snap->exit_code >= 0) {
		used = strlen(buf);
		fmt_trunc(buf + used, n - used, "; exit code %d", snap->exit_code);
	}
}

/* ------------------------------------------------------------------------- */
/* atomic files */

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int status_write_atomic(int dirfd, const char *name, const char *data, size_t len)
{
	char tmp[NAME_MAX + 1];
	int fd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* O_EXCL|O_NOFOLLOW: whatever sits at the temp path (a symlink, a file
	 * left by a crash) is never opened; it is removed (the entry itself)
	 * and the creation tried once more. */
	for (int tries = 0;; tries++) {
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0)
			break;
		if (errno != EEXIST || tries > 0 || unlinkat(dirfd, tmp, 0) != 0) {
			if (errno == EISDIR || errno == EPERM)
				errno = EEXIST;
			return -1;
		}
	}
	/* 0644 whatever the umask: uid 1000 reads these files. */
	if (fchmod(fd, 0644) != 0 || write_all(fd, data, len) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) != 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		(void)close(fd);       /* already failing; the first error is the one to report */
	(void)unlinkat(dirfd, tmp, 0); /* best effort: a leftover is replaced next time */
	errno = saved;
	return -1;
}

/* ------------------------------------------------------------------------- */
/* sd_notify addresses */

/* "@abstract" or "/path" -> sockaddr; 0 or -1 with errno (EINVAL, ENAMETOOLONG). */
static int notify_sockaddr(const char *v, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n;

	if (!v || (v[0] != '@' && v[0] != '/')) {
		errno = EINVAL;
		return -1;
	}
	n = strlen(v);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n > sizeof(sa->sun_path) - (v[0] == '/' ? 1 : 0) || n < 2) {
		errno = n < 2 ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	memcpy(sa->sun_path, v, n);
	if (v[0] == '@')
		sa->sun_path[0] = '\0'; /* abstract: the name is the bytes after NUL */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (v[0] == '/' ? 1 : 0));
	return 0;
}

/* ------------------------------------------------------------------------- */
/* the writer */

struct status_writer {
	int dirfd; /* -1: files disabled */
	int lockfd;
	char dir[PATH_MAX];
	char *last; /* last status.json written, with the placeholder */
	size_t lastlen;
	char state[16];	 /* last state word written */
	bool ready_file; /* `ready` exists (we made it) */
	bool failing;	 /* the last write failed (warned once) */
	bool single;	 /* single-child mode: no waiting for another hfinit's lock */

	/* the dir removed while we run (dir_repair) */
	bool explicit_dir; /* the operator's path (links followed) */
	bool gone;	   /* it could not be made again */
	bool repairing;	   /* a removal may race with dir_repair: ENOENT is quiet */
	int ifd, wd;	   /* inotify on the dir (-1: none): removals wake us */
	size_t lastoff;	   /* where last's placeholder is */

	/* upward sd_notify */
	int nfd; /* -1: none */
	struct sockaddr_un nsa;
	socklen_t nsalen;
	char naddr[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	bool sent_ready, sent_stopping, notify_failed;
	char nstatus[256]; /* last STATUS= sent */
};

const char *status_dir(const struct status_writer *w)
{
	return w && w->dirfd >= 0 ? w->dir : NULL;
}

static void upward_open(struct status_writer *w)
{
	const char *v = getenv("NOTIFY_SOCKET");

	if (!v || !v[0])
		return;
	if (notify_sockaddr(v, &w->nsa, &w->nsalen) < 0) {
		log_errno(LOG_LVL_WARN, errno,
			  "NOTIFY_SOCKET=\"%s\" is not an \"@abstract\" or \"/path\" address: no "
			  "READY=1 upward",
			  v);
		return;
	}
	w->nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w->nfd < 0) {
		log_errno(LOG_LVL_WARN, errno, "NOTIFY_SOCKET: socket: no READY=1 upward");
		return;
	}
	fmt_trunc(w->naddr, sizeof(w->naddr), "%s", v);
}

/* Take LOCK_EX on dir/lock and keep the fd. 0, or -1 with a warning. */
static int take_lock(struct status_writer *w)
{
	struct stat st;
	struct timespec pause = {0, 10 * 1000 * 1000};
	int fd = -1;

	for (int tries = 0; tries < 2 && fd < 0; tries++) {
		fd = openat(w->dirfd, "lock",
			    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0644);
		/* a symlink planted at `lock` (ELOOP): remove the link, make a file */
		if (fd < 0 && errno == ELOOP && tries == 0 && unlinkat(w->dirfd, "lock", 0) == 0)
			continue;
		if (fd < 0) {
			if (!w->repairing || errno != ENOENT)
				log_errno(LOG_LVL_WARN, errno, "status files disabled: %s/lock",
					  w->dir);
			return -1;
		}
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_warn("status files disabled: %s/lock is not a regular file", w->dir);
		goto fail;
	}
	if (st.st_uid == geteuid() && (st.st_mode & 07777) != 0644 && fchmod(fd, 0644) != 0)
		log_errno(LOG_LVL_WARN, errno,
			  "%s/lock: chmod 0644 (health probes as another "
			  "user may not read it)",
			  w->dir);
	for (int i = 0;; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno == EWOULDBLOCK && w->single) {
			/* a tini drop-in does not wait: that hfinit's files stay */
			log_debug("status files disabled: %s/lock is held by another hfinit",
				  w->dir);
			goto fail;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			log_errno(LOG_LVL_WARN, errno, "status files disabled: flock %s/lock",
				  w->dir);
			goto fail;
		}
		if (i + 1 >= LOCK_TRIES) {
			log_warn("status files disabled: %s is in use by another running hfinit "
				 "(it holds %s/lock); set HFINIT_STATUS_DIR or status_dir to a "
				 "dir of its own",
				 w->dir, w->dir);
			goto fail;
		}
		/* a `health` probe holds LOCK_SH for microseconds */
		(void)nanosleep(&pause, NULL);
	}
	w->lockfd = fd;
	return 0;
fail:
	(void)close(fd); /* read-only use so far */
	return -1;
}

/* A dir just opened: readable by uid 1000, locked, no stale `ready`. */
static int dir_setup(struct status_writer *w)
{
	struct stat st;

	/* Add r-x for group and others on a dir we own (mkdir under a strict
	 * umask); never take permissions away. */
	if (fstat(w->dirfd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 0055) != 0055 &&
	    fchmod(w->dirfd, (st.st_mode & 07777) | 0055) != 0)
		log_errno(LOG_LVL_WARN, errno, "%s: chmod go+rx", w->dir);
	if (take_lock(w) < 0)
		return -1;
	/* A `ready` from an earlier run would lie until the first publish. */
	if (unlinkat(w->dirfd, "ready", 0) != 0 && errno != ENOENT)
		log_errno(LOG_LVL_WARN, errno, "%s/ready: cannot remove a stale one", w->dir);
	/* Removals in the dir wake the loop (status_watch_fd): nothing polls.
	 * (An open dir gets no IN_DELETE_SELF: `rm -r` is seen by its unlinks.) */
	if (w->ifd >= 0)
		w->wd = inotify_add_watch(w->ifd, w->dir,
					  IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |
					      (w->explicit_dir ? 0 : IN_DONT_FOLLOW));
	return 0;
}

static void files_open(struct status_writer *w, const char *conf_status_dir)
{
	struct statusdir sd;
	struct err e;

	if (statusdir_choose(&sd, conf_status_dir, 1, &e) < 0) {
		log_warn("status files disabled (the %s anyway): %s",
			 w->single ? "child runs" : "services run", e.msg);
		return;
	}
	fmt_trunc(w->dir, sizeof(w->dir), "%s", statusdir_path(&sd));
	w->explicit_dir = sd.explicit_choice;
	w->dirfd = sd.dirfd;
	/* single-child mode has no loop watch for it: no repair, no cost */
	w->ifd = w->single ? -1 : inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (dir_setup(w) < 0) {
		(void)close(w->dirfd); /* O_RDONLY directory */
		w->dirfd = -1;
	}
	/* A status.json and state from an earlier run would lie until the
	 * first publish too in single-child mode, which writes nothing before
	 * exec is confirmed. */
	for (int i = 0; w->single && w->dirfd >= 0 && i < 2; i++) {
		static const char *const stale[] = {"state", "status.json"};
		if (unlinkat(w->dirfd, stale[i], 0) != 0 && errno != ENOENT)
			log_errno(LOG_LVL_WARN, errno, "%s/%s: cannot remove a stale one", w->dir,
				  stale[i]);
	}
}

static struct status_writer *open_writer(const char *conf_status_dir, bool single)
{
	struct status_writer *w = calloc(1, sizeof(*w));
	struct status_snapshot snap;

	if (!w) {
		log_errno(LOG_LVL_WARN, errno, "status files disabled");
		return NULL;
	}
	w->dirfd = w->lockfd = w->nfd = w->ifd = w->wd = -1;
	w->single = single;
	if (!single) /* a tini drop-in leaves NOTIFY_SOCKET to its child */
		upward_open(w);
	files_open(w, conf_status_dir);
	if (single) /* cheap: the first write is at exec success (or at exit) */
		return w;
	/* A first status.json at once: `health --live` works while Python is
	 * being resolved, and a stale file from an earlier run is replaced. */
	memset(&snap, 0, sizeof(snap));
	snap.state = "starting";
	snap.exit_code = -1;
	now_real(&snap.started_at);
	status_publish(w, &snap);
	return w;
}

struct status_writer *status_open(const char *conf_status_dir)
{
	return open_writer(conf_status_dir, false);
}

struct status_writer *status_open_single(void)
{
	return open_writer(NULL, true);
}

static void write_failed(struct status_writer *w, const char *name)
{
	if (w->repairing && errno == ENOENT)
		return;
	if (!w->failing)
		log_errno(LOG_LVL_WARN, errno,
			  "status: cannot write %s/%s (the services keep running; warned once)",
			  w->dir, name);
	w->failing = true;
}

/* name in the dir is missing (or is not the file open at fd, when fd >= 0). */
static bool entry_lost(int dirfd, const char *name, int fd)
{
	struct stat a, b;

	if (fstatat(dirfd, name, &a, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT;
	return fd >= 0 && (fstat(fd, &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino);
}

/* The files written so far that are missing now: written again. */
static void rewrite_lost(struct status_writer *w)
{
	char stamp[40], line[48];
	struct timespec now;

	now_real(&now);
	status_rfc3339(&now, stamp, sizeof(stamp));
	if (w->last && entry_lost(w->dirfd, "status.json", -1)) {
		memcpy(w->last + w->lastoff, stamp, sizeof(UPDATED_PLACEHOLDER) - 1);
		if (status_write_atomic(w->dirfd, "status.json", w->last, w->lastlen) != 0)
			write_failed(w, "status.json");
		memcpy(w->last + w->lastoff, UPDATED_PLACEHOLDER, sizeof(UPDATED_PLACEHOLDER) - 1);
	}
	fmt_trunc(line, sizeof(line), "%s\n", w->state);
	if (w->state[0] && entry_lost(w->dirfd, "state", -1) &&
	    status_write_atomic(w->dirfd, "state", line, strlen(line)) != 0)
		write_failed(w, "state");
	fmt_trunc(line, sizeof(line), "%s\n", stamp);
	if (w->ready_file && entry_lost(w->dirfd, "ready", -1) &&
	    status_write_atomic(w->dirfd, "ready", line, strlen(line)) != 0)
		write_failed(w, "ready");
}

/* The dir open at dirfd is still the one at w->dir. */
static bool dir_current(const struct status_writer *w)
{
	struct stat a, b;

	return fstat(w->dirfd, &a) == 0 && a.st_nlink > 0 &&
	       (w->explicit_dir ? stat(w->dir, &b) : lstat(w->dir, &b)) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Open w->dir again (it was removed or replaced) and set it up. */
static int dir_reopen(struct status_writer *w)
{
	char why[256];
	int fd = statusdir_open(w->dir, w->explicit_dir, why, sizeof(why)), oldlock = w->lockfd;

	if (fd < 0) {
		if (!w->gone && !w->repairing)
			log_warn("status: %s was removed and cannot be made again: %s "
				 "(tried again at each change)",
				 w->dir, why);
		w->gone = !w->repairing || w->gone;
		return -1;
	}
	(void)close(w->dirfd); /* O_RDONLY directory */
	w->dirfd = fd;
	w->lockfd = -1;
	if (w->wd >= 0)
		(void)inotify_rm_watch(w->ifd, w->wd); /* the old dir's */
	w->wd = -1;
	if (dir_setup(w) < 0)
		w->lockfd = oldlock;
	else if (oldlock >= 0)
		(void)close(oldlock); /* releases the flock on the removed file */
	w->gone = false;
	return 0;
}

/* The dir, or files in it, were removed while we run (rm -r, a cleaner of
 * /tmp): the dir is made again with the rules of the start (statusdir.c),
 * the lock taken again and the lost files rewritten, so `health --live`
 * keeps telling the truth. A removal racing with this (rm -r goes on while
 * we refill the dir) is retried quietly; when the dir cannot be made, each
 * later publish tries again. */
static void dir_repair(struct status_writer *w)
{
	int oldlock;
	bool made = false;

	for (int tries = 0; tries < 3; tries++) {
		w->repairing = tries < 2;
		if (!dir_current(w)) {
			if (dir_reopen(w) < 0)
				continue;
			made = true;
		} else if (entry_lost(w->dirfd, "lock", w->lockfd)) {
			oldlock = w->lockfd;
			if (take_lock(w) == 0 && oldlock >= 0)
				(void)close(oldlock); /* the flock on the removed file */
		}
		rewrite_lost(w);
		if (dir_current(w) && !entry_lost(w->dirfd, "lock", w->lockfd))
			break;
	}
	w->repairing = false;
	if (made)
		log_info("status: %s was removed: made again", w->dir);
}

int status_watch_fd(const struct status_writer *w)
{
	return w && w->dirfd >= 0 ? w->ifd : -1;
}

void status_watch_event(struct status_writer *w)
{
	char buf[2048] __attribute__((aligned(__alignof__(struct inotify_event))));

	/* The events only say "look": what was removed is checked below. */
	while (read(w->ifd, buf, sizeof(buf)) > 0)
		;
	if (w->dirfd >= 0)
		dir_repair(w);
}

static void publish_files(struct status_writer *w, const struct status_snapshot *snap)
{
	char *doc = NULL, stamp[40], line[48];
	size_t len, off;
	struct timespec now;
	bool ok = true;

	if (w->dirfd < 0)
		return;
	if (w->gone)
		dir_repair(w);
	now_real(&now);
	status_rfc3339(&now, stamp, sizeof(stamp));
	/* not ready any more: `ready` goes first, before the state says why */
	if (!snap->all_required_ready && w->ready_file) {
		if (unlinkat(w->dirfd, "ready", 0) == 0 || errno == ENOENT)
			w->ready_file = false;
		else {
			write_failed(w, "ready");
			ok = false;
		}
	}
	if (status_render(snap, &doc, &len, &off) < 0) {
		write_failed(w, "status.json");
		return;
	}
	if (!w->last || w->lastlen != len || memcmp(w->last, doc, len) != 0) {
		memcpy(doc + off, stamp, sizeof(UPDATED_PLACEHOLDER) - 1);
		if (status_write_atomic(w->dirfd, "status.json", doc, len) == 0) {
			memcpy(doc + off, UPDATED_PLACEHOLDER, sizeof(UPDATED_PLACEHOLDER) - 1);
			free(w->last);
			w->last = doc;
			w->lastlen = len;
			w->lastoff = off;
			doc = NULL;
		} else {
			write_failed(w, "status.json");
			ok = false;
		}
	}
	free(doc);
	if (strcmp(w->state, snap->state) != 0) {
		fmt_trunc(line, sizeof(line), "%s\n", snap->state);
		if (status_write_atomic(w->dirfd, "state", line, strlen(line)) == 0) {
			fmt_trunc(w->state, sizeof(w->state), "%s", snap->state);
		} else {
			write_failed(w, "state");
			ok = false;
		}
	}
	/* ready: last, once status.json and state say so */
	if (snap->all_required_ready && !w->ready_file) {
		fmt_trunc(line, sizeof(line), "%s\n", stamp);
		if (status_write_atomic(w->dirfd, "ready", line, strlen(line)) == 0) {
			w->ready_file = true;
		} else {
			write_failed(w, "ready");
			ok = false;
		}
	}
	if (ok && w->failing) {
		log_info("status: %s written again", w->dir);
		w->failing = false;
	}
}

static bool is_stopping(const char *state)
{
	return strcmp(state, "stopping") == 0 || strcmp(state, "stopped") == 0 ||
	       strcmp(state, "failed") == 0;
}

static void publish_upward(struct status_writer *w, const struct status_snapshot *snap)
{
	char msg[512], summary[256];
	size_t n = 0;
	bool ready = false, stopping = false, status = false;
	ssize_t r;

	if (w->nfd < 0)
		return;
	status_summary(snap, summary, sizeof(summary));
	if (snap->all_required_ready && !w->sent_ready) {
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "READY=1\n");
		ready = true;
	}
	if (strcmp(summary, w->nstatus) != 0) {
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "STATUS=%s\n", summary);
		status = true;
	}
	if (is_stopping(snap->state) && !w->sent_stopping) {
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "STOPPING=1\n");
		stopping = true;
	}
	if (n == 0)
		return;
	do
		r = sendto(w->nfd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL,
			   (const struct sockaddr *)&w->nsa, w->nsalen);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		/* kept unsent: tried again at the next publish */
		if (!w->notify_failed)
			log_errno(LOG_LVL_WARN, errno,
				  "NOTIFY_SOCKET %s: cannot send (warned once)", w->naddr);
		w->notify_failed = true;
		return;
	}
	w->notify_failed = false;
	w->sent_ready |= ready;
	w->sent_stopping |= stopping;
	if (status)
		fmt_trunc(w->nstatus, sizeof(w->nstatus), "%s", summary);
}

void status_publish(struct status_writer *w, const struct status_snapshot *snap)
{
	if (!w || !snap || !snap->state)
		return;
	publish_files(w, snap);
	publish_upward(w, snap);
}

void status_close(struct status_writer *w)
{
	if (!w)
		return;
	/* Closing lockfd releases the flock: from here `health --live` fails. */
	if (w->lockfd >= 0)
		(void)close(w->lockfd); /* nothing written through it */
	if (w->dirfd >= 0)
		(void)close(w->dirfd);
	if (w->ifd >= 0)
		(void)close(w->ifd);
	if (w->nfd >= 0)
		(void)close(w->nfd);
	free(w->last);
	free(w);
}

/* ------------------------------------------------------------------------- */
/* reading: a small JSON parser for `hfinit status` */

enum jr_type { JR_NULL, JR_BOOL, JR_NUM, JR_STR, JR_ARR, JR_OBJ };

struct jr {
	enum jr_type type;
	int b;
	long long num; /* JR_NUM: the value when num_exact */
	bool num_exact;
	char *str;	  /* JR_STR */
	size_t n;	  /* JR_ARR, JR_OBJ: items */
	struct jr *items; /* values */
	char **keys;	  /* JR_OBJ: keys[i] names items[i] */
};

struct jr_parser {
	const char *p, *end;
	int depth;
};

static void jr_free(struct jr *v)
{
	if (!v)
		return;
	free(v->str);
	for (size_t i = 0; i < v->n; i++) {
		jr_free(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	memset(v, 0, sizeof(*v));
}

static void jr_ws(struct jr_parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t utf8_put(char *d, unsigned cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xc0 | (cp >> 6));
		d[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xe0 | (cp >> 12));
		d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		d[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | (cp >> 18));
	d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	d[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* At the opening quote. The decoded text is never longer than the source. */
static int jr_string(struct jr_parser *ps, char **out)
{
	const char *s = ps->p + 1, *q = s;
	char *d, *o;

	while (q < ps->end && *q != '"') {
		if ((unsigned char)*q < 0x20 || (*q == '\\' && q + 1 >= ps->end))
			return -1;
		q += *q == '\\' ? 2 : 1;
	}
	if (q >= ps->end)
		return -1;
	o = d = malloc((size_t)(q - s) + 1);
	if (!d)
		return -1;
	while (s < q) {
		unsigned cp, lo;
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case '"':
		case '\\':
		case '/':
			*o++ = *s++;
			continue;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			if (q - s < 5 || hex4(s + 1, &cp) < 0)
				goto bad;
			s += 5;
			if (cp >= 0xd800 && cp <= 0xdbff && q - s >= 6 && s[0] == '\\' &&
			    s[1] == 'u' && hex4(s + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			} else if (cp >= 0xd800 && cp <= 0xdfff) {
				cp = 0xfffd; /* a lone surrogate */
			}
			o += utf8_put(o, cp);
			continue;
		default:
			goto bad;
		}
		s++;
	}
	*o = '\0';
	*out = d;
	ps->p = q + 1;
	return 0;
bad:
	free(d);
	return -1;
}

/* A JSON number (RFC 8259 grammar). Only integers within +-9e15 are kept
 * (*out, *exact = 1): every number hfinit writes is one; any other valid
 * number parses but is not exact. No strtod: it would pull libc's float
 * scanner into the binary. */
static int jr_number(struct jr_parser *ps, long long *out, bool *exact)
{
	const char *s = ps->p, *e = ps->end;
	bool neg = false;
	long long v = 0;

	*exact = true;
	if (s < e && *s == '-') {
		neg = true;
		s++;
	}
	if (s < e && *s == '0') {
		s++;
	} else if (s < e && *s >= '1' && *s <= '9') {
		for (; s < e && *s >= '0' && *s <= '9'; s++) {
			if (v > 900000000000000LL)
				*exact = false;
			else
				v = v * 10 + (*s - '0');
		}
	} else {
		return -1;
	}
	if (s < e && *s == '.') {
		const char *f = ++s;
		while (s < e && *s >= '0' && *s <= '9')
			s++;
		if (s == f)
			return -1;
		*exact = false;
	}
	if (s < e && (*s == 'e' || *s == 'E')) {
		const char *f;
		s++;
		if (s < e && (*s == '+' || *s == '-'))
			s++;
		f = s;
		while (s < e && *s >= '0' && *s <= '9')
			s++;
		if (s == f)
			return -1;
		*exact = false;
	}
	if (v > 9000000000000000LL)
		*exact = false;
	*out = neg ? -v : v;
	ps->p = s;
	return 0;
}

static int jr_value(struct jr_parser *ps, struct jr *v);

static int jr_push(struct jr *v, char *key)
{
	struct jr *ni = realloc(v->items, (v->n + 1) * sizeof(*ni));

	if (!ni)
		return -1;
	v->items = ni;
	memset(&v->items[v->n], 0, sizeof(*ni));
	if (v->type == JR_OBJ) {
		char **nk = realloc(v->keys, (v->n + 1) * sizeof(*nk));
		if (!nk)
			return -1;
		v->keys = nk;
		v->keys[v->n] = key;
	}
	v->n++;
	return 0;
}

static int jr_container(struct jr_parser *ps, struct jr *v, char close)
{
	v->type = close == '}' ? JR_OBJ : JR_ARR;
	if (++ps->depth > JSON_MAX_DEPTH)
		return -1;
	ps->p++;
	jr_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		jr_ws(ps);
		if (v->type == JR_OBJ) {
			if (ps->p >= ps->end || *ps->p != '"' || jr_string(ps, &key) < 0)
				return -1;
			jr_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free(key);
				return -1;
			}
			ps->p++;
		}
		if (jr_push(v, key) < 0) {
			free(key);
			return -1;
		}
		if (jr_value(ps, &v->items[v->n - 1]) < 0)
			return -1;
		jr_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			ps->depth--;
			return 0;
		}
		return -1;
	}
}

static int jr_lit(struct jr_parser *ps, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
		return -1;
	ps->p += n;
	return 0;
}

static int jr_value(struct jr_parser *ps, struct jr *v)
{
	jr_ws(ps);
	if (ps->p >= ps->end)
		return -1;
	switch (*ps->p) {
	case '{':
		return jr_container(ps, v, '}');
	case '[':
		return jr_container(ps, v, ']');
	case '"':
		v->type = JR_STR;
		return jr_string(ps, &v->str);
	case 't':
		v->type = JR_BOOL;
		v->b = 1;
		return jr_lit(ps, "true");
	case 'f':
		v->type = JR_BOOL;
		return jr_lit(ps, "false");
	case 'n':
		v->type = JR_NULL;
		return jr_lit(ps, "null");
	default:
		v->type = JR_NUM;
		return jr_number(ps, &v->num, &v->num_exact);
	}
}

/* Parse a whole document; 0, or -1 with *at = the byte offset of the error. */
static int jr_parse(const char *buf, size_t len, struct jr *v, size_t *at)
{
	struct jr_parser ps = {buf, buf + len, 0};

	memset(v, 0, sizeof(*v));
	if (jr_value(&ps, v) == 0) {
		jr_ws(&ps);
		if (ps.p == ps.end)
			return 0;
	}
	*at = (size_t)(ps.p - buf);
	jr_free(v);
	return -1;
}

int status_json_check(const char *buf, size_t len, size_t *err_at)
{
	struct jr v;
	size_t at = 0;
	int rc = jr_parse(buf, len, &v, &at);

	if (rc == 0)
		jr_free(&v);
	else if (err_at)
		*err_at = at;
	return rc;
}

static const struct jr *jr_get(const struct jr *o, const char *key)
{
	if (!o || o->type != JR_OBJ)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->keys[i], key) == 0)
			return &o->items[i];
	return NULL;
}

static const char *jr_str(const struct jr *o, const char *key)
{
	const struct jr *v = jr_get(o, key);

	return v && v->type == JR_STR ? v->str : NULL;
}

/* 1 and *out when key is a number, else 0. */
static int jr_num(const struct jr *o, const char *key, long long *out)
{
	const struct jr *v = jr_get(o, key);

	if (!v || v->type != JR_NUM || !v->num_exact)
		return 0;
	*out = v->num;
	return 1;
}

/* ------------------------------------------------------------------------- */
/* reading the status dir */

/* Where `hfinit status/health` look: -d DIR, else $HFINIT_STATUS_DIR, else the
 * writer's automatic order, the first dir holding a status.json. 0 with dir
 * filled, or -1 with `looked` listing the dirs tried. */
static int find_dir(const char *opt, char *dir, size_t n, char *looked, size_t ln)
{
	const char *env = getenv("HFINIT_STATUS_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char cand[3][PATH_MAX];
	int nc = 0;

	if (opt || (env && env[0])) {
		fmt_trunc(dir, n, "%s", opt ? opt : env);
		fmt_trunc(looked, ln, "%s", dir);
		return 0;
	}
	fmt_trunc(cand[nc++], PATH_MAX, "/run/hfinit");
	if (xdg && xdg[0])
		fmt_trunc(cand[nc++], PATH_MAX, "%s/hfinit", xdg);
	fmt_trunc(cand[nc++], PATH_MAX, "/tmp/hfinit");
	looked[0] = '\0';
	for (int i = 0; i < nc; i++) {
		char f[PATH_MAX + 16];
		size_t used = strlen(looked);
		fmt_trunc(f, sizeof(f), "%s/status.json", cand[i]);
		if (access(f, F_OK) == 0) {
			fmt_trunc(dir, n, "%s", cand[i]);
			return 0;
		}
		fmt_trunc(looked + used, ln - used, "%s%s", i ? ", " : "", cand[i]);
	}
	return -1;
}

/* 1: a writer holds dir/lock; 0: nobody does (a stale or never-written
 * dir); -1 with errno when the lock file cannot be opened (ENOENT: none). */
static int writer_live(int dirfd)
{
	int fd = openat(dirfd, "lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	int live;

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		live = 0; /* released by the close below */
	} else if (errno == EWOULDBLOCK) {
		live = 1;
	} else {
		int saved = errno;
		(void)close(fd); /* read-only */
		errno = saved;
		return -1;
	}
	(void)close(fd); /* read-only */
	return live;
}

/* The `state` file's word; 0, or -1 (missing, unreadable, not a state word). */
static int read_state(int dirfd, char *state, size_t n)
{
	char *buf;
	size_t len;

	if (read_file_at(dirfd, "state", &buf, &len, 64) < 0)
		return -1;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	for (size_t i = 0; i < sizeof(overall_states) / sizeof(overall_states[0]); i++) {
		if (strcmp(buf, overall_states[i]) == 0) {
			fmt_trunc(state, n, "%s", buf);
			free(buf);
			return 0;
		}
	}
	free(buf);
	errno = EINVAL;
	return -1;
}

/* ------------------------------------------------------------------------- */
/* hfinit health */

static int health_usage(void)
{
	fprintf(stderr,
		"usage: hfinit health [--ready|--started|--live] [-d DIR]\n"
		"  --ready    (default) every required service is ready (degraded counts)\n"
		"  --started  start-up is over: state is ready or degraded\n"
		"  --live     hfinit is running (holds DIR/lock) and its state is not failed\n"
		"  -d DIR     status dir (default $HFINIT_STATUS_DIR, else the first of\n"
		"             /run/hfinit, $XDG_RUNTIME_DIR/hfinit, /tmp/hfinit with a\n"
		"             status.json)\n"
		"Exit 0 healthy, 1 otherwise (also for bad usage: Docker reserves 2).\n");
	return 1;
}

static int health_say(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int health_say(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	(void)fflush(stdout); /* the exit code carries the verdict */
	return code;
}

int cmd_health(int argc, char **argv)
{
	enum { H_READY, H_STARTED, H_LIVE } what = H_READY;
	const char *opt_dir = NULL, *flag = "--ready";
	char dir[PATH_MAX], looked[3 * PATH_MAX + 8], state[16];
	struct stat st;
	int dirfd, live, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ready") == 0)
			what = H_READY, flag = argv[i];
		else if (strcmp(argv[i], "--started") == 0)
			what = H_STARTED, flag = argv[i];
		else if (strcmp(argv[i], "--live") == 0)
			what = H_LIVE, flag = argv[i];
		else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
			opt_dir = argv[++i];
		else if (strncmp(argv[i], "--dir=", 6) == 0)
			opt_dir = argv[i] + 6;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			(void)health_usage();
			return 0;
		} else {
			fprintf(stderr, "hfinit health: unexpected argument \"%s\"\n", argv[i]);
			return health_usage();
		}
	}
	if (find_dir(opt_dir, dir, sizeof(dir), looked, sizeof(looked)) < 0)
		return health_say(1, "unhealthy (%s): no hfinit status files in %s", flag, looked);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return health_say(1, "unhealthy (%s): %s: %s", flag, dir, strerror(errno));
	live = writer_live(dirfd);
	if (live <= 0) {
		if (live < 0 && errno == ENOENT)
			rc = health_say(1,
					"unhealthy (%s): no hfinit has run with %s (no lock file)",
					flag, dir);
		else if (live < 0)
			rc = health_say(1, "unhealthy (%s): %s/lock: %s", flag, dir,
					strerror(errno));
		else
			rc = health_say(
			    1,
			    "unhealthy (%s): hfinit is not running (nobody holds %s/lock: "
			    "the status files are stale)",
			    flag, dir);
		(void)close(dirfd); /* read-only */
		return rc;
	}
	if (read_state(dirfd, state, sizeof(state)) < 0) {
		rc = health_say(1, "unhealthy (%s): %s/state: %s", flag, dir,
				errno == EINVAL ? "not a state word" : strerror(errno));
		(void)close(dirfd); /* read-only */
		return rc;
	}
	switch (what) {
	case H_LIVE:
		rc = strcmp(state, "failed") == 0
			 ? health_say(1, "not live: hfinit is running but its state is failed")
			 : health_say(0, "live: hfinit is running, state %s", state);
		break;
	case H_STARTED:
		rc = strcmp(state, "ready") == 0 || strcmp(state, "degraded") == 0
			 ? health_say(0, "started: state %s", state)
			 : health_say(1, "not started: state %s", state);
		break;
	default:
		if (fstatat(dirfd, "ready", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			rc = health_say(0, "ready: every required service is ready (state %s)",
					state);
		else
			rc = health_say(1, "not ready: state %s", state);
		break;
	}
	(void)close(dirfd); /* read-only */
	return rc;
}

/* ------------------------------------------------------------------------- */
/* hfinit status */

static void fmt_dur_ms(long long ms, char *buf, size_t n)
{
	long long s = ms / 1000;

	if (ms < 0)
		fmt_trunc(buf, n, "-");
	else if (ms < 1000)
		fmt_trunc(buf, n, "%lldms", ms);
	else if (s < 60)
		fmt_trunc(buf, n, "%lld.%llds", s, (ms % 1000) / 100);
	else if (s < 3600)
		fmt_trunc(buf, n, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		fmt_trunc(buf, n, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
	else
		fmt_trunc(buf, n, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
}

/* ms from the RFC 3339 time in o[key] to now, or -1. */
static long long ago_ms(const struct jr *o, const char *key, const struct timespec *now)
{
	struct timespec t;

	if (parse_rfc3339(jr_str(o, key), &t) < 0)
		return -1;
	return (long long)(now->tv_sec - t.tv_sec) * 1000 + (now->tv_nsec - t.tv_nsec) / 1000000;
}

static void one_line(const char *s, char *buf, size_t n, size_t maxw)
{
	size_t o = 0;

	for (; s && *s && o + 1 < n && o < maxw; s++)
		/* no control characters reach the terminal (escape sequences) */
		buf[o++] = *s == '\n' || *s == '\r' || *s == '\t'   ? ' '
			   : (unsigned char)*s < 0x20 || *s == 0x7f ? '?'
								    : *s;
	if (s && *s && o >= 3 && o >= maxw) {
		/* cut on a UTF-8 boundary, then mark it */
		o -= 3;
		while (o > 0 && ((unsigned char)buf[o] & 0xc0) == 0x80)
			o--;
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
}

/* The services' own words (sd_notify STATUS=), one line each, under the table. */
static void print_notify_status(const struct jr *svcs)
{
	char name[48], t[400];

	printf("\nstatus (sd_notify STATUS=):\n");
	for (size_t r = 0; r < svcs->n; r++) {
		const char *st = jr_str(&svcs->items[r], "notify_status");
		if (!st)
			continue;
		one_line(svcs->keys[r], name, sizeof(name), 40);
		one_line(st, t, sizeof(t), 300);
		printf("  %s: %s\n", name, t);
	}
}

#define COLS 8
static const char *const col_names[COLS] = {"SERVICE", "STATE",	   "PID",      "UPTIME",
					    "ATTEMPT", "RESTARTS", "READY IN", "LAST ERROR"};

static void print_table(const struct jr *doc, const char *dir, int live)
{
	const struct jr *svcs = jr_get(doc, "services"), *py = jr_get(doc, "python");
	struct timespec now;
	char buf[64], buf2[64];
	long long v, pid = 0, stage = 0, code;
	size_t nrows = svcs && svcs->type == JR_OBJ ? svcs->n : 0, w[COLS];
	char(*cells)[COLS][200] = NULL;
	int hints = 0, notes = 0;

	now_real(&now);
	(void)jr_num(doc, "pid", &pid);
	(void)jr_num(doc, "stage", &stage);
	fmt_dur_ms(ago_ms(doc, "started_at", &now), buf, sizeof(buf));
	fmt_dur_ms(ago_ms(doc, "updated_at", &now), buf2, sizeof(buf2));
	printf("hfinit %s (pid %lld): %s, stage %lld%s%s, updated %s ago\n",
	       jr_str(doc, "hfinit") ? jr_str(doc, "hfinit") : "?", pid,
	       jr_str(doc, "state") ? jr_str(doc, "state") : "?", stage, live > 0 ? ", up " : "",
	       live > 0 ? buf : "", buf2);
	if (jr_num(doc, "exit_code", &code))
		printf("exit code: %lld\n", code);
	printf("status dir: %s (%s)\n", dir,
	       live > 0 ? "writer running"
			: "writer gone: these files are stale, hfinit is not running");
	if (py && py->type == JR_OBJ) {
		if (jr_str(py, "path"))
			printf("python: %s %s (%s)\n", jr_str(py, "path"),
			       jr_str(py, "version") ? jr_str(py, "version") : "",
			       jr_str(py, "source") ? jr_str(py, "source") : "?");
		else
			printf("python: none works: %s\n",
			       jr_str(py, "error") ? jr_str(py, "error") : "?");
	}
	if (nrows == 0) {
		printf("no services yet\n");
		return;
	}
	cells = calloc(nrows, sizeof(*cells));
	if (!cells) {
		printf("(out of memory)\n");
		return;
	}
	for (size_t c = 0; c < COLS; c++)
		w[c] = strlen(col_names[c]);
	for (size_t r = 0; r < nrows; r++) {
		const struct jr *s = &svcs->items[r], *le = jr_get(s, "last_error");
		const struct jr *lx = jr_get(s, "last_exit");
		const char *st = jr_str(s, "state");
		long long a = 0, as = 0, rs = 0;

		const struct jr *req = jr_get(s, "required");
		char name[48];

		one_line(svcs->keys[r], name, sizeof(name), 40);
		fmt_trunc(cells[r][0], sizeof(cells[r][0]), "%s%s", name,
			  req && req->type == JR_BOOL && !req->b ? "" : "*");
		fmt_trunc(cells[r][1], sizeof(cells[r][1]), "%s", st ? st : "?");
		if (jr_num(s, "pid", &v))
			fmt_trunc(cells[r][2], sizeof(cells[r][2]), "%lld", v);
		else
			fmt_trunc(cells[r][2], sizeof(cells[r][2]), "-");
		if (jr_num(s, "pid", &v))
			fmt_dur_ms(ago_ms(s, "started_at", &now), cells[r][3], sizeof(cells[r][3]));
		else
			fmt_trunc(cells[r][3], sizeof(cells[r][3]), "-");
		(void)jr_num(s, "attempt", &a);
		(void)jr_num(s, "attempts", &as);
		(void)jr_num(s, "restarts", &rs);
		fmt_trunc(cells[r][4], sizeof(cells[r][4]), "%lld/%lld", a, as);
		fmt_trunc(cells[r][5], sizeof(cells[r][5]), "%lld", rs);
		if (jr_num(s, "ready_ms", &v))
			fmt_dur_ms(v, cells[r][6], sizeof(cells[r][6]));
		else
			fmt_trunc(cells[r][6], sizeof(cells[r][6]), "-");
		if (jr_str(le, "text")) {
			char t[200];
			one_line(jr_str(le, "text"), t, sizeof(t), 80);
			if (jr_str(le, "category"))
				fmt_trunc(cells[r][7], sizeof(cells[r][7]), "[%s] %s",
					  jr_str(le, "category"), t);
			else
				fmt_trunc(cells[r][7], sizeof(cells[r][7]), "%s", t);
			hints += jr_str(le, "hint") != NULL;
		} else if (jr_num(lx, "signal", &v)) {
			fmt_trunc(cells[r][7], sizeof(cells[r][7]), "killed by %s",
				  jr_str(lx, "signal_name") ? jr_str(lx, "signal_name")
							    : "a signal");
		} else if (jr_num(lx, "code", &v) && v != 0) {
			fmt_trunc(cells[r][7], sizeof(cells[r][7]), "exited %lld", v);
		} else {
			fmt_trunc(cells[r][7], sizeof(cells[r][7]), "-");
		}
		notes += jr_str(s, "notify_status") != NULL;
		for (size_t c = 0; c < COLS; c++)
			if (strlen(cells[r][c]) > w[c])
				w[c] = strlen(cells[r][c]);
	}
	putchar('\n');
	for (size_t c = 0; c < COLS; c++)
		printf("%-*s%s", c + 1 < COLS ? (int)w[c] : 0, col_names[c],
		       c + 1 < COLS ? "  " : "\n");
	for (size_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < COLS; c++)
			printf("%-*s%s", c + 1 < COLS ? (int)w[c] : 0, cells[r][c],
			       c + 1 < COLS ? "  " : "\n");
	printf("(* required)\n");
	if (notes)
		print_notify_status(svcs);
	if (hints) {
		printf("\nhints:\n");
		for (size_t r = 0; r < nrows; r++) {
			const char *h = jr_str(jr_get(&svcs->items[r], "last_error"), "hint");
			char t[400];
			if (!h)
				continue;
			one_line(h, t, sizeof(t), 300);
			printf("  %s: %s\n", svcs->keys[r], t);
		}
	}
	free(cells);
}

static int status_usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: hfinit status [--json] [-d DIR]\n"
		"  --json   print status.json as it is\n"
		"  -d DIR   status dir (default $HFINIT_STATUS_DIR, else the first of\n"
		"           /run/hfinit, $XDG_RUNTIME_DIR/hfinit, /tmp/hfinit with a status.json)\n"
		"Exit 0, 1 when there is no readable status, 2 on bad usage.\n");
	return code;
}

int cmd_status(int argc, char **argv)
{
	const char *opt_dir = NULL;
	char dir[PATH_MAX], looked[3 * PATH_MAX + 8];
	char *buf = NULL;
	size_t len = 0, at = 0;
	int as_json = 0, dirfd, live;
	struct jr doc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = 1;
		else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
			opt_dir = argv[++i];
		else if (strncmp(argv[i], "--dir=", 6) == 0)
			opt_dir = argv[i] + 6;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return status_usage(0);
		else {
			fprintf(stderr, "hfinit status: unexpected argument \"%s\"\n", argv[i]);
			return status_usage(2);
		}
	}
	if (find_dir(opt_dir, dir, sizeof(dir), looked, sizeof(looked)) < 0) {
		fprintf(stderr,
			"hfinit status: no status.json in %s (is hfinit running? use -d DIR or "
			"$HFINIT_STATUS_DIR)\n",
			looked);
		return 1;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || read_file_at(dirfd, "status.json", &buf, &len, STATUS_MAX_READ) < 0) {
		fprintf(stderr, "hfinit status: %s/status.json: %s\n", dir, strerror(errno));
		if (dirfd >= 0)
			(void)close(dirfd); /* read-only */
		return 1;
	}
	live = writer_live(dirfd);
	(void)close(dirfd); /* read-only */
	if (as_json) {
		int rc = write_all(STDOUT_FILENO, buf, len) == 0 ? 0 : 1;
		free(buf);
		return rc;
	}
	if (jr_parse(buf, len, &doc, &at) < 0 || doc.type != JR_OBJ) {
		fprintf(stderr, "hfinit status: %s/status.json: not valid JSON (at byte %zu)\n",
			dir, at);
		jr_free(&doc);
		free(buf);
		return 1;
	}
	print_table(&doc, dir, live);
	(void)fflush(stdout); /* the table is all there is to say */
	jr_free(&doc);
	free(buf);
	return ferror(stdout) ? 1 : 0;
}

/* ------------------------------------------------------------------------- */
/* hfinit notify */

static int notify_usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: hfinit notify [--pid[=PID]] [--ready] [--status=TEXT] [--no-block] "
		"[KEY=VALUE]...\n"
		"Sends one sd_notify datagram to $NOTIFY_SOCKET (\"@abstract\" or \"/path\"),\n"
		"e.g. `hfinit notify READY=1 STATUS=listening`. --pid adds MAINPID=<the\n"
		"parent's pid> (the calling shell); --ready is READY=1. Then waits (at most 5 s)\n"
		"until the receiver has read it (BARRIER=1, as systemd-notify does; not with\n"
		"--no-block).\n"
		"Exit 0 sent, 1 not sent (no $NOTIFY_SOCKET, send failed), 2 bad usage.\n");
	return code;
}

static int send_bounded(int fd, const char *msg, size_t n)
{
	struct timespec t0, t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t0); /* cannot fail for MONOTONIC */
	for (;;) {
		ssize_t r = send(fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		struct pollfd p = {fd, POLLOUT, 0};
		long left;
		if (r >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		(void)clock_gettime(CLOCK_MONOTONIC, &t);
		left = NOTIFY_SEND_MS -
		       ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -1;
	}
}

/* BARRIER=1 as sd_notify_barrier(3) sends it: a pipe's write end goes
 * along, and the receiver closes it once it has handled every earlier
 * datagram. Waiting for that keeps this process alive until then, so the
 * receiver can still check who sent the message (docs/supervise.md). Bounded
 * by NOTIFY_SEND_MS; a receiver without barrier support just times it out. */
static void barrier(int fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {(char *)"BARRIER=1", 9};
	struct msghdr mh = {0};
	struct pollfd p;
	int pp[2];

	if (pipe2(pp, O_CLOEXEC) < 0)
		return;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = &ctl;
	mh.msg_controllen = sizeof(ctl);
	memset(&ctl, 0, sizeof(ctl));
	CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &pp[1], sizeof(int));
	if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		(void)close(pp[1]); /* no barrier: the message itself went out */
		(void)close(pp[0]);
		return;
	}
	(void)close(pp[1]); /* ours; the receiver holds the other copy */
	p.fd = pp[0];
	p.events = 0; /* POLLHUP comes anyway, once every write end is closed */
	while (poll(&p, 1, NOTIFY_SEND_MS) < 0 && errno == EINTR)
		;
	(void)close(pp[0]);
}

int cmd_notify(int argc, char **argv)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;
	size_t cap = 64, n = 0;
	char *msg;
	int fd, rc;
	bool wait = true;

	for (int i = 1; i < argc; i++)
		cap += strlen(argv[i]) + 16;
	msg = malloc(cap);
	if (!msg) {
		perror("hfinit notify");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			free(msg);
			return notify_usage(0);
		}
		if (strcmp(a, "--no-block") == 0) {
			wait = false;
		} else if (strcmp(a, "--pid") == 0) {
			n += (size_t)snprintf(msg + n, cap - n, "MAINPID=%d\n", (int)getppid());
		} else if (strncmp(a, "--pid=", 6) == 0 && a[6] >= '1' && a[6] <= '9' &&
			   strspn(a + 6, "0123456789") == strlen(a + 6) && strlen(a + 6) < 10) {
			n += (size_t)snprintf(msg + n, cap - n, "MAINPID=%s\n", a + 6);
		} else if (strcmp(a, "--ready") == 0) {
			n += (size_t)snprintf(msg + n, cap - n, "READY=1\n");
		} else if (strncmp(a, "--status=", 9) == 0 && !strchr(a, '\n')) {
			n += (size_t)snprintf(msg + n, cap - n, "STATUS=%s\n", a + 9);
		} else if (a[0] != '-' && eq && eq != a && !strchr(a, '\n')) {
			n += (size_t)snprintf(msg + n, cap - n, "%s\n", a);
		} else {
			fprintf(stderr,
				"hfinit notify: \"%s\" is not KEY=VALUE (one line, non-empty KEY) "
				"or a known option\n",
				a);
			free(msg);
			return notify_usage(2);
		}
	}
	if (n == 0) {
		fprintf(stderr, "hfinit notify: nothing to send\n");
		free(msg);
		return notify_usage(2);
	}
	if (!sock || !sock[0]) {
		fprintf(stderr, "hfinit notify: NOTIFY_SOCKET is not set (not run by hfinit with "
				"ready = notify, nor by systemd): nothing sent\n");
		free(msg);
		return 1;
	}
	if (notify_sockaddr(sock, &sa, &salen) < 0) {
		fprintf(stderr,
			"hfinit notify: NOTIFY_SOCKET=\"%s\": not an \"@abstract\" or "
			"\"/path\" address\n",
			sock);
		free(msg);
		return 1;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	rc =
	    fd < 0 || connect(fd, (struct sockaddr *)&sa, salen) < 0 || send_bounded(fd, msg, n) < 0
		? 1
		: 0;
	if (rc)
		fprintf(stderr, "hfinit notify: %s: %s\n", sock, strerror(errno));
	else if (wait)
		barrier(fd);
	if (fd >= 0)
		(void)close(fd); /* datagram already sent or failed */
	free(msg);
	return rc;
}
