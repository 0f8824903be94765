"""What a target answered to one delivery attempt: the receipt's content, whatever the connector's type."""
from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveryAnswer:
    ok: bool
    status_code: int | None
    latency_ms: int
    excerpt: str
    error: str
    # Retrying cannot help (a recipient the mail server refuses): the delivery becomes a dead letter at once,
    # and the connector's circuit is not blamed for it.
    permanent: bool = False
    # Where the result went, for the audit trail (a file's name; never an e-mail address).
    target: str = ""
