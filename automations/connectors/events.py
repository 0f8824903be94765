"""Audit event types of the connectors: credentials, deliveries and their circuit breakers."""
from audit.registry import register

register("connector_secret.set", "A connector's credential was stored (encrypted; audited by fingerprint only).")
register("connector_secret.cleared", "A connector's credential was removed.")
register("connector_secret.rotated", "Stored connector credentials were re-encrypted with the current field key.")
register("delivery.delivered", "A result reached its target system (the receipt names status code and latency).")
register("delivery.dead", "A delivery failed its last attempt; IT was escalated with the manual fallback.")
register("delivery.refused", "A delivery was refused: the connector is not approved for the use case's data "
                             "categories (or not active); IT was escalated.")
register("delivery.redelivered", "A dead or failed delivery was sent again by a person.")
register("connector_circuit.opened", "A connector's circuit breaker opened after repeated failures; IT was told.")
register("connector_circuit.half_opened", "A connector's circuit breaker lets one trial delivery through.")
register("connector_circuit.closed", "A connector's circuit breaker closed after a successful delivery.")
register("mail.refused", "A message of an intake mailbox was not processed (too large, a sender not allowed, "
                         "unreadable); it was moved to the failed folder with the reason.")
