"""Operations: health checks, Prometheus metrics, worker heartbeats and the answers the portal gives while
its database or broker cannot be reached."""
