"""Images for lessons: real images within the limits are stored re-encoded under their content's hash and served
for a year; anything else is refused with a message and nothing is stored."""

import struct
import zlib
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from courses.models import LessonImage

pytestmark = pytest.mark.django_db

UPLOAD = "/admin/courses/lesson/upload-image/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def image_bytes(kind: str = "PNG", size=(40, 30), **save) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, kind, **save)
    return out.getvalue()


def upload(client, data: bytes, name: str = "cat.png", alt: str = "A red square"):
    return client.post(UPLOAD, {"upload": SimpleUploadedFile(name, data), "alt": alt})


def stored_files(media_root) -> list:
    return sorted(path for path in media_root.rglob("*") if path.is_file()) if media_root.exists() else []


@pytest.mark.parametrize(("kind", "extension"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp"), ("GIF", "gif")])
def test_an_image_is_stored_under_its_hash_and_its_markdown_returned(staff_client, media_root, kind, extension):
    response = upload(staff_client, image_bytes(kind), name=f"red.{extension}")
    assert response.status_code == 200, response.content
    image = LessonImage.objects.get()
    assert image.file.name.startswith("lessons/") and image.file.name.endswith(f".{extension}")
    assert (image.width, image.height, image.alt) == (40, 30, "A red square")
    assert response.json() == {"markdown": f"![A red square](/media/{image.file.name})", "url": image.file.url}
    with Image.open(media_root / image.file.name) as stored:
        assert stored.format == kind


def test_the_same_image_twice_is_one_file_and_one_row_described_as_typed_each_time(staff_client, media_root):
    """Review finding: the second upload got the first uploader's alt text in its Markdown."""
    upload(staff_client, image_bytes())
    second = upload(staff_client, image_bytes(), name="again.png", alt="Another description")
    assert LessonImage.objects.count() == 1 and len(stored_files(media_root)) == 1
    assert second.json()["markdown"].startswith("![Another description](/media/lessons/")


def test_a_polyglot_loses_everything_but_its_pixels(staff_client, media_root):
    """A PNG with HTML appended (a file that is also a page) is stored re-encoded: the script is gone."""
    polyglot = image_bytes() + b"<html><script>alert(document.cookie)</script></html>"
    assert upload(staff_client, polyglot).status_code == 200
    [stored] = stored_files(media_root)
    assert b"<script>" not in stored.read_bytes()


def test_a_photos_metadata_is_not_kept(staff_client, media_root):
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x8825] = {2: (37, 33, 0)}  # GPS latitude
    upload(staff_client, image_bytes("JPEG", exif=exif.tobytes()), name="photo.jpg")
    [stored] = stored_files(media_root)
    assert b"CameraMaker" not in stored.read_bytes()
    with Image.open(stored) as image:
        assert not image.getexif()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its few bytes of data could never fill (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def gif_of_frames(frames: int, size: tuple[int, int]) -> bytes:
    """An animation of plain frames: a few KB that take ``frames`` times the size in pixels to re-encode."""
    out = BytesIO()
    first, *rest = [Image.new("P", size, index % 2) for index in range(frames)]
    first.save(out, "GIF", save_all=True, append_images=rest)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (gif_of_frames(12, (2000, 2000)), "frames.gif", "12 frames of 2000 × 2000 pixels; an image may have"),  # noqa: RUF001
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "x.svg",
            "SVG images are refused",
        ),
        (b'<?xml version="1.0"?><svg/>', "x.png", "SVG images are refused"),
        (b"just text, not an image", "notes.png", "not an image the site can show"),
        (b"%PDF-1.7\n", "paper.png", "not an image the site can show"),
        (png_claiming(10_000, 5_000), "wide.png", "10000 × 5000 pixels; an image may have at most 40 million"),  # noqa: RUF001
        (png_claiming(50_000, 50_000), "bomb.png", "too many pixels: an image may have at most 40 million"),
        (png_claiming(100, 100), "cut.png", "damaged or cut short"),
        (b"\0" * (5 * 1024 * 1024 + 1), "big.png", "an image may be at most 5120 KB"),
    ],
)
def test_what_is_not_a_safe_image_is_refused_with_a_message_and_nothing_stored(
    staff_client, media_root, data, name, message
):
    response = upload(staff_client, data, name=name)
    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"])
    assert not LessonImage.objects.exists() and stored_files(media_root) == []


def test_a_file_name_with_path_tricks_is_only_a_label(staff_client, media_root):
    upload(staff_client, image_bytes(), name="../../../etc/cron.d/evil.png")
    image = LessonImage.objects.get()
    assert image.file.name.startswith("lessons/") and ".." not in image.file.name
    assert [path.parent.name for path in stored_files(media_root)] == ["lessons"]


def test_alt_text_is_required(staff_client):
    response = upload(staff_client, image_bytes(), alt="   ")
    assert response.status_code == 400 and "Say what the image shows" in response.json()["errors"][0]
    assert not LessonImage.objects.exists()


def test_only_staff_who_write_lessons_upload(client, learner):
    client.force_login(learner)
    assert upload(client, image_bytes()).status_code == 302
    assert not LessonImage.objects.exists()


def test_a_stored_image_is_served_for_a_year_and_never_sniffed(staff_client):
    upload(staff_client, image_bytes())
    image = LessonImage.objects.get()
    response = Client().get(image.file.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert Client().get("/media/../config/settings.py").status_code in {400, 404}
    assert Client().get("/media/lessons/").status_code == 404  # no listing


def test_the_image_admin_takes_an_upload_without_javascript_and_shows_its_markdown(staff_client):
    response = staff_client.post(
        "/admin/courses/lessonimage/add/",
        {"upload": SimpleUploadedFile("red.png", image_bytes()), "alt": "A red square"},
        follow=True,
    )
    image = LessonImage.objects.get()
    assert f"<code>![A red square]({image.file.url})</code>" in response.text
    assert image.uploaded_by is not None


def test_the_image_admin_keeps_the_alt_text_typed_when_the_file_is_refused(staff_client):
    response = staff_client.post(
        "/admin/courses/lessonimage/add/", {"upload": SimpleUploadedFile("x.svg", b"<svg/>"), "alt": "Kept words"}
    )
    assert response.status_code == 200
    assert "SVG images are refused" in response.text and 'value="Kept words"' in response.text
