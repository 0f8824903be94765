"""The database layer below every part: the PostgreSQL backend the portal runs on (`postgresql`) and writing
several new rows in one statement (`inserts`)."""
