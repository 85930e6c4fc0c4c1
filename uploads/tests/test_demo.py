"""The demo seed is idempotent: the same generated image is stored once."""

import pytest

from uploads import demo
from uploads.models import File


@pytest.mark.django_db
def test_seed_stores_one_image_and_keeps_it(
    in_a, member, local_storage, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = demo.seed(tenant=in_a, owner=member)
    second = demo.seed(tenant=in_a, owner=member)

    assert first.startswith("created demo-banner.png")
    assert second.startswith("kept demo-banner.png")
    file = File.objects.get()
    assert (file.kind, file.is_private, file.tags) == ("image", False, ["demo"])
    assert (local_storage / file.key).exists()
    assert len(callbacks) == 1  # the image is queued for processing once
