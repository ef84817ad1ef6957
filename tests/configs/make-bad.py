#!/usr/bin/env python3
"""Writes tests/configs/bad/*.ini (run: python3 tests/configs/make-bad.py): each starts with '; expect: LINE: ...' lines
(every diagnostic the parser must produce, in order, without the file name).
Line numbers are given relative to the body; "@N" in a message is body line N.
Regex messages are glibc's regerror() text (the unit tests run on glibc)."""
import os, re, sys
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad")
W = "[service:web]\ncommand = node server.js\n"   # a valid service, 2 lines
C = []
def case(name, body, *exp):
    C.append((name, body, exp))

# --- syntax -------------------------------------------------------------------------
case("no-equals", W + "just some words\n",
     (3, '"just some words" is not a setting; expected KEY = VALUE'))
case("colon-separator", W + "ready: tcp:7860\n",
     (3, '"ready: tcp:7860" uses \':\' as separator; expected KEY = VALUE'))
case("unterminated-section", "[service:web\ncommand = node x.js\n" + W,
     (1, 'unterminated section header "[service:web"; expected [NAME]'))
case("text-after-section", "[service:web] stage = 1\ncommand = node x.js\n",
     (1, "text after the section header; expected only [NAME] on the line"))
case("no-key-name", W + "= 5\n",
     (3, "no key before '='; expected KEY = VALUE"))
case("key-outside-section", "stage = 1\n" + W,
     (1, "stage: set outside any section; expected it under [hfinit], [service:NAME] or [seccomp:NAME]"))
case("line-too-long", W + "env = A=" + "x" * 16100 + "\n",
     (3, "line is too long (16108 bytes); expected at most 16000"))
case("nul-byte", W + "stage = 1\0\n",
     (3, "the line contains a NUL byte; expected text"))
# --- sections -----------------------------------------------------------------------
case("unknown-section-typo", "[services:api]\ncommand = x\n" + W,
     (1, "[services:api]: unknown section (did you mean [service:api]?); expected [hfinit], [service:NAME] or [seccomp:NAME]"))
case("unknown-section-hfinit-typo", "[hfint]\nstop_timeout = 5s\n" + W,
     (1, "[hfint]: unknown section (did you mean [hfinit]?); expected [hfinit], [service:NAME] or [seccomp:NAME]"))
case("unknown-section", "[global]\n" + W,
     (1, "[global]: unknown section; expected [hfinit], [service:NAME] or [seccomp:NAME]"))
case("service-without-name", "[service]\ncommand = x\n" + W,
     (1, "[service]: no name; expected [service:NAME]"))
case("service-bad-name", "[service:my web]\ncommand = x\n" + W,
     (1, '[service:my web]: bad name "my web"; expected 1 to 64 letters, digits, \'_\', \'.\' or \'-\', not starting with \'.\' or \'-\''))
case("duplicate-service", W + "[service:web]\ncommand = node other.js\n",
     (3, '[service:web]: service "web" is defined twice (first at line @1); expected unique names'))
case("duplicate-hfinit", "[hfinit]\n[hfinit]\n" + W,
     (2, "[hfinit]: section appears twice (first at line @1); expected one [hfinit] section"))
case("no-services", "[hfinit]\nstop_timeout = 5s\n",
     (0, "no services; expected at least one [service:NAME] section with a command or script"))
case("seccomp-named-worker", "[seccomp:worker]\ndeny = ptrace\n" + W,
     (1, '[seccomp:worker]: "worker" is the built-in profile; expected another name (use extends = worker to build on it)'))
# --- keys -----------------------------------------------------------------------------
case("unknown-key-typo", W + "ready_timout = 30s\n",
     (3, "[service:web] ready_timout: unknown key (did you mean ready_timeout?); expected a key of [service:NAME]"))
case("unknown-key-transposed", W + "retires = 3\n",
     (3, "[service:web] retires: unknown key (did you mean retries?); expected a key of [service:NAME]"))
case("unknown-key", W + "memory = 1G\n",
     (3, "[service:web] memory: unknown key; expected a key of [service:NAME] (see docs/config.md)"))
case("key-in-wrong-section", "[hfinit]\ncommand = node x.js\n" + W,
     (2, "[hfinit] command: this key belongs in a [service:NAME] section; expected a key of [hfinit]"))
case("hfinit-key-typo", "[hfinit]\nlog_fromat = json\n" + W,
     (2, "[hfinit] log_fromat: unknown key (did you mean log_format?); expected a key of [hfinit]"))
case("duplicate-key", W + "stage = 1\nstage = 2\n",
     (4, "[service:web] stage: set twice (first at line @3); expected each key once per section"))
case("empty-value", W + "ready_timeout =\n",
     (3, "[service:web] ready_timeout: no value; expected a duration such as 500ms, 30s, 2m or 1h"))
