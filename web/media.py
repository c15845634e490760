"""Where uploaded lesson images are stored: MEDIA_ROOT on this machine, or an S3-compatible object store.

Several web servers on several machines must see the same images: set ``MEDIA_S3_BUCKET`` and they go to
that bucket through django-storages. The rest of the configuration comes from the environment too:

- ``MEDIA_S3_ENDPOINT_URL``: an S3-compatible service's address (MinIO, Ceph, R2, …); unset for AWS.
- ``MEDIA_S3_REGION``: the bucket's region, when the service needs one.
- ``MEDIA_S3_PUBLIC_URL``: the address browsers fetch the images from (a CDN, or the bucket's public
  website), ending in ``/``; by default the endpoint's (or AWS's) address of the bucket.
- Credentials as boto3 reads them: ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY``, or the machine's role.

Images are public (lessons show them to anyone), so their addresses carry no signature; their names are
their content's hash (courses/images.py), so every object is stored with a year's ``Cache-Control`` and never
overwritten. The public address is the only other origin the Content-Security-Policy admits, for images only.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

# A stored image never changes: its name is its content's hash.
CACHE_CONTROL = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Media:
    storage: dict
    url: str  # MEDIA_URL: the address images are served from, ending in /
    origin: str | None  # another origin than the site's, for the policy's img-src


def from_environment(environ) -> Media:
    """The default storage, MEDIA_URL and image origin that these environment variables ask for."""
    bucket = environ.get("MEDIA_S3_BUCKET", "")
    if not bucket:
        return Media(
            storage={"BACKEND": "django.core.files.storage.FileSystemStorage"},
            url="/media/",
            origin=None,
        )
    endpoint = environ.get("MEDIA_S3_ENDPOINT_URL") or None
    region = environ.get("MEDIA_S3_REGION") or None
    public = environ.get("MEDIA_S3_PUBLIC_URL", "")
    if not public:
        if endpoint:
            public = f"{endpoint.rstrip('/')}/{bucket}/"
        else:
            public = f"https://{bucket}.s3.{region + '.' if region else ''}amazonaws.com/"
    public = public.rstrip("/") + "/"
    address = urlsplit(public)
    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": region,
        # Addresses as browsers will use them: the public address's host and path, without a signature.
        "custom_domain": f"{address.netloc}{address.path.rstrip('/')}",
        "url_protocol": f"{address.scheme}:",
        "querystring_auth": False,
        "file_overwrite": False,
        "default_acl": None,
        "object_parameters": {"CacheControl": CACHE_CONTROL},
    }
    return Media(
        storage={"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
        url=public,
        origin=f"{address.scheme}://{address.netloc}",
    )
