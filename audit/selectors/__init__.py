"""Reads of the audit app: the event log and its filters (events), the data subjects found in a tenant (subjects),
the records of processing and the works council's view."""
