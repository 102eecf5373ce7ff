"""A node whose data directory is full: it refuses new changes with a problem naming the store, keeps every
change it accepted before, and takes them to the chain once there is room again.

The store lives on a real 2 MiB tmpfs mounted for the test (root only; elsewhere the test is skipped, and
`bench/reliability.py` says how it simulated the full disk instead).
"""

from __future__ import annotations

import errno
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from registry_node.node.api import create_app
from registry_node.node.office import Office
from registry_node.node.onchain import ContractChainView
from registry_node.node.outbox import OutboxWorker
from registry_node.node.store import Store
from registry_node.protocol.keys import OfficeSigningKey, SigningAlgorithm
from registry_node.protocol.records import chain_right_id
from tests.node.test_api import TOKEN, change_json, new_right_id, right_json, settings_for

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from conftest import Consortium

FILLER = "filler.bin"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs at tmp_path/disk, unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> None:
    """Writes a filler file until the filesystem answers ENOSPC."""
    with (directory / FILLER).open("wb", buffering=0) as out:
        for size in (1 << 16, 1 << 10, 64):
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError as err:
                assert err.errno == errno.ENOSPC
                continue


def test_a_full_disk_refuses_new_changes_with_507_and_loses_none_it_accepted(
    small_disk: Path, consortium: Consortium
) -> None:
    settings = settings_for(small_disk, consortium)
    store = Store(settings.store_path)
    office = Office("EP", store, OfficeSigningKey.generate(SigningAlgorithm.ED25519))
    app = create_app(settings, office, store, ContractChainView(consortium.contract))
    worker = OutboxWorker(store, consortium.w3, consortium.contract, consortium.offices["EP"])
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(app) as client:

        def register(right_id: str) -> Any:
            return client.post("/v1/rights", json={"right": right_json(right_id)}, headers=headers)

        accepted: dict[str, str] = {}
        for _ in range(3):
            right_id = new_right_id()
            answer = register(right_id)
            assert answer.status_code == 202, answer.text
            accepted[right_id] = answer.json()["recordHash"]

        fill(small_disk)
        refused = None
        for _ in range(200):  # the WAL may still have room for a few pages before a write needs a new one
            right_id = new_right_id()
            answer = register(right_id)
            if answer.status_code == 202:
                accepted[right_id] = answer.json()["recordHash"]
                continue
            refused = answer
            break
        assert refused is not None, "the node never noticed its disk was full"
        assert refused.status_code == 507, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["type"] == "urn:ipreg:problem:store-full"
        assert [e["field"] for e in problem["errors"]] == ["store"]
        assert "node.sqlite" in problem["detail"] and "not accepted" in problem["detail"]
        assert store.latest(right_id) is None  # nothing of the refused change was kept

        # a change to an accepted right is refused the same way, and reads still work
        first = next(iter(accepted))
        change = {"expectedVersion": 1, "change": change_json(first)}
        answer = client.post(f"/v1/rights/{first}/ownership-changes", json=change, headers=headers)
        assert answer.status_code == 507, answer.text
        assert client.get(f"/v1/rights/{first}", headers=headers).status_code == 200

        (small_disk / FILLER).unlink()
        answer = client.post(f"/v1/rights/{first}/ownership-changes", json=change, headers=headers)
        assert answer.status_code == 202, answer.text
        worker.drain()

    for right_id, record_hash in accepted.items():
        version, office_code, *_ = consortium.contract.functions.rightOf(chain_right_id(right_id)).call()
        assert office_code == b"EP" and version == (2 if right_id == first else 1), right_id
        stored = store.version(right_id, 1)
        assert stored is not None and stored.record_hash.hex() == record_hash
