"""The `consents` table: every opt-in and opt-out per channel, in time order.

Consent decides who may be messaged, so it must agree with the messages: opt-ins come from the
subscriptions and opt-outs either from early leavers or from replies to a message. Emails are
written as the person typed them; phones in the formats people use (NANP local, others '+').
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from activations.raw_contract import CONSENT_STATUSES, MESSAGE_CHANNELS
from activations.synthetic.arrays import timestamps, vocabulary
from activations.synthetic.clock import NEVER
from activations.synthetic.contacts import Contacts
from activations.synthetic.messages import ReplyOptOuts
from activations.synthetic.regions import NANP_COUNTRIES
from activations.synthetic.run import Run
from activations.synthetic.subscriptions import EMAIL_SOURCES, SMS_SOURCES, Subscriptions

OPT_OUT_SOURCES = ("unsubscribe_link", "preference_center", "spam_complaint", "stop_keyword")
# One vocabulary for `source`: email opt-ins 0-3, opt-outs 4-7, SMS opt-ins 8-10.
_SOURCES = EMAIL_SOURCES + OPT_OUT_SOURCES + SMS_SOURCES


def build_consents(
    run: Run, contacts: Contacts, subscriptions: Subscriptions, opt_outs: ReplyOptOuts
) -> pa.Table:
    """Opt-ins and opt-outs per channel, in time order (phones typed, emails as entered)."""
    rng = run.rng
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(channel: int, people: np.ndarray, at: np.ndarray, status: int, src: np.ndarray) -> None:
        rows.append(
            (
                people,
                at,
                np.full(people.size, channel, np.int8),
                np.full(people.size, status, np.int8),
                src,
            )
        )

    email, sms = subscriptions.email, subscriptions.sms
    email_in = np.flatnonzero(email.at < NEVER)
    add(0, email_in, email.at[email_in], 0, email.source[email_in])
    early = np.flatnonzero(email.early_unsub_at < NEVER)
    add(0, early, email.early_unsub_at[early], 1, 4 + rng.integers(0, 2, early.size))
    add(
        0, opt_outs.email.person, opt_outs.email.at, 1, 4 + np.where(opt_outs.email.complaint, 2, 0)
    )
    sms_in = np.flatnonzero(sms.at < NEVER)
    add(1, sms_in, sms.at[sms_in], 0, 8 + sms.source[sms_in])
    early = np.flatnonzero(sms.early_unsub_at < NEVER)
    add(1, early, sms.early_unsub_at[early], 1, np.full(early.size, 7))
    add(1, opt_outs.sms.person, opt_outs.sms.at, 1, np.full(opt_outs.sms.person.size, 7))
    person, at, channel, status, src = (np.concatenate(col) for col in zip(*rows, strict=True))
    order = np.argsort(at, kind="stable")
    person, at, channel, status, src = (a[order] for a in (person, at, channel, status, src))
    is_email = channel == 0
    return pa.table(
        {
            "channel": vocabulary(MESSAGE_CHANNELS).take(pa.array(channel)),
            "email": contacts.typed_emails(
                rng, person, is_email, case=run.dirty.email_case_or_padding, invalid=0.0
            ),
            "phone": contacts.typed_phones(
                rng,
                person,
                ~is_email,
                local_ok=np.isin(contacts.country[person], NANP_COUNTRIES),
                junk=0.0,
            ),
            "status": vocabulary(CONSENT_STATUSES).take(pa.array(status)),
            "occurred_at": timestamps(at),
            "source": vocabulary(_SOURCES).take(pa.array(src)),
        }
    )
