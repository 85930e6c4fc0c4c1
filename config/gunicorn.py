"""The web server: gunicorn managing uvicorn workers (ASGI: HTTP and websockets on one port).

    gunicorn -c config/gunicorn.py config.asgi:application

gunicorn restarts a worker that dies or hangs and reloads workers on SIGHUP; each worker is one
uvicorn event loop with its own connection pool (DATABASE_POOL_MAX). WEB_CONCURRENCY sets the
number of workers (default: 2 per CPU core, at least 2); PORT and HOST where it listens.
Measured against the alternatives in README.md ("Serving").
"""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, 2 * multiprocessing.cpu_count())))
worker_class = "uvicorn_worker.UvicornWorker"
# Idle websockets are normal; a worker is only restarted when it stops answering gunicorn.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 20
keepalive = 5
# X-Forwarded-* are trusted only from these addresses (the load balancer in front).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
