"""The two kinds of hash chain: audit events (what was done) and access events (who opened whose personal
data). Both hash alike (audit.chain), append alike (audit.services.events) and verify alike (audit.verification);
a Stream says which tables one kind lives in and how its chains are named."""
from dataclasses import dataclass

from audit.choices import Stream as StreamKey
from audit.models import (
    SYSTEM_CHAIN,
    AccessChainHead,
    AccessEvent,
    AuditChainHead,
    AuditEvent,
    ChainedEvent,
    ChainHead,
)

ACCESS_SUFFIX = "/access"


@dataclass(frozen=True)
class Stream:
    key: str
    event_model: type[ChainedEvent]
    head_model: type[ChainHead]
    suffix: str  # appended to the tenant id (chain key) and to the tenant's slug (label)

    def chain_key(self, tenant) -> str:
        if tenant is None:
            if self.suffix:
                raise ValueError(f"{self.key} events always belong to a tenant.")
            return SYSTEM_CHAIN
        return f"{tenant.pk}{self.suffix}"

    def chain_key_for(self, tenant_id) -> str:
        return f"{tenant_id}{self.suffix}"

    def label(self, slug: str) -> str:
        return f"{slug}{self.suffix}"

    def tenant_id_of(self, chain: str) -> str:
        return chain.removesuffix(self.suffix) if self.suffix else chain


AUDIT = Stream(StreamKey.AUDIT, AuditEvent, AuditChainHead, "")
ACCESS = Stream(StreamKey.ACCESS, AccessEvent, AccessChainHead, ACCESS_SUFFIX)
STREAMS = {AUDIT.key: AUDIT, ACCESS.key: ACCESS}


def stream_of_chain(chain: str) -> Stream:
    return ACCESS if chain.endswith(ACCESS_SUFFIX) else AUDIT


def chain_key(tenant) -> str:
    """The chain a tenant's events go to (the system chain for events without a tenant)."""
    return str(tenant.pk) if tenant is not None else SYSTEM_CHAIN
