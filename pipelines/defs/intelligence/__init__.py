"""Operational intelligence assets: renewal risk (docs/metrics.md M1)."""
