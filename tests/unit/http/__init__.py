"""Unit tests for the shared HTTP layer."""
