from audit.registry import register

PSEUDONYM_ERASED = register("pseudonym.erased", "A data subject's pseudonym key was destroyed (erasure).")
DATABASE_ROLE_CONFIGURED = register(
    "database_role.configured",
    "The database runtime role was created or its privileges re-applied (audit tables: read and append only).",
)

# Data subject requests (audit chain)
register("data_subject.erased", "An erasure request was carried out (counts and record ids, no identifier).")
register("data_subject_request.received", "A data subject request was recorded (kind, due date, channel).")
register("data_subject_request.identity_checked", "The requester's identity was checked (by which means).")
register("data_subject_request.extended", "The deadline of a request was extended (Art. 12(3) GDPR), with a reason.")
register("data_subject_request.refused", "A data subject request was refused, with a reason (Art. 12(4) GDPR).")
register("data_subject_request.reminded", "The data protection officers were reminded of a request's deadline.")
register("data_subject_access.answered", "An access request was answered with an export of the automated decisions.")
register("work_item.restricted", "Processing of a work item was restricted (Art. 18 GDPR) instead of erasing it.")
register("work_item.retention_deleted", "A work item was deleted at the end of its use case's retention period.")

register("legal_hold.placed", "The DSB placed a legal hold (scope and reference; a person by pseudonym only).")
register("legal_hold.lifted", "The data protection officer lifted a legal hold.")

# The audit log itself
register("audit_checkpoint.signed", "Signed checkpoints of the chain heads were written to the checkpoint folder.")
register("audit.purged", "Audit events older than the retention period were removed after a signed anchor.")
register("audit_verification.ran", "The hash chains were verified.")
register("audit_export.created", "Audit or access events were exported for a filter.")

# Access events (access chains): who opened whose personal data, and why
register("personal_data.viewed", "Someone opened a record or document with personal data.")
register("pseudonym.revealed", "The person behind a pseudonym was shown to the data protection officer.")
register("data_subject.searched", "The data protection officer looked up everything stored about a person.")
register("data_subject.exported", "The automated decisions about a person were exported (access request).")
