"""Local stand-ins for the vendors cohortflow syncs to, served on loopback for tests and demos.

`SandboxServer` runs any sandbox app (uvicorn in a thread, 127.0.0.1, a free port); `Faults`
says which failures to inject. Vendor sandboxes live in their own modules, e.g.
`activations.sandbox.klaviyo.KlaviyoSandbox`, so importing this package stays light.
"""

from __future__ import annotations

from activations.sandbox.faults import FAULT_KINDS, FaultKind, Faults
from activations.sandbox.server import SandboxServer

__all__ = ["FAULT_KINDS", "FaultKind", "Faults", "SandboxServer"]
