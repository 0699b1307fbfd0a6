{#- The marketing consent in force for each address and channel as of the run: the latest accepted
    consent change wins. When two changes share the latest instant, 'unsubscribed' wins: a tie must
    never grant consent. Destinations read this (never the raw table) before subscribing anyone. -#}
with

consents as (
    select * from {{ ref('stg_consents') }}
    where occurred_at <= {{ as_of() }}
),

addressed as (
    select
        channel,
        case when channel = 'email' then email else phone end as address,
        status,
        occurred_at,
        source
    from consents
),

ranked as (
    select
        *,
        row_number() over (
            partition by channel, address
            order by occurred_at desc, case when status = 'unsubscribed' then 0 else 1 end,
                {{ binary_text('source') }}
        ) as recency
    from addressed
    where address is not null
)

select
    channel,
    address,
    status,
    occurred_at as consented_at,
    source
from ranked
where recency = 1
