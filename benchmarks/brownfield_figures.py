"""The figures of a brownfield run, as Markdown tables for docs/performance.md.

    .venv/bin/python benchmarks/brownfield_figures.py ~/.ansible/tmp/molecule.*.default/brownfield/*.json

The Molecule scenario `default` records one report per instance
(molecule/resources/brownfield/scenario.py, written during converge into
$MOLECULE_EPHEMERAL_DIRECTORY/brownfield/<instance>.json; `molecule destroy`
removes it, so copy it first or read it before). For each instance: the app's
preparation, then every phase with its wall time, the playbook's exit code
and changed count, the requests sent through nginx every 0.5 s and how many
failed (and at which service the answers pointed), dockerd restarts, the app
containers created (replaced, rolled back, interrupted) and each service's
time without a running container.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "molecule", "resources", "brownfield"))
import analysis  # noqa: E402  pylint: disable=wrong-import-position


def outages(phase):
    spans = []
    for service, service_spans in sorted(phase["outages"].items()):
        for _start, seconds in service_spans:
            spans.append("%s %s" % (service, "down at the end" if seconds is None else "%.1f s" % seconds))
    return ", ".join(spans)


def table(report):
    prepare = report["prepare"]["seconds"]
    lines = [
        "### %s" % report["instance"],
        "",
        "Preparation: images loaded in %.1f s, `docker-compose up -d` until every service was healthy %.1f s "
        "(%.1f s in all); %s requests sent, %s failed, %s with other data than seeded."
        % (prepare["load_images"], prepare["compose_up_healthy"], prepare["total"], report["requests"]["sent"],
           report["requests"]["failed"], report["requests"]["wrong"]),
        "",
        "| phase | s | rc | changed | requests | failed (by service) | budget | dockerd restarts | app containers created | without a running container |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for phase in report["phases"]:
        by_service = ", ".join("%s %d" % item for item in sorted(phase["failed_by_service"].items()))
        created = ", ".join("%s %s" % (entry["service"], entry["outcome"].replace("_", " ")) for entry in phase["created"])
        lines.append("| %s%s | %.1f | %s | %s | %d | %d%s | %d | %d | %s | %s |" % (
            phase["name"], " (killed)" if phase.get("killed") else "", phase["seconds"], phase.get("rc", ""),
            (phase.get("recap") or {}).get("changed", ""), phase["requests"], phase["failed"],
            " (%s)" % by_service if by_service else "", analysis.budget(phase), phase["dockerd_restarts"], created,
            outages(phase)))
    lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("reports", nargs="+")
    for path in parser.parse_args().reports:
        with open(path, encoding="utf-8") as handle:
            print(table(json.load(handle)))


if __name__ == "__main__":
    main()
