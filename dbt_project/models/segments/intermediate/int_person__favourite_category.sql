{#- The category each buyer bought most units of (ties: alphabetical), a trait for win-back copy. -#}
with

items as (
    select * from {{ ref('int_order_items__attributed') }}
    where category is not null
),

units as (
    select person_id, category, sum(quantity) as units
    from items
    group by person_id, category
),

ranked as (
    select
        *,
        row_number() over (partition by person_id order by units desc, {{ binary_text('category') }}) as category_rank
    from units
)

select person_id, category as favourite_category
from ranked
where category_rank = 1
