"""Operational intelligence computed in the build (docs/metrics.md M): renewal risk."""
