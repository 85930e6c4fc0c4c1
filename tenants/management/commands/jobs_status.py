"""Prints the state of background jobs: queue lengths, live workers and recent failures."""

from django.core.management.base import BaseCommand

from core.jobs import live_workers, queue_lengths, recent_failures


class Command(BaseCommand):
    help = "Queue lengths, live Celery workers and the task failures of the last hours."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=24)

    def handle(self, *args, **options):
        self.stdout.write("Queues:")
        for queue, length in queue_lengths().items():
            self.stdout.write(f"  {queue:<10}{length:>8} waiting")
        workers = live_workers()
        self.stdout.write(f"Workers: {len(workers)} answering")
        for worker in workers:
            self.stdout.write(f"  {worker}")
        failures = list(recent_failures(hours=options["hours"]))
        self.stdout.write(f"Failures in the last {options['hours']} h: {len(failures)}")
        for result in failures:
            error = (result.result or "").strip().splitlines()
            self.stdout.write(
                f"  {result.date_done:%Y-%m-%d %H:%M:%S}  {result.task_name or '?'}  "
                f"{result.task_id}  {error[-1][:120] if error else ''}"
            )
