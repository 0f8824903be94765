"""Audit event types of evaluation: test cases and evaluation runs."""
from audit.registry import register

register("test_case.created", "A test case was created (by hand, imported or taken from a reviewed item).")
register("test_case.updated", "A test case was edited (its earlier version is kept).")
register("test_case.retired", "A test case was retired: later evaluations leave it out.")
register("test_cases.imported", "Test cases were imported from a file (counts, no contents).")
register("evaluation.started", "An evaluation of a release against the use case's test cases was queued.")
register("evaluation.finished", "An evaluation finished, with its figures and whether it meets the quality targets.")
register("evaluation.failed", "An evaluation could not be carried out.")
