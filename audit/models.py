"""The append-only, hash-chained audit log and the pseudonyms it refers to people by."""
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.choices import (
    IdentifierKind,
    IdentityCheck,
    LegalHoldScope,
    RequestChannel,
    RequestKind,
    RequestStatus,
    Stream,
    VerificationTrigger,
)

GENESIS_HASH = "0" * 64
# Days before a data subject request's deadline from which the DSB is reminded (home page, e-mail).
REMINDER_DAYS = 7
SYSTEM_CHAIN = "system"


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    TOKEN = "token", _("API token")
    SYSTEM = "system", _("System")


class ChainedEvent(models.Model):
    """One link of a hash chain (audit.chain hashes the columns listed there). AuditEvent and AccessEvent
    are two streams of the same shape, each with its own chains and heads (audit.streams).

    Rows are never updated or deleted by the application (database triggers refuse it); actors and
    objects are referenced by id, people only through pseudonyms."""

    # No index of its own: every query by tenant starts with one of the (tenant, ...) indexes below.
    tenant = models.ForeignKey(
        "portal.Tenant", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_constraint=True,
        db_index=False,
    )
    chain = models.CharField(max_length=40)
    # Empty while the event is pending: written, protected by the triggers, not yet linked (audit.sequencer).
    sequence = models.BigIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_token_id = models.BigIntegerField(null=True, blank=True)
    event_type = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    # NULL, not "", while pending: the constraint below holds sequence, prev_hash and hash empty together.
    prev_hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    # The canonical form the hash is computed over (audit.chain): 1 before the sequencer, and on SQLite.
    hash_version = models.PositiveSmallIntegerField(db_default=1)

    # Declared on the base, so that code handling either stream (audit.streams) reaches the rows through it.
    objects: models.Manager = models.Manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.chain}#{self.sequence} {self.event_type}"

    @property
    def is_pending(self) -> bool:
        return self.sequence is None


# An event is either linked (sequence, prev_hash and hash set) or pending (all three empty).
_linked_or_pending = (
    models.Q(sequence__isnull=False, prev_hash__isnull=False, hash__isnull=False)
    | models.Q(sequence__isnull=True, prev_hash__isnull=True, hash__isnull=True)
)


class AuditEvent(ChainedEvent):
    """One event of a tenant's audit chain (chain = tenant id) or of the system chain."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "sequence"], name="auditevent_unique_chain_sequence"),
            models.CheckConstraint(condition=_linked_or_pending, name="auditevent_linked_or_pending"),
        ]
        indexes = [
            models.Index(fields=["chain", "id"], condition=models.Q(sequence__isnull=True), name="auditevent_pending"),
            models.Index(fields=["tenant", "event_type", "occurred_at"], name="auditevent_tenant_type_time"),
            models.Index(fields=["tenant", "object_type", "object_id"], name="auditevent_tenant_object"),
            models.Index(fields=["tenant", "actor_user_id", "occurred_at"], name="auditevent_tenant_actor"),
            # The DSB search: one chain, a time range, newest first, keyset on (occurred_at, sequence).
            models.Index(fields=["chain", "occurred_at", "sequence"], name="auditevent_chain_time"),
        ]
        ordering = ["chain", "sequence"]
        default_permissions = ("view",)
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")


class AccessEvent(ChainedEvent):
    """Who opened which personal data, when and why (purpose in details, the person as a pseudonym).
    One chain per tenant (chain = "<tenant id>/access"), hashed and verified like the audit chains."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "sequence"], name="accessevent_unique_chain_sequence"),
            models.CheckConstraint(condition=_linked_or_pending, name="accessevent_linked_or_pending"),
        ]
        indexes = [
            models.Index(fields=["chain", "id"], condition=models.Q(sequence__isnull=True), name="accessevent_pending"),
            models.Index(fields=["chain", "occurred_at", "sequence"], name="accessevent_chain_time"),
            models.Index(fields=["tenant", "event_type", "occurred_at"], name="accessevent_tenant_type_time"),
            models.Index(fields=["tenant", "object_type", "object_id"], name="accessevent_tenant_object"),
            models.Index(fields=["tenant", "actor_user_id", "occurred_at"], name="accessevent_tenant_actor"),
        ]
        ordering = ["chain", "sequence"]
        default_permissions = ("view",)
        verbose_name = _("access event")
        verbose_name_plural = _("access events")


