{#- RFM scores and tier (DESIGN §4) over persons with at least one counted order. Each score is
    least(5, 1 + floor(5 * percent_rank())) ascending, so ties share the lowest rank and the most
    recent, frequent, valuable buyers score 5. FM = floor((F + M) / 2). Tier: first match wins. -#}
with

lifecycle as (
    select * from {{ ref('person_lifecycle') }}
    where orders_count >= 1
),

ranked as (
    select
        person_id,
        percent_rank() over (order by last_order_at) as recency_rank,
        percent_rank() over (order by orders_count) as frequency_rank,
        percent_rank() over (order by revenue) as monetary_rank
    from lifecycle
),

scored as (
    select
        person_id,
        cast(least(5, 1 + floor(5 * recency_rank)) as integer) as recency_score,
        cast(least(5, 1 + floor(5 * frequency_rank)) as integer) as frequency_score,
        cast(least(5, 1 + floor(5 * monetary_rank)) as integer) as monetary_score
    from ranked
),

combined as (
    select
        *,
        cast(floor((frequency_score + monetary_score) / 2.0) as integer) as frequency_monetary_score
    from scored
)

select
    person_id,
    recency_score,
    frequency_score,
    monetary_score,
    frequency_monetary_score,
    case
        when recency_score >= 4 and frequency_monetary_score >= 4 then 'champions'
        when recency_score >= 3 and frequency_monetary_score >= 3 then 'loyal'
        when recency_score >= 4 then 'recent'
        when recency_score = 3 then 'needs_nurturing'
        when frequency_monetary_score >= 4 then 'cant_lose'
        when recency_score = 2 and frequency_monetary_score >= 2 then 'at_risk'
        when recency_score = 2 then 'about_to_lose'
        when frequency_monetary_score >= 2 then 'hibernating'
        else 'lost'
    end as rfm_tier
from combined
