{#- Everything staging could not use, one row per problem: whole rows rejected (reason such as
    missing_key, duplicate_key, unknown_status, no_identifier) and single fields dropped from rows
    that were kept (invalid_email, invalid_phone). Query it instead of wondering where a customer went. -#}
{%- set tables = {
    'customers': {'key': 'customer_id', 'email': true, 'phone': true},
    'orders': {'key': 'order_id', 'email': true, 'phone': true},
    'order_items': {'key': "order_id || '#' || cast(line_number as " ~ dbt.type_string() ~ ")", 'email': false, 'phone': false},
    'products': {'key': 'product_id', 'email': false, 'phone': false},
    'events': {'key': 'event_id', 'email': true, 'phone': false},
    'message_events': {'key': 'message_id', 'email': true, 'phone': true},
    'consents': {'key': "channel || ':' || coalesce(email_raw, phone_raw, '')", 'email': true, 'phone': true},
} -%}

{%- for table, spec in tables.items() %}
{%- set checked = ref('stg_' ~ table ~ '__checked') %}
select
    '{{ table }}' as source_table,
    cast({{ spec.key }} as {{ dbt.type_string() }}) as row_key,
    reject_reason as reason,
    cast(null as {{ dbt.type_string() }}) as column_name,
    cast(null as {{ dbt.type_string() }}) as raw_value
from {{ checked }}
where reject_reason is not null
{%- if spec.email %}
union all
select '{{ table }}', cast({{ spec.key }} as {{ dbt.type_string() }}), 'invalid_email', 'email', email_raw
from {{ checked }}
where reject_reason is null and email_invalid
{%- endif %}
{%- if spec.phone %}
union all
select '{{ table }}', cast({{ spec.key }} as {{ dbt.type_string() }}), phone_issue, 'phone', phone_raw
from {{ checked }}
where reject_reason is null and phone_issue is not null
{%- endif %}
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
