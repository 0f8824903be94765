"""The German catalogue that ships is the one the sources say: the committed django.mo holds exactly what
django.po translates (a .po edited without compiling would leave the UI in English), and msgfmt finds no
error in the .po (duplicate entries, broken placeholders)."""
import gettext
import subprocess
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[2] / "portal" / "locale" / "de" / "LC_MESSAGES"


def catalogue(path: Path) -> dict:
    with path.open("rb") as stream:
        return dict(gettext.GNUTranslations(stream)._catalog)


def test_the_committed_catalogue_is_compiled_from_the_po_file(tmp_path):
    compiled = tmp_path / "django.mo"
    result = subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(LOCALE / "django.po")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    fresh, committed = catalogue(compiled), catalogue(LOCALE / "django.mo")
    assert {k: v for k, v in fresh.items() if committed.get(k) != v} == {}
    assert set(committed) - set(fresh) == set()
