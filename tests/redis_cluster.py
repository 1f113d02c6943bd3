"""A real three-master Redis Cluster on loopback, started from the installed redis-server."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from respite.dev.servers import LocalRedis

SLOTS = 16384


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ClusterNode(LocalRedis):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        # The bus port defaults to port + 10000, which overflows for high ephemeral ports.
        self.bus_port = _free_port()

    def _command(self, port: int) -> list[str]:
        return [
            *super()._command(port),
            *("--cluster-port", str(self.bus_port)),
            *("--cluster-enabled", "yes", "--cluster-node-timeout", "2000"),
            *("--cluster-config-file", str(self.data_dir / "nodes.conf")),
        ]


@contextmanager
def redis_cluster(folder: Path, masters: int = 3) -> Iterator[list[ClusterNode]]:
    nodes = [ClusterNode(folder / f"node{i}") for i in range(masters)]
    try:
        for node in nodes:
            node.start()
        _form(nodes)
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def _form(nodes: list[ClusterNode]) -> None:
    clients = [redis.Redis(port=n.port) for n in nodes]
    try:
        share = SLOTS // len(nodes)
        for i, client in enumerate(clients):
            last = SLOTS - 1 if i == len(nodes) - 1 else (i + 1) * share - 1
            client.execute_command("CLUSTER ADDSLOTSRANGE", i * share, last)  # type: ignore[no-untyped-call]
        for node in nodes[1:]:
            clients[0].execute_command(  # type: ignore[no-untyped-call]
                "CLUSTER MEET", "127.0.0.1", node.port, node.bus_port
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            states = [c.cluster("INFO") for c in clients]
            if all(
                s["cluster_state"] == "ok" and int(s["cluster_known_nodes"]) == len(nodes)
                for s in states
            ):
                return
            time.sleep(0.1)
        raise RuntimeError("the Redis Cluster did not form within 20 s")
    finally:
        for client in clients:
            client.close()
