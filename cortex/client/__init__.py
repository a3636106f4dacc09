"""A typed HTTP client for a running Cortex server, sync and async.

    from cortex.client import CortexClient, CortexClientSync

    async with CortexClient("http://127.0.0.1:8000", key=KEY) as cx:
        fact = await cx.store("infra", "Deploys go through Argo CD")
        hits = await cx.search("how do we ship", top_k=3)

Same method names, arguments, result types (``cortex.model``) and exceptions
(``cortex.errors``) as the in-process ``Cortex``; retries on 503/429 honour
``Retry-After``; stores are idempotent across retries; proofs verify locally with
``verify_inclusion`` / ``verify_consistency`` against a verifier key you pinned.
"""

from cortex.client._async import CortexClient
from cortex.client._handles import verify_consistency, verify_inclusion
from cortex.client._http import Retrying, error_from_problem
from cortex.client._sync import CortexClientSync

__all__ = ["CortexClient", "CortexClientSync", "Retrying", "error_from_problem",
           "verify_consistency", "verify_inclusion"]
