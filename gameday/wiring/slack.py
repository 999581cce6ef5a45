"""The Slack side of the service, built from settings: the Bolt app (when tokens are set),
the sender (Slack's Web API, or the console), the approval and chat use cases and the
outbox dispatcher."""

from __future__ import annotations

from collections.abc import Callable

from gameday.adapters.db import Database
from gameday.adapters.slack.runtime import SlackRuntime
from gameday.domain.ports import Clock
from gameday.services.catalog import Catalog
from gameday.settings import Settings


def slack_for(
    settings: Settings,
    *,
    database: Database,
    catalog: Callable[[], Catalog],
    clock: Clock | None = None,
) -> SlackRuntime:
    """Slack for these settings: the Bolt app and Web API notifier when a bot token is set,
    the console notifier otherwise; the approval and chat use cases; the outbox dispatcher.

    The service mounts `runtime.wsgi_app()` at POST /slack/events, starts
    `runtime.outbox_worker()`, and connects `runtime.socket_mode()` when it is not None.
    """
    from gameday.adapters.slack.app import build_app, web_client
    from gameday.adapters.slack.deps import SlackDeps
    from gameday.adapters.slack.runtime import NoUserGroups
    from gameday.adapters.slack.senders import ConsoleSender, SlackSender
    from gameday.adapters.slack.usergroups import CachedUserGroups
    from gameday.domain.clock import SystemClock
    from gameday.domain.ports import MessageSender, UserGroups
    from gameday.services.approvals import ApprovalService
    from gameday.services.briefs import CatalogBriefs
    from gameday.services.chatops import ChatOps
    from gameday.services.outbox import OutboxDispatcher
    from gameday.services.run_updates import RecordedBriefs, RunUpdates
    from gameday.wiring import drill_acts_for

    chosen = clock or SystemClock()
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    sender: MessageSender
    groups: UserGroups
    if token:
        client = web_client(token, settings.slack_api_url)
        sender, groups = SlackSender(client), CachedUserGroups(client, chosen)
    else:
        sender, groups = ConsoleSender(), NoUserGroups()
    briefs = CatalogBriefs(
        catalog,
        default_channel=settings.default_channel,
        timezone=settings.timezone,
        live=settings.live,
        public_url=settings.public_url,
    )
    approvals = ApprovalService(database.runs, database.outbox, groups, chosen, briefs)
    chatops = ChatOps(
        database.runs,
        database.control,
        database.outbox,
        approvals,
        catalog,
        briefs,
        chosen,
        default_channel=settings.default_channel,
        live=settings.live,
        operators=settings.slack_operators,
        groups=groups,
    )
    recorded = RecordedBriefs(
        database.runs, fallback=briefs, default_channel=settings.default_channel
    )
    drills = drill_acts_for(settings, database, groups=groups, is_operator=chatops.is_operator)
    deps = SlackDeps(
        chatops,
        approvals,
        RunUpdates(recorded, runs=database.runs),
        timezone=settings.timezone,
        drills=drills,
    )
    app = None
    secret = settings.slack_signing_secret
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    if token and (secret or app_token):
        app = build_app(
            deps,
            signing_secret=secret.get_secret_value() if secret else "",
            bot_token=token,
            api_url=settings.slack_api_url,
        )
    return SlackRuntime(
        deps=deps,
        sender=sender,
        dispatcher=OutboxDispatcher(database.outbox, sender, chosen),
        clock=chosen,
        app=app,
        app_token=app_token,
        http_enabled=bool(secret and secret.get_secret_value()),
    )
