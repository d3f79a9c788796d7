"""How fast a petition accepts signatures, against a bare INSERT as the ceiling.

    .venv/bin/python bench/petition_intake.py --signatures 5000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/petition_bench \\
        .venv/bin/python bench/petition_intake.py --signatures 20000 --processes 4

Measured in the same run, with the same number of processes:
- ceiling: one bare single-row INSERT per signature through the ORM (an audit-free
  table of the same shape), each in its own transaction;
- accept: `intake.accept` as the public form calls it (checks, one INSERT, the
  worker's wake-up flag in the cache).
Then the worker takes everything in, and the bench checks one signature per
address and a counter equal to the signatures (it fails loudly otherwise).
Without DATABASE_URL it uses a fresh SQLite file (one writer at a time).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path


def setup(var_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saha.config.settings")
    os.environ["SAHA_VAR_DIR"] = var_dir
    os.environ.setdefault("SAHA_LOG_LEVEL", "WARNING")
    url = os.environ.get("DATABASE_URL", "")
    if url and "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit("refusing to write into a database whose name does not contain 'bench'")
    if not url:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(var_dir) / 'bench.sqlite3'}"
    import django

    django.setup()


def _accept(args: tuple[str, int, int, int, str]) -> None:
    var_dir, petition_id, start, count, kind = args
    setup(var_dir)
    from saha.petitions import intake
    from saha.petitions.models import PendingSignature, Petition
    from saha.supporters.services import PersonData

    petition = Petition.objects.select_related("organization").get(pk=petition_id)
    for n in range(start, start + count):
        address = f"signer{n % (count * 50)}@example.org"
        if kind == "ceiling":
            PendingSignature.objects.create(petition=petition, data={"bench": address})
        else:
            data = PersonData(email=address, given_name="Signer", language="en")
            intake.accept(petition=petition, data=data)


def run(var_dir: str, petition_id: int, total: int, processes: int, kind: str) -> float:
    share = total // processes
    jobs = [(var_dir, petition_id, i * share, share, kind) for i in range(processes)]
    began = time.perf_counter()
    if processes == 1:
        _accept(jobs[0])
    else:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            pool.map(_accept, jobs)
    return share * processes / (time.perf_counter() - began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--signatures", type=int, default=5000)
    parser.add_argument("--processes", type=int, default=0, help="default: 1 on SQLite, 4 else")
    args = parser.parse_args()
    var_dir = tempfile.mkdtemp(prefix="saha-bench-")
    setup(var_dir)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from saha.petitions import intake, services
    from saha.petitions.models import PendingSignature, Signature
    from saha.testing.factories import OrganizationFactory

    processes = args.processes or (1 if connection.vendor == "sqlite" else 4)
    organization = OrganizationFactory(slug=f"bench-{int(time.time())}")
    petition = services.create_petition(
        actor=None, organization=organization, slug="bench", titles={"en": "Bench"}
    )
    services.set_status(actor=None, petition=petition, status="open")
    connection.close()
    ceiling = run(var_dir, petition.pk, args.signatures, processes, "ceiling")
    PendingSignature.objects.filter(petition=petition).delete()
    accepted = run(var_dir, petition.pk, args.signatures, processes, "accept")
    print(f"database: {connection.vendor}; {args.signatures} signatures; {processes} processes")
    print(f"  ceiling (bare INSERT): {ceiling:,.0f}/s")
    print(f"  accepted:              {accepted:,.0f}/s  ratio {accepted / ceiling:.2f}")
    began = time.perf_counter()
    taken = intake.take_in(limit=10**9)
    took = time.perf_counter() - began
    print(f"  taken in by one worker: {taken:,} in {took:.1f} s = {taken / took:,.0f}/s")
    signatures = Signature.objects.filter(petition=petition)
    distinct = signatures.values("person").distinct().count()
    counted = services.count(petition)
    recounted = services.recount(petition).unverified
    ok = signatures.count() == distinct == counted.unverified == recounted
    print(f"  signatures {signatures.count()}, distinct signers {distinct}, counter {counted}")
    if not ok:
        print("INVARIANT BROKEN", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
