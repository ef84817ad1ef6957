/* Single-child mode (catatonit's two phases): set-up may fail and return an
 * error; once the child exists, hfinit leaves only through the exit path
 * (child gone, leftovers terminated and reaped, or the deadline passed).
 *
 * Decisions (tini-compatible where tini has an answer):
 * - The child is made by run/spawn.c and put in its own process group;
 *   spawn() returns once exec succeeded, so `-g` reaches the group from the
 *   first signal on. When stdin is a
 *   terminal whose foreground group is hfinit's, the child's group is made
 *   the foreground group (tcsetpgrp), so ^C and ^Z reach it directly.
 * - Every signal except SIGCHLD is forwarded (the fault signals too when
 *   they come from kill(2); a real fault still kills hfinit): to the
 *   child, or with -g to its group. Signals hfinit raised against itself
 *   (SIGPIPE from writing to a closed stderr) are not forwarded. Signals that
 *   arrive once the child has exited are not forwarded (the clean-up below
 *   is already under way).
 * - After the child exits, whatever is left gets SIGTERM, then SIGKILL once
 *   the grace period (-t) has passed, then hfinit waits at most
 *   KILL_WAIT_NS more for the reaping to finish. As PID 1 "left" is every
 *   process in the namespace (kill(-1)). Not PID 1 (a child subreaper) it is
 *   the child's process group plus every process whose parent is hfinit,
 *   i.e. orphans re-parented to it; orphans appearing after the SIGKILL
 *   round are killed as they show up. hfinit exits as soon as waitpid says
 *   it has no children left: with nothing left over there is no delay.
 * - Exit status: the child's code, 128+N if it was killed by signal N, then
 *   -e CODE maps CODE to 0 (so `-e 143` accepts death by SIGTERM). 127 when
 *   exec failed with ENOENT, 126 for any other exec failure. 1 when hfinit
 *   itself fails after the child started (cannot happen short of a bug). */
#include "cmd/cmd_single.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "run/loop.h"
#include "run/pid1.h"
#include "run/spawn.h"
#include "base/signame.h"
#include "status/singlefiles.h"
#include "cmd/cmd_version.h"

#define KILL_WAIT_NS (1 * NS_PER_SEC)
/* Status files are written once the child has run this long after its exec:
 * a command gone sooner (`hfinit -- true`) costs no file system work, and
 * no health probe could have seen it anyway. */
#define SETTLE_NS (10 * NS_PER_MS)

/* --- arguments ---------------------------------------------------------------- */

int parse_duration_ns(const char *s, int64_t *out)
{
	int64_t v = 0, unit;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*p)) {
		errno = EINVAL;
		return -1;
	}
	for (; isdigit((unsigned char)*p); p++) {
		int d = *p - '0';
		if (v > (INT64_MAX - d) / 10) {
			errno = ERANGE;
			return -1;
		}
		v = v * 10 + d;
	}
	if (*p == '\0' || strcmp(p, "s") == 0)
		unit = NS_PER_SEC;
	else if (strcmp(p, "ms") == 0)
		unit = NS_PER_MS;
	else if (strcmp(p, "m") == 0)
		unit = 60 * NS_PER_SEC;
	else if (strcmp(p, "h") == 0)
		unit = 3600 * NS_PER_SEC;
	else {
		errno = EINVAL;
		return -1;
	}
	if (v > INT64_MAX / unit) {
		errno = ERANGE;
		return -1;
	}
	*out = v * unit;
	return 0;
}

static int parse_code(const char *s, int *out)
{
	int v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (*s - '0');
		if (v > 255)
			return -1;
	}
	if (*s)
		return -1;
	*out = v;
	return 0;
}

/* One option getopt returned; 0, or -1 with e set. */
static int single_opt(int c, char **argv, struct single_opts *o, struct err *e)
{
	int code;

	switch (c) {
	case 's': /* always a subreaper when not PID 1 */
		return 0;
	case 'g':
		o->group = true;
		return 0;
	case 'v':
		o->verbose++;
		return 0;
	case 'h':
		o->want_help = true;
		return 0;
	case 'e':
		if (parse_code(optarg, &code) < 0)
			return err_set(e, EINVAL, "-e \"%s\": expected an exit code 0..255",
				       optarg);
		o->remap[code] = true;
		return 0;
	case 't':
		if (parse_duration_ns(optarg, &o->grace_ns) < 0)
			return err_set(e, EINVAL,
				       "-t \"%s\": expected a duration like 500ms, 5s, 2m", optarg);
		return 0;
	case 'c':
		return err_set(e, EINVAL,
			       "option -c belongs to supervision mode: hfinit -c FILE, without --");
	case ':':
		return err_set(e, EINVAL, "option -%c needs %s", optopt,
			       optopt == 'e' ? "an exit code" : "a duration");
	default:
		if (optopt)
			return err_set(e, EINVAL, "unknown option -%c", optopt);
		return err_set(e, EINVAL, "unknown option \"%s\"", argv[optind - 1]);
	}
}

