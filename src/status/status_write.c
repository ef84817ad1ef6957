/* The status files' writer (docs/design.md, "Status files"; docs/status.md).
 *
 * status.json, state and ready in the status dir, each written to a
 * temp file in the same dir (O_CREAT|O_EXCL|O_NOFOLLOW) and renamed over the
 * target, so a reader sees the old file or the new one, never a mix; rename
 * replaces whatever directory entry is at the target (a planted symlink
 * included) and never writes through it. No fsync: the files describe a
 * running process and live on tmpfs in practice; after a machine crash they
 * are stale by definition (and `health` says so through the lock).
 * status.json is written from its cached pieces (status_doc.c) with writev.
 *
 * `lock` is flocked (LOCK_EX) for hfinit's whole life; `hfinit health`
 * tells a live writer from a stale file by failing to take LOCK_SH on it,
 * which works across PID namespaces where a pid number misleads.
 *
 * Upward sd_notify: when hfinit itself was given $NOTIFY_SOCKET, READY=1 once
 * every required service is ready, STATUS= when the summary changes,
 * STOPPING=1 once at shutdown. */
#include "status/status.h"
#include "status/status_doc.h"
#include "status/status_render.h"

#include "base/fdio.h"
#include "base/fmt.h"
#include "base/log.h"
#include "plan/statusdir.h"
#include "run/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LOCK_TRIES 50 /* x 10 ms: a `health` probe holds LOCK_SH briefly */

/* ------------------------------------------------------------------------- */
/* sd_notify addresses */
/* ------------------------------------------------------------------------- */
/* the writer */

struct status_writer {
	int dirfd; /* -1: files disabled */
	int lockfd;
	char dir[PATH_MAX];
	struct status_doc doc; /* status.json as last built, with the placeholder */
	bool unwritten;	       /* doc is not what the file holds (a write failed) */
	char state[16];	       /* last state word written */
	bool ready_file;       /* `ready` exists (we made it) */
	bool failing;	       /* the last write failed (warned once) */
	bool single;	       /* single-child mode: no waiting for another hfinit's lock */

	/* the dir removed while we run (dir_repair) */
	bool explicit_dir; /* the operator's path (links followed) */
	bool gone;	   /* it could not be made again */
	bool repairing;	   /* a removal may race with dir_repair: ENOENT is quiet */
	int ifd, wd;	   /* inotify on the dir (-1: none): removals wake us */

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
	status_now(&snap.started_at);
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

/* status.json from w->doc with the time stamp patched in. 0 or -1. */
static int write_doc(struct status_writer *w, const char *stamp)
{
	char *at = w->doc.head.s + w->doc.off;
	size_t n = status_doc_iov(&w->doc);
	int r;

	if (n == 0) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(at, stamp, sizeof(UPDATED_PLACEHOLDER) - 1);
	r = status_write_atomicv(w->dirfd, "status.json", w->doc.iov, n);
	memcpy(at, UPDATED_PLACEHOLDER, sizeof(UPDATED_PLACEHOLDER) - 1);
	return r;
}

/* The files written so far that are missing now: written again. */
static void rewrite_lost(struct status_writer *w)
{
	char stamp[40], line[48];
	struct timespec now;

	status_now(&now);
	status_rfc3339(&now, stamp, sizeof(stamp));
	if (w->doc.head.s && entry_lost(w->dirfd, "status.json", -1) && write_doc(w, stamp) != 0)
		write_failed(w, "status.json");
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
	char stamp[40], line[48];
	struct timespec now;
	bool ok = true;
	int changed;

	if (w->dirfd < 0) {
		w->doc.stale = true; /* the changes marked in snap are not built */
		return;
	}
	if (w->gone)
		dir_repair(w);
	status_now(&now);
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
	changed = status_doc_build(&w->doc, snap);
	if (changed < 0) {
		write_failed(w, "status.json");
		return;
	}
	if (changed || w->unwritten) {
		w->unwritten = write_doc(w, stamp) != 0;
		if (w->unwritten) {
			write_failed(w, "status.json");
			ok = false;
		}
	}
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
	if (notify_send(w->nfd, &w->nsa, w->nsalen, msg, n, 0) < 0) {
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
	status_doc_free(&w->doc);
	free(w);
}
