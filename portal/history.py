"""django-simple-history rows carry the acting user and a reason, set explicitly by services, so that
they are right also outside a request (Celery tasks, management commands)."""
from audit.actors import as_actor


def stamp(instance, *, actor, reason: str):
    instance._history_user = as_actor(actor).user
    instance._change_reason = reason
    return instance