class ChainHead(models.Model):
    """The newest link of each chain of a stream. Locked (SELECT ... FOR UPDATE) by every append so that
    concurrent writers queue up instead of forking the chain; verification never trusts it."""

    chain = models.CharField(max_length=40, primary_key=True)
    sequence = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    objects: models.Manager = models.Manager()  # reached through audit.streams for either stream

    class Meta:
        abstract = True
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.chain} #{self.sequence}"


class AuditChainHead(ChainHead):
    """The newest link of each audit chain."""


class AccessChainHead(ChainHead):
    """The newest link of each access chain."""


class Pseudonym(models.Model):
    """A data subject as audit rows know them: a random pseudonym; the identifier itself only as a keyed
    lookup digest and, encrypted with the subject's own key, for the DSB. Erasure destroys the key and
    the digest: the pseudonym stays in the chain and refers to no one."""

    tenant = models.ForeignKey("portal.Tenant", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=32)
    pseudonym = models.CharField(max_length=40, unique=True)
    # NULL once erased: the unique (tenant, digest) constraint must not hold erased pseudonyms against each other.
    lookup_digest = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    subject_key = models.BinaryField(null=True, blank=True, editable=False)
    identifier_encrypted = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "lookup_digest"], name="pseudonym_unique_tenant_digest"),
        ]
        default_permissions = ("view",)
        verbose_name = _("pseudonym")
        verbose_name_plural = _("pseudonyms")

    def __str__(self) -> str:
        return self.pseudonym


class SubjectReference(models.Model):
    """Search index of the pseudonyms an event's details name (the DSB's search by data subject).
    Written with the event, in the same transaction; the chain, not this index, is the evidence."""

    stream = models.CharField(max_length=10, choices=Stream.choices)
    tenant = models.ForeignKey("portal.Tenant", on_delete=models.PROTECT, related_name="+")
    chain = models.CharField(max_length=40)
    sequence = models.BigIntegerField()
    pseudonym = models.CharField(max_length=40)

    class Meta:
        indexes = [models.Index(fields=["tenant", "pseudonym", "stream", "sequence"], name="subjectref_lookup")]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.pseudonym} in {self.stream} {self.chain} #{self.sequence}"


class AuditAnchor(models.Model):
    """Where a chain starts after an anchored purge (manage.py purge_audit): the last removed event's
    sequence and hash, signed with the audit signing key. Verification starts here."""

    chain = models.CharField(max_length=40)
    sequence = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    purged_before = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    # The signed statement exactly as written to the checkpoint folder (audit.services.checkpoints).
    statement = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "sequence"], name="auditanchor_unique_chain_sequence")]
        ordering = ["chain", "-sequence"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.chain} from #{self.sequence}"


class VerificationRun(models.Model):
    """One run of the chain verification and what it found (shown in the DSB area), written once when it
    finished; append-only in the database."""

    tenant = models.ForeignKey("portal.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               help_text="Set when only this tenant's chains were verified.")
    trigger = models.CharField(_("started by"), max_length=20, choices=VerificationTrigger.choices)
    # PROTECT: the row is append-only (audit.append_only), so it can never be set to NULL later.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("started by"))
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    ok = models.BooleanField(_("chains intact"), null=True)
    # [{"chain", "label", "stream", "events", "ok", "line", "checkpoint": sequence or None}]
    results = models.JSONField(_("results"), default=list)

    class Meta:
        ordering = ["-started_at"]
        default_permissions = ("view", "add")
        verbose_name = _("verification run")
        verbose_name_plural = _("verification runs")

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} {self.started_at:%Y-%m-%d %H:%M}"


