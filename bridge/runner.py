"""``sms-bridge run``: the worker process (composition of store, gateway, mail, schedule).

The dispatch loop runs continuously with adaptive polling: while work flows it polls at
``poll_min_seconds``; when idle the interval doubles up to ``poll_max_seconds``, and each poll is
the index-only "anything ready?" probe. Periodic jobs (recovery, sync, digests) run through
``schedule`` between steps. SIGTERM/SIGINT stop claiming, let in-flight sends finish, and give
back unsent claims.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType

import schedule

from bridge.config import Settings
from bridge.domain.optout_history import HistoryChange
from bridge.domain.retention import cutoff
from bridge.hr import certs as hr_certs
from bridge.mail.notify import Notifier
from bridge.mail.transport import make_transport
from bridge.outbound import activity
from bridge.outbound import metrics as outbound_metrics
from bridge.outbound.account_gate import account_settings
from bridge.outbound.background import BackgroundJob
from bridge.outbound.gateway import TwilioCheckError, TwilioGateway
from bridge.outbound.recovery import reconcile, sync
from bridge.outbound.worker import Worker
from bridge.replies.dispatcher import Dispatcher
from bridge.replies.optout_sync import sync_optouts
from bridge.replies.processing import replay_spool
from bridge.store import Store

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


class Runner:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clock: Clock | None = None,
        gateway: TwilioGateway | None = None,
        notifier: Notifier | None = None,
        progress: Callable[[str], None] | None = None,
        announce: Callable[[str], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.store = store
        # The store's clock unless a test brings its own: on Oracle the database's, which
        # stamps ERP-queued messages' due times (bridge/store/clock.py).
        self.clock = clock or store.now
        self.name = settings.bridge.worker_name or f"{socket.gethostname()}:{os.getpid()}"
        self.gateway = gateway or TwilioGateway(settings.twilio)
        self.notifier = notifier or Notifier(settings.mail, make_transport(settings.mail))
        self.worker = self.new_worker()
        self.progress = progress
        # Start, minute-summary and stop lines for the operator (None: --quiet).
        self.announce = announce
        self.monotonic = monotonic
        self._started = monotonic()
        self._summary_at = (self._started, activity.Figures())
        self._stop_reason = "stopped"
        # Embedded mode runs the reply handlers in Python: the HR story's twin of the PL/SQL
        # hr_cert_sms.on_reply, plus any "module:function" a site names in sms_keywords. On
        # Oracle unregistered names are PL/SQL procedures (callproc).
        registry = hr_certs.handlers(store, self.clock) if store.engine == "sqlite" else {}
        self.dispatcher = Dispatcher(store, registry, import_handlers=True)
        self.scheduler = schedule.Scheduler()
        # Why the last step failed (None: it did not); --once stops on it.
        self._step_failure: str | None = None
        # Opt-outs/ins this worker's opt-out sync wrote since its last error digest.
        self.history_changes: list[HistoryChange] = []
        # On a thread of its own: a first run reads up to 13 months of history (minutes).
        self.optout_job = BackgroundJob("optout-sync", lambda: self.guarded(self.optout_sync))
        # The daily purge (a first one may walk years of rows, chunk by chunk): its own thread.
        self.retention_job = BackgroundJob("retention", lambda: self.guarded(self.retention))
        self._twilio_checked = False

    # -- jobs ----------------------------------------------------------------------------

    def recover(self) -> None:
        cfg = self.settings.bridge
        result = reconcile(
            self.store,
            self.gateway,
            self.clock(),
            worker=self.name,
            lease_seconds=cfg.lease_seconds,
            max_attempts=cfg.max_attempts,
        )
        outbound_metrics.WORKER.reconciled(
            result.found, result.requeued, result.failed, result.deferred
        )
        if result.found or result.requeued or result.failed:
            log.info("recovery: %s", result)

    def sync(self) -> None:
        moved = sync(
            self.store,
            self.gateway,
            self.clock(),
            older_than=timedelta(minutes=self.settings.bridge.sync_after_minutes),
            limit=self.settings.bridge.sync_limit,
        )
        if moved:
            log.info("sync: %d message(s) moved forward", moved)

    def digest(self) -> None:
        every = timedelta(minutes=self.settings.mail.error_digest_minutes)

        def send(since: datetime, now: datetime) -> bool:
            history = list(self.history_changes)
            sent = self.notifier.error_digest(self.store, since, now, history)
            if sent:
                del self.history_changes[: len(history)]
            return sent

        self.once_for_all_workers("error_digest", every, send)

    def optout_sync(self) -> None:
        """Twilio's history of inbound STOP/START (bridge/replies/optout_sync.py), once for all
        workers: the first run reads ``optout_sync_lookback_days`` back, later ones from the
        last run. Twilio unreachable: a warning, and the next run covers this window too."""
        cfg = self.settings.bridge
        every = timedelta(minutes=cfg.optout_sync_interval_minutes)

        def work(since: datetime, now: datetime) -> bool:
            try:
                result = sync_optouts(
                    self.store,
                    self.gateway.inbound_since,
                    lambda account: self.gateway.clock_offset(self.clock, account),
                    since,
                    accounts=self.settings.twilio.accounts.keys(),
                )
            except TwilioCheckError as exc:
                log.warning("optout sync: %s; the next run covers %s onwards", exc, since)
                self.store.give_back_job_run("optout_sync", since, now)
                return True
            self.history_changes.extend(result.changes)
            log.info("%s", result.line())
            return True

        self.once_for_all_workers(
            "optout_sync",
            every,
            work,
            first_since=self.clock() - timedelta(days=cfg.optout_sync_lookback_days),
        )

    def retention(self) -> None:
        """The daily purge of personal data ([retention], bridge/store/retention_store.py),
        once for all workers (the ``retention`` row of sms_job_runs); its counts in the log."""
        cfg, now = self.settings.retention, self.clock()
        since = self.store.take_job_run("retention", now, timedelta(days=1), self.name)
        if since is None:
            return  # another worker ran it today
        try:
            result = self.store.purge(
                now,
                outbound_before=cutoff(now, cfg.outbound_days),
                inbound_before=cutoff(now, cfg.inbound_days),
                chunk=cfg.batch_rows,
            )
        except BaseException:
            # What was committed stays purged; the give-back lets the next run start at once.
            try:
                self.store.give_back_job_run("retention", since, now)
            except Exception as exc:
                log.error("retention: could not give the run back (%s)", exc)
            raise
        log.info("%s", result.line())

    def manager_digests(self) -> None:
        def send(since: datetime, now: datetime) -> bool:
            sent = self.notifier.manager_digests(self.store, since, now)
            log.info("manager digests: %d sent", sent)
            return sent > 0  # partly sent: not again (the others would get theirs twice)

        self.once_for_all_workers("manager_digests", timedelta(days=1), send)

    def once_for_all_workers(
        self,
        job: str,
        every: timedelta,
        work: Callable[[datetime, datetime], object],
        *,
        first_since: datetime | None = None,
    ) -> None:
        """Run a digest job in one worker only, over the window since its last run by any
        worker (a restart or a missed day loses nothing); given back if no mail went out
        because the mail server failed, so the next run covers that window too."""
        now = self.clock()
        since = self.store.take_job_run(job, now, every, self.name, first_since=first_since)
        if since is None:
            return  # another worker ran it
        self.notifier.send_failed = False
        try:
            sent = work(since, now)
        except BaseException:
            # Reading the window failed (a database blip): the next run covers it, if the
            # database takes the give-back; the original error is what the caller reports.
            try:
                self.store.give_back_job_run(job, since, now)
            except Exception as exc:
                log.error(
                    "%s: could not give the run back (%s); %s onwards unreported", job, exc, since
                )
            raise
        if self.notifier.send_failed and not sent:
            log.warning("%s: mail failed; the next run covers %s onwards", job, since)
            self.store.give_back_job_run(job, since, now)

    def dispatch_replies(self) -> None:
        self.dispatcher.run_once(self.clock())

    def replay_spool(self) -> None:
        report = replay_spool(
            self.store, self.settings.inbound, account_sids=self.settings.twilio.account_sids()
        )
        if report.applied or report.rejected:
            log.info("spool: %s", report)

    def check_twilio(self) -> int | None:
        """The start check, once (IncomingPhoneNumbers): None to start, or the exit code.

        Credentials Twilio rejects (401/403, 20003/20005: what stops sending) stop the worker
        before it claims anything: one line, the credentials alert (rate-limited for all
        workers and restarts by the ``credentials_alert`` row of sms_job_runs, since systemd
        restarts a failed worker), exit 1. Every account is checked ([twilio] and each
        [twilio.accounts.NAME]); one rejected stops the worker. A missing SID or token raises
        the ConfigError (exit 2). Twilio unreachable (timeout, DNS, refused, 5xx): one warning
        and the worker starts, since it handles Twilio being down."""
        if self._twilio_checked:
            return None
        self._twilio_checked = True
        for account in self.gateway.accounts():  # [twilio], then each [twilio.accounts.NAME]
            try:
                self.gateway.check(account)
            except TwilioCheckError as exc:
                if not exc.rejected:
                    log.warning("Twilio start check failed: %s; starting anyway", exc)
                    continue
                log.error(
                    "run stopped before claiming: Twilio rejected the credentials of %s (%s):"
                    " set %s to that account's auth token, or fix its account_sid",
                    self._account_label(account),
                    exc.refusal,
                    _token_setting(account),
                )
                self._credentials_alert(str(exc))
                return 1
        return None

    def _account_label(self, account: str | None) -> str:
        twilio = self.settings.twilio
        if account is None:
            return f"account {twilio.account_sid}"
        return f"account {account} ({twilio.accounts[account].account_sid})"

    def _credentials_alert(self, answer: str) -> None:
        now = self.clock()
        every = timedelta(minutes=self.settings.mail.alert_min_interval_minutes)
        try:
            due = self.store.take_job_run(
                "credentials_alert", now, every, self.name, first_since=now - every
            )
        except Exception as exc:  # the database is down too: alert anyway
            log.warning("credentials alert: sms_job_runs unreadable (%s)", exc)
            due = now
        if due is None:
            return  # another worker, or this one before a restart, alerted recently
        level, self.notifier.alert_log_level = self.notifier.alert_log_level, logging.INFO
        try:
            self.notifier.alert(
                "twilio-credentials",
                "Twilio rejected the bridge's credentials: sending stopped",
                f"{answer}. The worker checked them as it started and exited before claiming"
                " anything (exit status 1); every message stays queued for the next run. Fix"
                " [twilio] account_sid / auth_token and start it again.",
            )
        finally:
            self.notifier.alert_log_level = level

    def recheck_credentials(self) -> None:
        """Every minute: each account whose credentials Twilio refused, asked again."""
        for account in list(self.worker.broken):
            where = account_settings(account)
            try:
                self.gateway.check(account)
            except Exception as exc:
                log.warning("Twilio credentials of %s still rejected: %s", where, exc)
                continue
            log.warning("Twilio credentials of %s accepted again: its senders resume", where)
            self.worker.broken.pop(account, None)

    def schedule_jobs(self) -> None:
        cfg = self.settings
        self.scheduler.every(15).seconds.do(self.recover)
        self.scheduler.every(cfg.bridge.sync_interval_minutes).minutes.do(self.sync)
        if cfg.bridge.optout_sync_interval_minutes:
            # Asked often, run when due: sms_job_runs knows when any worker last ran it, so the
            # first run comes minutes after the first start, not a day later.
            poll = min(cfg.bridge.optout_sync_interval_minutes, 5)
            self.scheduler.every(poll).minutes.do(self.optout_job)
        self.scheduler.every(cfg.mail.error_digest_minutes).minutes.do(self.digest)
        self.scheduler.every(1).minutes.do(self.recheck_credentials)
        # Sender profiles (number, service, quiet hours, zone) are cached by the worker; an
        # operator's change takes effect within a minute, without a restart.
        self.scheduler.every(1).minutes.do(lambda: self.worker.refresh_senders())
        self.scheduler.every(5).seconds.do(self.dispatch_replies)
        self.scheduler.every(30).seconds.do(self.replay_spool)
        self.scheduler.every().day.at(cfg.mail.manager_digest_at).do(self.manager_digests)
        if cfg.retention.enabled:
            self.scheduler.every().day.at(cfg.retention.run_at).do(self.retention_job)
        self.scheduler.every(1).minutes.do(self.summarise)

    # -- what the operator sees ----------------------------------------------------------

    def figures(self) -> activity.Figures:
        s = self.worker.stats
        return activity.Figures(s.claimed, s.submitted, s.retried, s.unknown, dict(s.finalized))

    def say_started(self) -> None:
        self._started = self.monotonic()
        self._summary_at = (self._started, self.figures())
        if self.announce is None:
            return
        from importlib.metadata import PackageNotFoundError, version

        try:
            release = version("erp-sms-bridge")
        except PackageNotFoundError:
            release = "(source)"
        self.announce(
            activity.start_line(
                version=release,
                worker=self.name,
                database=f"{self.store.engine} {self.store.location}",
                twilio_base_url=self.settings.twilio.base_url,
                concurrency=self.settings.bridge.concurrency,
                senders=self.store.list_senders(),
            )
        )

    def summarise(self) -> None:
        """Every minute while there is work: what this worker did since the last summary."""
        now, figures = self.monotonic(), self.figures()
        since, before = self._summary_at
        delta = figures.minus(before)
        queued, due = self.store.queue_depth(self.clock())
        self._summary_at = (now, figures)
        if self.announce is not None and activity.should_summarise(delta, queued):
            self.announce(activity.summary_line(now - since, delta, queued, due))

    def say_stopped(self, reason: str) -> None:
        if self.announce is not None:
            elapsed = self.monotonic() - self._started
            self.announce(activity.stop_line(self.name, elapsed, self.figures(), reason))

    # -- loops ---------------------------------------------------------------------------

    def new_worker(self) -> Worker:
        return Worker(
            self.settings, self.store, self.gateway, self.notifier, clock=self.clock, name=self.name
        )

    def drain(self) -> int:
        """``run --once``: send everything ready now, reconcile unknowns, then stop.

        May be called again (the demo does): each call starts from a fresh worker, since a
        finished one has shut its thread pool down. Every step is guarded: an outage (or a
        bug) ends the run with exit code 1 after the alert instead of waiting forever, since
        --once is run by cron or an operator. Claims made so far stay leased and are
        reconciled by the next run.
        """
        code = self.check_twilio()
        if code is not None:
            return code
        if self.worker.stop_event.is_set():
            self.worker = self.new_worker()
        self.worker.accounts.rechecks = False
        self.notifier.alert_log_level = logging.INFO  # the run's last line says why it stopped
        self.say_started()
        failure: str | None = None

        def run(job: Callable[[], object]) -> int:
            nonlocal failure
            result = self.guarded(job)
            failure = failure or self._step_failure
            return result

        run(self.recover)
        while failure is None and not self.worker.stop_event.is_set():
            if run(self.worker.step):
                self.report_progress()
                continue
            if self.worker.in_flight:
                run(lambda: self.worker.collect(block=True))
                continue
            run(lambda: self.worker.flush(self.clock()))
            run(self.recover)
            more = run(lambda: self.worker.claimable(self.clock()))
            if not more:  # senders on a refused account are not claimable: the others drain
                break
        self.worker.shutdown()
        if failure is None and self.worker.credentials_broken:
            failure = (
                f"Twilio rejected the credentials ({self.worker.credentials_answer}): check"
                " that account_sid and auth_token; its senders' messages stay queued"
            )
        if failure is not None:
            log.error("run --once stopped: %s", failure)
            return 1
        self.report_progress(final=True)
        self.guarded(self.dispatch_replies)
        self.say_stopped("drained")
        return 0

    def forever(self) -> int:
        code = self.check_twilio()
        if code is not None:
            return code
        self.install_signal_handlers()
        outbound_metrics.WORKER.watch_credentials(lambda: self.worker.credentials_broken)
        outbound_metrics.serve(self.settings.bridge.metrics_port)
        self.say_started()
        self.schedule_jobs()
        self.guarded(self.recover)
        interval = self.settings.bridge.poll_min_seconds
        while not self.worker.stop_event.is_set():
            outbound_metrics.WORKER.loop()
            self.guarded(self.scheduler.run_pending)
            claimed = self.guarded(self.worker.step)
            if claimed or self.worker.in_flight:
                interval = self.settings.bridge.poll_min_seconds
                self.guarded(lambda: self.worker.collect(block=True))
                continue
            self.guarded(lambda: self.worker.flush(self.clock()))
            if self.guarded(lambda: self.worker.claimable(self.clock())):
                time.sleep(self.settings.bridge.poll_min_seconds)  # metered: tokens refill
                continue
            self.worker.stop_event.wait(interval)
            interval = min(interval * 2, self.settings.bridge.poll_max_seconds)
        self.worker.shutdown()
        log.info("worker stopped: %s", self.worker.stats)
        self.say_stopped(self._stop_reason)
        return 0

    def guarded(self, job: Callable[[], object]) -> int:
        """Run a step; a database outage becomes an alert and a pause, not a crash.

        Any other exception is a bug, not an outage: it is logged with its traceback and
        alerted under its own kind (so it is not reported as "database down"), and the worker
        pauses and carries on, since a crash loop under systemd would help nobody.
        """
        try:
            result = job()
        except Exception as exc:
            what = f"{type(exc).__name__}: {exc}"
            if self.store.is_unavailable(exc):
                self._step_failure = "the database is unavailable"
                log.error("step failed: %s", what)
                self.notifier.alert("database", "The bridge cannot use its database", what)
            else:
                self._step_failure = "an unexpected error (see the log)"
                log.exception("step failed unexpectedly: %s", what)
                self.notifier.alert(
                    "internal",
                    "The bridge hit an unexpected error",
                    f"{what} (the traceback is in the worker's log)",
                )
            self.worker.stop_event.wait(min(5.0, self.settings.bridge.poll_max_seconds))
            return 0
        self._step_failure = None
        return int(result) if isinstance(result, (int, bool)) else 0

    def report_progress(self, final: bool = False) -> None:
        if self.progress is None:
            return
        s = self.worker.stats
        done = s.submitted + sum(s.finalized.values())
        line = (
            f"claimed {s.claimed}  submitted {s.submitted}  final {done - s.submitted}  "
            f"retried {s.retried}  unknown {s.unknown}  in flight {len(self.worker.in_flight)}"
        )
        self.progress(line + ("\n" if final else ""))

    def install_signal_handlers(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            log.info("signal %s: finishing in-flight sends, then stopping", signum)
            self._stop_reason = signal.Signals(signum).name
            self.worker.stop_event.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)


def _token_setting(account: str | None) -> str:
    """Where an account's auth token is set: its key and environment variable."""
    infix = "" if account is None else f"ACCOUNTS_{account.upper()}_"
    return f"{account_settings(account)} auth_token (SMS_BRIDGE_TWILIO_{infix}AUTH_TOKEN)"
