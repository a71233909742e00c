"""Every string the interface shows has a Turkish translation."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def test_every_string_is_translated_to_turkish(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "N_",
         "--no-location", "-o", str(pot), "webapp", "templates"],
        cwd=ROOT, check=True, capture_output=True,
    )
    with open(pot, "rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with open(ROOT / "webapp/translations/tr/LC_MESSAGES/messages.po", "rb") as f:
        turkish = {m.id: m for m in read_po(f, locale="tr") if m.id}
    missing = sorted(str(i) for i in wanted if i not in turkish or not turkish[i].string
                     or turkish[i].fuzzy)
    assert missing == [], "add these to webapp/translations/tr/LC_MESSAGES/messages.po (make translations)"
