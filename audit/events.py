from audit.registry import register

PSEUDONYM_ERASED = register("pseudonym.erased", "A data subject's pseudonym key was destroyed (erasure).")
DATABASE_ROLE_CONFIGURED = register(
    "database_role.configured",
    "The database runtime role was created or its privileges re-applied (audit tables: read and append only).",
)
