"""The studio's codebook downloads carry the file name that the .sav/.dta file labels give."""

from __future__ import annotations

import pyreadstat

from tests.studio.conftest import SLUG


def test_codebook_downloads_are_named_as_the_spss_and_stata_file_labels_say(client_for, tmp_path):
    client = client_for("analyst@example.org")
    sav = tmp_path / "data.sav"
    sav.write_bytes(client.get(f"/studio/{SLUG}/download/sav").data)
    _, meta = pyreadstat.read_sav(str(sav))
    named = meta.file_label.rsplit("codebook: ", 1)[1]
    assert named == f"{SLUG}-codebook.md"
    for fmt, name in (("codebook-md", named), ("codebook-json", f"{SLUG}-codebook.json")):
        response = client.get(f"/studio/{SLUG}/download/{fmt}")
        assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
