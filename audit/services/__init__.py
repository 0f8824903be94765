"""Writes of the audit app, one module per concept: recording audit and access events (events), pseudonyms,
data subject requests, access answers, erasure, retention, the anchored purge, checkpoints, maintenance
transactions, export and database roles. Each takes the actor and audits inside its transaction."""
