-- DuckDB admits a single writing process per database file, which already serialises runs.
select 1
