"""Builds a second German test set from text that is on every Debian machine: the German translations
of programs' messages (/usr/share/locale/de/LC_MESSAGES/*.mo), labelled with the program they belong to.
Real German sentences, short and technical, with overlapping vocabulary between programs; written in the
10kGNAD layout ('label;'text'' lines) that classifier_check.py's `split ... gnad` reads, so it stands in
for the news set imported as `service-tickets` with the department as the queue.

  python bench/classifier_corpus_messages.py OUT.csv [PER_PROGRAM]
"""
import csv
import gettext
import random
import sys
from pathlib import Path

PROGRAMS = ["coreutils", "git", "postgres-15", "gnupg2", "dpkg", "bash", "libc", "gawk", "wget", "tar", "apt",
            "glib20", "mit-krb5", "psql-15", "gettext-tools", "shadow"]
ROOT = Path("/usr/share/locale/de/LC_MESSAGES")


def messages(program: str) -> list[str]:
    path = ROOT / f"{program}.mo"
    if not path.exists():
        return []
    with open(path, "rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog
    out = []
    for key, value in catalog.items():
        text = value if isinstance(value, str) else ""
        text = " ".join(text.replace("%s", " ").replace("%d", " ").split())
        if key and len(text) >= 25 and "'" not in text:
            out.append(text)
    return sorted(set(out))


def main(out: str, per_program: str = "400") -> None:
    rng = random.Random(11)
    rows = []
    for program in PROGRAMS:
        texts = messages(program)
        rng.shuffle(texts)
        rows += [(program.split("-")[0], t) for t in texts[: int(per_program)]]
    rng.shuffle(rows)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";", quotechar="'", quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerows(rows)
    print(f"{len(rows)} messages of {len({r[0] for r in rows})} programs -> {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
