from audit.registry import register

register("demo_history.created", "The quick start wrote weeks of demo history in bulk (items, runs, reviews, "
         "escalations, deliveries with past times), not through the pipeline; the details say how much.")
