/* libFuzzer target: the bytes a service sends at run time on its notify
 * socket (make fuzz). notify_parse must take any datagram (no NUL needed, any
 * length the socket allows) and leave a NUL-terminated STATUS=; the
 * leftover marker scan takes the same bytes as a /proc/PID/environ block, and
 * notify_sockaddr as a $NOTIFY_SOCKET value (its address stays in bounds). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "run/leftover.h"
#include "run/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct notify_msg m;
	char *copy;

	if (size > 4096)
		size = 4096; /* notify_recv's buffer: longer datagrams arrive cut */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size); /* exactly size bytes: ASan sees any overread */
	notify_parse(copy, size, &m);
	if (m.has_status && strlen(m.status) >= sizeof(m.status))
		abort();
	if (m.has_errno && m.errnum < 0)
		abort();
	if (m.mainpid < 0)
		abort();
	(void)leftover_env_has(copy, size, "web");
	free(copy);
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	{
		struct sockaddr_un sa;
		socklen_t len = 0;
		if (notify_sockaddr(copy, &sa, &len) == 0 &&
		    (len > sizeof(sa) || len <= offsetof(struct sockaddr_un, sun_path) + 1))
			abort();
	}
	free(copy);
	return 0;
}
