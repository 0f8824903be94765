"""The registry: use cases and tenant policy, the catalogue and its processors, versioned records, releases
and labels, change control, registry import/export and the procedure documentation (docs/architecture.md)."""
