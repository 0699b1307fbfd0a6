"""The `message_events` table: campaign sends and what recipients did with them.

Message history covers the last 180 days (what an ESP export keeps). Rows are written as vendors
log them: email addresses lowercase (as ESPs export them) and phones in E.164 (as Twilio logs
them). Engagement fades for part of the audience, so "subscribed but not opening" segments have
members, and some recipients opt out in reply, which the consents then record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from activations.raw_contract import MESSAGE_CHANNELS, MESSAGE_EVENT_TYPES
from activations.synthetic.arrays import (
    expand,
    pick_index,
    scrambled_hex_ids,
    take_or_null,
    timestamps,
    vocabulary,
)
from activations.synthetic.campaigns import EMAIL_THEMES, SMS_THEMES, send_calendar
from activations.synthetic.clock import DAY, HOUR, MESSAGE_HISTORY_DAYS, MIN, NEVER, SEC
from activations.synthetic.contacts import Contacts
from activations.synthetic.run import Run
from activations.synthetic.subscriptions import ChannelSubscriptions, Subscriptions


@dataclass(frozen=True)
class OptOuts:
    """Opt-outs in reply to a message on one channel: who, when, and whether as a complaint."""

    person: np.ndarray
    at: np.ndarray
    complaint: np.ndarray


@dataclass(frozen=True)
class ReplyOptOuts:
    """What the consents need from the messages: the opt-outs per channel."""

    email: OptOuts
    sms: OptOuts


@dataclass(frozen=True)
class _ChannelMessages:
    """One channel's messages (per message: person, campaign, send time) and their event rows."""

    person: np.ndarray
    campaign: np.ndarray
    sent: np.ndarray
    names: list[str]
    row_message: np.ndarray
    row_type: np.ndarray
    row_time: np.ndarray
    opt_outs: OptOuts


def build_message_events(
    run: Run, contacts: Contacts, subscriptions: Subscriptions
) -> tuple[pa.Table, ReplyOptOuts]:
    """Campaign sends over the last 180 days, email (lowercase) and SMS (E.164)."""
    email = _channel_messages(run, 0, subscriptions.email, every_days=3.0, per_days=18.0)
    sms = _channel_messages(run, 1, subscriptions.sms, every_days=10.0, per_days=21.0)
    opt_outs = ReplyOptOuts(email=email.opt_outs, sms=sms.opt_outs)
    # Per message (both channels): who, which campaign, and its id in send order.
    emails = email.sent.size
    person = np.concatenate([email.person, sms.person])
    campaign = np.concatenate([email.campaign, sms.campaign + len(email.names)])
    is_email = np.arange(person.size) < emails
    id_rank = np.empty(person.size, dtype=np.int64)
    id_rank[np.argsort(np.concatenate([email.sent, sms.sent]), kind="stable")] = np.arange(
        person.size
    )
    contacts.email_seen[person[is_email]] = True
    contacts.phone_seen[person[~is_email]] = True
    # Per row, in time order.
    time = np.concatenate([email.row_time, sms.row_time])
    order = np.argsort(time, kind="stable")
    time = time[order]
    message = np.concatenate([email.row_message, sms.row_message + emails])[order]
    kind = np.concatenate([email.row_type, sms.row_type])[order]
    del order
    names = vocabulary(email.names + sms.names)
    who = np.concatenate([email.person, sms.person])
    del person, is_email, email, sms
    # Columns one at a time, freeing each index array once used (this step sets the peak).
    row_email = message < emails
    columns: dict[str, pa.Array] = {}
    columns["message_id"] = scrambled_hex_ids(
        id_rank[message], salt=run.seed * 104729 + 3, prefix="msg_"
    )
    del id_rank
    columns["channel"] = vocabulary(MESSAGE_CHANNELS).take(pa.array((~row_email).astype(np.int8)))
    who = who[message]
    columns["email"] = take_or_null(contacts.email_canon, contacts.email_pos[who], row_email)
    columns["phone"] = take_or_null(contacts.phone_e164, contacts.phone_pos[who], ~row_email)
    del who, row_email
    columns["event_type"] = vocabulary(MESSAGE_EVENT_TYPES).take(pa.array(kind))
    del kind
    columns["campaign"] = names.take(pa.array(campaign[message]))
    del campaign, message
    columns["occurred_at"] = timestamps(time)
    return pa.table(columns), opt_outs


