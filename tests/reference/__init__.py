"""Plain-Python reference implementations that the dbt models are checked against."""
