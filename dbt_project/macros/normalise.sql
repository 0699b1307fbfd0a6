{#- Normalisation rules shared by every staging model, so an email is cleaned the same way
    wherever it appears (customers, orders, events, consents, message events). -#}

{#- What a deliverable address looks like: local part, @, dotted domain with a TLD of two or more
    letters, ASCII only. It is checked BEFORE lowercasing, so lower() only ever sees ASCII, which
    every warehouse lowercases the same way (non-ASCII case mapping differs between DuckDB and
    PostgreSQL). Quotes are doubled because the pattern sits in a SQL literal. -#}
{% macro email_pattern() -%}
    [A-Za-z0-9._%+''-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}
{%- endmacro %}

{#- Trimmed; null when blank. Not yet validated or lowercased. -#}
{% macro clean_email(expr) -%}
    nullif(trim({{ expr }}), '')
{%- endmacro %}

{#- The address lowercased when it looks deliverable, else null. -#}
{% macro normalise_email(expr) -%}
    case
        when {{ regex_full_match(clean_email(expr), email_pattern()) }}
            then lower({{ clean_email(expr) }})
    end
{%- endmacro %}

{#- True when a non-blank raw email was rejected by normalise_email. -#}
{% macro is_invalid_email(expr) -%}
    ({{ clean_email(expr) }} is not null and {{ normalise_email(expr) }} is null)
{%- endmacro %}

{#- Null for blank text, trimmed otherwise. -#}
{% macro clean_text(expr) -%}
    nullif(trim({{ expr }}), '')
{%- endmacro %}

{#- The region phonenumbers uses to read a local-format number: the customer's ISO-2 country,
    else the `default_phone_region` var. activations/phones.py computes the same pairs. -#}
{% macro phone_region(country_expr) -%}
    coalesce(upper(nullif(trim({{ country_expr }}), '')), {{ default_phone_region() }})
{%- endmacro %}

{#- Why a raw phone could not be used: null when it is usable or blank. `lookup` is the joined
    phone_e164 row for (phone, region). -#}
{% macro phone_issue(raw_expr, lookup) -%}
    case
        when {{ clean_text(raw_expr) }} is null then null
        when {{ lookup }}.phone_raw is null then 'phone_not_normalised'
        when {{ lookup }}.phone_e164 is null then coalesce({{ lookup }}.reason, 'invalid_phone')
    end
{%- endmacro %}

{% macro default_phone_region() -%}
    '{{ var("default_phone_region", "US") }}'
{%- endmacro %}
