#include "cmd/cmd_check.h"

#include "plan/report.h"
#include "base/redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: hfinit check [-c FILE] [--json]\n"
		   "  validate the config, resolve Python and every script, check the status\n"
		   "  dir, seccomp, users and required Python modules; exit 0 when everything\n"
		   "  would start, 1 when something would not, 2 on config errors\n");
}

int cmd_check(int argc, char **argv)
{
	const char *opt_config = NULL;
	struct report r;
	struct err e;
	int json = 0, code;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
			   i + 1 < argc) {
			opt_config = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			opt_config = argv[i] + 9;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "hfinit: error: check: unexpected argument \"%s\"\n",
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	memset(&r, 0, sizeof(r));
	r.plan.python.chosen = -1;
	r.sd.chosen = -1;
	config_locate(opt_config, &r.loc);
	r.cfg = config_load(&r.loc, &e);
	if (!r.cfg)
		fmt_trunc(r.load_error, sizeof(r.load_error), "%s", e.msg);
	if (!config_ok(r.cfg)) {
		if (json) {
			(void)print_json(&r, 2); /* exit 2 either way */
		} else {
			printf("hfinit check: %s (%s)\n\n", r.cfg ? r.cfg->file : r.loc.path,
			       config_source_name(r.loc.source));
			if (!r.cfg) {
				printf("FAIL  config           %s\n", r.load_error);
			} else {
				printf("FAIL  config           %zu error%s\n", r.cfg->ndiags,
				       r.cfg->ndiags == 1 ? "" : "s");
				for (size_t i = 0; i < r.cfg->ndiags; i++)
					printf(IND "%s\n", r.cfg->diags[i].text);
			}
			printf("\nconfig errors: nothing would start (exit 2).\n");
		}
		config_free(r.cfg);
		fflush(stdout);
		return 2;
	}
	for (size_t i = 0; i < r.cfg->nservices; i++) /* their values are shown as *** */
		if (redact_add_env(r.cfg->services[i].env) < 0) {
			fprintf(stderr, "hfinit: error: check: out of memory\n");
			config_free(r.cfg);
			return 1;
		}
	r.nsvcs = r.cfg->nservices;
	r.svcs = calloc(r.nsvcs ? r.nsvcs : 1, sizeof(*r.svcs));
	if (!r.svcs) {
		fprintf(stderr, "hfinit: error: check: out of memory\n");
		report_free(&r);
		return 1;
	}
	if (run_checks(&r, &e) < 0) {
		fprintf(stderr, "hfinit: error: check: %s\n", e.msg);
		report_free(&r);
		return 1;
	}
	code = r.problems ? 1 : 0;
	if (json) {
		if (print_json(&r, code) != 0)
			code = 1;
	} else {
		print_text_redacted(&r);
	}
	report_free(&r);
	if (fflush(stdout) != 0)
		return 1;
	return code;
}
