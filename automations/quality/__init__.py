"""Quality made visible and enforced: threshold backtests on past decisions, the quality circuit breaker that
switches automatic application off, and the periodic reviews of each use case (docs/architecture.md)."""
