#!/usr/bin/env python3
"""The man pages in man/ must say what the programs do, so that they cannot drift apart:

- every option `minivpnd --help` prints is documented in minivpnd.8, with its default and its
  choices, and every option minivpnd.8 documents (its OPTIONS tags) exists;
- the same for minivpnctl.8 and `minivpnctl --help`; every subcommand has a COMMANDS entry whose
  tag names the subcommand's own options (`minivpnctl <sub> --help`), and every COMMANDS entry is
  a subcommand with exactly those options;
- every key of docs/config.md's tables and of its "Accepted and ignored" / "Not supported" lists
  appears in minivpn.conf.5;
- each page carries the programs' version in its .TH line and renders without a warning
  (`man --warnings`, as lintian runs it).

Usage: check_man_pages.py <minivpnd> <minivpnctl>
"""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MAN = os.path.join(ROOT, "man")
CONFIG_MD = os.path.join(ROOT, "docs", "config.md")
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")

failures = []


def fail(message):
    failures.append(message)
    print(f"FAIL {message}")


def run(argv):
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"FAIL {' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def parse_help(text):
    """CLI11's --help: ({option: (default or None, choices)}, [subcommands], [positionals])."""
    options, subcommands, positionals = {}, [], []
    section = None
    for line in text.splitlines():
        if re.match(r"^\S.*:$", line):
            section = line[:-1]
            continue
        m = re.match(r"^  (\S+)(?: (\S+))?", line)
        if not m or line.startswith("   "):
            continue  # a description's continuation line
        spec, kind = m.group(1), m.group(2) or ""
        if section == "Options":
            default = None
            choices = []
            if "=" in kind:
                default = kind.split("=", 1)[1]
            if c := re.search(r"\{([^}]*)\}", kind):
                choices = c.group(1).split(",")
            for name in spec.split(","):
                options[name] = (default, choices)
        elif section == "Subcommands":
            subcommands.append(spec)
        elif section == "Positionals":
            positionals.append(spec)
    return options, subcommands, positionals


def read_page(name):
    """The page's source with comments dropped and roff escapes turned into plain text, and its
    sections: {title: [lines]}."""
    with open(os.path.join(MAN, name), encoding="utf-8") as f:
        lines = [l for l in f.read().splitlines() if not l.startswith('.\\"')]
    plain = []
    for line in lines:
        line = re.sub(r"\\f(\(..|\[[^]]*\]|.)", "", line)
        line = line.replace("\\-", "-").replace("\\&", "").replace("\\(en", "-")
        line = line.replace("\\e", "\\").replace("\\(dq", '"')
        plain.append(line)
    sections, title = {}, None
    for line in plain:
        if line.startswith(".SH "):
            title = line[4:].strip().strip('"')
            sections[title] = []
        elif title:
            sections[title].append(line)
    return "\n".join(plain), sections


def tags(section_lines):
    """The tag line (the line after .TP) of every entry of a section."""
    return [section_lines[i + 1] for i, l in enumerate(section_lines[:-1]) if l.strip() == ".TP"]


def mentions(text, word):
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text) is not None


def tag_words(tag):
    """A tag line's words without the macro and roff quoting."""
    return re.sub(r'^\.\w+\s*', "", tag).replace('"', " ").split()


def check_version(page, text, version):
    th = next((l for l in text.splitlines() if l.startswith(".TH ")), "")
    if f'"minivpn {version}"' not in th:
        fail(f'{page}: .TH names no "minivpn {version}" (the programs\' --version): {th}')


