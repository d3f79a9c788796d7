"""B1: accepted petition signatures per second, against one bare INSERT per request.

The road measured is the public one, the one a viral call takes: `POST
/api/v2/petitions/{id}/signatures` without a token (Action Network's public
record signature helper, which embedded forms on other sites use; no CSRF
token to fetch, and the same code as the public form: the form's checks, then
`intake.accept`, one INSERT of a pending row). The worker runs beside the
server, as `saha serve` runs it, and takes signatures in while they come.

Both servers (Saha and bench/ceiling/, gunicorn 2 workers x 8 threads) are
driven by the same open-model driver with the same steps of offered rate
(bench.harness.capacity); the figure is the best rate each holds (every answer
OK, p99 under 1 s). Each request is a new signer (a distinct address).

Reconciled at the end: every accepted signature is stored, as a signature or
as a pending row still waiting to be taken in (both are durable; the worker
gets a bounded time to take in what it can), and none twice. The per-address
and flood limits are raised (one client address sends everything, which the
limits exist to stop); the code path is otherwise what production runs.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from bench.harness.capacity import SAHA_SECONDS, Profile, ceiling_capacity, find_capacity
from bench.harness.context import Context
from bench.harness.loadgen import Request
from bench.harness.results import Result

IDS = ["B1"]
BUDGET = 240
STEP_SECONDS = 6
START_RATE = 50.0
CONNECTIONS = 64
TAKE_IN_SECONDS = 5  # what the worker gets, after the load, to take in what waits


def body(address: str) -> bytes:
    person = {
        "given_name": "Signer",
        "family_name": "Bench",
        "email_addresses": [{"address": address}],
        "languages_spoken": ["en"],
    }
    return json.dumps({"person": person, "comments": ""}).encode()


def make_petition(run: str) -> Any:
    from saha.api.models import ApiSettings
    from saha.petitions import services
    from saha.testing.factories import OrganizationFactory

    organization = OrganizationFactory(slug=f"bench-b1-{run}")
    ApiSettings.objects.update_or_create(
        organization=organization, defaults={"public_helpers": True}
    )
    petition = services.create_petition(
        actor=None, organization=organization, slug="viral", titles={"en": "Keep the beach open"}
    )
    services.set_status(actor=None, petition=petition, status="open")
    return petition


def reconcile(petition: Any, accepted: int, prefix: str) -> dict[str, Any]:
    """Stored = accepted, none twice: signatures taken in plus rows still pending."""
    from saha.petitions.models import PendingSignature, Signature

    signed = list(Signature.objects.filter(petition=petition).values_list("mailbox", flat=True))
    pending = [
        str(data.get("person", {}).get("email", ""))
        for data in PendingSignature.objects.filter(petition=petition).values_list(
            "data", flat=True
        )
    ]
    addresses = [a.lower() for a in signed + pending]
    distinct = {a for a in addresses if a.startswith(prefix)}
    return {
        "accepted": accepted,
        "taken_in": len(signed),
        "pending": len(pending),
        "set_aside": PendingSignature.objects.filter(
            petition=petition, failed_at__isnull=False
        ).count(),
        "stored_distinct": len(distinct),
        "lost": max(0, accepted - len(distinct)),
        "duplicates": len(addresses) - len(set(addresses)),
        # requests that failed (timeouts) may still have been stored: not a loss
        "stored_beyond_accepted": max(0, len(distinct) - accepted),
    }


def run(ctx: Context) -> list[Result]:
    ctx.setup_django()
    ctx.clear_leftovers()  # an earlier run's backlog would take the worker's time
    run_id = uuid.uuid4().hex[:8]
    petition = make_petition(run_id)
    prefix = f"b1-{run_id}-"
    step = STEP_SECONDS / 2 if ctx.quick else STEP_SECONDS
    path = f"/api/v2/petitions/{petition.uuid}/signatures"
    headers = {"Content-Type": "application/json", "Accept": "application/json"}

    def signature(i: int) -> Request:
        return Request("POST", path, headers, body(f"{prefix}{i}@example.org"))

    def row(i: int) -> Request:
        payload = json.loads(body(f"ceiling-{run_id}-{i}@example.org"))
        return Request(
            "POST", "/insert", headers, json.dumps({"key": f"{run_id}-{i}", **payload}).encode()
        )

    # The ceiling first: Saha's backlog of pending rows must not weigh on it.
    ceiling = ceiling_capacity(
        ctx, row, start=START_RATE, step_seconds=step, connections=CONNECTIONS
    )

    saha = ctx.start_saha(ctx.database_url, workers=2, threads=8, worker=True)
    ctx.log("saha: the public signature helper")
    found = find_capacity(
        port=saha.port,
        make_request=signature,
        deadline=ctx.deadline(SAHA_SECONDS),
        profile=Profile(saha.process.pid, ctx.var_dir / "b1-saha.pyspy.txt", rate=100),
        start=START_RATE,
        step_seconds=step,
        connections=CONNECTIONS,
        ok_statuses=(200,),
        log=ctx.log,
    )
    # Let the worker take in what it can, in a bounded time; the rest stays pending.
    time.sleep(TAKE_IN_SECONDS / 3 if ctx.quick else TAKE_IN_SECONDS)
    peak = saha.peak_rss_mb()
    saha.stop()
    counts = reconcile(petition, found.ok, prefix)
    ctx.log(f"reconciled: {counts}")
    return [
        Result(
            id="B1",
            what="petition signatures accepted per second (public helper, API)",
            value=round(found.best_rate, 1),
            unit="signatures/s",
            ceiling=round(ceiling.best_rate, 1),
            ceiling_what="bare Django view, one INSERT per request",
            lost=counts["lost"],
            duplicates=counts["duplicates"],
            peak_rss_mb=peak,
            details={
                **found.details(),
                "reconcile": counts,
                "ceiling": ceiling.details(),
                "server": "gunicorn 2 workers x 8 threads, and the task worker",
                "connections": CONNECTIONS,
                "step_seconds": step,
                "p99_limit_ms": 1000,
            },
        )
    ]
