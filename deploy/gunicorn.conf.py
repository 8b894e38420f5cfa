"""gunicorn settings for the zoombot web tier (`gunicorn --config deploy/gunicorn.conf.py "zoombot.app:create_app()"`).

Loopback only: the TLS reverse proxy (deploy/nginx.conf) is the only client. Workers x threads is the
number of requests served at once; each holds at most one pooled database connection ([database]
pool_size + max_overflow), and each worker keeps one more for webhook deliveries, which threads waiting
on the database share (one INSERT and one commit for all that arrive together). Eight threads measured
better than four for that reason (bench/webhooks.py).
"""

import multiprocessing
import os

bind = os.environ.get("ZOOMBOT_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("ZOOMBOT_WORKERS", max(2, multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("ZOOMBOT_THREADS", 8))
timeout = 30  # Zoom gives up after 3 s anyway; a stuck worker is replaced
graceful_timeout = 20
keepalive = 5
max_requests = 10000  # recycle workers now and then
max_requests_jitter = 1000
accesslog = None  # access logs would hold client IP addresses; the proxy decides what to keep
errorlog = "-"
loglevel = "warning"
forwarded_allow_ips = "127.0.0.1"


def child_exit(server, worker):
    """With PROMETHEUS_MULTIPROC_DIR set, forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
