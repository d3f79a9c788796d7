"""The demo organization's statement: the shore belongs to everyone, published in Arabic,
English and French, each written for its readers, issued by the Executive Committee
in Beirut. Loaded once: a second run finds it by its address and adds nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from saha.core.public_pages import absolute
from saha.statements import services
from saha.statements.models import Statement
from saha.statements.services import VersionText

ACTOR = "saha demo"
DEMO_STATEMENT_SLUG = "the-shore-belongs-to-everyone"

VERSIONS = {
    "ar": VersionText(
        title="الشاطئ للجميع: لنُبقِه مفتوحًا ونظيفًا",
        summary="نطالب بإبقاء المداخل العامة إلى الشاطئ مفتوحة ومجانية، وندعو الجميع "
        "إلى حملة تنظيف مشتركة.",
        body=(
            "الشاطئ العام ملكٌ لكل سكان المدينة. هو المكان الذي يتعلّم فيه الأطفال السباحة، "
            "ويلتقي فيه الجيران مساءً، ويجد فيه كل من لا يملك ثمن نادٍ خاص متنفّسًا مجانيًا.\n\n"
            "في الأشهر الأخيرة أُغلق أكثر من مدخل عام، وتراكمت النفايات على الرمل وفي الماء. "
            "نحن لا نقبل أن يتحوّل حقّ عام إلى امتياز لقلّة.\n\n"
            "نطالب البلدية بإعادة فتح جميع المداخل العامة وإبقائها مجانية طوال السنة، "
            "وبنشر أي مشروع بناء على الشاطئ قبل الموافقة عليه، وبتأمين حاويات وجمع منتظم "
            "للنفايات.\n\n"
            "وندعو كل من يحب هذا الشاطئ إلى المشاركة في حملة التنظيف المقبلة، "
            "وإلى التوقيع على العريضة. الشاطئ لنا جميعًا، والعناية به مسؤوليتنا جميعًا."
        ),
        issuing_body="اللجنة التنفيذية",
        place="بيروت",
    ),
    "en": VersionText(
        title="The shore belongs to everyone: keep it open, keep it clean",
        summary="We ask that the public entrances to the beach stay open and free, and we "
        "invite everyone to a shared clean-up.",
        body=(
            "The public beach belongs to everyone who lives in this city. It is where children "
            "learn to swim, where neighbours meet in the evening, and where anyone who cannot "
            "pay for a private club can still find the sea for free.\n\n"
            "In recent months several public entrances have been closed, and rubbish has piled "
            "up on the sand and in the water. We do not accept that a common right should "
            "become a privilege of the few.\n\n"
            "We ask the municipality to reopen every public entrance and keep it free all year "
            "round, to publish any building project on the beach before approving it, and to "
            "provide bins and regular collection.\n\n"
            "We invite everyone who loves this beach to join our next clean-up and to sign the "
            "petition. The shore is ours, and so is the care of it."
        ),
        issuing_body="Executive Committee",
        place="Beirut",
    ),
    "fr": VersionText(
        title="Le rivage appartient à tous : gardons-le ouvert et propre",
        summary="Nous demandons que les accès publics à la plage restent ouverts et gratuits, "
        "et invitons chacun à un nettoyage collectif.",
        body=(
            "La plage publique appartient à tous les habitants de la ville. C'est là que les "
            "enfants apprennent à nager, que les voisins se retrouvent le soir, et que ceux qui "
            "ne peuvent pas payer un club privé trouvent encore la mer gratuitement.\n\n"
            "Ces derniers mois, plusieurs accès publics ont été fermés, et les déchets "
            "s'accumulent sur le sable et dans l'eau. Nous refusons qu'un droit commun devienne "
            "le privilège de quelques-uns.\n\n"
            "Nous demandons à la municipalité de rouvrir tous les accès publics et de les garder "
            "gratuits toute l'année, de rendre public tout projet de construction sur la plage "
            "avant de l'approuver, et d'installer des poubelles avec un ramassage régulier.\n\n"
            "Nous invitons toutes celles et ceux qui aiment cette plage à rejoindre notre "
            "prochain nettoyage et à signer la pétition. Le rivage est à nous, et son soin "
            "aussi."
        ),
        issuing_body="Comité exécutif",
        place="Beyrouth",
    ),
}


def contribute(organization: Any, owner: Any) -> dict[str, str]:
    statement = Statement.objects.for_org(organization).filter(slug=DEMO_STATEMENT_SLUG).first()
    if statement is None:
        with transaction.atomic():
            statement = services.create_statement(
                actor=ACTOR,
                organization=organization,
                slug=DEMO_STATEMENT_SLUG,
                versions=VERSIONS,
                dated=timezone.localdate() - dt.timedelta(days=2),
                original_language="ar",
            )
            Statement.objects.filter(pk=statement.pk).update(created_by=owner)
            services.publish(actor=ACTOR, statement=statement)
    url = reverse("statements:statement", args=[organization.slug, statement.slug])
    return {"statement_url": absolute(url)}
