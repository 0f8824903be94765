"""Registry state the integration tests share, built through the real services (also in subprocesses)."""
from tests.automations.factories import make_rules_use_case


def live_use_case(tenant, team, *, key="belege", delay=0.0, status="production"):
    """A document classification use case on the rules engine, live through approved change requests;
    its engine takes `delay` seconds per item in the test worker (worker_hooks.py)."""
    return make_rules_use_case(tenant, team, key=key, status=status, parameters={"test_delay_seconds": delay})
