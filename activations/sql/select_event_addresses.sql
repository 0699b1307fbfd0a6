-- Where the enter/exit events of some people in one segment can be addressed: their current
-- contact details (members or not: someone who left a segment is still a person, and may be gone
-- from dim_person too), and the key this destination holds them by in the segment's list. When the
-- ledger holds more than one key for a person (an old email still being removed), the one
-- acknowledged last is the profile the segment's flows know.
with person as (
    select person_id, email, phone
    from {models_schema}.dim_person
    where person_id in :person_ids
),
held as (
    select person_id, destination_key
    from (
        select
            person_id,
            destination_key,
            row_number() over (
                partition by person_id order by synced_at desc, destination_key
            ) as latest
        from {state_schema}.sync_ledger
        where destination = :destination
            and segment = :segment
            and person_id in :person_ids
    ) as ranked
    where latest = 1
)
select
    coalesce(person.person_id, held.person_id) as person_id,
    person.email,
    person.phone,
    held.destination_key as held_key
from person
full outer join held
    on held.person_id = person.person_id
