"""The database layer below every part: the PostgreSQL backend the portal runs on (`postgresql`), several writes in
one statement (`writes`, with `inserts` and `updates`) and reads compiled once (`prepared`)."""
