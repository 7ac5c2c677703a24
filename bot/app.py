"""Wiring: settings → storage, X client, Slack client, Bolt app, jobs. Nothing here runs by itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN, EVENT_SCHEDULER_START
from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_sdk import WebClient

from bot.acks import AckFirst, RequestsInFlight
from bot.config import Settings
from bot.domain.locations import Detectors
from bot.domain.pii import PiiDetector
from bot.jobs.bulk import BulkReplier
from bot.jobs.csat import SurveyCatchUp, survey_policy
from bot.jobs.digest import Digest
from bot.jobs.health import HealthMonitor
from bot.jobs.ingest import MENTIONS, Ingestor
from bot.jobs.post import Poster
from bot.jobs.reminders import Reminders
from bot.jobs.review import Reviewer
from bot.jobs.scheduler import Jobs, Timing, new_scheduler, run_prompt_jobs_now, schedule_jobs
from bot.jobs.sla import SlaReminders
from bot.jobs.sources import watch_stream
from bot.jobs.streamed import StreamedItems
from bot.jobs.surge import SurgeGrouper
from bot.jobs.wake import PostWake
from bot.leader import Leader
from bot.observe import Observed, Observer
from bot.services import Services
from bot.slack.client import web_client
from bot.slack.permissions import Gatekeeper
from bot.x.activity import ActivityAPI
from bot.x.client import XClient
from bot.x.errors import XError
from bot.x.outbox import Outbox
from bot.x.stream import ActivityStream
from handlers import register_listeners
from storage.db import Store
from storage.dms import DM_SOURCE

log = logging.getLogger(__name__)

LISTENER_THREADS = 64  # clicks being worked on at once: a team's worth, under a slow Slack


@dataclass
class Runtime:
    settings: Settings
    store: Store
    x: XClient
    slack: WebClient
    app: App
    ingestor: Ingestor
    poster: Poster
    scheduler: BackgroundScheduler
    services: Services
    reminders: Reminders
    bulk: BulkReplier
    grouper: SurgeGrouper
    in_flight: RequestsInFlight  # the web server's requests being answered (HTTP mode)
    leader: Leader  # its lease is renewed while the scheduler runs; only the leader's jobs do anything
    observer: Observer  # GET /metrics
    stream: ActivityStream | None = None  # X_ACTIVITY_STREAM: read by the leader only


def build_app(settings: Settings, client: WebClient, services: Services, in_flight: RequestsInFlight) -> App:
    """The Bolt app with every listener; requests are verified with the signing secret in HTTP mode.
    A listener's work after its ack() waits for the requests `in_flight` to be answered first."""
    app = App(
        # Bolt acknowledges a request once its listener calls ack(); the listener runs in this pool, so
        # it must never be full of other people's slow follow-up work (Slack calls after the ack).
        # Its threads answer Slack: their database connections wait briefly for the write lock.
        listener_executor=ThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="listener", initializer=services.store.answer_requests_here
        ),
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=settings.http_mode,
        token_verification_enabled=False,
    )

    @app.middleware
    def provide_services(context, next):  # noqa: A002 (Bolt's argument name)
        services.store.answer_requests_here()  # this thread is answering Slack's request
        context["ack"] = AckFirst(in_flight)
        context["perch"] = services
        # Bolt hands listeners a plain WebClient built per request; give them the shared one, so every
        # message Perch posts into a channel, whoever posts it, goes through the same per-channel pacer.
        context["client"] = client
        next()

    register_listeners(app)
    return app


def x_client(settings: Settings) -> XClient:
    return XClient(
        base_url=settings.x_api_url,
        api_key=settings.x_api_key,
        api_secret=settings.x_api_secret,
        access_token=settings.x_access_token,
        access_token_secret=settings.x_access_token_secret,
        bearer_token=settings.x_bearer_token,
    )


def slack_client(settings: Settings) -> WebClient:
    return web_client(
        settings.slack_bot_token, settings.slack_api_url, post_interval=settings.slack_channel_post_interval_seconds
    )


