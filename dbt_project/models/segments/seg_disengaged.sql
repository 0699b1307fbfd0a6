{#- People sent at least disengaged_min_sends emails in the last disengaged_window_days who opened
    and clicked none of them: the point to stop escalating and suppress. -#}
with

message_events as (
    select * from {{ ref('stg_message_events') }}
    where channel = 'email'
        and occurred_at > {{ as_of_minus(var('disengaged_window_days'), 'days') }}
        and occurred_at <= {{ as_of() }}
),

identifiers as (
    select * from {{ ref('person_identifiers') }}
    where identifier_type = 'email'
),

persons as (
    select * from {{ ref('dim_person') }}
),

engagement as (
    select
        identifiers.person_id,
        count(distinct case when message_events.event_type = 'sent' then message_events.message_id end)
            as sends_in_window,
        count(case when message_events.event_type in ('opened', 'clicked') then 1 end)
            as engagements_in_window,
        max(case when message_events.event_type = 'sent' then message_events.occurred_at end)
            as last_sent_at
    from message_events
    inner join identifiers
        on identifiers.identifier_value = message_events.email
    group by identifiers.person_id
)

select
    engagement.person_id,
    persons.first_name,
    engagement.sends_in_window,
    engagement.last_sent_at
from engagement
inner join persons
    on persons.person_id = engagement.person_id
where engagement.sends_in_window >= {{ var('disengaged_min_sends') }}
    and engagement.engagements_in_window = 0
