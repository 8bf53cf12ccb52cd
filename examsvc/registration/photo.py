"""Candidate photographs: any camera JPEG or PNG in, one small 3:4 JPEG out.

Re-encoding drops EXIF (location, device) and anything hidden after the image data, and the
fixed size keeps tickets and the door check-in page light.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTO_BYTES = 4 * 1024 * 1024
SIZE = (360, 480)  # 3:4, as on ID photographs (一寸照)
FORMATS = {"JPEG", "PNG"}


class PhotoError(ValueError):
    """The upload is not a usable photograph; the message says why and what to send."""


def normalize_photo(data: bytes) -> bytes:
    """The photograph turned upright, centre-cropped to 3:4 and re-encoded as a 360×480 JPEG."""
    if not data:
        raise PhotoError("没有收到照片文件：请选择 JPG 或 PNG 格式的照片")
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoError(f"照片 {len(data) / 1048576:.1f} MB，超过 4 MB：请压缩后再上传")
    try:
        with Image.open(io.BytesIO(data)) as raw:
            if raw.format not in FORMATS:
                raise PhotoError(f"照片格式为 {raw.format}，应为 JPG 或 PNG")
            if raw.width * raw.height > 40_000_000:
                raise PhotoError("照片像素过多：请使用 4000 万像素以内的照片")
            image = ImageOps.exif_transpose(raw).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise PhotoError("文件不是可读取的图片：请上传 JPG 或 PNG 格式的照片") from exc
    fitted = ImageOps.fit(image, SIZE, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    fitted.save(out, "JPEG", quality=85)
    return out.getvalue()
