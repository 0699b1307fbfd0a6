delete from {state_schema}.sync_row_errors
where destination = :destination
    and segment = :segment
    and destination_key = :destination_key
