/* placeholder until the PID-1 core lands */
#include "log.h"
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "version") == 0) {
		const struct scmp_version *v = seccomp_version();
		printf("hfinit %s libseccomp %u.%u.%u\n", HFINIT_VERSION, v->major, v->minor,
		       v->micro);
		return 0;
	}
	log_error("not implemented");
	return 2;
}
