-- A segment's current members as `cohortflow sms preview` texts them: phone, traits, the phone's
-- latest SMS consent and opt-out, and the person's time zone.
with suppression as (
    select phone, occurred_at as opted_out_at, source as opted_out_by
    from (
        select
            phone,
            occurred_at,
            source,
            row_number() over (partition by phone order by occurred_at desc, source) as latest
        from {state_schema}.sms_suppressions
    ) as ranked
    where latest = 1
)
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
left join suppression
    on suppression.phone = member.phone
left join {models_schema}.dim_person as person
    on person.person_id = member.person_id
where member.segment = :segment
order by member.person_id
