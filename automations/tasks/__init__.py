"""Celery tasks of the automations app, one module per concept; thin: they take primary keys, load,
and call a service."""
