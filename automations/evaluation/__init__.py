"""Evaluation: test cases per use case and evaluation runs of releases against them (the evidence a move of the
`production` label needs). Records and the verdict sit low (registry's change control reads them); running an
evaluation sits above execution, whose pipeline it runs as a dry run does."""
