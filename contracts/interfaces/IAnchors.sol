// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Batched Merkle anchors
/// @notice An office anchors the Merkle root of many record hashes in one transaction (back-file imports,
/// daily status feeds); each record is then proven by an inclusion proof. Trees are OpenZeppelin standard
/// Merkle trees: sorted pairs, leaves `keccak256(bytes.concat(keccak256(abi.encode(recordHash))))`.
interface IAnchors {
    /// @notice An anchored root, packed into one storage slot.
    struct Anchor {
        bytes2 office;
        uint32 count;
        uint64 blockNumber;
        uint64 timestamp;
    }

    error AnchorsEmptyRoot();
    error AnchorsEmptyBatch(bytes32 root);
    error AnchorsAlreadyAnchored(bytes32 root, bytes2 office, uint64 blockNumber);

    /// @notice An office anchored the root of `count` record hashes; `manifestHash` is the SHA-256 of the
    /// batch's manifest (the list of records, kept by the office).
    event RootAnchored(bytes32 indexed root, bytes2 indexed office, uint32 count, bytes32 manifestHash);

    /// @notice Anchors a Merkle root for the caller's office.
    /// @dev Callable by an active office's account. A root can be anchored once.
    /// @param root The tree's root.
    /// @param count Number of leaves.
    /// @param manifestHash SHA-256 of the batch's manifest.
    function anchor(bytes32 root, uint32 count, bytes32 manifestHash) external;

    /// @notice Reads an anchor; `blockNumber == 0` means not anchored.
    /// @param root The tree's root.
    function anchorOf(bytes32 root) external view returns (Anchor memory);

    /// @notice Whether `leaf` is in the anchored tree `root`.
    /// @param root An anchored root.
    /// @param leaf The leaf, as the tree hashes it.
    /// @param proof The sibling hashes from the leaf up.
    function verifyLeaf(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool);

    /// @notice Whether the record hash `recordHash` is in the anchored tree `root`.
    /// @param root An anchored root.
    /// @param recordHash The record's hash.
    /// @param proof The sibling hashes from the leaf up.
    function verifyRecord(bytes32 root, bytes32 recordHash, bytes32[] calldata proof) external view returns (bool);

    /// @notice The leaf a record hash has in an anchor tree (hashed twice against second-preimage attacks).
    /// @param recordHash The record's hash.
    function leafOf(bytes32 recordHash) external pure returns (bytes32);
}
