"""Audit event types of the registry: use cases, tenant policy, catalogue, versions, releases, change
control and processors."""
from audit.registry import register
from portal import dispatch

register("use_case.created", "A use case was documented (draft).")
register("use_case.updated", "A use case's documentation was edited.")
register("use_case.owner_granted", "A member was granted to change one use case (its owner; details say whether "
         "it processes personal data).")
register("use_case.owner_revoked", "A member's right to change one use case was taken away.")
register("use_case.suspended", "A use case was suspended (kill switch).")
register("use_case.status_changed", "A use case's status changed through a change request.")
register("tenant_policy.updated", "The tenant's controller details or data categories were edited.")
register("tenant_policy.changed", "A tenant control setting changed through a change request.")
register("catalogue_entry.changed", "A catalogue entry was added or changed through a change request.")
register("version.created", "A draft version (prompt, thresholds, guardrails, engine) was created.")
register("version.revised", "A draft version was revised by its author.")
register("version.submitted", "A version was submitted and is now immutable.")
register("release.created", "A release bundling exact versions was created.")
register("release_label.moved", "A release label (pilot, production) was moved.")
register("change_request.created", "A change request was proposed.")
register("change_request.approved", "An approver approved a change request in one role.")
register("change_request.rejected", "An approver rejected a change request.")
register("change_request.applied", "A fully approved change request was applied.")
register("change_request.withdrawn", "The author withdrew a change request.")
register("change_request.expired", "A change request expired without a decision.")
register("processor_secret.set", "A processor's API key was stored (encrypted; audited by fingerprint only).")
register("processor_secret.cleared", "A processor's API key was removed.")
register("processor_secret.rotated", "Stored processor API keys were re-encrypted with the current field key.")
register("processor_circuit.opened", "A processor's circuit breaker opened after repeated failures; IT was told.")
register("processor_circuit.half_opened", "A processor's circuit breaker lets one trial call through.")
register("processor_circuit.closed", "A processor's circuit breaker closed after a successful call.")

# Announcements to the layers above (portal.dispatch): execution holds or releases a use case's items.
dispatch.declare("use_case.suspended", "A use case was suspended; queued items must be held (after commit).")
dispatch.declare("use_case.status_changed", "A use case's status changed through a change request (before, after).")
dispatch.declare("quality_breaker.reset_approved", "A change request to switch a use case's automatic application "
                 "back on was approved (actor, use_case, change_request); quality resets the breaker in that "
                 "transaction.", required=True)
dispatch.declare("use_case.briefing_changed", "A change request changed what a use case's briefing is generated from "
                 "(actor, use_case, change_request, before, after, reconfirm); the review layer tells the clerks and, "
                 "unless reconfirm, keeps their confirmation valid.", required=True)
