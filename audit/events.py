from audit.registry import register

PSEUDONYM_ERASED = register("pseudonym.erased", "A data subject's pseudonym key was destroyed (erasure).")
