"""Execution: intake, work items and their files, master data, the step pipeline and its run service, routing,
escalations, results for target systems, dry runs, the prompt playground and the language model call records
(docs/architecture.md)."""
