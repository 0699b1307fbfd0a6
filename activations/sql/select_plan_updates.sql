-- Members the destination holds whose traits changed since they were last acknowledged, except
-- updates it refused permanently for exactly these traits (quarantined until they change).
select
    cur.{key_column} as destination_key,
    cur.person_id,
    cur.traits_hash,
    -- what a sync sends: contact details and the traits (canonical JSON text)
    cur.email,
    cur.phone,
    cur.traits
from {{select_members_by_key}} as cur
inner join {state_schema}.sync_ledger as held
    on held.destination = :destination
    and held.segment = :segment
    and held.destination_key = cur.{key_column}
where held.traits_hash <> cur.traits_hash
    and not exists (
        select 1
        from {state_schema}.sync_row_errors as refused
        where refused.destination = :destination
            and refused.segment = :segment
            and refused.destination_key = cur.{key_column}
            and refused.traits_hash = cur.traits_hash
            and not refused.retryable
    )
