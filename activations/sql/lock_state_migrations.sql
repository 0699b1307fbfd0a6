-- DuckDB admits a single writing process per database file, which already serialises migrations.
select 1