# --- services -------------------------------------------------------------------------
case("no-command", "[service:web]\nstage = 1\n",
     (1, "[service:web]: no command or script; expected command = PROGRAM ARGS... or script = PATH.py (run with the resolved Python)"))
case("command-and-script", W + "script = app.py\n",
     (3, "[service:web] script: both command (line @2) and script (line @3) are set; expected exactly one"))
case("script-with-args", "[service:tts]\nscript = worker_pool.py --workers 2\n",
     (2, '[service:tts] script: "worker_pool.py --workers 2" has arguments; expected only the script path here and the arguments in args = --workers 2'))
case("long-section-header", W + "[service:" + "x" * 16100 + "]\nstage = 1\nstage = 2\n",
     (3, "line is too long (16110 bytes); expected at most 16000"))
case("args-with-command", W + "args = --port 1\n",
     (3, "[service:web] args: args only goes with script; expected the arguments in command = ..."))
case("stage-zero", W + "stage = 0\n",
     (3, "[service:web] stage: 0 is out of range; expected 1..1000000"))
case("stage-not-number", W + "stage = first\n",
     (3, '[service:web] stage: "first" is not a whole number; expected 1..1000000'))
case("retries-zero", W + "retries = 0\n",
     (3, "[service:web] retries: 0 is out of range; expected 1..1000"))
case("duration-no-unit", W + "ready_timeout = 30\n",
     (3, '[service:web] ready_timeout: "30" lacks a unit; expected e.g. 30s or 500ms (units: ms, s, m, h)'))
case("duration-bad-unit", W + "retry_delay = 15sec\n",
     (3, '[service:web] retry_delay: "15sec": unknown unit; expected ms, s, m or h (e.g. 500ms, 30s, 2m, 1h)'))
case("duration-garbage", W + "retry_delay = soon\n",
     (3, '[service:web] retry_delay: "soon" is not a duration; expected a number with a unit: 500ms, 30s, 2m, 1h (or a sum such as 1m30s)'))
case("duration-range", W + "ready_timeout = 5ms\n",
     (3, "[service:web] ready_timeout: 5ms is out of range; expected 10ms to 1000h"))
case("bool-bad", W + "required = maybe\n",
     (3, '[service:web] required: "maybe" is not a boolean; expected yes or no (true/false, on/off, 1/0)'))
case("restart-typo", W + "restart = on-falure\n",
     (3, '[service:web] restart: "on-falure" is not a restart policy (did you mean on-failure?); expected no, on-failure or always'))
case("unterminated-quote", "[service:web]\ncommand = node -e \"console.log(1)\n",
     (2, '[service:web] command: unterminated double quote in "node -e "console.log(1)"; expected a closing "'))
case("shell-operator", "[service:web]\ncommand = node server.js && echo done\n",
     (2, "[service:web] command: \"&&\" is shell syntax, but no shell runs the command; expected a plain command and arguments (quote it to pass it literally, or use sh -c '...')"))
case("ready-typo", W + "ready = tpc:7860\n",
     (3, '[service:web] ready: "tpc:7860" is not a probe (did you mean tcp:7860?); expected started, line:TEXT, regex:RE, notify, fd:N, tcp:[HOST:]PORT, http://HOST:PORT/PATH, file:PATH or exec:CMD'))
case("ready-bare-port", W + "ready = 7860\n",
     (3, '[service:web] ready: "7860" is not a probe (did you mean tcp:7860?); expected started, line:TEXT, regex:RE, notify, fd:N, tcp:[HOST:]PORT, http://HOST:PORT/PATH, file:PATH or exec:CMD'))
case("ready-bad-port", W + "ready = tcp:70000\n",
     (3, '[service:web] ready: "tcp:70000": bad port "70000"; expected a number 1..65535'))
case("ready-bad-regex", W + "ready = regex:ready(\n",
     (3, '[service:web] ready: bad regular expression "ready(": Unmatched ( or \\(; expected a POSIX extended regex'))
case("ready-fd-stdio", W + "ready = fd:1\n",
     (3, '[service:web] ready: "fd:1": fd 1 is out of range; expected 3..1023 (0-2 are stdin, stdout and stderr)'))
case("ready-https", W + "ready = https://127.0.0.1:7860/\n",
     (3, '[service:web] ready: "https://127.0.0.1:7860/": https is not supported; expected http://127.0.0.1:PORT/PATH (probe the service\'s plain port inside the container)'))
case("ready-empty-line", W + "ready = line:\n",
     (3, "[service:web] ready: line: needs the text to wait for; expected e.g. line:ready"))
