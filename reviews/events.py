from audit.registry import register

register("review_queue.created", "A review or clarification queue was created.")
register("review_task.created", "An item was put before a person for review or clarification.")
register("review_task.decided", "A person decided a review task.")
