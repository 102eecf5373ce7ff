// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IAnchors} from "./interfaces/IAnchors.sol";
import {OfficeRegistry} from "./OfficeRegistry.sol";

/// @title Batched Merkle anchors
/// @notice One transaction and one storage slot per batch, whatever its size.
abstract contract Anchors is IAnchors, OfficeRegistry {
    mapping(bytes32 root => Anchor) private _anchors;

    /// @inheritdoc IAnchors
    function anchor(bytes32 root, uint32 count, bytes32 manifestHash) external {
        bytes2 office = _activeOfficeOf(msg.sender);
        if (root == bytes32(0)) revert AnchorsEmptyRoot();
        if (count == 0) revert AnchorsEmptyBatch(root);
        Anchor storage slot = _anchors[root];
        if (slot.blockNumber != 0) revert AnchorsAlreadyAnchored(root, slot.office, slot.blockNumber);
        // `slot = Anchor(office, count, block.number, block.timestamp)` as one SSTORE of the packed word,
        // laid out as Solidity packs `Anchor` (office in the low 2 bytes, then count, block, timestamp).
        uint256 word = uint256(uint16(office)) | (uint256(count) << 16) | (uint256(uint64(block.number)) << 48)
            | (uint256(uint64(block.timestamp)) << 112);
        assembly ("memory-safe") {
            sstore(slot.slot, word)
        }
        // `emit RootAnchored(root, office, count, manifestHash)`, encoded in scratch space: the
        // ABI encoder's overhead would take an anchor past its 50,000 gas budget.
        bytes32 topic = RootAnchored.selector;
        assembly ("memory-safe") {
            mstore(0x00, count)
            mstore(0x20, manifestHash)
            log3(0x00, 0x40, topic, root, office)
        }
    }

    /// @inheritdoc IAnchors
    function anchorOf(bytes32 root) external view returns (Anchor memory) {
        return _anchors[root];
    }

    /// @inheritdoc IAnchors
    function verifyLeaf(bytes32 root, bytes32 leaf, bytes32[] calldata proof) public view returns (bool) {
        return _anchors[root].blockNumber != 0 && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc IAnchors
    function verifyRecord(bytes32 root, bytes32 recordHash, bytes32[] calldata proof) external view returns (bool) {
        return verifyLeaf(root, leafOf(recordHash), proof);
    }

    /// @inheritdoc IAnchors
    function leafOf(bytes32 recordHash) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(recordHash))));
    }
}
