"""Generate each role's README.md variable table from meta/argument_specs.yml.

argument_specs is the single source of a role's variables; the README shows
them as a table (variable, type, default, CIS ids, description) between two
markers, so the prose around it stays hand-written.

Usage: python3 scripts/gen_role_docs.py [--check]   (--check: exit 1 when a README is stale)
"""

import glob
import os
import re
import sys

import yaml

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = "<!-- BEGIN generated variables (scripts/gen_role_docs.py) -->"
END = "<!-- END generated variables -->"
CIS_PREFIX = re.compile(r"^(CIS [0-9.,\- ]+|Any):\s*")


def load_options(role_dir):
    with open(os.path.join(role_dir, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        specs = yaml.safe_load(handle)
    return specs["argument_specs"]["main"]["options"]


def split_cis(description):
    """'CIS 2.2, 2.3: text' -> ('2.2, 2.3', 'text'); no prefix -> ('', text)."""
    text = " ".join(description) if isinstance(description, list) else description
    text = " ".join(text.split())
    match = CIS_PREFIX.match(text)
    if not match:
        return "", text
    cis = match.group(1).removeprefix("CIS").strip()
    return ("" if cis == "Any" else cis), text[match.end():]


def format_default(value):
    if isinstance(value, (dict, list)):
        return "`" + yaml.safe_dump(value, default_flow_style=True, width=1000).strip() + "`"
    if isinstance(value, bool):
        return "`" + str(value).lower() + "`"
    return "`" + str(value) + "`" if value != "" else '`""`'


def variables_table(options):
    rows = ["| variable | type | default | CIS | description |", "|---|---|---|---|---|"]
    for name, spec in options.items():
        cis, text = split_cis(spec.get("description", ""))
        text = re.sub(r"C\(([^)]*)\)", r"`\1`", text).replace("|", "\\|")
        rows.append(f"| `{name}` | {spec.get('type', 'str')} | {format_default(spec.get('default'))} | {cis} | {text} |")
    return "\n".join(rows)


def render(readme_text, table):
    block = f"{BEGIN}\n{table}\n{END}"
    if BEGIN in readme_text:
        head, rest = readme_text.split(BEGIN, 1)
        return head + block + rest.split(END, 1)[1]
    return readme_text.rstrip("\n") + "\n\n## Variables\n\n" + block + "\n"


def main(argv):
    check = "--check" in argv
    stale = []
    for role_dir in sorted(glob.glob(os.path.join(TOP, "roles", "*"))):
        readme = os.path.join(role_dir, "README.md")
        current = open(readme, encoding="utf-8").read() if os.path.exists(readme) else f"# {os.path.basename(role_dir)}\n"
        wanted = render(current, variables_table(load_options(role_dir)))
        if wanted == current:
            continue
        if check:
            stale.append(os.path.relpath(readme, TOP))
        else:
            with open(readme, "w", encoding="utf-8") as handle:
                handle.write(wanted)
    if stale:
        print("stale, run scripts/gen_role_docs.py: " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
