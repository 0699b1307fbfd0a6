-- How many of one segment's members each destination acknowledged (the ledger's view).
select destination, count(*) as synced, max(synced_at) as last_synced_at
from {state_schema}.sync_ledger
where segment = :segment
group by destination
order by destination
