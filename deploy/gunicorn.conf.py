"""gunicorn settings for the inbound service: ``gunicorn -c deploy/gunicorn.conf.py
'inbound.app:get_app()'`` (what ``sms-bridge serve`` runs).

Each worker calls ``get_app()`` itself (no preload): database connections and pools must not
be shared across fork.

Threaded workers (gthread), not sync ones: a sync worker reads a request's headers itself, so
one client sending a header line every few seconds holds a whole worker, and a few such
clients left /health and every webhook unanswered until gunicorn killed the workers. A gthread
worker gives each connection a thread of its own (one silent for 5 s is parked in the worker's
event loop, off its thread); a slow client holds one thread, not the worker, and a webhook
waiting for a locked or hung database (at most [inbound] webhook_db_wait_ms) holds only its
own. So up to ``workers x threads`` requests run at once, and fewer slow clients than that
starve nothing: more still need the buffering reverse proxy production runs behind
(docs/operations.md).
Threads are safe here: SQLite connections are per thread (bridge/store/sqlite_dialect.py), the
Oracle pool is shared by a process's threads (give it ``[database] pool_max`` >= threads), the
spool takes a file lock per append.
"""

import errno
import multiprocessing
import os
import sys

from gunicorn import glogging

bind = os.environ.get("SMS_BRIDGE_SERVE_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("SMS_BRIDGE_SERVE_WORKERS", min(2 * multiprocessing.cpu_count(), 8)))
worker_class = "gthread"
threads = int(os.environ.get("SMS_BRIDGE_SERVE_THREADS", 8))
preload_app = False
# Twilio waits 15 s for a webhook answer (webhooks answer within 5 s: they spool after
# [inbound] webhook_db_wait_ms). gthread: a worker whose event loop is silent this long is
# stuck and restarted (a slow request or client only holds its own thread).
timeout = 30
graceful_timeout = 20
keepalive = 5
# Request line and header limits; bodies are limited by [inbound] max_body_bytes in the app.
limit_request_line = 8190
limit_request_fields = 100
# Behind a reverse proxy on the same host: trust its X-Forwarded-* for gunicorn's own use.
# (The app decides separately, via [inbound] trust_forwarded_headers, whether to use them for
# signature checks.)
forwarded_allow_ips = os.environ.get("SMS_BRIDGE_SERVE_FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "sms-bridge-inbound"
# gunicorn 23+ opens a control socket at one per-user path ($HOME/.gunicorn/gunicorn.ctl): a
# second instance on the host (tests, the benchmark's baseline) would fight over it. Unused.
control_socket_disable = True
accesslog = os.environ.get("SMS_BRIDGE_SERVE_ACCESS_LOG", "-") or None
# The access log never shows bodies (form fields carry phone numbers) nor queries: a client may
# put a key or a number there (?api_key=...). RedactingLogger keeps the path and replaces the
# query with "?-" in %(r)s; %(q)s (the raw query), %(f)s (the referer), request-header and
# environ atoms are blanked too, should this format ever use them.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'


def _without_query(uri):
    path, sep, _ = uri.partition("?")
    return path + "?-" if sep else path


class RedactingLogger(glogging.Logger):
    """gunicorn's logger with the query string taken out of every access log atom."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        raw_uri = _without_query(environ.get("RAW_URI") or environ.get("PATH_INFO") or "")
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {raw_uri} {environ.get('SERVER_PROTOCOL')}"
        atoms["q"] = "-" if environ.get("QUERY_STRING") else ""
        atoms["f"] = "-"
        for name in list(atoms):
            if name.startswith("{") and name.endswith(("}i", "}e")):
                atoms[name] = "-"  # request headers and environ: Authorization, QUERY_STRING
        return atoms


logger_class = RedactingLogger
errorlog = "-"
loglevel = os.environ.get("SMS_BRIDGE_SERVE_LOG_LEVEL", "info")

# The app logs through the standard logging module: send its records where gunicorn's go.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"}
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": loglevel.upper(), "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        # The twilio library's own debug logs would print request bodies.
        "twilio": {"level": "WARNING"},
    },
}


def on_starting(server):
    """Open the listening sockets once, here, so that a taken address fails at once.

    Left to itself the arbiter tries each address five times a second apart, logging two
    ERROR lines per try, and exits 1 after 5 s. Listeners set here are the ones it uses (it
    creates its own only when it has none); inherited sockets (systemd socket activation, the
    re-exec of a USR2 upgrade), per-worker binds (reuse_port) and fd:// binds stay gunicorn's.
    """
    from gunicorn import sock, systemd, util

    addresses = server.cfg.address
    inherited = systemd.listen_fds(unset_environment=False) or server.master_pid
    if server.LISTENERS or inherited or server.cfg.reuse_port:
        return
    if any(not isinstance(a, tuple | str) for a in addresses):
        return
    listeners = []
    for address in addresses:
        if isinstance(address, str):
            kind = sock.UnixSocket
        else:
            kind = sock.TCP6Socket if util.is_ipv6(address[0]) else sock.TCPSocket
        try:
            listeners.append(kind(address, server.cfg, server.log))
        except OSError as exc:
            for listener in listeners:
                listener.close()
            server.log.error("cannot listen on %s: %s", _shown(address), _reason(exc))
            if server.pidfile is not None:
                server.pidfile.unlink()
            sys.exit(2)  # bad input, as sms-bridge's own exit codes say
    server.LISTENERS = listeners


def _shown(address):
    if isinstance(address, str):
        return f"unix:{address}"
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _reason(exc):
    if exc.errno == errno.EADDRINUSE:
        return "the address is already in use (another process listens there)"
    return exc.strerror or str(exc)


# -- metrics: prometheus_client's multiprocess mode (inbound/metrics.py) ----------------------
# Every worker process writes its metric values to files in PROMETHEUS_MULTIPROC_DIR and GET
# /metrics adds up every process's files, so a count is right whichever worker answers. The
# directory belongs to this run: the one the environment names (emptied here) or a private
# one made here (0700, removed at exit). Set in the arbiter before any worker starts (and so
# before any worker imports prometheus_client, which reads it once, at import).
_made_metrics_directory = None


def when_ready(server):
    global _made_metrics_directory
    import glob
    import tempfile

    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, mode=0o700, exist_ok=True)
        for stale in glob.glob(os.path.join(path, "*.db")):  # a previous run's values
            os.remove(stale)
    else:
        path = _made_metrics_directory = tempfile.mkdtemp(prefix="sms-bridge-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    server.log.info("metrics: multiprocess files in %s", path)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    import shutil

    # Not after a USR2 upgrade: the new arbiter inherited the directory and uses it.
    if _made_metrics_directory and not getattr(server, "reexec_pid", 0):
        shutil.rmtree(_made_metrics_directory, ignore_errors=True)
