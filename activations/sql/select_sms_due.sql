-- Outbox messages whose time has come (planned, or deferred to now or earlier), with what the
-- rules decide by at send time: the phone's latest SMS consent, its latest opt-out, the person's
-- time zone, and whether the person still is where the message is about (a member for
-- an "entered" text, gone for an "exited" one): someone who left before the window opened is
-- never texted.
select
    outbox.message_id,
    outbox.segment,
    outbox.person_id,
    outbox.change,
    outbox.phone,
    outbox.body,
    outbox.planned_at,
    outbox.expires_at,
    consent.status as consent_status,
    consent.consented_at,
    suppression.opted_out_at,
    suppression.opted_out_by,
    person.timezone,
    case
        when outbox.change = 'entered' then member.person_id is not null
        else member.person_id is null
    end as still_applies
from {state_schema}.sms_outbox as outbox
left join {models_schema}.contact_consent as consent
    on consent.channel = 'sms'
    and consent.address = outbox.phone
left join {{select_sms_latest_opt_outs}} as suppression
    on suppression.phone = outbox.phone
left join {models_schema}.dim_person as person
    on person.person_id = outbox.person_id
left join {models_schema}.segment_membership as member
    on member.segment = outbox.segment
    and member.person_id = outbox.person_id
where outbox.status in ('planned', 'deferred')
    and (outbox.send_after is null or outbox.send_after <= :now)
order by outbox.planned_at, outbox.message_id
