import pytest
from django.core.management import CommandError, call_command

from courses.models import Course

pytestmark = pytest.mark.django_db


def test_the_large_site_is_never_written_into_a_database_not_named_bench():
    """The benchmark's 1,500 generated lessons must not land in a developer's (or the test) database."""
    with pytest.raises(CommandError, match="not a benchmark database"):
        call_command("build_large_site")
    assert not Course.objects.exists()
