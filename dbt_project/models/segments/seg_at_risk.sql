{#- Valuable buyers slipping away: RFM tier at_risk, cant_lose or about_to_lose. -#}
with

rfm as (
    select * from {{ ref('person_rfm') }}
    where rfm_tier in ('at_risk', 'cant_lose', 'about_to_lose')
),

lifecycle as (
    select * from {{ ref('person_lifecycle') }}
),

persons as (
    select * from {{ ref('dim_person') }}
)

select
    rfm.person_id,
    persons.first_name,
    rfm.rfm_tier,
    lifecycle.last_order_at,
    lifecycle.revenue
from rfm
inner join lifecycle
    on lifecycle.person_id = rfm.person_id
inner join persons
    on persons.person_id = rfm.person_id
