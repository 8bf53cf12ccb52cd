"""Uploads into a bank: checked files, workbooks and zipped YAML banks, imported all or nothing."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from werkzeug.datastructures import FileStorage

from ..auth.models import User
from ..errors import DomainError
from .model import BankData, BankFormatError, Issue, Location, safe_file_name
from .models import QuestionBank
from .services import ImportReport, bank_standard, export_bank, import_bank
from .xlsx_format import read_workbook
from .yaml_format import read_bank_dir

ALLOWED = {
    "materials": {
        ".html", ".htm", ".css", ".js", ".txt", ".md", ".csv", ".json", ".xlsx", ".docx",
        ".pdf", ".zip", ".svg", ".png", ".jpg", ".jpeg", ".gif",
    },
    "images": {".png", ".jpg", ".jpeg", ".gif", ".svg"},
}  # fmt: skip
MAGIC = {".png": b"\x89PNG", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff", ".gif": b"GIF8"}
ZIP_LIMIT = 64 * 1024 * 1024


def checked_upload(upload: FileStorage, kind: str, limit: int) -> bytes:
    """The bytes of an uploaded attachment, refused when too large or not of an allowed type."""
    name = upload.filename or ""
    suffix = PurePosixPath(name).suffix.lower()
    if not safe_file_name(name) or suffix not in ALLOWED[kind]:
        allowed = "、".join(sorted(ALLOWED[kind]))
        raise DomainError(f"文件“{name}”的类型不允许上传；允许的类型：{allowed}")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise DomainError(f"文件“{name}”超过 {limit // (1024 * 1024)} MB，请压缩后再上传")
    magic = MAGIC.get(suffix)
    if magic and not data.startswith(magic):
        raise DomainError(f"文件“{name}”的内容不是 {suffix} 图片，请检查文件")
    return data


def _target(bank: QuestionBank) -> BankData:
    return BankData(bank.code, bank.name, bank.level.certificate.code, bank.level.level)


def _same_bank(bank: QuestionBank, data: BankData, origin: str) -> None:
    expected = _target(bank)
    if (data.certificate, data.level) != (expected.certificate, expected.level):
        where = Location(origin)
        raise BankFormatError(
            [Issue(where, f"文件属于 {data.certificate}/{data.level}，不是本题库的等级")]
        )
    data.code, data.name = bank.code, bank.name


def _extract(archive: zipfile.ZipFile, into: Path, origin: str) -> None:
    total = 0
    for info in archive.infolist():
        total += info.file_size
        if not safe_file_name(info.filename.rstrip("/")) or total > ZIP_LIMIT:
            raise BankFormatError(
                [Issue(Location(origin, column=info.filename), "压缩包内路径无效或内容过大")]
            )
    archive.extractall(into)


def import_upload(bank: QuestionBank, upload: FileStorage, actor: User) -> ImportReport:
    """Read an uploaded .xlsx or .zip, check it against the bank's standard, then import it.

    Authors' uploads go to review; an organization admin's keep the status in the file.
    """
    origin = upload.filename or "upload"
    raw = upload.read()
    standard = bank_standard(bank)
    suffix = PurePosixPath(origin).suffix.lower()
    if suffix == ".xlsx":
        key = (bank.level.certificate.code, bank.level.level)
        standards = {key: standard} if standard else {}
        data, _ = read_workbook(raw, origin, standards, None, _target(bank))
    elif suffix == ".zip":
        data = _read_zip(raw, origin, standard, bank)
    else:
        raise BankFormatError(
            [Issue(Location(origin), "只能导入 .xlsx 工作簿或 .zip 压缩的 YAML 题库")]
        )
    _same_bank(bank, data, origin)
    status = None if "org_admin" in {str(r) for r in actor.role_set} else "review"
    return import_bank(data, actor, status)


def _read_zip(raw: bytes, origin: str, standard, bank: QuestionBank) -> BankData:  # type: ignore[no-untyped-def]
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile as exc:
        raise BankFormatError([Issue(Location(origin), "不是有效的 zip 压缩包")]) from exc
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _extract(archive, root, origin)
        found = sorted(root.glob("**/bank.yaml"))
        if not found:
            raise BankFormatError([Issue(Location(origin), "压缩包中找不到 bank.yaml")])
        data, _ = read_bank_dir(found[0].parent, standard=standard)
        return data


def export_for_download(bank: QuestionBank) -> BankData:
    return export_bank(bank)