def build_runtime(settings: Settings) -> Runtime:
    """Everything Perch runs, wired once: each part gets what it calls at construction (the post job's
    wake-up goes to the jobs that ring it, surge grouping to the poster), then the jobs are scheduled."""
    store, x, slack = Store(settings.database), x_client(settings), slack_client(settings)
    scheduler = new_scheduler()
    wake = PostWake(scheduler)
    grouper = SurgeGrouper(store, threshold=settings.surge_threshold, window_minutes=settings.surge_window_minutes)
    poster = build_poster(settings, store, slack, x, wake=wake, grouper=grouper)
    pii = PiiDetector(settings.pii_default_region, settings.pii_patterns, settings.pii_allow)
    detectors = Detectors(store)
    ingestor = build_ingestor(settings, store, x, detectors, pii, on_stored=wake)
    gate = Gatekeeper(
        slack,
        support_group=settings.support_usergroup,
        manager_group=settings.manager_usergroup,
        review_group=settings.review_usergroup,
        lead_group=settings.support_lead_usergroup,
    )
    outbox = Outbox(store, x)
    reviewer = build_reviewer(settings, store, outbox, gate)
    services = Services(settings, store, x, gate, poster, outbox, detectors, pii, reviewer, ingestor)
    in_flight = RequestsInFlight()
    app = build_app(settings, slack, services, in_flight)
    jobs = build_jobs(settings, store, slack, ingestor, poster, outbox, reviewer)
    leader = build_leader(settings, store, scheduler)
    workers = schedule_jobs(scheduler, jobs, wake, timing(settings), guard=leader.run)
    observer = Observer(Observed(store, leader, workers, outbox, x, slack))
    stream = build_stream(settings, x, ingestor, leader)
    return Runtime(
        settings,
        store,
        x,
        slack,
        app,
        ingestor,
        poster,
        scheduler,
        services,
        jobs.reminders,
        jobs.bulk,
        grouper,
        in_flight,
        leader,
        observer,
        stream,
    )


def build_leader(settings: Settings, store: Store, scheduler: BackgroundScheduler) -> Leader:
    """The lease is taken when the scheduler starts (so a lone process leads before its jobs' first
    run) and given up when it has stopped; becoming the leader later runs the prompt jobs at once."""
    leader = Leader(store, settings.leader_lease_seconds)
    leader.on_promoted = lambda: run_prompt_jobs_now(scheduler) if scheduler.running else None
    scheduler.add_listener(lambda _event: leader.start(), EVENT_SCHEDULER_START)
    scheduler.add_listener(leader.stop, EVENT_SCHEDULER_SHUTDOWN)
    return leader


def build_stream(settings: Settings, x: XClient, ingestor: Ingestor, leader: Leader) -> ActivityStream | None:
    """X's activity stream (X_ACTIVITY_STREAM): read while this process leads (X allows an app two
    connections), its items stored as the polls store them (a stored item is refused a second time, and
    the stream sends nothing and moves no cursor, so it needs no fence), the mentions and DM polls
    slowed while it is up."""
    if not settings.x_activity_stream or not settings.x_bearer_token:
        return None
    api = ActivityAPI(
        settings.x_api_url,
        bearer_token=settings.x_bearer_token,
        api_key=settings.x_api_key,
        api_secret=settings.x_api_secret,
        access_token=settings.x_access_token,
        access_token_secret=settings.x_access_token_secret,
    )

    def brand_id() -> str | None:
        try:
            return x.me().id
        except XError:
            return None

    stream = ActivityStream(api, brand_id, StreamedItems(ingestor))
    watch_stream(ingestor.states, stream, MENTIONS, DM_SOURCE)
    promoted = leader.on_promoted

    def lead() -> None:
        promoted()
        stream.start()

    leader.on_promoted, leader.on_demoted = lead, stream.stop
    return stream


