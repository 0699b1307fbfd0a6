"""Data-quality checks that stand between the warehouse and any sync (Great Expectations)."""
