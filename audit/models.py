"""The append-only, hash-chained audit log and the pseudonyms it refers to people by."""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64
SYSTEM_CHAIN = "system"


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    TOKEN = "token", _("API token")
    SYSTEM = "system", _("System")


class AuditEvent(models.Model):
    """One link of a chain: one chain per tenant (chain = tenant id) plus the system chain.

    Rows are never updated or deleted by the application (database triggers refuse it); actors and
    objects are referenced by id, people only through pseudonyms."""

    tenant = models.ForeignKey(
        "portal.Tenant", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_constraint=True
    )
    chain = models.CharField(max_length=40)
    sequence = models.BigIntegerField()
    occurred_at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_token_id = models.BigIntegerField(null=True, blank=True)
    event_type = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "sequence"], name="auditevent_unique_chain_sequence")]
        indexes = [
            models.Index(fields=["chain", "hash"], name="auditevent_chain_hash"),
            models.Index(fields=["tenant", "occurred_at"], name="auditevent_tenant_time"),
            models.Index(fields=["tenant", "event_type", "occurred_at"], name="auditevent_tenant_type_time"),
            models.Index(fields=["tenant", "object_type", "object_id"], name="auditevent_tenant_object"),
            models.Index(fields=["tenant", "actor_user_id", "occurred_at"], name="auditevent_tenant_actor"),
        ]
        ordering = ["chain", "sequence"]
        default_permissions = ("view",)
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.chain}#{self.sequence} {self.event_type}"


class AuditChainHead(models.Model):
    """The newest link of each chain. Locked (SELECT ... FOR UPDATE) by every append so that concurrent
    writers queue up instead of forking the chain; verification never trusts it."""

    chain = models.CharField(max_length=40, primary_key=True)
    sequence = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        default_permissions = ()


class Pseudonym(models.Model):
    """A data subject as audit rows know them: a random pseudonym; the identifier itself only as a keyed
    lookup digest and, encrypted with the subject's own key, for the DSB. Erasure destroys the key and
    the digest: the pseudonym stays in the chain and refers to no one."""

    tenant = models.ForeignKey("portal.Tenant", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=32)
    pseudonym = models.CharField(max_length=40, unique=True)
    lookup_digest = models.CharField(max_length=64, null=True, blank=True)
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