def build_poster(
    settings: Settings, store: Store, slack: WebClient, x: XClient, *, wake: PostWake, grouper: SurgeGrouper
) -> Poster:
    return Poster(
        store,
        slack,
        settings.slack_queue_channel,
        wake=wake,
        grouper=grouper,
        brand_handle=lambda: x.account.username if x.account else "",
        bulk_interval=settings.bulk_reply_interval_seconds,
        message_interval=settings.slack_channel_post_interval_seconds,
        reply_anywhere=settings.x_reply_anywhere,
        dm_channel=settings.slack_dm_channel,
        lead_group=settings.support_lead_usergroup,
        csat_cooldown=timedelta(days=settings.csat_cooldown_days) if settings.csat_survey else None,
    )


def build_ingestor(
    settings: Settings,
    store: Store,
    x: XClient,
    detectors: Detectors,
    pii: PiiDetector,
    *,
    on_stored: Callable[[], None],
) -> Ingestor:
    return Ingestor(
        store,
        x,
        search_queries=settings.x_search_queries,
        poll_interval=settings.poll_interval_seconds,
        overlap_seconds=settings.poll_overlap_seconds,
        backfill_seconds=settings.backfill_hours * 3600,
        detector=detectors.current,
        read_dms=settings.x_read_dms,
        pii=pii,
        on_stored=on_stored,
    )


def build_reviewer(settings: Settings, store: Store, outbox: Outbox, gate: Gatekeeper) -> Reviewer:
    return Reviewer(
        store,
        outbox,
        gate,
        lead_group=settings.support_lead_usergroup,
        remind_minutes=settings.review_remind_minutes,
        daily_limit=settings.agent_daily_reply_limit,
        timezone=settings.report_timezone,
        summoned_only=not settings.x_reply_anywhere,
    )


def build_jobs(
    settings: Settings,
    store: Store,
    slack: WebClient,
    ingestor: Ingestor,
    poster: Poster,
    outbox: Outbox,
    reviewer: Reviewer,
) -> Jobs:
    """The scheduled jobs besides ingest and post: reminders, SLA, surge replies, review, health and
    (with a report channel) the digest."""
    reminders = Reminders(
        store,
        slack,
        normal_minutes=settings.escalation_ack_minutes,
        urgent_minutes=settings.escalation_urgent_ack_minutes,
    )
    sla = SlaReminders(
        store,
        claim_minutes=settings.sla_claim_minutes,
        first_response_minutes=settings.sla_first_response_minutes,
        resolve_minutes=settings.sla_resolve_hours * 60,
        lead_group=settings.support_lead_usergroup,
    )
    health = HealthMonitor(
        store,
        slack,
        settings.slack_queue_channel,
        ingestor,
        no_poll_minutes=settings.health_no_poll_minutes,
        no_mentions_hours=settings.health_no_mentions_hours,
        budget=settings.x_monthly_budget_usd,
        prices=settings.x_prices,
    )
    bulk = BulkReplier(store, outbox)
    digest = build_digest(settings, store, slack)
    policy = survey_policy(settings.csat_survey, settings.csat_question, settings.csat_cooldown_days)
    surveys = SurveyCatchUp(store, outbox, policy) if policy else None
    return Jobs(ingestor, poster, reminders, sla, bulk, reviewer, health, digest, outbox.reconcile, surveys)


def build_digest(settings: Settings, store: Store, slack: WebClient) -> Digest | None:
    """The daily (and weekly) report in the report channel; none without one."""
    if not settings.slack_report_channel:
        return None
    return Digest(
        store,
        slack,
        settings.slack_report_channel,
        timezone=settings.report_timezone,
        sla_minutes=settings.sla_first_response_minutes,
        resolve_hours=settings.sla_resolve_hours,
        weekly_day=settings.report_weekly_day,
        business=settings.business_hours,
        prices=settings.x_prices,
    )


def timing(settings: Settings) -> Timing:
    return Timing(
        poll_interval=settings.poll_interval_seconds,
        bulk_interval=settings.bulk_reply_interval_seconds,
        post_interval=settings.post_interval_seconds,
        digest_time=settings.report_digest_time,
        timezone=settings.report_timezone,
    )
