from django.db import models
from django.utils.translation import gettext_lazy as _


class UseCaseStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PILOT = "pilot", _("Pilot")
    PRODUCTION = "production", _("Production")
    SUSPENDED = "suspended", _("Suspended")
    RETIRED = "retired", _("Retired")


class RiskTier(models.TextChoices):
    PROHIBITED = "prohibited", _("Prohibited (EU AI Act Art. 5)")
    HIGH = "high", _("High risk")
    LIMITED = "limited", _("Limited risk (transparency duties)")
    MINIMAL = "minimal", _("Minimal risk")


class LegalBasis(models.TextChoices):
    CONSENT = "art6_1_a", _("Art. 6(1)(a) GDPR — consent")
    CONTRACT = "art6_1_b", _("Art. 6(1)(b) GDPR — contract")
    LEGAL_OBLIGATION = "art6_1_c", _("Art. 6(1)(c) GDPR — legal obligation")
    VITAL_INTERESTS = "art6_1_d", _("Art. 6(1)(d) GDPR — vital interests")
    PUBLIC_TASK = "art6_1_e", _("Art. 6(1)(e) GDPR — public task")
    LEGITIMATE_INTERESTS = "art6_1_f", _("Art. 6(1)(f) GDPR — legitimate interests")
    NONE = "none", _("No personal data processed")


class IntegrationKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    DMS = "dms", _("Document management (DMS)")
    CRM = "crm", _("CRM")
    ERP = "erp", _("ERP")
    API = "api", _("API")
    UPLOAD = "upload", _("Upload")


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    DECIMAL = "decimal", _("Decimal")
    INTEGER = "integer", _("Integer")
    DATE = "date", _("Date")
    CATEGORY = "category", _("Category")
    EMAIL = "email", _("E-mail address")
    IBAN = "iban", _("IBAN")
    VAT_ID = "vat_id", _("VAT id")
    BOOLEAN = "boolean", _("Yes/no")


class Engine(models.TextChoices):
    RULES = "rules", _("Rules")
    CLASSIFIER = "classifier", _("Trained classifier")
    INVOICE = "invoice", _("E-invoice extractor")
    LLM = "llm", _("Language model (LLM)")


class Label(models.TextChoices):
    PILOT = "pilot", _("Pilot")
    PRODUCTION = "production", _("Production")


class ChangeKind(models.TextChoices):
    LABEL_MOVE = "label_move", _("Move a release label")
    STATUS_CHANGE = "status_change", _("Change the status")
    DOCUMENTATION = "documentation", _("Edit the documentation")
    CATALOGUE = "catalogue", _("Add or change a catalogue entry")
    TENANT_POLICY = "tenant_policy", _("Change a tenant control setting")
    MEMBERSHIP_ROLES = "membership_roles", _("Grant a control role")
    QUALITY_BREAKER_RESET = "quality_breaker_reset", _("Switch automatic application back on")


class ChangeState(models.TextChoices):
    OPEN = "open", _("Awaiting approval")
    APPLIED = "applied", _("Approved and applied")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ApprovalDecision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")


class CatalogueKind(models.TextChoices):
    PROCESSOR = "processor", _("Processor (e.g. LLM provider)")
    CONNECTOR = "connector", _("Connector")


class ConnectorType(models.TextChoices):
    IMAP = "imap", _("Mailbox (IMAP)")
    FOLDER = "folder", _("Watched folder")
    WEBHOOK = "webhook", _("Webhook (signed HTTP POST)")
    FILE_DROP = "file_drop", _("File drop (CSV or JSON Lines)")
    EMAIL = "email", _("E-mail")


class ConnectorDirection(models.TextChoices):
    INTAKE = "intake", _("Intake (work arrives)")
    DELIVERY = "delivery", _("Delivery (results leave)")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed (retried)")
    DEAD = "dead", _("Dead letter")


class TransferBasis(models.TextChoices):
    EU_EEA = "eu_eea", _("Processing in the EU/EEA")
    ADEQUACY = "adequacy", _("Adequacy decision (Art. 45 GDPR)")
    SCC = "scc", _("Standard contractual clauses (Art. 46 GDPR)")
    BCR = "bcr", _("Binding corporate rules (Art. 47 GDPR)")
    ON_PREMISES = "on_premises", _("On premises, no transfer")


class ItemStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSING = "processing", _("Processing")
    REVIEW = "review", _("In review")
    CLARIFICATION = "clarification", _("Needs clarification")
    HELD = "held", _("Held (use case suspended)")
    ESCALATED = "escalated", _("Escalated")
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")


FINAL_ITEM_STATUSES = (ItemStatus.APPLIED, ItemStatus.REJECTED)


class ItemSource(models.TextChoices):
    API = "api", _("API")
    UPLOAD = "upload", _("Browser upload")
    EMAIL = "email", _("E-mail")
    DMS = "dms", _("DMS folder")
    FOLDER = "folder", _("Watched folder")
    IMPORT = "import", _("Bulk import")
    DRY_RUN = "dry_run", _("Dry run")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    HELD = "held", _("Held")


class RunTrigger(models.TextChoices):
    INTAKE = "intake", _("Intake")
    RETRY = "retry", _("Retry")
    REAPER = "reaper", _("Lease expired")
    RESUME = "resume", _("Use case resumed")
    DRY_RUN = "dry_run", _("Dry run")


class StepStatus(models.TextChoices):
    OK = "ok", _("Done")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class MasterKind(models.TextChoices):
    SUPPLIER = "supplier", _("Supplier")
    CUSTOMER = "customer", _("Customer")


class EscalationState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")


class ExampleSource(models.TextChoices):
    IMPORT = "import", _("Imported")
    CORRECTION = "correction", _("Clerk's correction")
    DEMO = "demo", _("Demo data")


class PipelineStep(models.TextChoices):
    """The steps of a run, named for people (StepRun.step holds the key)."""
    READ = "read", _("Read the document")
    EXTRACT = "extract", _("Extract the fields")
    DECIDE = "decide", _("Choose the best suggestion")
    CHECK = "check", _("Check master data and duplicates")
    VALIDATE = "validate", _("Validate the values")
    GUARD = "guard", _("Check the guardrails")
    ROUTE = "route", _("Route by thresholds")
    DELIVER = "deliver", _("Deliver to target systems")
