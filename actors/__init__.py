"""A small actor runtime on anyio: bounded mailboxes, ask/tell, pools, batches, supervision.

It knows nothing about Cortex. See ``ActorSystem`` for the lifecycle and ``ActorRef``
for the messaging vocabulary.
"""

from actors._actor import Actor, BatchActor
from actors._envelope import Envelope, current_request_id, request_id_var
from actors._errors import ActorCrashed, ActorError, Overloaded, ShuttingDown
from actors._mailbox import ActorStatistics
from actors._ref import ActorRef
from actors._system import ActorSystem

__all__ = [
    "Actor",
    "ActorCrashed",
    "ActorError",
    "ActorRef",
    "ActorStatistics",
    "ActorSystem",
    "BatchActor",
    "Envelope",
    "Overloaded",
    "ShuttingDown",
    "current_request_id",
    "request_id_var",
]
