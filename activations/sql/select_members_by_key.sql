-- The segment's current members, one per destination key: two people sharing a key (a
-- household's phone) are one contact at the destination, and the one with the smallest person_id
-- is sent, so its traits do not flip from run to run.
select *
from (
    select
        m.*,
        row_number() over (partition by m.{key_column} order by m.person_id) as key_rank
    from {models_schema}.segment_membership as m
    where m.segment = :segment
        and m.{key_column} is not null
) as ranked
where key_rank = 1
