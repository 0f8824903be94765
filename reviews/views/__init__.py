"""Clerk pages of the review queues, one module per concern (queues, tasks, files, briefings, oversight)."""
