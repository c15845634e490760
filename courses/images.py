"""Images for lessons: an upload is checked to be a real image within the limits, re-encoded, and stored under a
name made of its content, through Django's storage API (settings.STORAGES["default"]).

Re-encoding keeps only the pixels: no metadata (a photo's location), nothing appended or hidden in the file
(a polyglot that is also HTML or a script), and the format the name says. SVG is refused rather than
sanitised: it is a document that can carry scripts, and a PNG export shows the same.
"""

import hashlib
import warnings
from dataclasses import dataclass
from io import BytesIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from courses.models import LessonImage

# Pillow's format name → the file's extension.
FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}
FOLDER = "lessons"


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    extension: str
    width: int
    height: int

    @property
    def name(self) -> str:
        """Its storage name: the content's hash, so the same image is stored once and its address never changes."""
        return f"{FOLDER}/{hashlib.sha256(self.data).hexdigest()[:32]}.{self.extension}"


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def check_image(upload) -> CheckedImage:
    """The upload as a re-encoded image, or a ValidationError saying why it is refused."""
    limit = settings.LESSON_IMAGE_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise _refuse(
            _("The file is %(size)d KB; an image may be at most %(limit)d KB.")
            % {"size": upload.size // 1024, "limit": limit // 1024},
            "too_large",
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _refuse(_("An image may be at most %(limit)d KB.") % {"limit": limit // 1024}, "too_large")
    if data.lstrip()[:5].lower() in (b"<?xml", b"<svg ") or (upload.name or "").lower().endswith(".svg"):
        raise _refuse(_("SVG images are refused: they can carry scripts. Export the image as PNG."), "svg")
    try:
        # Opening reads the header only: the size is known before any pixel is decoded.
        with Image.open(BytesIO(data)) as probe:
            kind, (width, height) = probe.format, probe.size
            # An animation is re-encoded frame by frame: its pixels are all its frames' (counted from the
            # frames' headers, nothing decoded).
            frames = getattr(probe, "n_frames", 1)
    except Image.DecompressionBombError:
        raise _refuse(
            _("The image has too many pixels: an image may have at most %(limit)d million.")
            % {"limit": settings.LESSON_IMAGE_MAX_PIXELS // 1_000_000},
            "too_many_pixels",
        ) from None
    except (UnidentifiedImageError, OSError, ValueError):
        kind = None
    if kind not in FORMATS:
        raise _refuse(_("This file is not an image the site can show: upload a PNG, JPEG, WebP or GIF."), "format")
    pixels = settings.LESSON_IMAGE_MAX_PIXELS
    if width * height > pixels:
        raise _refuse(
            _("The image is %(width)d × %(height)d pixels; an image may have at most %(limit)d million pixels.")  # noqa: RUF001
            % {"width": width, "height": height, "limit": pixels // 1_000_000},
            "too_many_pixels",
        )
    if frames > 1 and frames * width * height > pixels:
        raise _refuse(
            _(
                "The animation has %(frames)d frames of %(width)d × %(height)d pixels; an image may have at most "  # noqa: RUF001
                "%(limit)d million pixels in all its frames."
            )
            % {"frames": frames, "width": width, "height": height, "limit": pixels // 1_000_000},
            "too_many_pixels",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            data, width, height = _reencode(data, kind)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(_("The image is damaged or cut short: it could not be read."), "damaged") from None
    return CheckedImage(data=data, extension=FORMATS[kind], width=width, height=height)


def _reencode(data: bytes, kind: str) -> tuple[bytes, int, int]:
    out = BytesIO()
    with Image.open(BytesIO(data)) as image:
        if kind == "GIF" and getattr(image, "n_frames", 1) > 1:
            image.save(out, "GIF", save_all=True, loop=image.info.get("loop", 0))
            return out.getvalue(), image.width, image.height
        image.load()
        upright = ImageOps.exif_transpose(image)  # the photo as it was taken, once its metadata is gone
        if kind == "JPEG":
            upright.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
        elif kind == "PNG":
            upright.save(out, "PNG", optimize=True)
        elif kind == "WEBP":
            upright.save(out, "WEBP", quality=90, lossless=bool(image.info.get("lossless")))
        else:
            upright.save(out, "GIF")
        return out.getvalue(), upright.width, upright.height


@transaction.atomic
def store_image(*, upload, alt: str, uploaded_by=None):
    """Check ``upload``, store it and record it as a LessonImage with its alt text; the same image twice is one
    file (its name is its content's hash) and one row."""
    image = check_image(upload)
    if not default_storage.exists(image.name):
        saved = default_storage.save(image.name, ContentFile(image.data))
    else:
        saved = image.name
    record, _created = LessonImage.objects.get_or_create(
        file=saved,
        defaults={
            "alt": alt,
            "width": image.width,
            "height": image.height,
            "size": len(image.data),
            "original_name": (upload.name or "")[-200:],
            "uploaded_by": uploaded_by if uploaded_by is not None and uploaded_by.is_authenticated else None,
        },
    )
    return record
