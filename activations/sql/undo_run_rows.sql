-- Undo, last step: every row keyed by the run id (called once per table).
delete from {state_schema}.{table} where {column} = :run_id
