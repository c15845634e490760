"""Lesson images in an S3-compatible object store (web/media.py), against an S3 server on 127.0.0.1 (moto's)."""

import json
import socket
import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer

from courses.lint import lint
from courses.models import LessonImage
from tests.courses.test_images import image_bytes, upload
from web import media

pytestmark = pytest.mark.django_db

PUBLIC_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::lessons/*"}
    ],
}


def test_without_a_bucket_images_stay_on_this_machine_and_the_policy_admits_no_other_origin():
    assert media.from_environment({}) == media.Media(
        storage={"BACKEND": "django.core.files.storage.FileSystemStorage"}, url="/media/", origin=None
    )


@pytest.mark.parametrize(
    ("environment", "url", "origin"),
    [
        ({"MEDIA_S3_BUCKET": "lessons", "MEDIA_S3_REGION": "eu-west-1"},
         "https://lessons.s3.eu-west-1.amazonaws.com/", "https://lessons.s3.eu-west-1.amazonaws.com"),
        ({"MEDIA_S3_BUCKET": "lessons", "MEDIA_S3_ENDPOINT_URL": "https://minio.example:9000"},
         "https://minio.example:9000/lessons/", "https://minio.example:9000"),
        ({"MEDIA_S3_BUCKET": "lessons", "MEDIA_S3_PUBLIC_URL": "https://cdn.example/img"},
         "https://cdn.example/img/", "https://cdn.example"),
    ],
)  # fmt: skip
def test_a_bucket_is_served_from_its_public_address_which_the_policy_admits_for_images(environment, url, origin):
    configured = media.from_environment(environment)
    assert configured.storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (configured.url, configured.origin) == (url, origin)
    options = configured.storage["OPTIONS"]
    assert options["querystring_auth"] is False and options["file_overwrite"] is False
    assert options["object_parameters"] == {"CacheControl": "public, max-age=31536000, immutable"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def bucket(settings, monkeypatch):
    """A bucket in an S3 server on this machine, configured as MEDIA_S3_* would configure it."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in {"AWS_ACCESS_KEY_ID": "stream", "AWS_SECRET_ACCESS_KEY": "secret"}.items():
        monkeypatch.setenv(name, value)
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="lessons")
    # Anyone may read the images, as docs/operators/media.md asks of the bucket.
    client.put_bucket_policy(Bucket="lessons", Policy=json.dumps(PUBLIC_READ))
    configured = media.from_environment({"MEDIA_S3_BUCKET": "lessons", "MEDIA_S3_ENDPOINT_URL": endpoint})
    settings.STORAGES = {**settings.STORAGES, "default": configured.storage}
    settings.MEDIA_URL = configured.url
    yield client, configured
    server.stop()


def test_an_uploaded_image_goes_to_the_bucket_for_a_year_and_its_address_passes_the_lint(staff_client, bucket):
    client, configured = bucket
    response = upload(staff_client, image_bytes("PNG"))
    assert response.status_code == 200, response.content
    image = LessonImage.objects.get()
    address = response.json()["url"]
    assert address == f"{configured.url}{image.file.name}"
    stored = client.head_object(Bucket="lessons", Key=image.file.name)
    assert stored["CacheControl"] == "public, max-age=31536000, immutable"
    assert stored["ContentType"] == "image/png"
    with urllib.request.urlopen(address) as answer:  # what a browser fetches, with no signature
        assert answer.read()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = response.json()["markdown"]
    assert [problem.text for problem in lint(markdown) if problem.error] == []
    # An address on another host is still refused, however it begins.
    assert any(problem.error for problem in lint(f"![x]({configured.url.replace('127.0.0.1', 'evil.example')}a.png)"))


def test_the_same_image_again_is_not_written_twice(staff_client, bucket):
    client, _ = bucket
    upload(staff_client, image_bytes("PNG"))
    upload(staff_client, image_bytes("PNG"), alt="Again")
    assert client.list_objects_v2(Bucket="lessons")["KeyCount"] == 1
