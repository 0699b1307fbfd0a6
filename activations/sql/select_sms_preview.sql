-- A segment's current members as `cohortflow sms preview` texts them: phone, traits, the phone's
-- latest SMS consent and opt-out, and the person's time zone.
select
    member.person_id,
    member.phone,
    member.traits,
    consent.status as consent_status,
    consent.consented_at,
    suppression.opted_out_at,
    suppression.opted_out_by,
    person.timezone
from {models_schema}.segment_membership as member
left join {models_schema}.contact_consent as consent
    on consent.channel = 'sms'
    and consent.address = member.phone
left join {{select_sms_latest_opt_outs}} as suppression
    on suppression.phone = member.phone
left join {models_schema}.dim_person as person
    on person.person_id = member.person_id
where member.segment = :segment
order by member.person_id
