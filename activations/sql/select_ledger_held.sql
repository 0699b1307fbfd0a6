select count(*) as held
from {state_schema}.sync_ledger
where destination = :destination
    and segment = :segment
