"""Synthetic subscription company: writes a landing folder in the shape of docs/sources.md plus a
truth manifest (injected bad rows, billing exceptions) beside it."""

from pipelines.generate.core import GenerateResult, generate

__all__ = ["GenerateResult", "generate"]
