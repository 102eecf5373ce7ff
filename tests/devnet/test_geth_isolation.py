"""`--isolate`: each validator in a network namespace of its own, so that one can really be cut off.

These tests need network namespaces and veth pairs (root, or CAP_NET_ADMIN and CAP_SYS_ADMIN). A machine
that refuses them fails here with the command and its error: they never skip.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry_node.devnet.network import GethNetwork, network_status
from tests.support.network import eventually, same_head_everywhere


@pytest.fixture(scope="module")
def isolated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GethNetwork]:
    network = GethNetwork(
        tmp_path_factory.mktemp("isolated") / "network",
        ("EP", "GB", "KR"),
        password=secrets.token_urlsafe(16),
        period_s=1,
        isolate=True,
    )
    try:
        network.start()
        yield network
    finally:
        network.stop()


def test_each_validator_listens_on_its_own_namespace_address(isolated: GethNetwork) -> None:
    hosts = {spec.host for spec in isolated.specs.values()}
    assert len(hosts) == 3 and not any(host.startswith("127.") for host in hosts)
    assert all(Path(f"/run/netns/{spec.namespace}").exists() for spec in isolated.specs.values())


CUTS = 4  # partitions tried before the test fails
SEALING_ON_S = 30.0  # for EP and GB to seal three blocks without KR, in one cut


def sealed_on_without(isolated: GethNetwork, cut: str) -> str | None:
    """Cuts `cut` off, and returns None if the other two seal three more blocks within SEALING_ON_S, else
    what they showed and logged meanwhile; heals it either way.

    Two of three Clique signers seal on by turns: the one that did not seal the last block seals the next.
    They can stall only in the moment of the cut: if `cut` sealed, out of turn, the block just before its own
    turn, both others may seal that turn's block, the two blocks tie on difficulty, each node may keep its own
    (geth chooses once, when the other's block arrives) and neither may sign on a block it signed. That is
    Clique's, not the network's, and lasts until another block arrives, which the heal brings.
    """
    logs = {code: isolated.validator(code).log for code in isolated.specs if code != cut}
    offsets = {code: log.stat().st_size for code, log in logs.items()}
    isolated.partition(cut)
    try:
        time.sleep(3)
        statuses = {s.office: s for s in network_status(isolated)}
        assert statuses[cut].error is not None  # unreachable from the host, as from the others
        ep_before = statuses["EP"].head_number
        assert ep_before is not None
        deadline = time.monotonic() + SEALING_ON_S
        while time.monotonic() < deadline:
            if (network_status(isolated)[0].head_number or 0) >= ep_before + 3:
                return None
            time.sleep(0.5)
        return f"from block {ep_before}:\n" + "\n".join(
            [s.describe() for s in network_status(isolated) if s.office != cut]
            + [f"{code} logged:\n{unusual_lines(log, offsets[code])}" for code, log in logs.items()]
        )
    finally:
        isolated.heal(cut)


ROUTINE = ("Commit new sealing work", "Imported new chain segment", "Successfully sealed new block",
           "signed recently", "block reached canonical chain", "Mined potential block")  # fmt: skip


def unusual_lines(log: Path, offset: int, last: int = 20) -> str:
    """The last `last` lines `log` gained after `offset` that are not the routine of sealing by turns."""
    with log.open("rb") as file:
        file.seek(offset)
        lines = file.read().decode(errors="replace").splitlines()
    unusual = [line for line in lines if not any(r in line for r in ROUTINE)]
    return "\n".join(unusual[-last:]) or "(routine only)"


def test_a_partitioned_validator_is_cut_off_and_once_healed_every_node_has_the_same_head(
    isolated: GethNetwork,
) -> None:
    stalls: list[str] = []
    for _ in range(CUTS):
        eventually(lambda: same_head_everywhere(isolated), "the three validators in step before the cut")
        stall = sealed_on_without(isolated, "KR")
        if stall is None:
            break
        stalls.append(stall)
    else:
        pytest.fail(f"EP and GB did not seal on without KR in any of {CUTS} cuts:\n" + "\n\n".join(stalls))
    eventually(lambda: same_head_everywhere(isolated), "KR back on the same head hash after the heal")


def test_stopping_the_network_removes_its_namespaces_and_links(tmp_path: Path) -> None:
    network = GethNetwork(tmp_path / "n", ("EP",), password="pw", period_s=1, isolate=True)
    network.start()
    network.stop()
    assert not Path(f"/run/netns/{network.specs['EP'].namespace}").exists()
    assert not Path(f"/sys/class/net/{network.bridge}").exists()
