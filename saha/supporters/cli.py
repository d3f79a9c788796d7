"""`saha people import FILE --org SLUG` and `saha people export --org SLUG`.

Whoever runs these holds the server; the import still records its attestation
and the export is still audited, with "cli" as the actor.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path
from typing import Any

CLI_ACTOR = "cli"


def add_commands(sub: Any, setup: Any) -> None:
    people = sub.add_parser("people", help="import or export an organization's people")
    verbs = people.add_subparsers(dest="verb", required=True)

    imp = verbs.add_parser("import", help="import a CSV file of people")
    imp.add_argument("file", type=Path)
    imp.add_argument("--org", required=True, help="the organization's slug")
    imp.add_argument("--tag", action="append", default=[], help="tag everyone imported (repeat)")
    imp.add_argument(
        "--encoding",
        default="auto",
        choices=["auto", "utf-8", "windows-1256", "windows-1252", "utf-16"],
    )
    imp.add_argument("--language", default="", help="language of the consent wording")
    imp.add_argument("--consent-email", action="store_true", help="they agreed to emails")
    imp.add_argument("--consent-sms", action="store_true", help="they agreed to text messages")
    imp.add_argument("--wording", default="", help="the words they agreed to")
    imp.add_argument(
        "--lawful-basis",
        default="consent",
        choices=["consent", "membership", "legitimate_interest"],
    )
    imp.add_argument(
        "--attest",
        action="store_true",
        help="I confirm the organization may keep and contact these people on this basis",
    )
    imp.add_argument("--report", type=Path, help="write the problems found to this CSV file")
    imp.set_defaults(func=lambda args, rest: (setup(), cmd_import(args))[1])

    exp = verbs.add_parser("export", help="write people as CSV to standard output")
    exp.add_argument("--org", required=True, help="the organization's slug")
    exp.add_argument("--segment", help="a saved segment's name (default: everybody)")
    exp.add_argument("--bom", action="store_true", help="start with a BOM, for Excel")
    exp.set_defaults(func=lambda args, rest: (setup(), cmd_export(args))[1])


def _organization(slug: str) -> Any:
    from saha.organizations.models import Organization

    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        sys.exit(f"saha: no organization with the slug {slug!r}")
    return organization


def cmd_import(args: argparse.Namespace) -> int:
    from saha.core.errors import DomainError
    from saha.supporters import importing
    from saha.supporters.import_rows import TARGET_LABELS

    organization = _organization(args.org)
    if not args.attest:
        sys.exit("saha: add --attest to confirm the organization may keep and contact these people")
    if not args.file.is_file():
        sys.exit(f"saha: no such file: {args.file}")

    def chunks() -> Any:
        with args.file.open("rb") as stored:
            while block := stored.read(1 << 20):
                yield block

    try:
        batch = importing.receive_file(
            organization=organization,
            actor=CLI_ACTOR,
            name=args.file.name,
            chunks=chunks(),
            encoding=args.encoding,
        )
        for index, target in sorted(batch.mapping.items(), key=lambda item: int(item[0])):
            label = TARGET_LABELS.get(target, target)
            print(f"  column {batch.header[int(index)]!r} -> {label}", file=sys.stderr)
        importing.start_import(
            batch=batch,
            actor=CLI_ACTOR,
            mapping=batch.mapping,
            tags=args.tag,
            language=args.language,
            consent_email=args.consent_email,
            consent_sms=args.consent_sms,
            consent_wording=args.wording,
            lawful_basis=args.lawful_basis,
            attested=True,
            enqueue=False,
        )
    except DomainError as error:
        sys.exit(f"saha: {error.message} ({error.code})")

    def progress(rows: int) -> None:
        print(f"\r  {rows:,} rows", end="", file=sys.stderr, flush=True)

    done = importing.run_import(batch.pk, progress=progress)
    assert done is not None
    _report(done, args.report)
    return 0 if done.status == "done" else 1


def _report(done: Any, report: Path | None) -> None:
    from saha.supporters import importing

    print(
        f"\n{done.get_status_display()}: {done.rows_read:,} rows, {done.created_count:,} added, "
        f"{done.updated_count:,} updated, {done.unchanged_count:,} unchanged, "
        f"{done.problem_count:,} problems",
        file=sys.stderr,
    )
    if done.status == "failed":
        print(f"saha: {importing.failure_text(done)} ({done.failure})", file=sys.stderr)
    if report and done.problem_count:
        # Audited like a download from the page; formulas neutralized the same way.
        with report.open("w", encoding="utf-8-sig", newline="") as out:
            csv.writer(out).writerows(importing.download_report(actor=CLI_ACTOR, batch=done))
        print(f"  problems written to {report}", file=sys.stderr)


def cmd_export(args: argparse.Namespace) -> int:
    from saha.supporters import exporting
    from saha.supporters.models import Segment

    organization = _organization(args.org)
    segment = None
    if args.segment:
        segment = Segment.objects.for_org(organization).filter(name=args.segment).first()
        if segment is None:
            sys.exit(f"saha: no segment named {args.segment!r} in {args.org}")
    out = sys.stdout
    if args.bom:
        out.write("\ufeff")
    writer = csv.writer(out)
    rows = exporting.export_for_command_line(
        organization=organization, segment=segment, label=CLI_ACTOR
    )
    try:
        for row in rows:
            writer.writerow(row)
        out.flush()
    except BrokenPipeError:
        # `saha people export ... | head`: the reader left; say nothing more.
        rows.close()
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
