/* Single-child mode's status files (docs/status.md, "Single-child mode"):
 * the one child as the one service of a status.json, through status_write.c's
 * writer. cmd_single.c says when; this file says what. */
#ifndef HFINIT_SINGLEFILES_H
#define HFINIT_SINGLEFILES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct status_writer;

/* What is known about the child. */
struct single_run {
	pid_t pid;
	bool done; /* reaped: status is valid */
	int status;
	struct timespec started_wall, ready_wall;
	int64_t ready_ms;	/* fork -> exec confirmed; -1: not (yet) */
	const char *exec_error; /* why exec failed, "" when it did not */
};

struct single_files {
	struct status_writer *w; /* NULL: no files (not opened, or disabled) */
	bool opened;
	char name[64];	   /* the service's name: the command's basename */
	char command[512]; /* the command line, cut at a word */
};

/* Choose the dir, take its lock and remove an earlier run's files, once;
 * never fatal (at worst one warning and no files). */
void single_files_open(struct single_files *f, char *const *argv);
/* state: ready, stopping, stopped or failed; exit_code -1 while running. */
void single_files_publish(struct single_files *f, const char *state, int exit_code,
			  const struct single_run *r);
void single_files_close(struct single_files *f);

#endif
