from django.db import models
from django.utils.translation import gettext_lazy as _


class Stream(models.TextChoices):
    AUDIT = "audit", _("Audit events")
    ACCESS = "access", _("Access events")


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Access (Art. 15 GDPR, Art. 86 AI Act)")
    ERASURE = "erasure", _("Erasure (Art. 17 GDPR)")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")
    REFUSED = "refused", _("Refused")


class RequestChannel(models.TextChoices):
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    FORM = "form", _("Web form")
    PHONE = "phone", _("Telephone")
    IN_PERSON = "in_person", _("In person")
    OTHER = "other", _("Other")


class IdentityCheck(models.TextChoices):
    ID_DOCUMENT = "id_document", _("Identity document shown or copy checked")
    KNOWN_CONTACT = "known_contact", _("Request came from contact details on record")
    CUSTOMER_ACCOUNT = "customer_account", _("Confirmed through the customer account or a known number")
    OTHER = "other", _("Other check (described)")


class IdentifierKind(models.TextChoices):
    EMAIL = "email", _("E-mail address")
    IBAN = "iban", _("IBAN")
    CUSTOMER_NUMBER = "customer_number", _("Customer number")
    SUPPLIER_NUMBER = "supplier_number", _("Supplier number")
    NAME = "name", _("Name")


class VerificationTrigger(models.TextChoices):
    COMMAND = "command", _("verify_audit command")
    SCHEDULE = "schedule", _("Scheduled")
    MANUAL = "manual", _("Started in the DSB area")


class LegalHoldScope(models.TextChoices):
    ITEM = "item", _("One work item")
    PERSON = "person", _("Everything about one person")
    USE_CASE = "use_case", _("A use case (optionally a period of it)")
    PERIOD = "period", _("Every item received in a period")
