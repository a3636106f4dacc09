"""Clients that hammer a real server from threads and record every answer in ``Acks``.

Each operation knows which answers are legitimate. A transport error (the server was
killed under the request) puts the write in doubt; any answer outside the legitimate ones
(a 500, a 422, a 409 where none can happen) is recorded as unexpected and fails the test.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from cortex.api.facts import idempotent_id
from tests.chaos.kit import Acks


@dataclass
class Targets:
    """What votes and updates aim at (shared by every client, appended to as they go)."""

    agents: list[str]
    facts: list[str] = field(default_factory=list)
    #: the tenant these facts belong to
    tenant: str = "acme"
    #: another tenant's targets: its facts must stay invisible to this tenant's keys
    other: Targets | None = None
    #: secrets of keys revoked (each must get 401 from then on)
    revoked: list[str] = field(default_factory=list)


class HttpClient:
    """One client: an ``httpx.Client``, a seeded random source, the shared record."""

    def __init__(self, url: str, key: str, acks: Acks, targets: Targets, name: str,
                 seed: int, timeout: float = 30) -> None:
        self.http = httpx.Client(base_url=url, timeout=timeout,
                                 headers={"Authorization": f"Bearer {key}"})
        self.acks, self.targets, self.name = acks, targets, name
        self.rng = random.Random(seed)
        self.made = 0

    def close(self) -> None:
        self.http.close()

    def _id(self) -> str:
        self.made += 1
        return f"{self.name}-{self.made}"

    def _send(self, op: str, method: str, path: str, ok: Sequence[int],
              json: object = None, headers: dict[str, str] | None = None,
              ) -> httpx.Response | None:
        """Send one request; ``None`` if it never got an answer. Counts the outcome and
        records answers outside ``ok`` (and 503, which is always legitimate)."""
        try:
            response = self.http.request(method, path, json=json, headers=headers)
        except httpx.TransportError as error:
            self.acks.count(op, type(error).__name__)
            if isinstance(error, httpx.ConnectError):
                time.sleep(0.02)  # the server is gone: do not spin
            return None
        self.acks.count(op, response.status_code)
        if response.status_code not in ok and response.status_code != 503:
            with self.acks.lock:
                self.acks.unexpected.append(f"{op} {response.status_code} {response.text[:300]}")
        return response

    def store(self) -> None:
        """Store with a client-chosen id or, one time in three, an Idempotency-Key."""
        fact_id = self._id()
        content = f"fact {fact_id}: {self.rng.random()}"
        key = None
        if self.rng.random() < 1 / 3:
            key, fact_id = fact_id, idempotent_id(self.targets.tenant, fact_id)
        with self.acks.lock:
            if key is not None:
                self.acks.idempotency[fact_id] = key
            self.acks.doubtful[fact_id] = content
        self.resend(fact_id, content)

    def resend(self, fact_id: str, content: str) -> bool:
        """(Re)store a fact as first sent; True once acknowledged (idempotent on replay)."""
        body: dict[str, str] = {"project": "chaos", "content": content}
        key = self.acks.idempotency.get(fact_id)
        if key is None:
            body["id"] = fact_id
        response = self._send("store", "POST", "/v1/facts", (201,), body,
                              {} if key is None else {"Idempotency-Key": key})
        if response is None or response.status_code != 201:
            return False
        stored = response.json()
        assert (stored["id"], stored["content"]) == (fact_id, content), stored
        with self.acks.lock:
            self.acks.stored[fact_id] = content
            self.acks.doubtful.pop(fact_id, None)
            self.targets.facts.append(fact_id)
        return True

    def store_many(self) -> None:
        items = {self._id(): f"batch item {self.rng.random()}"
                 for _ in range(self.rng.randint(2, 6))}
        with self.acks.lock:
            self.acks.batches.append(tuple(items))
            self.acks.doubtful.update(items)
        self.resend_batch(items)

    def resend_batch(self, items: dict[str, str]) -> bool:
        """(Re)store a batch by its ids; True once acknowledged (all of it, exactly once)."""
        ids = tuple(items)
        response = self._send("store_many", "POST", "/v1/facts:batch", (201,), {"facts": [
            {"project": "chaos", "content": content, "id": fact_id}
            for fact_id, content in items.items()]})
        if response is None or response.status_code != 201:
            return False
        stored = {fact["id"]: fact["content"] for fact in response.json()["facts"]}
        assert stored == items, stored
        with self.acks.lock:
            self.acks.stored.update(stored)
            for fact_id in ids:
                self.acks.doubtful.pop(fact_id, None)
            self.targets.facts.extend(ids)
        return True

    def vote(self) -> None:
        if not self.targets.facts:
            return self.store()
        fact_id = self.rng.choice(self.targets.facts)
        agent_id = self.rng.choice(self.targets.agents)
        value = self.rng.choice((1, 1, -1, 0))
        # 409: the fact was superseded or deprecated meanwhile (the soak updates facts)
        response = self._send("vote", "POST", f"/v1/facts/{fact_id}/votes", (200, 409),
                              {"agent_id": agent_id, "value": value})
        if response is not None and response.status_code == 200:
            seq = response.json()["seq"]
            if seq is not None:
                with self.acks.lock:
                    self.acks.votes.append((seq, fact_id, agent_id, value))
        return None

    def update(self) -> None:
        if not self.targets.facts:
            return self.store()
        fact_id = self.rng.choice(self.targets.facts)
        content = f"update of {fact_id}: {self.rng.random()}"
        # 409: someone superseded it first (two updates of one version: one wins)
        response = self._send("update", "PATCH", f"/v1/facts/{fact_id}", (200, 409),
                              {"content": content})
        if response is None:
            with self.acks.lock:
                self.acks.doubtful_updates.setdefault(fact_id, set()).add(content)
        elif response.status_code == 200:
            body = response.json()
            assert (body["supersedes"], body["content"]) == (fact_id, content)
            with self.acks.lock:
                self.acks.stored[body["id"]] = content
                self.targets.facts.append(body["id"])
        return None

    def search(self) -> None:
        """Text search and recall see only this tenant's facts."""
        word = self.rng.choice(("fact", "update", "batch", "item"))
        response = self._send("search", "POST", "/v1/search", (200,),
                              {"query": word, "mode": "text", "top_k": 20})
        listed = self._send("recall", "GET", "/v1/facts?project=chaos&limit=20", (200,))
        found = [] if response is None or response.status_code != 200 else [
            hit["fact"] for hit in response.json()["results"]]
        if listed is not None and listed.status_code == 200:
            found += listed.json()["facts"]
        strangers = [f["id"] for f in found if f["tenant"] != self.targets.tenant]
        if strangers:
            with self.acks.lock:
                self.acks.unexpected.append(f"{self.name} saw another tenant's {strangers}")

    def probe(self) -> None:
        """Another tenant's fact is 404 to this tenant, for reads and writes alike."""
        other = self.targets.other
        if other is None or not other.facts:
            return self.search()
        fact_id = self.rng.choice(other.facts)
        self._send("probe get", "GET", f"/v1/facts/{fact_id}", (404,))
        self._send("probe vote", "POST", f"/v1/facts/{fact_id}/votes", (404,),
                   {"agent_id": self.rng.choice(self.targets.agents), "value": 1})
        return None

    def churn_key(self) -> None:
        """Create a key (admin), use it, revoke it: from then on it gets 401."""
        response = self._send("key create", "POST", "/v1/keys", (201,),
                              {"role": "write", "name": f"churn-{self._id()}"})
        if response is None or response.status_code != 201:
            return
        created = response.json()
        auth = {"Authorization": f"Bearer {created['key']}"}
        self._send("key use", "GET", "/v1/facts?limit=1", (200,), headers=auth)
        revoked = self._send("key revoke", "DELETE", f"/v1/keys/{created['id']}", (200,))
        if revoked is None or revoked.status_code != 200:
            return
        with self.acks.lock:
            self.targets.revoked.append(created["key"])
        self._send("revoked key use", "GET", "/v1/facts?limit=1", (401,), headers=auth)

    def checkpoint(self) -> None:
        response = self._send("checkpoint", "POST", "/v1/ledger/checkpoints", (201,))
        if response is not None and response.status_code == 201:
            body = response.json()
            with self.acks.lock:
                self.acks.checkpoints.append((body["tree_size"], bytes.fromhex(body["root_hash"])))


def run_clients(clients: Sequence[HttpClient],
                pick: Callable[[HttpClient], Callable[[], None]],
                stop: threading.Event) -> list[threading.Thread]:
    """Start one thread per client, each running ``pick(client)()`` until ``stop``."""

    def loop(client: HttpClient) -> None:
        try:
            while not stop.is_set():
                pick(client)()
        except Exception as error:  # noqa: BLE001 - a thread's failure must fail the test
            with client.acks.lock:
                client.acks.unexpected.append(f"{client.name} crashed: {error!r}")
        finally:
            client.close()

    threads = [threading.Thread(target=loop, args=(c,), name=c.name, daemon=True)
               for c in clients]
    for thread in threads:
        thread.start()
    return threads


def weighted(weights: dict[str, int]) -> Callable[[HttpClient], Callable[[], None]]:
    """A ``pick`` that chooses the client's next operation by name, with these weights."""
    names, counts = list(weights), list(weights.values())

    def pick(client: HttpClient) -> Callable[[], None]:
        op: Callable[[], None] = getattr(client, client.rng.choices(names, counts)[0])
        return op

    return pick
