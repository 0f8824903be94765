"""Connectors at run time: their credentials (encrypted at rest), their circuit breakers and the delivery
outbox with a receipt per attempt. The connector itself is a catalogue entry (kind `connector`)."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from automations.choices import DeliveryStatus
from automations.registry.models.processors import CircuitState
from portal.models import TenantOwned


class ConnectorSecret(TenantOwned):
    """A connector's credential (webhook signing secret, mailbox password), Fernet-encrypted with the field
    keys (portal.field_keys). Set through connector_secret_set; never shown again."""

    entry = models.OneToOneField("automations.CatalogueEntry", on_delete=models.CASCADE,
                                 related_name="connector_secret", verbose_name=_("connector"))
    ciphertext = models.TextField(_("encrypted credential"), editable=False)
    key_fingerprint = models.CharField(_("credential fingerprint"), max_length=80, editable=False)
    set_at = models.DateTimeField(_("set at"), default=timezone.now, editable=False)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name=_("set by"))

    class Meta:
        verbose_name = _("connector credential")
        verbose_name_plural = _("connector credentials")

    def __str__(self) -> str:
        return f"{self.entry.key} ({self.key_fingerprint})"


class ConnectorCircuit(TenantOwned):
    """Circuit breaker per delivery connector, in the database so that every worker sees it."""

    entry = models.OneToOneField("automations.CatalogueEntry", on_delete=models.CASCADE,
                                 related_name="connector_circuit", verbose_name=_("connector"))
    state = models.CharField(_("state"), max_length=20, choices=CircuitState.choices, default=CircuitState.CLOSED)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    probe_until = models.DateTimeField(_("trial delivery until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("connector circuit")
        verbose_name_plural = _("connector circuits")

    def __str__(self) -> str:
        return f"{self.entry.key}: {self.state}"


class Delivery(TenantOwned):
    """One result for one delivery connector: the outbox row, written in the transaction that made the
    item final, sent after commit and by beat until delivered or dead. The webhook id stays the same on
    every attempt, so that the receiver applies the delivery once."""

    connector = models.ForeignKey("automations.CatalogueEntry", on_delete=models.PROTECT, related_name="deliveries",
                                  verbose_name=_("connector"))
    item = models.ForeignKey("automations.WorkItem", on_delete=models.CASCADE, related_name="deliveries",
                             verbose_name=_("work item"))
    event_type = models.CharField(_("event type"), max_length=60)
    # A test delivery (a dry run's result, or any result of a connector in test mode) goes to the connector's
    # sandbox target, or is only recorded; never to its production target.
    test = models.BooleanField(_("test delivery"), default=False)
    webhook_id = models.CharField(_("delivery id"), max_length=60, unique=True)
    status = models.CharField(_("status"), max_length=20, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Attempts made before the last manual redelivery: the retry budget counts from here.
    attempts_before_redelivery = models.PositiveIntegerField(default=0, editable=False)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    # A worker holds the delivery while it sends (a worker killed mid-send leaves it to beat after this).
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    # A task for it is on its way: beat does not send another before this passes.
    dispatched_until = models.DateTimeField(null=True, blank=True, editable=False)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
                   models.Index(fields=["connector", "status"], name="delivery_connector_status")]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"{self.webhook_id} → {self.connector.key}: {self.status}"


class DeliveryAttempt(TenantOwned):
    """The receipt of one attempt: what the target answered, how fast, and an excerpt of its answer."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="receipts",
                                 verbose_name=_("delivery"))
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    ok = models.BooleanField(_("delivered"), default=False)
    status_code = models.PositiveIntegerField(_("status code"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    response_excerpt = models.TextField(_("response excerpt"), blank=True)
    error = models.TextField(_("error"), blank=True)
    # Where the attempt went; empty when a test delivery was only recorded.
    target = models.CharField(_("target"), max_length=500, blank=True)
    # A test delivery's body: what was sent to the sandbox, or what would have been sent.
    recorded_body = models.TextField(_("recorded body"), blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("delivery receipt")
        verbose_name_plural = _("delivery receipts")

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error[:40]}"
