"""What a candidate may upload as a practical answer: the item must take uploads, the type must
be one the task names, the content must be what its name says, and it must be small enough.

Pure: the service stores what passes. Every refusal names the file and says how to fix it.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import zipfile
from dataclasses import dataclass

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_ITEM = 5
MAX_NAME_CHARS = 100
# Content checks by extension: office files and zips are zip archives; images and PDFs start
# with their signature; text must be text. Types not listed here are refused.
ZIP_TYPES = frozenset({".zip", ".xlsx", ".docx", ".pptx"})
SIGNATURES = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".pdf": (b"%PDF-",),
}
TEXT_TYPES = frozenset({".txt", ".csv", ".md", ".html", ".htm", ".css", ".js", ".json"})
KNOWN_TYPES = ZIP_TYPES | frozenset(SIGNATURES) | TEXT_TYPES


class UploadError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Upload:
    name: str
    size: int
    sha256: str


def clean_name(raw: str) -> str:
    """The file's own name without any folder a browser may send, NFC, no control characters."""
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if not name or name in (".", "..") or any(unicodedata.category(c)[0] == "C" for c in name):
        raise UploadError("bad_file", f"文件名“{raw[:40]}”无效：请改用普通的文件名再上传")
    if len(name) > MAX_NAME_CHARS:
        raise UploadError("bad_file", f"文件名超过 {MAX_NAME_CHARS} 个字符：请改短后再上传")
    return name


def extension(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


def check_upload(
    raw_name: str, data: bytes, accepts: bool, types: tuple[str, ...], others: tuple[str, ...]
) -> Upload:
    """Check one file for an item that ``accepts`` uploads of ``types`` (e.g. ``.xlsx``), given
    the names of the files already stored for the item (``others``); what to store."""
    if not accepts:
        raise UploadError("no_upload", "本题不需要上传文件：请在答题框中作答")
    name = clean_name(raw_name)
    ext = extension(name)
    allowed = tuple(t.lower() for t in types) or tuple(sorted(KNOWN_TYPES))
    if ext not in allowed or ext not in KNOWN_TYPES:
        raise UploadError("bad_file", f"“{name}”的类型不对：本题只接受 {'、'.join(allowed)} 文件")
    if not data:
        raise UploadError("bad_file", f"“{name}”是空文件：请保存后再上传")
    if len(data) > MAX_FILE_BYTES:
        raise UploadError(
            "too_large", f"“{name}”超过 {MAX_FILE_BYTES // 1024 // 1024} MB：请压缩或删减后再上传"
        )
    if name not in others and len(others) >= MAX_FILES_PER_ITEM:
        raise UploadError(
            "too_many", f"本题最多上传 {MAX_FILES_PER_ITEM} 个文件：请先删除不需要的文件"
        )
    if not _looks_like(ext, data):
        raise UploadError("bad_file", f"“{name}”的内容与扩展名 {ext} 不符：文件可能已损坏或改过名")
    return Upload(name, len(data), hashlib.sha256(data).hexdigest())


def _looks_like(ext: str, data: bytes) -> bool:
    if ext in ZIP_TYPES:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return archive.testzip() is None
        except (zipfile.BadZipFile, ValueError, OSError):
            return False
    if ext in SIGNATURES:
        return data.startswith(SIGNATURES[ext])
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            data.decode("gb18030")  # Excel in Chinese Windows saves CSV in GBK
        except UnicodeDecodeError:
            return False
    return b"\x00" not in data
