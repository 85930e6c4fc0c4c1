"""Periodic clean-ups (expired files, abandoned uploads), the management command, the admin."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from uploads import services
from uploads.models import File
from uploads.tasks import abort_abandoned_uploads, delete_expired_files
from uploads.tests.factories import FileFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_a")]


def _stored(root, file):
    path = root / file.key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"bytes")
    return path


def test_expired_files_are_deleted_with_their_objects(
    member, local_storage, django_capture_on_commit_callbacks
):
    past = FileFactory(owner=member, expires_at=timezone.now() - timedelta(minutes=1))
    future = FileFactory(owner=member, expires_at=timezone.now() + timedelta(days=1))
    forever = FileFactory(owner=member)
    paths = {f.pk: _stored(local_storage, f) for f in (past, future, forever)}

    with django_capture_on_commit_callbacks(execute=True):
        assert services.files_delete_expired() == 1

    assert File.objects.get(pk=past.pk).status == "deleted"
    assert not paths[past.pk].exists()
    assert File.objects.get(pk=future.pk).status == "ready" and paths[future.pk].exists()
    assert paths[forever.pk].exists()

    later = timezone.now() + timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.files_delete_expired(now=later) == 1
    assert not paths[future.pk].exists()


def test_the_periodic_tasks_run_in_the_senders_tenant(member, local_storage, tenant_b):
    from django_tenants.utils import schema_context

    FileFactory(owner=member, expires_at=timezone.now() - timedelta(minutes=1))
    FileFactory(
        owner=member,
        status="uploading",
        key="alpha/private/2026/01/01/00000000-0000-0000-0000-00000000000a.bin",
    )
    File.objects.filter(status="uploading").update(created_at=timezone.now() - timedelta(days=2))
    with schema_context(tenant_b.schema_name):
        FileFactory(owner=member, expires_at=timezone.now() - timedelta(minutes=1))

    assert delete_expired_files.apply().get() == 1
    assert abort_abandoned_uploads.apply().get() == 1
    with schema_context(tenant_b.schema_name):
        assert File.objects.get().status == "ready"  # beta's own run has not happened yet
        assert delete_expired_files.apply().get() == 1
        assert File.objects.get().status == "deleted"


def test_the_clean_ups_are_scheduled_in_every_tenant():
    from django_celery_beat.models import PeriodicTask

    call_command("setup_schedules")
    scheduled = {task.name: task for task in PeriodicTask.objects.filter(task="tenants.fan_out")}
    assert scheduled["Delete expired files"].args == '["uploads.delete_expired_files"]'
    assert "uploads.abort_abandoned_uploads" in scheduled["Abort abandoned multipart uploads"].args


def test_the_cleanup_command_reports_per_tenant(member, local_storage, capsys):
    FileFactory(owner=member, expires_at=timezone.now() - timedelta(minutes=1))
    call_command("uploads_cleanup")
    out = capsys.readouterr().out
    assert "alpha: 1 expired file(s) deleted, 0 abandoned upload(s) aborted" in out
    assert "beta: 0 expired file(s) deleted" in out


def test_the_admin_lists_files_with_image_previews(
    client, make_user, member, tenant_a, local_storage, django_assert_max_num_queries, admin_login
):
    admin_user = make_user(email="staff@alpha.test", tenant=tenant_a, is_staff=True)
    admin_user.is_superuser = True
    admin_user.save()
    for i in range(5):
        FileFactory(
            owner=member,
            kind="image",
            content_type="image/png",
            original_name=f"pic{i}.png",
            variants={"thumb": {"key": f"alpha/public/t{i}.thumb.webp", "size": 1}},
        )
    admin_login(client, admin_user, "alpha.localhost")

    with django_assert_max_num_queries(20):
        response = client.get("/admin/uploads/file/", HTTP_HOST="alpha.localhost")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("/api/v1/files/blob/") == 5
    assert "pic4.png" in html

    file = File.objects.first()
    detail = client.get(f"/admin/uploads/file/{file.pk}/change/", HTTP_HOST="alpha.localhost")
    assert detail.status_code == 200
