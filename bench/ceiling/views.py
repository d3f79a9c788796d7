"""The one view: parse the JSON body, one INSERT, answer 201 with the row's id."""

import json
import uuid

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from bench.ceiling.models import Row


@require_POST
def insert(request: HttpRequest) -> JsonResponse:
    payload = json.loads(request.body or b"{}")
    row = Row.objects.create(key=str(payload.get("key") or uuid.uuid4().hex), payload=payload)
    return JsonResponse({"id": row.pk}, status=201)


@require_GET
def count(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"rows": Row.objects.count()})
