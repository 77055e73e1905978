"""reference/_ext/site_assets.py: the Font Awesome subset keeps every icon a page names."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "reference" / "_ext"))

import site_assets  # noqa: E402  (a Sphinx extension, importable from its folder only)

BUNDLE = ('var p={"sun":[512,512,[9728],"f185","M361.5 1.2z"],'
          '"magnifying-glass":[512,512,[128269,"search"],"f002","M416 208z"],'
          '"user":[448,512,[],"f007","M224 256z"],'
          '"duo":[512,512,[],"e000",["M1 1z","M2 2z"]]};')


def test_unused_icons_lose_their_outline_and_used_ones_keep_it():
    text, kept, emptied = site_assets.subset_icons(BUNDLE, {"sun", "search", "solid"})
    assert (kept, emptied) == (2, 2)
    assert '"sun":[512,512,[9728],"f185","M361.5 1.2z"]' in text
    assert '"M416 208z"' in text                          # kept through its alias "search"
    assert '"user":[448,512,[],"f007",""]' in text and '"duo":[512,512,[],"e000",""]' in text
    assert text.startswith("var p={") and text.endswith("};")


def test_icons_in_use_reads_pages_and_scripts_but_not_the_bundle(tmp_path):
    (tmp_path / "_static" / "scripts").mkdir(parents=True)
    bundle = tmp_path / "_static" / "scripts" / "fontawesome.js"
    bundle.write_text(BUNDLE + '"fa-user"', encoding="utf-8")
    (tmp_path / "index.html").write_text('<i class="fa-solid fa-sun"></i>', encoding="utf-8")
    (tmp_path / "_static" / "theme.js").write_text('icon("fa-xmark")', encoding="utf-8")
    assert site_assets.icons_in_use(tmp_path, bundle) == {"solid", "sun", "xmark"}
