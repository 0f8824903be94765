"""Writes of the automations app, by concept: use_cases, versions, changes (and, later, intake and
pipeline). Every service takes the actor and audits inside its transaction."""
