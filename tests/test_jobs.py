"""Background jobs: routing, the beat leader lock, fan-out to tenants, redelivery after a crash."""

import os
import signal
import sys
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from config.beat import LOCK_KEY, BeatLeaderLock, LeaderDatabaseScheduler
from config.celery import app
from tests.live import process_env, running


def _queue_of(task_name: str) -> str:
    route = app.amqp.router.route({}, task_name)
    return route["queue"].name


def test_tasks_are_routed_by_priority():
    assert _queue_of("accounts.send_verification_email") == "high"
    assert _queue_of("billing.webhook_process") == "high"
    assert _queue_of("uploads.process_image") == "low"
    assert _queue_of("orders.report_daily_sales") == "low"
    assert _queue_of("tenants.health") == "default"


def test_tasks_that_retry_declare_the_one_retry_policy():
    from billing.tasks import webhook_process
    from core.tasks import BACKOFF_FACTOR, BACKOFF_MAX, retry_policy
    from tenants.tasks import health
    from uploads.tasks import process_image

    for task in (webhook_process, process_image):
        assert task.retry_backoff == BACKOFF_FACTOR and task.retry_backoff_max == BACKOFF_MAX
        assert task.retry_jitter is True
    assert webhook_process.max_retries == retry_policy()["max_retries"]
    assert process_image.max_retries == 3  # uploads declares its own attempts
    assert health.acks_late is True


@pytest.fixture
def clean_lock():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(LOCK_KEY)
    yield client
    client.delete(LOCK_KEY)


def test_only_one_beat_holds_the_schedule_lock_and_the_other_takes_over(clean_lock):
    first, second = BeatLeaderLock(ttl_ms=300), BeatLeaderLock(ttl_ms=300)
    assert first.hold() is True
    assert second.hold() is False
    assert first.hold() is True  # renewal by the holder
    time.sleep(0.4)  # the leader died: its lock expires
    assert second.hold() is True
    assert first.hold() is False
    second.release()
    assert clean_lock.get(LOCK_KEY) is None


@pytest.mark.django_db
def test_two_schedulers_send_each_due_task_once(clean_lock, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "django_celery_beat.schedulers.DatabaseScheduler.tick",
        lambda self, *a, **k: sent.append(id(self)) or 1.0,
    )
    monkeypatch.setattr(
        "django_celery_beat.schedulers.DatabaseScheduler.__init__",
        lambda self, *a, **k: None,
    )
    one, two = LeaderDatabaseScheduler(app=app), LeaderDatabaseScheduler(app=app)
    for _ in range(5):
        one.tick()
        two.tick()
    assert len(sent) == 5 and set(sent) == {id(one)}


@pytest.mark.django_db
def test_setup_schedules_is_idempotent_and_keeps_admin_edits(capsys):
    call_command("setup_schedules")
    task = PeriodicTask.objects.get(name="Purge tenants past their deletion grace period")
    task.enabled = False
    task.save()
    call_command("setup_schedules")
    task.refresh_from_db()
    assert task.enabled is False
    assert PeriodicTask.objects.filter(task="tenants.purge_due").count() == 1
    assert "left as they are" in capsys.readouterr().out


def _worker_args(queue: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "-Q",
        queue,
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"{queue}@%h",
    ]


@pytest.mark.slow
@pytest.mark.django_db
def test_fan_out_runs_a_task_in_every_tenant_schema(tenant_a, tenant_b):
    from django_celery_results.models import TaskResult

    from tenants.tasks import fan_out

    queue = f"test-{uuid.uuid4().hex[:8]}"
    with running(_worker_args(queue), env=process_env()):
        sent = fan_out.apply_async(
            args=["tenants.health", "fan"], kwargs={"queue": queue}, queue=queue
        )
        assert sent.get(timeout=60) == 2
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            results = TaskResult.objects.filter(task_name="tenants.health", status="SUCCESS")
            schemas = {r.result for r in results}
            if len(schemas) >= 2:
                break
            time.sleep(0.3)
    assert any('"alpha"' in s for s in schemas) and any('"beta"' in s for s in schemas)


@pytest.mark.slow
@pytest.mark.django_db
def test_a_task_of_a_killed_worker_is_delivered_again(tmp_path):
    """acks_late: kill -9 a worker in the middle of a task; another worker runs it."""
    from tenants.tasks import health

    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = process_env(CELERY_VISIBILITY_TIMEOUT="2", HEALTH_TASK_SLEEP="30")
    with running(_worker_args(queue), env=env) as first:
        result = health.apply_async(args=["survive"], queue=queue)
        deadline = time.monotonic() + 30
        while result.state != "STARTED" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert result.state == "STARTED"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    time.sleep(2.5)  # past the visibility timeout
    with running(_worker_args(queue), env=process_env(CELERY_VISIBILITY_TIMEOUT="2")):
        value = result.get(timeout=60)
    assert value["payload"] == "survive"


@pytest.mark.slow
@pytest.mark.django_db
def test_readyz_and_jobs_status_see_the_workers(client_a, capsys):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with running(_worker_args(queue).copy(), env=process_env()):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            response = client_a.get("/readyz?workers=1")
            if response.status_code == 200:
                break
            time.sleep(0.5)
        assert response.json()["checks"]["workers"]["ok"] is True
        assert response.json()["checks"]["broker"]["ok"] is True
        call_command("jobs_status")
    out = capsys.readouterr().out
    assert "Queues:" in out and "high" in out and "low" in out
    assert f"{queue}@" in out


@pytest.mark.django_db
def test_setup_schedules_creates_each_apps_periodic_work():
    call_command("setup_schedules")
    cleanup = PeriodicTask.objects.get(name="Expired sessions and tokens cleanup")
    assert cleanup.task == "accounts.cleanup" and cleanup.queue == "low"
    assert cleanup.interval.every == 3600


@pytest.mark.django_db
def test_accounts_cleanup_task_runs():
    from accounts.tasks import cleanup

    assert set(cleanup.apply().get()) >= {"sessions", "one_time_tokens"}