int single_parse_args(int argc, char **argv, struct single_opts *o, struct err *e)
{
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	int c;

	memset(o, 0, sizeof(*o));
	o->grace_ns = SINGLE_DEFAULT_GRACE_NS;
	opterr = 0;
	optind = 0; /* a fresh scan (glibc and musl) */
	/* "+": stop at the first word that is not an option, and at "--" */
	while ((c = getopt_long(argc, argv, "+:sgvhe:t:c", longopts, NULL)) != -1)
		if (single_opt(c, argv, o, e) < 0)
			return -1;
	if (optind > 1 && strcmp(argv[optind - 1], "--") == 0) {
		if (optind >= argc)
			return err_set(e, EINVAL, "missing command after \"--\"");
		o->argv = argv + optind;
		return 0;
	}
	if (optind < argc)
		return err_set(e, EINVAL,
			       "unexpected argument \"%s\": the command goes after \"--\" "
			       "(hfinit [OPTIONS] -- CMD [ARG]...)",
			       argv[optind]);
	o->no_command = true;
	return 0;
}

int single_exit_code(const struct single_opts *o, int status)
{
	int code = pid1_exit_code(status);

	if (code >= 0 && code <= 255 && o->remap[code])
		return 0;
	return code;
}

/* --- running ---------------------------------------------------------------------- */

enum phase {
	RUNNING,     /* the child is alive */
	TERMINATING, /* child gone, leftovers got SIGTERM, grace timer armed */
	KILLING,     /* leftovers got SIGKILL, last deadline armed */
	DONE,
};

struct single {
	struct single_opts o;
	struct pid1_signals sigs;
	struct loop loop;
	struct loop_timer timer;
	bool is_pid1;
	bool foreground; /* stdin is a terminal and we own its foreground */
	pid_t self;
	pid_t child;	 /* the child's pid (and process group) */
	bool child_done; /* reaped: status is valid */
	int status;
	enum phase phase;
	/* status files: one write once exec succeeded (and the child still
	 * runs SETTLE_NS later), one when the child is gone (plus `stopping`
	 * while leftovers are cleaned up), nothing while idle */
	struct single_files files;
	struct loop_timer settle;
	int64_t started_ns;
	struct timespec started_wall, ready_wall;
	int64_t ready_ms;     /* fork -> exec confirmed; -1: not (yet) */
	char exec_error[320]; /* why exec failed, "" when it did not */
};

static void publish(struct single *s, const char *state, int exit_code)
{
	struct single_run r = {.pid = s->child,
			       .done = s->child_done,
			       .status = s->status,
			       .started_wall = s->started_wall,
			       .ready_wall = s->ready_wall,
			       .ready_ms = s->ready_ms,
			       .exec_error = s->exec_error};

	single_files_publish(&s->files, state, exit_code, &r);
}

static void describe_status(const struct single *s)
{
	if (WIFSIGNALED(s->status)) {
		const char *name = signame(WTERMSIG(s->status));
		log_debug("child %d killed by SIG%s (%d)", (int)s->child, name ? name : "?",
			  WTERMSIG(s->status));
	} else {
		log_debug("child %d exited with code %d", (int)s->child, pid1_exit_code(s->status));
	}
}

/* Why exec failed, said once. */
static void note_exec_error(struct single *s, int err)
{
	const char *cmd = s->o.argv[0];

	if (err == ENOENT && !strchr(cmd, '/'))
		snprintf(s->exec_error, sizeof(s->exec_error),
			 "cannot run \"%s\": command not found in PATH", cmd);
	else
		snprintf(s->exec_error, sizeof(s->exec_error), "cannot execute \"%s\": %s", cmd,
			 strerror(err));
	log_error("%s", s->exec_error);
}

static void on_settle(struct loop_timer *t, void *data)
{
	struct single *s = data;

	(void)t;
	if (s->child_done)
		return;
	single_files_open(&s->files, s->o.argv);
	publish(s, "ready", -1);
}

