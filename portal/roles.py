"""What each role may do: the one table an auditor reads to see who can change what.

Permissions are Django permission strings ("app_label.codename"). They apply in the tenant where the
user holds the role (portal.backends.TenantRoleBackend); object permissions come from django-guardian.
"""
from portal.choices import Role

_READ_REGISTRY = {
    "portal.view_tenant", "portal.view_membership",
    "automations.view_usecase", "automations.view_catalogueentry", "automations.view_tenantpolicy",
    "automations.view_prompttemplateversion", "automations.view_thresholdsetversion",
    "automations.view_guardrailsetversion", "automations.view_engineconfigversion", "automations.view_release",
    "automations.view_releaselabel", "automations.view_changerequest", "automations.view_approval",
    "automations.view_classifierversion",
    # Quality: the circuit breakers' state, backtests kept with change requests, the periodic reviews.
    "automations.view_qualitybreaker", "automations.view_thresholdbacktest", "automations.view_usecasereview",
    # Every approver sees the evaluation a production move carries (its figures; the cases' contents need
    # view_qualitytestcase).
    "automations.view_evaluationrun", "automations.view_evaluationresult",
}
# Completing a periodic review (the service also wants an owner of the use case or an automation lead).
_REVIEW_USE_CASES = {"automations.change_usecasereview"}
_BUILD_VERSIONS = {
    "automations.add_prompttemplateversion", "automations.add_thresholdsetversion",
    "automations.add_guardrailsetversion", "automations.add_engineconfigversion", "automations.add_release",
    # Labelled examples hold customers' texts: the core team imports and trains, nobody else reads them.
    "automations.add_labelledexample", "automations.view_labelledexample", "automations.add_classifierversion",
    # Test cases hold inputs like labelled examples do: the core team keeps them and runs evaluations.
    "automations.add_qualitytestcase", "automations.change_qualitytestcase", "automations.view_qualitytestcase",
    "automations.add_evaluationrun",
}
_PROPOSE = {"automations.add_changerequest"}
_READ_WORK = {
    "automations.view_workitem", "automations.view_run", "automations.view_steprun", "automations.view_suggestion",
    "automations.view_escalation", "automations.view_masterrecord", "reviews.view_reviewqueue",
    "reviews.view_reviewtask", "reviews.view_reviewdecision", "automations.view_delivery",
    "automations.view_deliveryattempt",
}
_SEND_WORK = {"automations.add_workitem"}
_KEEP_MASTER_DATA = {"automations.add_masterrecord", "automations.change_masterrecord"}
_SUSPEND = {"automations.suspend_usecase"}
# The DSB area (audit app): the audit and access logs, requests, records of processing; the DSB alone
# carries out requests and reveals pseudonyms (audited).
_READ_AUDIT = {
    "audit.view_auditevent", "audit.view_accessevent", "audit.view_datasubjectrequest",
    "audit.view_processing_records", "audit.view_employee_measures", "audit.view_verificationrun",
    "audit.view_legalhold",
}
# Starting a verification run writes a record (and takes a worker): the DSB's, not a read-only auditor's.
_HANDLE_REQUESTS = {"audit.add_datasubjectrequest", "audit.erase_subject", "audit.reveal_pseudonym",
                    "audit.add_verificationrun", "audit.add_legalhold", "audit.change_legalhold"}
# Processor API keys: kept by IT, and by the security officer who approves processors.
_KEEP_PROCESSOR_KEYS = {"automations.change_processorsecret", "automations.change_connectorsecret"}
# The Leitstand: figures about the automations (no figures about people).
_READ_LEITSTAND = {"leitstand.view_dailyfigures"}
# Deliveries to target systems: IT sends a dead letter again once the target is back.
_REDELIVER = {"automations.change_delivery"}
# Sign-in security (the page /security/logins/): lifting sign-in locks and resetting a member's second factor.
_KEEP_SIGN_IN = {"portal.unlock_login", "portal.reset_second_factor"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.AUTOMATION_LEAD: frozenset(
        _READ_REGISTRY | _BUILD_VERSIONS | _PROPOSE | _SUSPEND | _READ_WORK | _SEND_WORK | _KEEP_MASTER_DATA
        | _READ_LEITSTAND | {
            "portal.add_membership", "portal.change_membership",
            "automations.add_usecase", "automations.change_usecase", "automations.change_tenantpolicy",
            "automations.change_escalation", "reviews.add_trainingrecord", "reviews.view_trainingrecord",
            "reviews.view_oversight",
        } | _REVIEW_USE_CASES),
    # A department owner changes the use cases granted to them (object permissions), not every one.
    Role.DEPARTMENT_OWNER: frozenset(
        _READ_REGISTRY | _PROPOSE | _SUSPEND | _READ_WORK | _SEND_WORK | _KEEP_MASTER_DATA | _REVIEW_USE_CASES
        | _READ_LEITSTAND | {
            "automations.add_usecase", "reviews.view_oversight",
        }),
    Role.IT_OPERATOR: frozenset(_READ_REGISTRY | _PROPOSE | _READ_WORK | _SEND_WORK | _KEEP_MASTER_DATA
                                | _KEEP_PROCESSOR_KEYS | _REDELIVER | _REVIEW_USE_CASES | _READ_LEITSTAND),
    Role.SECURITY_OFFICER: frozenset(_READ_REGISTRY | _PROPOSE | _SUSPEND | _KEEP_PROCESSOR_KEYS | _REVIEW_USE_CASES
                                     | _KEEP_SIGN_IN | _READ_LEITSTAND),
    Role.DATA_PROTECTION_OFFICER: frozenset(_READ_REGISTRY | _PROPOSE | _SUSPEND | _READ_WORK | _READ_AUDIT
                                            | _HANDLE_REQUESTS | _REVIEW_USE_CASES
                                            | {"automations.change_tenantpolicy"}),
    Role.WORKS_COUNCIL: frozenset(_READ_REGISTRY | {"audit.view_employee_measures", "reviews.view_oversight"}),
    # A clerk works the queues granted to them, per queue or per team (object permissions), none by role.
    Role.CLERK: frozenset(_READ_WORK | _SEND_WORK | {
        "portal.view_tenant", "automations.view_usecase",
    }),
    Role.AUDITOR: frozenset(_READ_REGISTRY | _READ_WORK | _READ_AUDIT | _READ_LEITSTAND | {"reviews.view_oversight"}),
}


