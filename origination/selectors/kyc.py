"""Reads for the sanctions review (services.kyc): the screening hits of the
compliance queue and a hit with the list entries it matched."""

from decimal import Decimal

from django.db.models import Q, QuerySet

from origination.models import Application, SanctionsEntry, SanctionsHit


def compliance_hits(
    *, status: str = "", q: str = "", min_score: Decimal | None = None
) -> QuerySet[SanctionsHit]:
    """Hits for the queue, oldest open first (first in, first reviewed);
    `status` "" means every status; `q` searches the screened name and the
    customer number."""
    hits = SanctionsHit.objects.select_related("customer", "sanctions_list", "decided_by")
    if status:
        hits = hits.filter(status=status)
    if q:
        hits = hits.filter(Q(screened_name__icontains=q) | Q(customer__customer_number__iexact=q))
    if min_score is not None:
        hits = hits.filter(top_score__gte=min_score)
    return hits.order_by("created_at", "id")


def hit_with_entries(hit_id: int) -> tuple[SanctionsHit, list[tuple[dict, SanctionsEntry | None]]]:
    """A hit and, for each of its matches, the full list entry it matched
    (None if the entry is gone). Raises SanctionsHit.DoesNotExist."""
    hit = hit_for_review(hit_id)
    ent_nums = [m["ent_num"] for m in hit.matches]
    entries = {
        e.ent_num: e
        for e in SanctionsEntry.objects.filter(
            sanctions_list_id=hit.sanctions_list_id, ent_num__in=ent_nums
        )
    }
    return hit, [(m, entries.get(m["ent_num"])) for m in hit.matches]


def _for_review():
    return SanctionsHit.objects.select_related("customer", "sanctions_list", "decided_by")


def hit_for_review(hit_id: int) -> SanctionsHit:
    """The hit with its customer, list and decider. Raises SanctionsHit.DoesNotExist."""
    return _for_review().get(pk=hit_id)


def hits_for_review(hit_ids) -> list[SanctionsHit]:
    """The hits `hit_ids` (any order) with their customer, list and decider."""
    return list(_for_review().filter(pk__in=hit_ids))


def hit_by_pk(hit_id: int) -> SanctionsHit | None:
    return SanctionsHit.objects.filter(pk=hit_id).first()


def applications_of(hits) -> dict[int, Application]:
    """The applications of `hits` (reference and state only), by id."""
    ids = {h.application_id for h in hits if h.application_id}
    return {a.pk: a for a in Application.objects.filter(pk__in=ids).only("reference", "state")}


def customer_addresses(customer) -> list:
    """The screened customer's addresses, as the review page lists them."""
    return list(customer.addresses.all())