def check_program(binary, page, option_sections):
    before = len(failures)
    help_text = run([binary, "--help"])
    options, subcommands, _ = parse_help(help_text)
    version = run([binary, "--version"]).split()[-1]
    text, sections = read_page(page)
    check_version(page, text, version)
    documented = set()
    for title in option_sections:
        for tag in tags(sections.get(title, [])):
            documented.update(OPTION.findall(tag))
    for name, (default, choices) in options.items():
        if name not in documented:
            fail(f"{page}: option {name} (in {os.path.basename(binary)} --help) has no entry "
                 f"under {' or '.join(option_sections)}")
        if default is not None and not mentions(text, default):
            fail(f"{page}: the default of {name}, {default}, is not mentioned")
        for choice in choices:
            if not mentions(text, choice):
                fail(f"{page}: {name}'s choice {choice} is not mentioned")
    sub_options = {}
    for sub in subcommands:
        sub_help, _, positionals = parse_help(run([binary, sub, "--help"]))
        own = {o for o in sub_help if o not in ("-h", "--help")}
        sub_options[sub] = own
        entry = [t for t in tags(sections.get("COMMANDS", [])) if tag_words(t)[:1] == [sub]]
        if not entry:
            fail(f"{page}: subcommand {sub} has no entry under COMMANDS")
            continue
        named = set(OPTION.findall(entry[0]))
        for o in own - named:
            fail(f"{page}: the COMMANDS entry of {sub} does not name its option {o}")
        for o in named - own:
            fail(f"{page}: the COMMANDS entry of {sub} names {o}, which `{sub} --help` lacks")
        for p in positionals:
            if not mentions(entry[0], p):
                fail(f"{page}: the COMMANDS entry of {sub} does not name its argument {p}")
    for tag in tags(sections.get("COMMANDS", [])):
        words = tag_words(tag)
        if words and words[0] not in subcommands:
            fail(f"{page}: COMMANDS documents {words[0]}, which is no subcommand of "
                 f"{os.path.basename(binary)}")
    all_options = set(options) | set().union(*sub_options.values()) if sub_options else set(options)
    for o in sorted(documented - all_options):
        fail(f"{page}: documents option {o}, which {os.path.basename(binary)} --help lacks")
    if len(failures) == before:
        print(f"ok   {page}: {len(options)} options, {len(subcommands)} subcommands, "
              f"version {version}")
    return version


def config_keys():
    """Keys named in docs/config.md: the first column of the key/parameter tables and every
    key of the paragraphs that list keys "Accepted and ignored" or "Not supported"."""
    keys = []
    with open(CONFIG_MD, encoding="utf-8") as f:
        text = re.sub(r"```.*?```", "", f.read(), flags=re.S)  # code blocks are examples
    for block in re.split(r"\n\s*\n", text):
        lines = block.strip().splitlines()
        if lines and lines[0].startswith("|"):
            header = [c.strip() for c in lines[0].strip().strip("|").split("|")]
            if header[0] not in ("key", "parameter"):
                continue
            for row in lines[2:]:
                first = row.strip().strip("|").split("|")[0]
                keys += re.findall(r"`([^`]+)`", first)
        elif re.search(r"(Accepted and ignored|accepted and ignored:|Not supported|ignored with a warning)", block):
            keys += re.findall(r"`([^`]+)`", block)
    # Only key names (not `[identities] : PSK <secret>` syntax); `*_packets` stands for
    # rekey_packets, life_packets, rand_packets, which the page names one by one.
    return [k for k in dict.fromkeys(keys) if re.fullmatch(r"[\w.-]+\*?", k)]


def check_config_page(version):
    page = "minivpn.conf.5"
    before = len(failures)
    text, _ = read_page(page)
    check_version(page, text, version)
    keys = config_keys()
    for key in keys:
        if not mentions(text, key):
            fail(f"{page}: docs/config.md's key {key} is not mentioned")
    if len(failures) == before:
        print(f"ok   {page}: {len(keys)} keys of docs/config.md")


def check_rendering():
    if not shutil.which("man"):
        fail("man (man-db) is not installed: run scripts/setup.sh")
        return
    env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
    for page in sorted(os.listdir(MAN)):
        done = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z",
                               os.path.join(MAN, page)],
                              capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0 or done.stderr.strip():
            fail(f"{page}: man --warnings: exit {done.returncode}: {done.stderr.strip()}")
        else:
            print(f"ok   {page}: renders without warnings")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    minivpnd, minivpnctl = sys.argv[1], sys.argv[2]
    version = check_program(minivpnd, "minivpnd.8", ["OPTIONS"])
    check_program(minivpnctl, "minivpnctl.8", ["OPTIONS", "COMMANDS"])
    check_config_page(version)
    check_rendering()
    if failures:
        print(f"{len(failures)} problem(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