static void finish(struct single *s)
{
	s->phase = DONE;
	loop_timer_cancel(&s->loop, &s->timer);
	loop_stop(&s->loop);
}

static void signal_leftovers(struct single *s, int sig)
{
	if (pid1_signal_leftovers(sig, s->child) < 0)
		log_errno(LOG_LVL_WARN, errno, "cannot send SIG%s to the remaining processes",
			  signame(sig));
}

static void start_killing(struct single *s)
{
	s->phase = KILLING;
	signal_leftovers(s, SIGKILL);
	loop_timer_arm_in(&s->loop, &s->timer, KILL_WAIT_NS);
}

static void on_timer(struct loop_timer *t, void *data)
{
	struct single *s = data;

	(void)t;
	if (s->phase == TERMINATING) {
		log_warn("processes still running %lld ms after the child exited: sending SIGKILL",
			 (long long)(s->o.grace_ns / NS_PER_MS));
		start_killing(s);
	} else if (s->phase == KILLING) {
		log_warn("processes still not reaped %lld ms after SIGKILL: exiting anyway",
			 (long long)(KILL_WAIT_NS / NS_PER_MS));
		finish(s);
	}
}

static void on_reaped(pid_t pid, int status, void *data)
{
	struct single *s = data;

	if (pid == s->child && !s->child_done) {
		s->child_done = true;
		s->status = status;
		describe_status(s);
	} else {
		log_debug("reaped %d (status 0x%x)", (int)pid, (unsigned)status);
	}
}

static void on_sigchld(struct single *s)
{
	int none_left = pid1_reap(on_reaped, s);

	if (!s->child_done)
		return;
	switch (s->phase) {
	case RUNNING:
		if (none_left) {
			finish(s);
			break;
		}
		loop_timer_cancel(&s->loop, &s->settle);
		publish(s, "stopping", -1);
		log_debug("child gone, other processes remain: SIGTERM, then SIGKILL after %lld ms",
			  (long long)(s->o.grace_ns / NS_PER_MS));
		if (s->o.grace_ns == 0) {
			start_killing(s);
			break;
		}
		s->phase = TERMINATING;
		signal_leftovers(s, SIGTERM);
		loop_timer_arm_in(&s->loop, &s->timer, s->o.grace_ns);
		break;
	case TERMINATING:
		if (none_left)
			finish(s);
		break;
	case KILLING:
		if (none_left)
			finish(s);
		else
			signal_leftovers(s, SIGKILL); /* orphans re-parented since */
		break;
	case DONE:
		break;
	}
}

static void on_signal(const struct signalfd_siginfo *si, void *data)
{
	struct single *s = data;
	int sig = (int)si->ssi_signo;
	const char *name = signame(sig);
	pid_t target;

	if (sig == SIGCHLD) {
		on_sigchld(s);
		return;
	}
	if (!pid1_forwardable(sig))
		return;
	if ((si->ssi_code == SI_USER || si->ssi_code == SI_TKILL) &&
	    (pid_t)si->ssi_pid == s->self) {
		log_debug("SIG%s raised by hfinit itself: not forwarded", name ? name : "?");
		return;
	}
	if (s->child_done) {
		log_debug("SIG%s after the child exited: not forwarded", name ? name : "?");
		return;
	}
	target = s->o.group ? -s->child : s->child;
	if (kill(target, sig) < 0)
		log_errno(LOG_LVL_DEBUG, errno, "forwarding SIG%s to %d", name ? name : "?",
			  (int)target);
	else
		log_debug("forwarded SIG%s to %d", name ? name : "?", (int)target);
}

/* The child, through spawn(): hfinit's stdio and every fd it inherited (as
 * tini passes them), its own process group, made the terminal's foreground
 * when hfinit had it (^C and ^Z reach the child directly), default signal
 * dispositions and hfinit's original mask. spawn() returns once exec
 * succeeded. 0; 1 when the child failed before or at exec (then reaped, its
 * status kept); -1 with e set when no child could be made. */
