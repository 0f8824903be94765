"""Audit event types of training: labelled examples and classifier versions."""
from audit.registry import register

register("labelled_examples.imported", "Labelled examples were imported into a use case (counts, no texts).")
register("labelled_example.created", "A labelled example was created from a clerk's correction.")
register("use_case.choices_added", "Category values found in imported examples were added to a use case's choices.")
register("classifier_version.trained", "A classifier version was trained and stored with its evaluation.")
