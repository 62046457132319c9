"""The one zip reader: crafted archives (traversal, links, bombs, mixed members) and the upload limits."""

from __future__ import annotations

import stat
import zipfile

import pytest

from studio.archive import check_upload_size, extract, open_zip
from studio.errors import UploadError
from studio.limits import UploadLimits
from tests.conftest import tone

KEEP = (".wav", ".txt")
WAV = tone(0.5).to_wav_bytes()


def make_zip(path, members: dict[str, bytes], compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)
    return path


@pytest.mark.parametrize("name", ["../evil.wav", "data/../../evil.wav", "/etc/evil.wav", "C:/evil.wav",
                                  "data\\..\\evil.wav"])
def test_members_outside_the_upload_folder_refuse_the_archive(tmp_path, name):
    archive = make_zip(tmp_path / "a.zip", {"ok.wav": WAV, name: WAV})
    with pytest.raises(UploadError, match="outside the upload folder"):
        with open_zip(archive, KEEP, UploadLimits()):
            pass


def test_a_link_refuses_the_archive(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("ok.wav", WAV)
        link = zipfile.ZipInfo("passwd.txt")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zipped.writestr(link, "/etc/passwd")
    with pytest.raises(UploadError, match="passwd.txt is a link"):
        with open_zip(archive, KEEP, UploadLimits()):
            pass


def test_a_zip_bomb_is_refused_by_ratio_and_by_unpacked_size(tmp_path):
    bomb = make_zip(tmp_path / "bomb.zip", {"zeros.wav": bytes(20 << 20)}, zipfile.ZIP_DEFLATED)
    with pytest.raises(UploadError, match=r"zip bombs.*STUDIO_MAX_ZIP_RATIO"):
        with open_zip(bomb, KEEP, UploadLimits()):
            pass
    big = make_zip(tmp_path / "big.zip", {"a.wav": WAV, "b.wav": WAV})
    with pytest.raises(UploadError, match=r"unpacks to 0 MB.*STUDIO_MAX_UNZIPPED_MB"):
        with open_zip(big, KEEP, UploadLimits(max_unzipped_mb=0.01)):
            pass


def test_mixed_members_keep_audio_and_text_and_count_the_rest(tmp_path):
    archive = make_zip(tmp_path / "mixed.zip", {
        "set/a.wav": WAV, "set/a.txt": b"hello", "set/readme.md": b"#", "set/photo.png": b"png",
        "__MACOSX/set/._a.wav": b"junk", "set/.DS_Store": b"junk", "set/sub/": b""})
    with open_zip(archive, KEEP, UploadLimits()) as (zipped, listing):
        assert [str(m.path) for m in listing.members] == ["set/a.wav", "set/a.txt"]
        assert listing.skipped == 4
        written = extract(zipped, listing, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == ["set/a.txt", "set/a.wav"]
    assert (tmp_path / "out" / "set" / "a.txt").read_text() == "hello"


def test_file_count_and_upload_size_name_their_limit(tmp_path):
    archive = make_zip(tmp_path / "many.zip", {"a.wav": WAV, "b.wav": WAV, "a.txt": b"x"})
    with pytest.raises(UploadError, match=r"holds 2 audio files; the limit is 1 \(set STUDIO_MAX_UPLOAD_FILES"):
        with open_zip(archive, KEEP, UploadLimits(max_files=1)):
            pass
    with pytest.raises(UploadError, match=r"the upload is 0.0 MB; the limit is 1e-05 \(set STUDIO_MAX_UPLOAD_MB"):
        check_upload_size([archive], UploadLimits(max_upload_mb=0.00001))
    (tmp_path / "not.zip").write_bytes(b"plain text")
    with pytest.raises(UploadError, match="not a readable .zip"):
        with open_zip(tmp_path / "not.zip", KEEP, UploadLimits()):
            pass


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_UPLOAD_FILES", "7")
    monkeypatch.setenv("STUDIO_RUN_TTL_HOURS", "0.5")
    limits = UploadLimits.from_env()
    assert (limits.max_files, limits.run_ttl_hours, limits.max_systems) == (7, 0.5, 3)
    monkeypatch.setenv("STUDIO_MAX_SYSTEMS", "two")
    from studio.errors import ConfigError
    with pytest.raises(ConfigError, match="STUDIO_MAX_SYSTEMS must be a whole number"):
        UploadLimits.from_env()
