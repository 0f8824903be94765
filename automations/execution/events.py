"""Audit event types of execution: items, runs, escalations, master data, dry runs and the playground."""
from audit.registry import register
from portal import dispatch

register("work_item.received", "A work item arrived (API, upload, e-mail, DMS).")
register("work_items.imported", "A batch of work items was imported (JSON Lines); the event names every item.")
register("work_item.read", "The files of a work item were read to text (text layer, OCR, e-mail).")
register("work_item.held", "A work item was held because its use case is suspended.")
register("work_item.released", "A held work item was released after the use case resumed.")
register("work_item.routed", "Routing decided what happens with an item's results.")
register("work_item.finalised", "A work item became final (applied or rejected) by a person's decision.")
register("work_item.acknowledged", "A target system took a final work item.")
register("run.started", "A pipeline run started on a work item.")
register("run.finished", "A pipeline run finished.")
register("run.failed", "A pipeline run failed; it is retried or escalated.")
register("run.reaped", "A run stuck past its lease was picked up by the reaper.")
register("escalation.created", "An item was escalated to the use case's escalation contact.")
register("escalation.acknowledged", "An escalation was acknowledged.")
register("escalation.closed", "An escalation was closed.")
register("master_record.imported", "Master data was imported.")
register("master_record.changed", "A master data record was created or changed.")
register("master_data.viewed", "A person saw a page of master data, one event per page (access chain).")
register("prompt_playground.ran", "A prompt version was tried in the playground (no work item).")
register("dry_run.started", "A release was tried on sample items without applying anything.")

# Announcements to the layers above (portal.dispatch): the review layer queues routed items for people.
dispatch.declare("work_item.routed", "Routing decided an item's outcome (review, clarification, applied, held); "
                 "inside the routing transaction. A pipeline run passes the tenant's `sample_check_share` as it read "
                 "it with its lock.", required=True)
dispatch.declare("work_item.finalised", "An item became final (applied automatically or by a clerk, or "
                 "rejected; a dry run's item too, `item.is_dry_run`); inside that transaction, so that results for "
                 "target systems are queued with it. A pipeline run passes `delivery_connectors_named`, whether the "
                 "use case names delivery connectors, as it read it with its lock.")
dispatch.declare("work_item.failed", "An item failed after its last attempt and is escalated; it needs "
                 "clarification by a person. Inside the failing transaction.", required=True)
