from audit.registry import register

register("review_queue.created", "A review or clarification queue was created.")
register("review_task.created", "An item was put before a person for review or clarification.")
register("review_task.decided", "A person decided a review task.")
register("review_task.claimed", "A clerk took a review task.")
register("review_task.released", "A clerk gave a review task back to the queue.")
register("review_task.claim_expired", "A claim expired and the task returned to the queue.")
register("briefing.confirmed", "A clerk confirmed a use case's briefing.")
register("briefing.changed", "A use case's briefing went live in another version through a change request; its clerks "
         "were told, and confirm it again or keep their confirmation as the automation lead decided.")
register("briefing.acknowledged", "A clerk read what changed in a briefing they need not confirm again.")
register("training.recorded", "The core team recorded a clerk's training on a use case.")
register("review_queue.assigned", "A person was given the work permission on one review queue.")
register("work_item.viewed", "A person opened a work item with personal data (access chain).")
register("work_items.listed", "A person saw a page or list of work items with personal data, one event per page "
         "(access chain).")
register("work_item.file_viewed", "A person opened a work item's document with personal data (access chain).")
register("review_queue.unassigned", "A person's own work permission on one review queue was taken away.")
register("review_team.granted", "A person was added to a team: they work every review queue of the team (details "
         "say whether the queues hold personal data).")
register("review_team.revoked", "A person was taken out of a team and no longer works its review queues.")