case("health-one-shot", W + "health = notify\n",
     (3, '[service:web] health: "notify" cannot be a health check (it only fires once, at start-up); expected tcp:[HOST:]PORT, http://HOST:PORT/PATH, file:PATH or exec:CMD'))
case("health-interval-alone", W + "health_interval = 5s\n",
     (3, "[service:web] health_interval: has no effect without a health probe; expected health = ... in this section, or remove the key"))
case("restart-delays", W + "restart_delay = 10s\nrestart_max_delay = 5s\n",
     (4, "[service:web] restart_max_delay: restart_max_delay (5s) is below restart_delay (10s); expected the cap to be at least the first delay"))
case("signal-bad", W + "stop_signal = TERMINATE\n",
     (3, '[service:web] stop_signal: "TERMINATE" is not a signal; expected a name such as TERM, INT, QUIT, HUP, USR1 (with or without SIG) or a number'))
case("oom-range", W + "oom_score_adj = -2000\n",
     (3, "[service:web] oom_score_adj: -2000 is out of range; expected -1000..1000"))
case("umask-bad", W + "umask = 0999\n",
     (3, '[service:web] umask: "0999" is not a umask; expected octal digits such as 022 or 0077'))
case("env-not-pair", W + "env = NODE_ENV production\n",
     (3, "[service:web] env: word 1 has no '=' (the text is not shown); expected NAME=VALUE pairs such as HF_HOME=/data/hf LOG_LEVEL=info"))
case("env-twice", W + "env = A=1\nenv = B=2 A=3\n",
     (4, "[service:web] env: A is set twice (first at line @3); expected each variable once"))
case("rlimit-soft-above-hard", W + "rlimit_nofile = 4096:1024\n",
     (3, "[service:web] rlimit_nofile: the soft limit is above the hard limit; expected SOFT:HARD with SOFT <= HARD"))
case("rlimit-bad-size", W + "rlimit_as = 4X\n",
     (3, '[service:web] rlimit_as: "4X" is not a limit; expected a size such as 64M, a number of bytes, unlimited, or SOFT:HARD'))
case("user-bad", W + "user = bad user\n",
     (3, '[service:web] user: "bad user" is not a valid name; expected a user or group name (letters, digits, \'_\', \'.\', \'-\') or a number'))
case("requires-pip-name", W + "requires = torch scikit-learn\n",
     (3, '[service:web] requires: "scikit-learn" is not a Python module name; expected import names such as torch transformers (not pip names like scikit-learn)'))
case("seccomp-unknown-profile", W + "seccomp = wroker\n",
     (3, '[service:web] seccomp: unknown profile "wroker" (did you mean worker?); expected worker or a [seccomp:NAME] defined in this file'))
case("value-too-long", W + "workdir = /" + "d" * 5000 + "\n",
     (3, "[service:web] workdir: value is too long (5001 bytes); expected at most 4096"))
# --- [hfinit] -----------------------------------------------------------------------------
case("status-dir-relative", "[hfinit]\nstatus_dir = run/hfinit\n" + W,
     (2, '[hfinit] status_dir: "run/hfinit" is relative; expected auto or an absolute path'))
case("log-format-bad", "[hfinit]\nlog_format = xml\n" + W,
     (2, '[hfinit] log_format: "xml" is not a log format; expected text or json'))
case("probe-interval-too-small", "[hfinit]\nprobe_interval = 1ms\n" + W,
     (2, "[hfinit] probe_interval: 1ms is out of range; expected 10ms to 1h"))
# --- seccomp ------------------------------------------------------------------------------
case("seccomp-unknown-syscall", "[seccomp:box]\ndeny = mount umont2\n" + W,
     (2, '[seccomp:box] deny: unknown syscall "umont2" (did you mean umount2?); expected syscall names of this architecture'))
case("seccomp-bad-errno", "[seccomp:box]\ndefault = errno:EWHAT\n" + W,
     (2, '[seccomp:box] default: "EWHAT" is not an errno; expected a name such as EPERM, EACCES, ENOSYS or a number 1..4095'))
case("seccomp-bad-action", "[seccomp:box]\ndefault = deny\n" + W,
     (2, '[seccomp:box] default: "deny" is not an action; expected allow, errno, errno:ENAME, kill or log'))
case("seccomp-deny-action-allow", "[seccomp:box]\ndeny_action = allow\n" + W,
     (2, '[seccomp:box] deny_action: "allow" is not an action; expected errno, errno:ENAME, kill or log'))
case("seccomp-extends-unknown", "[seccomp:box]\nextends = base\n" + W,
     (2, '[seccomp:box] extends: unknown profile "base"; expected worker or a [seccomp:NAME] defined in this file'))
