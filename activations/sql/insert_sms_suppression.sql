insert into {state_schema}.sms_suppressions (phone, source, occurred_at, recorded_at)
values (:phone, :source, :occurred_at, :recorded_at)
