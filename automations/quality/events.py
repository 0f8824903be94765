"""Audit event types of quality: the circuit breaker, backtests attached to change requests, periodic reviews."""
from audit.registry import register

register("quality_breaker.tripped", "Automatic application of a use case switched itself off: its figures missed "
         "the quality targets (correction rate or automatic share); owner and escalation contact were told.")
register("quality_breaker.reset", "Automatic application of a use case was switched back on by an approved change "
         "request.")
register("threshold_backtest.attached", "Proposed thresholds were replayed on past decisions and the figures kept "
         "with the change request.")
register("use_case_review.due", "A use case's periodic review became due; its owners were told.")
register("use_case_review.completed", "A periodic review was completed with its checklist, figures and outcome.")