case("seccomp-cycle", "[seccomp:a]\nextends = b\n[seccomp:b]\nextends = a\n" + W,
     (2, '[seccomp:a] extends: "b" leads back to a (a cycle); expected a chain that ends at worker or at a profile without extends'),
     (4, '[seccomp:b] extends: "a" leads back to b (a cycle); expected a chain that ends at worker or at a profile without extends'))
case("seccomp-deny-and-allow", "[seccomp:box]\ndeny = ptrace\nallow = ptrace\n" + W,
     (3, "[seccomp:box] allow: ptrace is in both deny and allow; expected it in one list"))
case("seccomp-denies-execve", "[seccomp:box]\ndeny = execve\n" + W,
     (2, "[seccomp:box] deny: execve is denied, but hfinit starts the service with execve after loading the filter; expected execve not in deny"))
case("seccomp-kill-without-execve", "[seccomp:box]\ndefault = kill\nallow = read write\n" + W,
     (2, "[seccomp:box] default: killing by default also stops the execve that starts the service; expected allow = execve (plus what the program needs)"))
# --- many errors in one file: all reported, in line order ------------------------------------
case("many-errors",
     "[hfinit]\nstop_timeout = forever\n[service:web]\nstage = -1\ncommand = node x.js\nready = tcp:\nretries = lots\n[service:api]\nready = started\n",
     (2, '[hfinit] stop_timeout: "forever" is not a duration; expected a number with a unit: 500ms, 30s, 2m, 1h (or a sum such as 1m30s)'),
     (4, "[service:web] stage: -1 is out of range; expected 1..1000000"),
     (6, '[service:web] ready: "tcp:": bad port; expected a number 1..65535'),
     (7, '[service:web] retries: "lots" is not a whole number; expected 1..1000'),
     (8, "[service:api]: no command or script; expected command = PROGRAM ARGS... or script = PATH.py (run with the resolved Python)"))

# --- secrets: env errors never show a value (it may be a secret): the name if valid, else the position
TOKEN = "hf_" + "aB3" * 11 + "x"   # hf_ + 34, shaped like a Hub token
case("env-unterminated-single", W + "env = A=1 HF_TOKEN='" + TOKEN + "\n",
     (3, "[service:web] env: HF_TOKEN: unterminated single quote (the value is not shown); expected a closing '"))
case("env-unterminated-double", W + 'env = HF_TOKEN="' + TOKEN + '\n',
     (3, '[service:web] env: HF_TOKEN: unterminated double quote (the value is not shown); expected a closing "'))
case("env-unterminated-unnamed", W + "env = A=1 'dbpass123\n",
     (3, "[service:web] env: word 2: unterminated single quote (the value is not shown); expected a closing '"))
case("env-bad-name", W + "env = HF-TOKEN=" + TOKEN + "\n",
     (3, "[service:web] env: word 1: the name before '=' is not valid (the text is not shown); expected NAME=VALUE with a NAME of letters, digits and _, not starting with a digit"))
case("env-trailing-backslash", W + "env = DB_PASSWORD=dbpass123\\\n",
     (3, "[service:web] env: DB_PASSWORD: ends with a lone backslash (the value is not shown); expected a character after it (write \\\\ for a backslash)"))
case("env-value-with-blank", W + "env = LOG_LEVEL=info DB_PASSWORD=db pass123\n",
     (3, "[service:web] env: word 3 (after DB_PASSWORD=) has no '=' (the text is not shown); expected NAME=VALUE pairs (quote a value that contains blanks: NAME='a b')"))
# a line that is no setting at all is quoted, but not a token in it
case("no-equals-token", W + TOKEN + "\n",
     (3, '"***" is not a setting; expected KEY = VALUE'))
# ... nor anything after a word that names a secret (the rest may be its value)
case("colon-secret", W + "DB_PASSWORD: hunter22x\n",
     (3, '"DB_PASSWORD ..." uses \':\' as separator; expected KEY = VALUE'))
case("no-equals-secret", W + "export API_KEY sk-live-123456\n",
     (3, '"export API_KEY ..." is not a setting; expected KEY = VALUE'))
case("log-prefix-too-long", W + "log_prefix = \"" + "p" * 96 + "\"\n",
     (3, "[service:web] log_prefix: the prefix is 96 bytes; expected at most 95"))

os.makedirs(OUT, exist_ok=True)
for f in os.listdir(OUT):
    if f.endswith(".ini"):
        os.unlink(os.path.join(OUT, f))
for i, (name, body, exp) in enumerate(C, 1):
    off = len(exp)
    fix = lambda m: re.sub(r"@(\d+)", lambda g: str(int(g.group(1)) + off), m)
    head = "".join("; expect: %d: %s\n" % (l + off if l else 0, fix(m)) for l, m in exp)
    with open(os.path.join(OUT, "%02d-%s.ini" % (i, name)), "wb") as fh:
        fh.write((head + body).encode())
print(len(C), "cases")
