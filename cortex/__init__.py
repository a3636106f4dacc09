"""Cortex: a memory ledger for AI agents.

``async with Cortex.open(path) as cx:`` gives the in-process engine; ``CortexSync`` is
its blocking twin for scripts.
"""

from cortex.engine.facade import Cortex
from cortex.engine.sync import CortexSync
from cortex.errors import CortexError
from cortex.model import Fact

__all__ = ["Cortex", "CortexError", "CortexSync", "Fact"]
__version__ = "0.1.0"
