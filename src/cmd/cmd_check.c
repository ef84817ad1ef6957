/* `hfinit check [-c FILE] [--json]`: options → report_run → the text or JSON
 * report. Every verdict comes from the report (plan/report.h). */
#include "cmd/cmd_check.h"

#include "cmd/cmd_version.h"
#include "plan/report.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

struct check_opts {
	const char *config; /* -c FILE, --config FILE, --config=FILE */
	bool json;	    /* --json */
};

static void usage(FILE *f)
{
	(void)usage_print("check", f);
}

/* 0 with o filled; 1 when -h was given (usage printed); 2 on bad usage. */
static int parse_opts(int argc, char **argv, struct check_opts *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default: /* '?' or ':' (no FILE): the word that was not understood */
			fprintf(stderr, "hfinit: error: check: unexpected argument \"%s\"\n",
				argv[optind - 1 < argc ? optind - 1 : argc - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hfinit: error: check: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return 0;
}

int cmd_check(int argc, char **argv)
{
	struct check_opts o = {0};
	struct report r;
	struct err e;
	int code = parse_opts(argc, argv, &o);

	if (code != 0)
		return code == 1 ? 0 : code;
	report_load(&r, o.config);
	if (!config_ok(r.cfg)) {
		if (o.json)
			(void)report_print_json(&r, 2); /* exit 2 either way */
		else
			report_print_config_errors(&r);
		report_free(&r);
		(void)fflush(stdout);
		return 2;
	}
	if (report_run(&r, &e) < 0) {
		fprintf(stderr, "hfinit: error: check: %s\n", e.msg);
		report_free(&r);
		return 1;
	}
	code = r.problems ? 1 : 0;
	if (o.json) {
		if (report_print_json(&r, code) != 0)
			code = 1;
	} else {
		report_print_text(&r);
	}
	report_free(&r);
	if (fflush(stdout) != 0)
		return 1;
	return code;
}