# Roles that sign in with a second factor (TOTP, settings TWO_FACTOR_ENFORCED), like every superuser: they
# change what runs, keep keys and connectors, control and read the audit trail.
SECOND_FACTOR_ROLES = frozenset({Role.AUTOMATION_LEAD, Role.IT_OPERATOR, Role.SECURITY_OFFICER,
                                 Role.DATA_PROTECTION_OFFICER})

# Whose reads of work (items, runs, queues, tasks) reach the whole tenant: the core team, IT, the DSB and
# the auditors. Everyone else holding a view permission on work reads what their object permissions
# open: a clerk the queues granted to them, a department owner the use cases they own (NetBox's
# restrict(user, action); the selectors apply it).
TENANT_WIDE_WORK_READERS = frozenset({Role.AUTOMATION_LEAD, Role.IT_OPERATOR, Role.DATA_PROTECTION_OFFICER,
                                      Role.AUDITOR})

# Roles whose permissions on use cases reach only the use cases of the holder's own departments (those they
# own: named as the department owner or granted, and the others of those departments): a department owner
# suspends, proposes changes to and approves for their departments' use cases only. The same permission
# from any other role (the automation lead, ISB, DSB, IT) reaches the whole tenant.
DEPARTMENT_BOUND_ROLES = frozenset({Role.DEPARTMENT_OWNER})


def permissions_for_roles(roles: list[str]) -> set[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return granted


# --- Who may grant which role (docs/roles.md) ----------------------------------------------------------
# Granting a control role is a change request (kind `membership_roles`) that the roles below approve;
# the other roles, and taking a control role away, are changed directly by the automation lead.
CONTROL_ROLES = frozenset({Role.AUTOMATION_LEAD, Role.DATA_PROTECTION_OFFICER, Role.SECURITY_OFFICER,
                           Role.WORKS_COUNCIL, Role.AUDITOR})
GRANT_APPROVERS: dict[str, tuple[str, ...]] = {
    Role.AUTOMATION_LEAD: (Role.SECURITY_OFFICER, Role.DATA_PROTECTION_OFFICER),
    Role.DATA_PROTECTION_OFFICER: (Role.SECURITY_OFFICER, Role.WORKS_COUNCIL),
    Role.SECURITY_OFFICER: (Role.DATA_PROTECTION_OFFICER, Role.WORKS_COUNCIL),
    Role.WORKS_COUNCIL: (Role.WORKS_COUNCIL,),
    Role.AUDITOR: (Role.DATA_PROTECTION_OFFICER, Role.WORKS_COUNCIL),
}
# When every approving role of a grant is vacant, another automation lead approves: a grant never
# goes through without a second person.
GRANT_FALLBACK_APPROVER = Role.AUTOMATION_LEAD
# Roles that approve changes: their last holder keeps the role until someone else holds it.
APPROVING_ROLES = frozenset({Role.AUTOMATION_LEAD, Role.DATA_PROTECTION_OFFICER, Role.SECURITY_OFFICER,
                             Role.WORKS_COUNCIL})
# One person does not author changes and control them, unless the tenant's policy allows two roles.
AUTHOR_ROLES = frozenset({Role.AUTOMATION_LEAD, Role.DEPARTMENT_OWNER})
CONTROLLING_ROLES = frozenset({Role.DATA_PROTECTION_OFFICER, Role.SECURITY_OFFICER, Role.WORKS_COUNCIL,
                               Role.AUDITOR})


def control_roles_granted(before, after) -> list[str]:
    """The control roles `after` adds to `before`, in the order of Role."""
    added = set(after) - set(before or ())
    return [role for role in Role.values if role in added and role in CONTROL_ROLES]


def author_control_conflict(roles) -> tuple[list[str], list[str]]:
    """(author roles, controlling roles) when `roles` combine both kinds, else ([], [])."""
    authors = [r for r in Role.values if r in AUTHOR_ROLES and r in roles]
    controls = [r for r in Role.values if r in CONTROLLING_ROLES and r in roles]
    return (authors, controls) if authors and controls else ([], [])


def grant_approver_roles(granted) -> list[str]:
    """The roles that approve granting `granted` (before vacancies are taken into account)."""
    wanted = {approver for role in granted for approver in GRANT_APPROVERS.get(role, ())}
    return [role for role in Role.values if role in wanted]
