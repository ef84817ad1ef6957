"""The man pages (man/hfinit.8, man/hfinit.ini.5): they lint clean with mandoc, every
key of the config key tables (src/conf/) has an entry in its section of hfinit.ini(5),
no entry names a key that does not exist, every mode of main.c's table is in
hfinit(8)'s synopsis, and `make install` puts the binary and both pages under
DESTDIR/PREFIX. Nothing here skips: without mandoc the lint test FAILS
(scripts/setup-debian installs it)."""

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAN8 = REPO / "man" / "hfinit.8"
MAN5 = REPO / "man" / "hfinit.ini.5"

# key table (static const struct keydef NAME_keys[]) -> the subsection of hfinit.ini(5)
SECTIONS = {"hfinit": "The [hfinit] section", "service": "The [service:NAME] section",
            "seccomp": "The [seccomp:NAME] section"}
# Style messages that depend on which other manuals this machine has installed.
MACHINE_DEPENDENT = ("referenced manual not found", "outdated mandoc.db")


def key_tables():
    """{table: [key, ...]} from every `struct keydef X_keys[] = {...};` in src/conf/."""
    tables = {}
    for path in sorted((REPO / "src" / "conf").glob("*.c")):
        text = path.read_text()
        for m in re.finditer(r"struct\s+keydef\s+(\w+)_keys\s*\[\s*\]\s*=\s*\{(.*?)\n\};",
                             text, re.S):
            keys = re.findall(r'^\s*\{\s*"([a-z_]+)"\s*,', m.group(2), re.M)
            tables.setdefault(m.group(1), []).extend(keys)
    return tables


def subsection_entries(page, title):
    """Every key named by `.It Cm KEY` lines in a subsection: `.It Cm a , Cm b` names
    two; what follows `No =` is the value's syntax, not a key."""
    text = page.read_text()
    start = text.index(".Ss " + title + "\n")
    end = min(i for i in (text.find("\n.Ss ", start + 1), text.find("\n.Sh ", start + 1))
              if i > 0)
    body = text[start:end].replace("\\\n", " ")
    entries = set()
    for line in body.splitlines():
        if line.startswith(".It "):
            head = re.split(r"\sNo\s", line, maxsplit=1)[0]
            entries.update(re.findall(r"\bCm\s+([a-z_]+)", head))
    return entries


def test_man_pages_lint_clean():
    mandoc = shutil.which("mandoc")
    assert mandoc, "mandoc is missing: scripts/setup-debian installs it"
    for page in (MAN8, MAN5):
        r = subprocess.run([mandoc, "-T", "lint", "-W", "style", str(page)],
                           capture_output=True, text=True, timeout=60)
        msgs = [ln for ln in (r.stdout + r.stderr).splitlines()
                if ln and not any(s in ln for s in MACHINE_DEPENDENT)]
        assert not msgs, "\n".join(msgs)
        assert r.returncode in (0, 1), (r.returncode, r.stderr)  # 1: style messages only
        r = subprocess.run([mandoc, "-T", "utf8", str(page)], capture_output=True,
                           timeout=60)
        assert r.returncode == 0 and len(r.stdout) > 2000, r.stderr


def test_every_config_key_is_in_hfinit_ini_5():
    tables = key_tables()
    assert set(tables) == set(SECTIONS), f"key tables found in src/conf: {sorted(tables)}"
    assert sum(map(len, tables.values())) >= 50, tables  # the table reader still works
    for table, keys in tables.items():
        entries = subsection_entries(MAN5, SECTIONS[table])
        missing = [k for k in keys if k not in entries]
        assert not missing, f"{MAN5.name}, {SECTIONS[table]}: no entry for {missing}"
        unknown = sorted(entries - set(keys))
        assert not unknown, f"{MAN5.name}, {SECTIONS[table]}: no such key {unknown}"


def test_every_mode_is_in_hfinit_8():
    main = (REPO / "src" / "main.c").read_text()
    table = re.search(r"\bmodes\s*\[\s*\]\s*=\s*\{(.*?)\n\};", main, re.S)
    assert table, "src/main.c: the modes[] table was not found"
    # word modes: {"check", BY_WORD, ...} (or the older {"check", cmd_check}); single
    # and supervise are chosen by rules, not by a word, and have synopsis lines of their own
    modes = {name for name, how in re.findall(r'\{\s*"([a-z]+)"\s*,\s*(\w+)', table.group(1))
             if how == "BY_WORD" or how.startswith("cmd_")}
    assert {"check", "status", "health", "notify", "version"} <= modes, modes
    synopsis = MAN8.read_text().split(".Sh SYNOPSIS\n", 1)[1].split("\n.Sh ", 1)[0]
    listed = set(re.findall(r"^\.Cm\s+([a-z]+)$", synopsis, re.M))
    assert modes <= listed, f"modes not in hfinit.8's SYNOPSIS: {modes - listed}"
    assert "\n.Fl \\-\n.Ar command\n" in synopsis  # single-child mode


def test_make_install_into_destdir(tmp_path):
    binary = Path(os.environ.get("HFINIT_BIN", REPO / "build" / "hfinit")).resolve()
    assert binary.is_file(), binary
    dest = tmp_path / "root"
    # -o: the binary under test is taken as it is, never rebuilt (nor its deps).
    r = subprocess.run(["make", "-s", "-C", str(REPO), f"BUILD={binary.parent}", "-o",
                        str(binary), "install", f"DESTDIR={dest}", "PREFIX=/opt/hf"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    want = {"opt/hf/bin/hfinit": (binary, 0o755),
            "opt/hf/share/man/man8/hfinit.8": (MAN8, 0o644),
            "opt/hf/share/man/man5/hfinit.ini.5": (MAN5, 0o644)}
    got = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert got == sorted(want), got
    for rel, (src, mode) in want.items():
        st = (dest / rel).stat()
        assert stat.S_IMODE(st.st_mode) == mode, (rel, oct(st.st_mode))
        assert (dest / rel).read_bytes() == src.read_bytes(), rel
    r = subprocess.run([str(dest / "opt/hf/bin/hfinit"), "version"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.startswith("hfinit "), r.stdout + r.stderr
    # PREFIX defaults to /usr/local
    dest2 = tmp_path / "root2"
    r = subprocess.run(["make", "-s", "-C", str(REPO), f"BUILD={binary.parent}", "-o",
                        str(binary), "install", f"DESTDIR={dest2}"],
                       capture_output=True, text=True, timeout=120,
                       env={k: v for k, v in os.environ.items() if k != "PREFIX"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert (dest2 / "usr/local/bin/hfinit").is_file()
    assert (dest2 / "usr/local/share/man/man5/hfinit.ini.5").is_file()