static int start_child(struct single *s, struct err *e)
{
	extern char **environ;
	struct spawn_req r;
	struct spawn_out o;

	spawn_req_init(&r);
	r.file = s->o.argv[0];
	r.argv = s->o.argv;
	r.envp = environ;
	r.path = getenv("PATH");
	r.stdin_fd = SPAWN_INHERIT;
	r.new_session = false;
	r.new_pgroup = true;
	r.foreground = s->foreground;
	r.keep_fds = true;
	r.sigmask = &s->sigs.orig_mask;
	s->started_ns = mono_now_ns();
	clock_gettime(CLOCK_REALTIME, &s->started_wall);
	if (spawn_run(&r, &o, e) < 0) {
		if (o.step == SPAWN_STEP_NONE)
			return -1;
		s->child_done = true;
		s->status = o.status;
		if (o.step == SPAWN_STEP_EXEC)
			note_exec_error(s, o.err);
		else
			log_error("%s", e->msg);
		return 1;
	}
	s->child = o.pid;
	s->ready_ms = (mono_now_ns() - s->started_ns) / NS_PER_MS;
	clock_gettime(CLOCK_REALTIME, &s->ready_wall);
	loop_timer_arm_in(&s->loop, &s->settle, SETTLE_NS);
	log_debug("started %s as %d", s->o.argv[0], (int)o.pid);
	return 0;
}

/* The loop failed with the child (or what it left) alive: no event can be
 * waited for any more, so everything left gets SIGKILL and is reaped by
 * polling, for at most KILL_WAIT_NS; hfinit then exits 1 (never leaving
 * the child behind unsignalled). */
static int kill_after_failure(struct single *s)
{
	int64_t end = mono_now_ns() + KILL_WAIT_NS;
	struct timespec tick = {0, 10 * NS_PER_MS};

	signal_leftovers(s, SIGKILL);
	while (pid1_reap(on_reaped, s) == 0 && mono_now_ns() < end)
		(void)nanosleep(&tick, NULL); /* EINTR: poll again */
	loop_stop(&s->loop);
	return 1;
}

static bool stdin_is_our_foreground(void)
{
	pid_t fg;

	if (!isatty(STDIN_FILENO))
		return false;
	/* Both are 0 when the groups live in an ancestor PID namespace
	 * (`unshare --pid --fork` from a shell): we cannot tell them apart
	 * then, and the usual case is an interactive foreground job. */
	fg = tcgetpgrp(STDIN_FILENO);
	return fg >= 0 && fg == getpgrp();
}

int cmd_single(int argc, char **argv)
{
	static struct single s; /* large (sigsets, event batch): not on the stack */
	struct err e;
	int started, code = 0;

	err_clear(&e);
	if (single_parse_args(argc, argv, &s.o, &e) < 0) {
		log_error("%s (see hfinit help single)", e.msg);
		return 2;
	}
	if (s.o.want_help) {
		(void)usage_print("single", stdout);
		return 0;
	}
	if (s.o.no_command) {
		log_error("no command after --: hfinit [OPTIONS] -- CMD [ARG]... (without --, "
			  "hfinit supervises the services of its config)");
		return 2;
	}
	if (s.o.verbose)
		log_setup(LOG_LVL_DEBUG, LOG_FMT_TEXT);

	s.self = getpid();
	s.is_pid1 = s.self == 1;
	s.ready_ms = -1;
	s.phase = RUNNING;
	loop_timer_init(&s.timer, on_timer, &s);
	loop_timer_init(&s.settle, on_settle, &s);
	if (!s.is_pid1 && pid1_set_subreaper() < 0)
		log_errno(LOG_LVL_WARN, errno,
			  "not PID 1 and cannot become a child subreaper: orphans will not "
			  "be reaped by hfinit");
	if (pid1_block_signals(&s.sigs, &e) < 0) {
		log_error("%s", e.msg);
		return 1;
	}
	if (loop_init(&s.loop, &s.sigs.blocked, on_signal, &s, &e) < 0) {
		log_error("%s", e.msg);
		return 1;
	}
	s.foreground = stdin_is_our_foreground();
	if ((started = start_child(&s, &e)) < 0) {
		log_error("%s", e.msg);
		loop_fini(&s.loop);
		return 1;
	}

	/* From here on the child exists: leave only through the exit path. */
	while (started == 0 && code == 0 && !loop_stopped(&s.loop)) {
		if (loop_run_once(&s.loop) < 0) {
			/* Only a bug can make epoll_wait fail on our own fd. */
			log_errno(LOG_LVL_ERROR, errno, "event loop failed");
			code = kill_after_failure(&s);
		}
	}
	loop_fini(&s.loop);
	if (code == 0)
		code = s.child_done ? single_exit_code(&s.o, s.status) : 1;
	if (code != 0) /* a failure leaves its post-mortem, even a quick one */
		single_files_open(&s.files, s.o.argv);
	publish(&s, code == 0 ? "stopped" : "failed", code);
	single_files_close(&s.files);
	return code;
}
