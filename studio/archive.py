"""The one reader of uploaded .zip archives (Evaluate tab uploads, listening-test zips).

Everything is checked from the archive's directory before a byte is decompressed: members
that would land outside the upload folder (`../`, absolute or drive paths, backslashes),
links, more files than allowed, and archives whose uncompressed size or per-member
compression ratio is out of bounds (zip bombs) refuse the whole upload with a message naming
the limit and its environment variable. Members of other kinds (and hidden files such as
`__MACOSX/`) are skipped and counted. Extraction writes only to paths built here, under the
destination, and reads each member with a byte cap, so a member lying about its size stops there.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from studio.errors import UploadError
from studio.limits import UploadLimits

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Member:
    path: PurePosixPath  # relative, normalised, no `..`
    info: zipfile.ZipInfo


@dataclass(frozen=True)
class ZipListing:
    members: tuple[Member, ...]  # the ones with a suffix that was asked for, in archive order
    skipped: int  # files of other kinds, and hidden ones (__MACOSX, .DS_Store)


def check_upload_size(paths: list[Path], limits: UploadLimits) -> None:
    """Refuse uploads larger, together, than STUDIO_MAX_UPLOAD_MB."""
    size = sum(Path(p).stat().st_size for p in paths)
    if size > limits.max_upload_mb * 2 ** 20:
        raise UploadError(limits.exceeded("max_upload_mb", f"the upload is {size / 2 ** 20:.1f} MB"))


@contextmanager
def open_zip(archive: Path, keep: tuple[str, ...], limits: UploadLimits) -> Iterator[tuple[zipfile.ZipFile, ZipListing]]:
    """The open archive and its checked listing of members whose suffix is in `keep` (lower case, with dot)."""
    check_upload_size([Path(archive)], limits)
    try:
        with zipfile.ZipFile(archive) as zipped:
            yield zipped, checked_listing(zipped.infolist(), keep, limits)
    except zipfile.BadZipFile:
        raise UploadError(f"{Path(archive).name} is not a readable .zip archive; make one with "
                          "`zip -r data.zip folder/`") from None


def checked_listing(infos: list[zipfile.ZipInfo], keep: tuple[str, ...], limits: UploadLimits) -> ZipListing:
    members, skipped, total = [], 0, 0
    for info in infos:
        path = safe_path(info)
        total += info.file_size
        if info.is_dir():
            continue
        ratio = info.file_size / info.compress_size if info.compress_size else (float("inf") if info.file_size else 0)
        if ratio > limits.max_zip_ratio:
            raise UploadError(limits.exceeded("max_zip_ratio", f"{info.filename} unpacks {ratio:.0f}× its packed "
                                              "size, which is how zip bombs look; the archive was refused"))
        hidden = any(part.startswith(".") or part == "__MACOSX" for part in path.parts)
        if hidden or path.suffix.lower() not in keep:
            skipped += 1
        else:
            members.append(Member(path, info))
    if total > limits.max_unzipped_mb * 2 ** 20:
        raise UploadError(limits.exceeded("max_unzipped_mb", f"the archive unpacks to {total / 2 ** 20:.0f} MB"))
    audio = sum(1 for m in members if m.path.suffix.lower() not in (".txt", ".lab", ".jsonl", ".json"))
    if audio > limits.max_files:
        raise UploadError(limits.exceeded("max_files", f"the archive holds {audio} audio files"))
    return ZipListing(tuple(members), skipped)


def safe_path(info: zipfile.ZipInfo) -> PurePosixPath:
    """The member's path inside the upload folder; `UploadError` for links and paths that would leave it."""
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UploadError(f"{name} is a link; archives with links are refused (zip the files themselves)")
    path = PurePosixPath(name)
    if "\\" in name or path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise UploadError(f"{name} would land outside the upload folder; archives with ../ or absolute paths "
                          "are refused")
    return path


def read_member(zipped: zipfile.ZipFile, member: Member) -> bytes:
    """A member's bytes, never more than its declared size."""
    try:
        with zipped.open(member.info) as source:
            data = source.read(member.info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as error:
        # bad CRC or deflate data, a truncated member, a password (RuntimeError), an unknown compression method
        raise UploadError(f"{member.info.filename} cannot be unpacked ({str(error)[:80]}); zip the files again "
                          "without a password") from None
    if len(data) > member.info.file_size:
        raise UploadError(f"{member.info.filename} holds more than its declared size; the archive was refused")
    return data


def extract(zipped: zipfile.ZipFile, listing: ZipListing, destination: Path) -> list[Path]:
    """Write the listed members under `destination` (paths already checked); return the written files."""
    destination = destination.resolve()
    written = []
    for member in listing.members:
        target = destination.joinpath(*member.path.parts)
        if destination not in target.resolve().parents:  # belt and braces: safe_path already refused these
            raise UploadError(f"{member.info.filename} would land outside the upload folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(read_member(zipped, member))
        written.append(target)
    return written
