"""What a petition's messages need, loaded from the ids the outbox keeps."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.conf import settings

from saha.petitions import services
from saha.petitions.models import Petition, Signature

register = template.Library()


@dataclass(frozen=True)
class SignatureView:
    petition: Petition
    title: str
    confirm_url: str


@register.simple_tag
def signature_view(signature_id: int) -> SignatureView | None:
    found = Signature.objects.select_related("petition__organization").filter(pk=signature_id)
    signature = found.first()
    if signature is None:
        return None
    token = services.confirmation_token(signature)
    return SignatureView(
        petition=signature.petition,
        title=signature.petition.title,
        confirm_url=f"{settings.SAHA_BASE_URL}/s/{token}/",
    )
