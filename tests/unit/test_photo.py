"""Candidate photographs are re-encoded to one small upright 3:4 JPEG, or refused clearly."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from examsvc.registration.photo import MAX_PHOTO_BYTES, PhotoError, normalize_photo


def _image(size: tuple[int, int], fmt: str, exif_rotation: int | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    if exif_rotation is None:
        image.save(out, fmt)
    else:
        exif = Image.Exif()
        exif[0x0112] = exif_rotation  # Orientation
        image.save(out, fmt, exif=exif)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_any_photo_becomes_a_360_by_480_jpeg(fmt: str) -> None:
    with Image.open(io.BytesIO(normalize_photo(_image((1200, 700), fmt)))) as out:
        assert (out.format, out.size) == ("JPEG", (360, 480))


def test_the_camera_orientation_is_applied_and_exif_dropped() -> None:
    sideways = _image((800, 600), "JPEG", exif_rotation=6)  # taken with the phone turned
    with Image.open(io.BytesIO(normalize_photo(sideways))) as out:
        assert out.size == (360, 480) and not out.getexif()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "没有收到照片"),
        (b"GIF89a not really", "不是可读取的图片"),
        (b"x" * (MAX_PHOTO_BYTES + 1), "超过 4 MB"),
    ],
)
def test_unusable_uploads_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(PhotoError, match=message):
        normalize_photo(data)


def test_other_image_formats_are_named() -> None:
    out = io.BytesIO()
    Image.new("RGB", (30, 40)).save(out, "GIF")
    with pytest.raises(PhotoError, match="GIF"):
        normalize_photo(out.getvalue())
