"""Who subscribed to email and SMS marketing, when and through what, and who left early.

Messages can only go to subscribers, and consents must agree with the messages, so both tables
are built from this one draw. Opt-ins come from checkout, a popup, account signup or an import
(email) and checkout, a popup or a keyword (SMS). Some subscribers leave before the message
window; the rest may opt out in reply to a message (see `messages`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from activations.synthetic.clock import DAY, MESSAGE_HISTORY_DAYS, MIN, NEVER
from activations.synthetic.contacts import Contacts
from activations.synthetic.persons import GUEST, REGISTERED, Population
from activations.synthetic.purchases import OrderHistory
from activations.synthetic.run import Run

EMAIL_SOURCES = ("checkout", "popup", "account_signup", "import")
SMS_SOURCES = ("checkout", "popup", "keyword")


@dataclass(frozen=True)
class ChannelSubscriptions:
    """Per person, for one channel: opt-in time and source, and an early opt-out (NEVER: none)."""

    at: np.ndarray
    source: np.ndarray  # index into EMAIL_SOURCES or SMS_SOURCES
    early_unsub_at: np.ndarray  # before the message window, so no message shows it


@dataclass(frozen=True)
class Subscriptions:
    """Email and SMS subscriptions of every person."""

    email: ChannelSubscriptions
    sms: ChannelSubscriptions


def draw_subscriptions(
    run: Run, population: Population, contacts: Contacts, history: OrderHistory
) -> Subscriptions:
    """Who opted in to email and SMS, when and where; unsubscribes before the message window."""
    rng, n, until = run.rng, run.persons, run.until
    registered = population.kind == REGISTERED
    guest = population.kind == GUEST
    arrival, created_at, first_order = population.arrival, population.created_at, history.first
    email_ok = (contacts.email_pos >= 0) & ~contacts.is_test
    buyer = first_order < NEVER
    popup = np.minimum(arrival + rng.exponential(DAY, n).astype(np.int64), until - MIN)
    # Email: source 0 checkout, 1 popup, 2 account_signup, 3 import.
    email_sub = email_ok & (rng.random(n) < np.where(registered, 0.6, np.where(guest, 0.35, 0.0)))
    source = np.where(registered, rng.choice(4, size=n, p=[0.3, 0.2, 0.4, 0.1]), 0)
    source = np.where((source == 0) & ~buyer, 1, source)
    source = np.where((source == 3) & (created_at > run.start + 365 * DAY), 2, source)
    when = np.select([source == 0, source == 1], [first_order, popup], default=created_at)
    when = np.where(guest, first_order, when)
    email_sub &= when <= until
    email_sub_at = np.where(email_sub, when, NEVER)
    # SMS: source 0 checkout, 1 popup, 2 keyword.
    sms_sub = contacts.has_phone & (rng.random(n) < 0.22)
    sms_source = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    sms_source = np.where((sms_source == 0) & ~buyer, 1, sms_source)
    keyword = arrival + (rng.random(n) * (until - arrival)).astype(np.int64)
    sms_when = np.select([sms_source == 0, sms_source == 1], [first_order, popup], keyword)
    sms_sub &= sms_when <= until
    sms_sub_at = np.where(sms_sub, sms_when, NEVER)
    window = until - MESSAGE_HISTORY_DAYS * DAY
    early_unsub_at: list[np.ndarray] = []
    for sub_at, rate, mean_days in ((email_sub_at, 0.12, 200), (sms_sub_at, 0.08, 150)):
        after = rng.exponential(mean_days * DAY, n).astype(np.int64)
        leave = np.where(sub_at < NEVER, sub_at + np.minimum(after, NEVER - sub_at), NEVER)
        early = (sub_at < NEVER) & (rng.random(n) < rate) & (leave < window)
        early_unsub_at.append(np.where(early, leave, NEVER))
    return Subscriptions(
        email=ChannelSubscriptions(email_sub_at, source, early_unsub_at[0]),
        sms=ChannelSubscriptions(sms_sub_at, sms_source, early_unsub_at[1]),
    )
