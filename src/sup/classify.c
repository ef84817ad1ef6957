#include "sup/classify.h"

#include "base/signame.h"

#include <ctype.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/* memmem-like search bounded by len; needle is a C string. */
static const char *find(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0 || n > len)
		return NULL;
	for (size_t i = 0; i + n <= len; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Whether `word` occurs in line with the right boundaries. WORD_WHOLE: not
 * part of a longer identifier on either side. WORD_SUFFIX: the end of a word
 * (so "ValueError" and "Error" match "Error"), followed by ':', ' ', ']', ','
 * or the end of the line ("Errors" and "errorless" do not match). WORD_TEXT:
 * anywhere. */
enum word_match { WORD_WHOLE, WORD_SUFFIX, WORD_TEXT };

struct word {
	const char *text;
	enum word_match how;
};

static bool match_at(const char *line, size_t len, size_t at, size_t n, enum word_match how)
{
	char next = at + n < len ? line[at + n] : '\0';

	if (how == WORD_TEXT)
		return true;
	if (how == WORD_SUFFIX)
		return next == '\0' || next == ':' || next == ' ' || next == ']' || next == ',';
	return (at == 0 || !is_word_char(line[at - 1])) && !is_word_char(next);
}

static bool has_word_as(const char *line, size_t len, const char *word, enum word_match how)
{
	size_t n = strlen(word);
	const char *hit;

	for (size_t at = 0; at < len && (hit = find(line + at, len - at, word)) != NULL;
	     at = (size_t)(hit - line) + 1)
		if (match_at(line, len, (size_t)(hit - line), n, how))
			return true;
	return false;
}

static bool has_word(const char *line, size_t len, const char *word)
{
	return has_word_as(line, len, word, WORD_WHOLE);
}

static const struct word error_words[] = {
    {"Error", WORD_SUFFIX},	      {"Exception", WORD_SUFFIX}, {"ERROR", WORD_WHOLE},
    {"CRITICAL", WORD_WHOLE},	      {"FATAL", WORD_WHOLE},	  {"Fatal", WORD_WHOLE},
    {"Segmentation fault", WORD_TEXT}};
static const struct word warning_words[] = {{"Warning", WORD_SUFFIX},
					    {"WARN", WORD_WHOLE},
					    {"WARNING", WORD_WHOLE},
					    {"warning", WORD_WHOLE}};

#define NWORDS(a) (sizeof(a) / sizeof((a)[0]))

static bool has_any(const char *line, size_t len, const struct word *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (has_word_as(line, len, w[i].text, w[i].how))
			return true;
	return false;
}

static const char traceback[] = "Traceback (most recent call last):";

struct line_verdict classify_line(struct line_classifier *st, const char *line, size_t len)
{
	struct line_verdict v = {LINE_INFO, false, false};

	if (len >= sizeof(traceback) - 1 && memcmp(line, traceback, sizeof(traceback) - 1) == 0) {
		st->in_traceback = true;
		v.cls = LINE_ERROR;
		v.counts = true; /* the traceback is one error, counted here */
		return v;
	}
	if (st->in_traceback) {
		/* Frames are indented; "During handling..." and blank lines continue the
		 * chain; the first other line is the exception itself and ends it. */
		if (len == 0 || line[0] == ' ' || line[0] == '\t' ||
		    find(line, len, "During handling of the above exception") ||
		    find(line, len, "The above exception was the direct cause")) {
			v.cls = LINE_ERROR;
			return v;
		}
		st->in_traceback = false;
		v.cls = LINE_ERROR;
		v.is_detail = true;
		return v;
	}
	if (classify_next(line, 0, len) == len)
		return v; /* none of the words */
	if (has_any(line, len, error_words, NWORDS(error_words))) {
		v.cls = LINE_ERROR;
		v.counts = true;
		v.is_detail = true;
	} else if (has_any(line, len, warning_words, NWORDS(warning_words))) {
		v.cls = LINE_WARNING;
		v.counts = true;
	}
	return v;
}

/* Copy the quoted token after `key` (e.g. No module named 'torch') into out. */
static void quoted_after(const char *line, size_t len, const char *key, char *out, size_t outlen)
{
	const char *p = find(line, len, key);
	const char *end = line + len;
	size_t n = 0;

	out[0] = '\0';
	if (!p)
		return;
	p += strlen(key);
	while (p < end && (*p == ' ' || *p == '\'' || *p == '"'))
		p++;
	while (p < end && *p != '\'' && *p != '"' && *p != ' ' && n + 1 < outlen)
		out[n++] = *p++;
	out[n] = '\0';
}

/* Failure signatures with a fixed hint: any of `text` as a substring, or
 * `word` as a whole word. The ones whose hint names what was found (a module,
 * a path) are matched in code below. */
struct signature {
	const char *category;
	const char *hint;
	const char *text[6];
	const char *word;
};

static const struct signature signatures[] = {
    {"gpu-out-of-memory",
     "the GPU ran out of memory: fewer workers, a smaller model or batch, or a larger GPU",
     {"CUDA out of memory", "OutOfMemoryError", "CUDA error: out of memory"},
     NULL},
    {"port-in-use",
     "the port is taken: another service (or a leftover process) listens on it; give each "
     "service its own port",
     /* node; Python's OSError; uvicorn (lower case); gunicorn; gradio; errno 98 */
     {"EADDRINUSE", "Address already in use", "address already in use", "Connection in use",
      "Cannot find empty port in range", "[Errno 98]"},
     NULL},
    {"hub-auth",
     "the Hugging Face Hub refused access: set HF_TOKEN (a Space secret) to a token that has "
     "accepted the model's terms / has access to the gated repo",
     {"401 Client Error", "403 Client Error", "GatedRepoError", "Invalid user token",
      "Invalid credentials in Authorization header",
      "is restricted and you are not in the authorized list"},
     NULL},
    {"disk-full",
     "the disk is full: point HF_HOME / caches at a larger volume, or clean up",
     {"No space left on device"},
     "ENOSPC"},
};

/* The texts diagnose_line matches in its code (their hints name what was
 * found). */
enum { C_MODULE_NOT_FOUND, C_NO_MODULE, C_IMPORT, C_NODE_MODULE, C_PERMISSION, C_EACCES };
static const char *const coded[] = {"ModuleNotFoundError", "No module named",	"ImportError",
				    "Cannot find module",  "Permission denied", "EACCES"};

/* Every text the classifier and the diagnosis look for (each is at least
 * four bytes long), found in a read by its first two bytes (a set of 2^16
 * bits: a line of plain words passes at one test per byte), then its first
 * four (a set of 2^16 bits by a hash), then the whole text. */
#define QUAD_BITS 16

static struct {
	bool done;
	size_t n, offered;
	const char *text[CLASSIFY_TEXTS_MAX];
	size_t len[CLASSIFY_TEXTS_MAX];
	uint32_t quad[CLASSIFY_TEXTS_MAX];
	uint64_t pairs[(1u << 16) / 64], quads[(1u << QUAD_BITS) / 64];
} texts;

static uint32_t quad_at(const char *p)
{
	uint32_t q;

	memcpy(&q, p, 4);
	return q;
}

static unsigned pair_at(const char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static unsigned quad_hash(uint32_t q)
{
	return (unsigned)((q * 2654435761u) >> (32 - QUAD_BITS));
}

static bool bit(const uint64_t *set, unsigned i)
{
	return (set[i / 64] >> (i % 64)) & 1;
}

static void add_text(const char *text)
{
	uint32_t q = quad_at(text);
	unsigned h = quad_hash(q), p = pair_at(text);

	if (texts.n < CLASSIFY_TEXTS_MAX) { /* a unit test checks that all are in */
		texts.text[texts.n] = text;
		texts.len[texts.n] = strlen(text);
		texts.quad[texts.n++] = q;
	}
	texts.offered++;
	texts.pairs[p / 64] |= (uint64_t)1 << (p % 64);
	texts.quads[h / 64] |= (uint64_t)1 << (h % 64);
}

static void texts_init(void)
{
	if (texts.done)
		return;
	texts.done = true;
	add_text(traceback);
	for (size_t i = 0; i < NWORDS(error_words); i++)
		add_text(error_words[i].text);
	for (size_t i = 0; i < NWORDS(warning_words); i++)
		add_text(warning_words[i].text);
	for (size_t i = 0; i < NWORDS(coded); i++)
		add_text(coded[i]);
	for (size_t i = 0; i < NWORDS(signatures); i++) {
		for (size_t k = 0; k < NWORDS(signatures[i].text) && signatures[i].text[k]; k++)
			add_text(signatures[i].text[k]);
		if (signatures[i].word)
			add_text(signatures[i].word);
	}
}

/* A text begins at s + i: the whole of it, or as much as there is before n. */
static bool text_at(const char *s, size_t i, size_t n, uint32_t q)
{
	for (size_t k = 0; k < texts.n; k++)
		if (texts.quad[k] == q &&
		    memcmp(s + i, texts.text[k], n - i < texts.len[k] ? n - i : texts.len[k]) == 0)
			return true;
	return false;
}

size_t classify_next(const char *s, size_t from, size_t n)
{
	texts_init();
	for (size_t i = from; i + 4 <= n; i++) {
		if (!bit(texts.pairs, pair_at(s + i)))
			continue;
		uint32_t q = quad_at(s + i);
		if (bit(texts.quads, quad_hash(q)) && text_at(s, i, n, q))
			return i;
	}
	return n;
}

size_t classify_texts(void)
{
	texts_init();
	return texts.offered;
}

bool diagnose_line(const char *line, size_t len, struct err *d)
{
	char tok[96];

	if (classify_next(line, 0, len) == len)
		return false; /* none of the texts */
	if (find(line, len, coded[C_MODULE_NOT_FOUND]) || find(line, len, coded[C_NO_MODULE])) {
		quoted_after(line, len, coded[C_NO_MODULE], tok, sizeof(tok));
		d->category = "missing-dependency";
		if (tok[0])
			snprintf(d->hint, sizeof(d->hint),
				 "Python module '%.60s' is missing: install it in the image (pip "
				 "install "
				 "%.60s), or check that hfinit picked the right interpreter "
				 "(hfinit check)",
				 tok, tok);
		else
			snprintf(
			    d->hint, sizeof(d->hint),
			    "a Python module is missing: install it in the image, or check that "
			    "hfinit picked the right interpreter (hfinit check)");
		return true;
	}
	if (find(line, len, coded[C_IMPORT])) {
		d->category = "missing-dependency";
		snprintf(d->hint, sizeof(d->hint),
			 "an import failed: a package is missing or built for another Python/CUDA; "
			 "run hfinit check with requires = MODULES");
		return true;
	}
	for (size_t i = 0; i < sizeof(signatures) / sizeof(signatures[0]); i++) {
		const struct signature *sg = &signatures[i];
		bool hit = sg->word && has_word(line, len, sg->word);
		for (size_t k = 0;
		     !hit && k < sizeof(sg->text) / sizeof(sg->text[0]) && sg->text[k]; k++)
			hit = find(line, len, sg->text[k]) != NULL;
		if (hit) {
			d->category = sg->category;
			snprintf(d->hint, sizeof(d->hint), "%s", sg->hint);
			return true;
		}
	}
	if (find(line, len, coded[C_NODE_MODULE])) {
		quoted_after(line, len, coded[C_NODE_MODULE], tok, sizeof(tok));
		d->category = "node-module-missing";
		snprintf(d->hint, sizeof(d->hint),
			 "Node cannot find '%s': run the build (npm run build) and npm ci in the "
			 "image, and check the service's workdir",
			 tok[0] ? tok : "a module");
		return true;
	}
	if (find(line, len, coded[C_PERMISSION]) || has_word(line, len, coded[C_EACCES])) {
		const char *p = find(line, len, "'/");
		size_t n = 0;
		d->category = "permission-denied";
		if (p) {
			p++;
			while (p + n < line + len && p[n] != '\'' && n + 1 < sizeof(tok)) {
				tok[n] = p[n];
				n++;
			}
		}
		tok[n] = '\0';
		snprintf(
		    d->hint, sizeof(d->hint),
		    "permission denied%s%s: the service's user (often uid 1000 on Spaces) cannot "
		    "write there; chown it in the Dockerfile or write under $HOME or /tmp",
		    n ? " on " : "", tok);
		return true;
	}
	return false;
}

/* Exit codes with a meaning of their own (the shell's). */
static const struct {
	int code;
	const char *category, *hint;
} exit_codes[] = {
    {126, "not-executable",
     "exit 126: the command is not executable (chmod +x, or a script without a valid #! line)"},
    {127, "not-found",
     "exit 127: the command or its interpreter was not found (check PATH and the #! line)"},
};

bool describe_exit(int wstatus, bool oom_killed, const char *sandbox, char *text, size_t textlen,
		   struct err *d)
{
	if (WIFEXITED(wstatus)) {
		int code = WEXITSTATUS(wstatus);
		snprintf(text, textlen, "exited %d", code);
		for (size_t i = 0; i < sizeof(exit_codes) / sizeof(exit_codes[0]); i++)
			if (exit_codes[i].code == code) {
				d->category = exit_codes[i].category;
				snprintf(d->hint, sizeof(d->hint), "%s", exit_codes[i].hint);
				return true;
			}
		if (code > 128 && code <= 128 + 64) {
			const char *n = signame(code - 128);
			d->category = "signal";
			snprintf(d->hint, sizeof(d->hint),
				 "exit %d: probably a child process killed by signal %d%s%s", code,
				 code - 128, n ? " SIG" : "", n ? n : "");
			return true;
		}
		return false;
	}
	if (WIFSIGNALED(wstatus)) {
		int sig = WTERMSIG(wstatus);
		const char *n = signame(sig);
		if (n)
			snprintf(text, textlen, "killed by SIG%s", n);
		else
			snprintf(text, textlen, "killed by signal %d", sig);
		if (sig == SIGSYS) {
			d->category = "seccomp";
			snprintf(d->hint, sizeof(d->hint),
				 "killed by SIGSYS: a system call denied by the seccomp profile "
				 "'%s'; see "
				 "docs/sandbox.md, or allow it in a custom [seccomp:NAME] profile",
				 sandbox ? sandbox : "(none)");
			return true;
		}
		if (sig == SIGKILL && oom_killed) {
			d->category = "out-of-memory";
			snprintf(d->hint, sizeof(d->hint),
				 "killed by the kernel's OOM killer: the container ran out of "
				 "memory; use "
				 "fewer workers or a smaller model, or give it more memory");
			return true;
		}
		return false;
	}
	snprintf(text, textlen, "status 0x%x", (unsigned)wstatus);
	return false;
}
