"""Legal holds as the rest of the data protection code reads them: the tenant's holds, and a matcher that
says whether a work item is covered by an active hold (its own flag, a hold on the item, on a person it names,
on its use case or on the period it was received in). Writes: audit.services.legal_holds."""
from dataclasses import dataclass, field

from django.utils import timezone

from audit.choices import LegalHoldScope
from audit.models import LegalHold
from audit.selectors.pseudonyms import lookup_digest, work_item_identifiers
from portal.models import Tenant


def legal_hold_list(*, tenant, active_only: bool = False):
    holds = LegalHold.objects.filter(tenant=tenant).select_related("placed_by", "lifted_by")
    return holds.filter(lifted_at__isnull=True) if active_only else holds


def legal_hold_get(*, tenant, pk: int) -> LegalHold:
    return legal_hold_list(tenant=tenant).get(pk=pk)


@dataclass
class HoldMatcher:
    """The tenant's active holds, loaded once, to test many items against."""

    tenant: Tenant
    holds: list = field(default_factory=list)
    item_ids: dict = field(default_factory=dict)  # item id -> hold
    person_digests: dict = field(default_factory=dict)  # lookup digest of the identifier -> hold
    windows: list = field(default_factory=list)  # (use case key or "", from, until, hold)

    def __bool__(self) -> bool:
        return bool(self.holds)

    def for_item(self, item) -> LegalHold | None:
        """The first active hold that covers the item, or None (the item's own legal_hold flag is the
        caller's to check)."""
        if not self.holds:
            return None
        if str(item.pk) in self.item_ids:
            return self.item_ids[str(item.pk)]
        received = timezone.localtime(item.created_at).date()
        for key, start, end, hold in self.windows:
            if key and key != item.use_case.key:
                continue
            if (start is None or received >= start) and (end is None or received <= end):
                return hold
        return self.for_identifiers(work_item_identifiers(item))

    def for_identifiers(self, identifiers) -> LegalHold | None:
        """The first active hold on the person known by these (kind, identifier) pairs, or None."""
        for kind, identifier in identifiers:
            hold = self.person_digests.get(lookup_digest(self.tenant, kind, identifier)) if self.person_digests \
                else None
            if hold is not None:
                return hold
        return None


def hold_matcher(*, tenant) -> HoldMatcher:
    matcher = HoldMatcher(tenant=tenant, holds=list(legal_hold_list(tenant=tenant, active_only=True)))
    for hold in matcher.holds:
        if hold.scope == LegalHoldScope.ITEM:
            matcher.item_ids.setdefault(hold.item_id, hold)
        elif hold.scope == LegalHoldScope.PERSON:
            for digest in hold.subject_digests:
                matcher.person_digests.setdefault(digest, hold)
        else:
            matcher.windows.append((hold.use_case_key, hold.date_from, hold.date_until, hold))
    return matcher