def _channel_messages(
    run: Run,
    channel: int,
    subscriptions: ChannelSubscriptions,
    every_days: float,
    per_days: float,
) -> _ChannelMessages:
    """Messages and their events for one channel (0 email, 1 sms), with opt-outs.

    Engagement decays: a third of the audience goes quiet at some point and from then on
    almost never opens or clicks, so recent sends without engagement pile up for them.
    """
    rng, until = run.rng, run.until
    subscribers = np.flatnonzero(subscriptions.at < NEVER)
    window = until - MESSAGE_HISTORY_DAYS * DAY
    themes = EMAIL_THEMES if channel == 0 else SMS_THEMES
    times, names = send_calendar(rng, until, every_days, themes, "" if channel == 0 else "sms-")
    sub_at = subscriptions.at[subscribers]
    early = subscriptions.early_unsub_at[subscribers]
    alive = early == NEVER
    begin = np.maximum(sub_at, window)
    low = np.searchsorted(times, begin, side="left")
    count = rng.poisson(np.maximum(until - begin, 0) / (per_days * DAY))
    count = np.where(alive & (low < times.size), count, 0)
    who, _ = expand(count)
    pick = low[who] + pick_index(rng, times.size - low[who])
    key = np.unique(who * times.size + pick)  # one send per campaign; sorted by who, time
    who, campaign = key // times.size, key % times.size
    k = who.size
    sent = times[campaign] + rng.integers(0, 90 * MIN, k)
    engagement = rng.beta(2.0, 4.0, subscribers.size)[who]
    quiet_since = np.where(
        rng.random(subscribers.size) < 0.33,
        window
        - 60 * DAY
        + (rng.random(subscribers.size) * (MESSAGE_HISTORY_DAYS + 30) * DAY).astype(np.int64),
        NEVER,
    )[who]
    gone_quiet = sent >= quiet_since
    bounced = rng.random(k) < (0.015 if channel == 0 else 0.02)
    if channel == 0:
        opened = ~bounced & (rng.random(k) < np.where(gone_quiet, 0.01, engagement))
        clicked = opened & (rng.random(k) < 0.18)
    else:
        opened = np.zeros(k, bool)
        clicked = ~bounced & (rng.random(k) < np.where(gone_quiet, 0.003, 0.3 * engagement))
    opt_out = ~bounced & (rng.random(k) < np.where(gone_quiet, 0.008, 0.003))
    complaint = opt_out & (channel == 0) & (rng.random(k) < 0.1)
    t_open = sent + MIN + rng.exponential(4 * HOUR, k).astype(np.int64)
    t_click = np.where(opened, t_open, sent + MIN) + rng.exponential(3 * MIN, k).astype(np.int64)
    t_out = np.where(opened, t_open, sent) + rng.exponential(2 * HOUR, k).astype(np.int64)
    opt_out &= t_out <= until
    # After the first opt-out a person receives nothing more on this channel.
    first_of = np.ones(k, dtype=bool)
    first_of[1:] = who[1:] != who[:-1]
    starts = np.flatnonzero(first_of)
    seen: np.ndarray = np.cumsum(opt_out, dtype=np.int64) - opt_out
    seen -= np.repeat(seen[starts], np.diff(np.r_[starts, k]))
    keep: np.ndarray = seen == 0
    # Rows: sent, delivered|bounced, opened, clicked, unsubscribed|complained.
    delivered_at = sent + rng.integers(2 * SEC, 90 * SEC, k)
    slots: tuple[tuple[np.ndarray, np.ndarray | int, np.ndarray], ...] = (
        (keep, 0, sent),
        (keep, np.where(bounced, 4, 1), delivered_at),
        (keep & opened, 2, t_open),
        (keep & clicked, 3, t_click),
        (keep & opt_out, np.where(complaint, 6, 5), t_out),
    )
    row_message: list[np.ndarray] = []
    row_type: list[np.ndarray] = []
    row_time: list[np.ndarray] = []
    for on, event_type, at in slots:
        chosen = np.flatnonzero(on & (at <= until))
        row_message.append(chosen.astype(np.int32))
        kind = np.broadcast_to(np.asarray(event_type, dtype=np.int8), (k,))
        row_type.append(kind[chosen])
        row_time.append(at[chosen])
    opted = keep & opt_out
    return _ChannelMessages(
        person=subscribers[who].astype(np.int32),
        campaign=campaign.astype(np.int32),
        sent=sent,
        names=names,
        row_message=np.concatenate(row_message),
        row_type=np.concatenate(row_type),
        row_time=np.concatenate(row_time),
        opt_outs=OptOuts(
            person=subscribers[who[opted]], at=t_out[opted], complaint=complaint[opted]
        ),
    )
