/* libFuzzer target: the config parser on arbitrary bytes (make fuzz).
 * Every input must give a config (with or without diagnostics) and free it
 * cleanly: no crash, leak or undefined behaviour under ASan/UBSan. The value
 * parsers are also fed the raw input as one NUL-terminated string, and so is
 * the redaction of output lines: no secret value and no Hub token survives. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "base/strv.h"
#include "base/words.h"
#include "conf/probe_spec.h"
#include "conf/value.h"
#include "base/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SECRET "fuzz-secret-1"

/* A Hub token (hf_ + REDACT_HF_MIN letters and digits) anywhere in s[0..n). */
static int has_hub_token(const char *s, size_t n)
{
	for (size_t i = 0; i + 3 <= n; i++) {
		size_t k = i + 3;
		if (memcmp(s + i, "hf_", 3) != 0)
			continue;
		while (k < n && ((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'z') ||
				 (s[k] >= 'A' && s[k] <= 'Z')))
			k++;
		if (k - i - 3 >= REDACT_HF_MIN)
			return 1;
	}
	return 0;
}

/* Output lines as the supervisor redacts them. */
static void fuzz_redact(const uint8_t *data, size_t size)
{
	char *out = malloc(size * 3 + 1);
	size_t n;

	if (!out)
		return;
	if (redact_add(FUZZ_SECRET, strlen(FUZZ_SECRET)) < 0)
		abort();
	n = redact_to((const char *)data, size, out, size * 3 + 1);
	if (n == (size_t)-1) {
		memcpy(out, data, size);
		n = size;
	} else if (n > size * 3 || out[n] != '\0') {
		abort();
	}
	if (memmem(out, n, FUZZ_SECRET, strlen(FUZZ_SECRET)) || has_hub_token(out, n))
		abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = {0};
	struct config *cfg = config_parse("fuzz.ini", (const char *)data, size, &e);
	char *s;

	if (!cfg)
		abort(); /* only out of memory may fail, and libFuzzer's limit aborts first */
	for (size_t i = 0; i < cfg->ndiags; i++)
		if (!cfg->diags[i].text || !cfg->diags[i].msg)
			abort();
	config_free(cfg);
	fuzz_redact(data, size);

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	{
		uint64_t u;
		bool b;
		long long n;
		int i;
		mode_t m;
		char **v;
		struct probe p;

		(void)parse_duration_ms(s, &u, &e);
		(void)parse_size(s, &u, &e);
		(void)parse_bool(s, &b, &e);
		(void)parse_int(s, -1000, 1000, &n, &e);
		(void)parse_signal(s, &i, &e);
		(void)parse_umask(s, &m, &e);
		(void)parse_errno(s, &i, &e);
		if (split_words(s, true, &v, &e) == 0) {
			char *j = strv_join(v);
			char **back;
			/* joining and splitting again gives the same words */
			if (j && split_words(j, false, &back, &e) == 0) {
				for (size_t k = 0; v[k] || back[k]; k++)
					if (!v[k] || !back[k] || strcmp(v[k], back[k]) != 0)
						abort();
				strv_free(back);
			}
			free(j);
			strv_free(v);
		}
		if (parse_env_list(s, &v, &e) == 0)
			strv_free(v);
		if (parse_probe(s, false, &p, &e) == 0)
			probe_free(&p);
		if (parse_probe(s, true, &p, &e) == 0)
			probe_free(&p);
	}
	free(s);
	return 0;
}
