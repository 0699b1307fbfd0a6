-- Members the destination does not hold yet under their current key (new members, people whose
-- email changed, rows that failed before, and keys whose removal was sent but never confirmed),
-- except rows it refused permanently that still carry the data it refused (quarantined until
-- the data changes).
select
    cur.{key_column} as destination_key,
    cur.person_id,
    cur.traits_hash,
    -- what a sync sends: contact details and the traits (canonical JSON text)
    cur.email,
    cur.phone,
    cur.traits
from {{select_members_by_key}} as cur
where (
    not exists (
        select 1
        from {state_schema}.sync_ledger as held
        where held.destination = :destination
            and held.segment = :segment
            and held.destination_key = cur.{key_column}
    )
    or exists (
        select 1
        from {state_schema}.sync_pending as pending
        where pending.destination = :destination
            and pending.segment = :segment
            and pending.destination_key = cur.{key_column}
            and pending.operation = 'remove'
    )
)
    and not exists (
        select 1
        from {state_schema}.sync_row_errors as refused
        where refused.destination = :destination
            and refused.segment = :segment
            and refused.destination_key = cur.{key_column}
            and refused.traits_hash = cur.traits_hash
            and not refused.retryable
    )
