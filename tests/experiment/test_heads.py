"""The head watch (`registry_node.experiment.heads`) over a scripted chain node: it sees each new block once,
follows a head back by its parents, counts a reorganisation with the number of blocks it replaced, and
stamps the time a block reached the confirmation depth in the chain it sees. The real chain is watched in
test_geth_run.py; a reorganisation cannot be made to happen on cue there."""

from __future__ import annotations

from typing import Any

from registry_node.experiment.heads import HeadWatcher


class ScriptedNode:
    """Answers eth_getBlockByNumber("latest") and eth_getBlockByHash from the blocks the test builds."""

    def __init__(self) -> None:
        self.blocks: dict[str, dict[str, Any]] = {}
        self.head = ""
        self.add("g", None)

    def add(self, name: str, parent: str | None) -> str:
        number = 0 if parent is None else int(self.blocks[_hash(parent)]["number"], 16) + 1
        block = {"number": hex(number), "hash": _hash(name), "parentHash": _hash(parent or "none")}
        self.blocks[_hash(name)] = block
        self.head = _hash(name)
        return name

    def make_request(self, method: str, params: list[Any]) -> dict[str, Any]:
        which = params[0]
        block = self.blocks[self.head] if which == "latest" else self.blocks.get(which)
        return {"jsonrpc": "2.0", "id": 1, "result": block}


class ScriptedWeb3:
    def __init__(self, node: ScriptedNode) -> None:
        self.provider = node


def _hash(name: str) -> str:
    return "0x" + name.encode().hex().rjust(64, "0")


def watch(node: ScriptedNode, depth: int, clock: list[float]) -> HeadWatcher:
    watcher = HeadWatcher(ScriptedWeb3(node), lambda: clock[0])  # type: ignore[arg-type]
    watcher.log.depth = depth
    return watcher


def test_blocks_are_first_seen_at_the_poll_that_shows_them_and_deep_enough_two_blocks_later() -> None:
    node, clock = ScriptedNode(), [0.0]
    watcher = watch(node, depth=2, clock=clock)
    node.add("a1", "g")
    watcher.poll()
    clock[0] = 1.0
    node.add("a2", "a1")
    node.add("a3", "a2")  # two blocks between polls: a2 is found through a3's parent
    watcher.poll()
    log = watcher.log
    assert log.first_seen == {_hash("a1"): 0.0, _hash("a2"): 1.0, _hash("a3"): 1.0}
    assert log.at_depth == {_hash("a1"): 1.0, _hash("a2"): 1.0}  # a3 has only itself on top so far
    assert log.reorgs == []


def test_a_reorganisation_is_counted_with_the_blocks_it_replaced() -> None:
    node, clock = ScriptedNode(), [0.0]
    watcher = watch(node, depth=2, clock=clock)
    for name, parent in (("a1", "g"), ("a2", "a1"), ("a3", "a2")):
        node.add(name, parent)
        watcher.poll()
    clock[0] = 2.0
    for name, parent in (("b2", "a1"), ("b3", "b2"), ("b4", "b3")):
        node.add(name, parent)
    watcher.poll()
    (reorg,) = watcher.log.reorgs
    assert (reorg.at_s, reorg.number, reorg.depth) == (2.0, 2, 2)  # a2 and a3 replaced
    assert watcher.log.at_depth[_hash("b2")] == 2.0 and watcher.log.at_depth[_hash("b3")] == 2.0
    assert _hash("b4") not in watcher.log.at_depth


def test_a_head_seen_again_is_no_news_and_a_shorter_heavier_chain_replaces_the_longer() -> None:
    node, clock = ScriptedNode(), [0.0]
    watcher = watch(node, depth=1, clock=clock)
    node.add("a1", "g")
    watcher.poll()
    for name, parent in (("a2", "a1"), ("a3", "a2")):
        node.add(name, parent)
    watcher.poll()
    watcher.poll()
    assert watcher.log.reorgs == []
    clock[0] = 5.0
    node.add("b2", "a1")  # Clique: in-turn seals weigh more, so b2 can win over a2, a3
    watcher.poll()
    (reorg,) = watcher.log.reorgs
    assert (reorg.number, reorg.depth) == (2, 2)
    assert watcher.log.at_depth[_hash("b2")] == 5.0
