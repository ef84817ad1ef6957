#include "status/singlefiles.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "status/status.h"

/* name and command from argv: "node", "node server.js" (cut at a word). */
static void describe(struct single_files *f, char *const *argv)
{
	const char *base = strrchr(argv[0], '/');
	size_t n = 0;

	snprintf(f->name, sizeof(f->name), "%s", base && base[1] ? base + 1 : argv[0]);
	for (char *const *a = argv; *a; a++) {
		size_t len = strlen(*a);
		if (n + len + (n ? 1 : 0) + 4 > sizeof(f->command)) {
			memcpy(f->command + n, "...", 4);
			return;
		}
		n += (size_t)snprintf(f->command + n, sizeof(f->command) - n, "%s%s", n ? " " : "",
				      *a);
	}
}

void single_files_open(struct single_files *f, char *const *argv)
{
	if (f->opened)
		return;
	f->opened = true;
	describe(f, argv);
	f->w = status_open_single();
}

void single_files_publish(struct single_files *f, const char *state, int exit_code,
			  const struct single_run *r)
{
	bool ready = strcmp(state, "ready") == 0;
	bool clean = r->done && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
	struct status_stage stage = {1, r->ready_ms};
	struct status_service svc = {0};
	struct status_snapshot snap = {0};

	if (!f->w)
		return;
	svc.name = f->name;
	svc.state = ready ? "ready" : !r->done ? "starting" : clean ? "stopped" : "failed";
	svc.stage = 1;
	svc.required = true;
	svc.pid = r->done ? 0 : r->pid;
	svc.attempt = svc.attempts = 1;
	svc.started_at = r->started_wall;
	if (ready)
		svc.ready_at = r->ready_wall;
	svc.ready_ms = r->ready_ms;
	svc.has_exit = r->done;
	svc.exit_code = r->done && WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
	svc.exit_signal = r->done && WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0;
	if (r->exec_error && r->exec_error[0]) {
		svc.last_error = r->exec_error;
		svc.error_category = "exec";
	}
	svc.command = f->command;
	svc.ready_spec = "started";
	snap.state = state;
	snap.stage = 1;
	snap.started_at = r->started_wall;
	snap.exit_code = exit_code;
	snap.all_required_ready = ready;
	snap.services = &svc;
	snap.nservices = 1;
	snap.stages = &stage;
	snap.nstages = 1;
	status_publish(f->w, &snap);
}

void single_files_close(struct single_files *f)
{
	status_close(f->w);
	f->w = NULL;
}
