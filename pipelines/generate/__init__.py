"""Synthetic subscription company: writes a landing folder in the shape of docs/sources.md plus a
truth manifest (injected bad rows, billing exceptions) beside it.

Where things are: `core` (generate(): accounts in chunks -> extract files), `company` (one
account's story), and its units `crm` (account, deals, contracts), `support` (tickets,
implementation projects), `subscriptions` (month-by-month life as an event stream), `usage` (the
metering system), `billing_system` (invoices, collections, credits, injected exceptions) over
`billing` (R3 as a pure function); `params` (the run's and the segments' parameters, one frozen
dataclass), `procurement` (FX and costs), `corrupt` (bad rows), `validate` (contract checks)."""

from pipelines.generate.core import GenerateResult, generate

__all__ = ["GenerateResult", "generate"]
