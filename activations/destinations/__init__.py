"""Destinations: one module per vendor on the shared HTTP layer (activations.http)."""
