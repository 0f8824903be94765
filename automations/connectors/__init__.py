"""Connectors: work arriving from mailboxes and folders, results leaving for ERP, CRM and DMS (catalogue
entries of kind `connector`; docs/architecture.md)."""
