"""gunicorn settings for `zoombot serve` (the laptop server), read by gunicorn as `python:zoombot.cli.serve_settings`.

The address and the number of workers come as command-line flags; the rest is fixed here. Naming this
module as the configuration also keeps a stray `./gunicorn.conf.py` in the working directory from being
read. Production uses `deploy/gunicorn.conf.py` instead.
"""

worker_class = "gthread"
threads = 8  # webhook deliveries share commits across threads (see deploy/gunicorn.conf.py)
timeout = 30
graceful_timeout = 10  # Ctrl-C: requests in flight get this long to finish
keepalive = 5
accesslog = None  # access logs would hold client addresses
errorlog = "-"
loglevel = "warning"
# gunicorn 23+ opens a control socket in the user's home by default; two servers would share it.
control_socket_disable = True
