from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AUTOMATION_LEAD = "automation_lead", _("Automation lead (core team)")
    DEPARTMENT_OWNER = "department_owner", _("Department owner")
    IT_OPERATOR = "it_operator", _("IT operator")
    SECURITY_OFFICER = "security_officer", _("Information security officer")
    DATA_PROTECTION_OFFICER = "data_protection_officer", _("Data protection officer")
    WORKS_COUNCIL = "works_council", _("Works council")
    CLERK = "clerk", _("Clerk")
    AUDITOR = "auditor", _("Auditor")


class TokenScope(models.TextChoices):
    """What an API token may do, on top of its user's permissions in its tenant. No scope approves a change
    request or decides a review task: those need a person in a browser session."""

    READ = "read", _("Read")
    INTAKE = "intake", _("Submit work items")
    RESULTS = "results", _("Acknowledge results, claim and release review tasks")
    REGISTRY_WRITE = "registry:write", _("Write to the registry (drafts, change requests, training)")
    DATA_PROTECTION = "data-protection", _("Data protection requests and legal holds (the DSB's own token)")