class DataSubjectRequest(models.Model):
    """A data subject's request (access or erasure), kept with a keyed hash of the identifier only.
    `subject_pseudonym` finds the person again while their pseudonym key exists (access requests); an
    erasure destroys that key."""

    tenant = models.ForeignKey("portal.Tenant", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=RequestKind.choices)
    identifier_kind = models.CharField(_("identified by"), max_length=20, choices=IdentifierKind.choices)
    identifier_hash = models.CharField(_("identifier (keyed hash)"), max_length=64)
    subject_pseudonym = models.CharField(_("pseudonym"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    due_at = models.DateTimeField(_("due at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("handled by"))
    # Counts and record ids only, never the identifier or other personal data.
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    channel = models.CharField(_("received by"), max_length=20, choices=RequestChannel.choices, blank=True)
    # Why (the erasure's ground, Art. 17(1)); texts here describe the case, never name the person.
    reason = models.TextField(_("reason"), blank=True)
    identity_checked_at = models.DateTimeField(_("identity checked at"), null=True, blank=True)
    identity_checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                            related_name="+", verbose_name=_("identity checked by"))
    identity_check = models.CharField(_("identity checked by means of"), max_length=30, blank=True,
                                      choices=IdentityCheck.choices)
    identity_note = models.CharField(_("note on the identity check"), max_length=300, blank=True)
    # Art. 12(3): extended once by up to two further months, with the reason, told within the first month.
    extended_at = models.DateTimeField(_("deadline extended at"), null=True, blank=True)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    refusal_reason = models.TextField(_("reason for the refusal"), blank=True)
    reminder_sent_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["tenant", "status", "due_at"], name="dsr_open_due")]
        permissions = [
            ("erase_subject", "Can carry out erasure requests"),
            ("reveal_pseudonym", "Can reveal the person behind a pseudonym (audited)"),
            ("view_processing_records", "Can read the records of processing activities"),
            ("view_employee_measures", "Can read what is measured about employees"),
        ]
        default_permissions = ("view", "add")
        verbose_name = _("data subject request")
        verbose_name_plural = _("data subject requests")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_overdue(self) -> bool:
        return self.status == RequestStatus.OPEN and self.due_at < timezone.now()

    @property
    def is_due_soon(self) -> bool:
        return self.status == RequestStatus.OPEN and self.due_at <= timezone.now() + timedelta(days=REMINDER_DAYS)

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN

    @property
    def identity_checked(self) -> bool:
        return self.identity_checked_at is not None


class LegalHold(models.Model):
    """A legal hold (litigation, an authority's order, an audit): what it covers is kept — neither deleted at
    the end of its retention period nor erased on request (it is restricted instead, GDPR Art. 17(3)(e),
    Art. 18). Placed and lifted by the data protection officer with a reason and a reference; a person is
    named by their pseudonym only."""

    tenant = models.ForeignKey("portal.Tenant", on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(_("scope"), max_length=20, choices=LegalHoldScope.choices)
    item_id = models.CharField(_("work item"), max_length=36, blank=True)
    subject_pseudonym = models.CharField(_("person (pseudonym)"), max_length=40, blank=True)
    subject_kind = models.CharField(_("person identified by"), max_length=20, blank=True,
                                    choices=IdentifierKind.choices)
    # Keyed lookup digests (as pseudonyms') of every identifier the person was known by when the hold was
    # placed (their master data's numbers, e-mail, IBAN): they outlive an erasure of the person's pseudonym
    # keys, so what the hold keeps stays found by them.
    subject_digests = models.JSONField(default=list, blank=True, editable=False)
    use_case_key = models.CharField(_("use case"), max_length=60, blank=True)
    date_from = models.DateField(_("received from"), null=True, blank=True)
    date_until = models.DateField(_("received until"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    reference = models.CharField(_("reference"), max_length=100)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("placed by"))
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("lifted by"))
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lift_reason = models.TextField(_("reason for lifting"), blank=True)

    class Meta:
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["tenant", "lifted_at"], name="legalhold_active")]
        default_permissions = ("view", "add", "change")
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_scope_display()})"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None
