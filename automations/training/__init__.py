"""Training: labelled examples, the classifier training service and its task, classifier versions
(docs/architecture.md)."""
