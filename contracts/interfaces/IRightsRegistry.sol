// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title The register of IP rights
/// @notice One entry per right (patent, utility model, trademark, design), changed only by its competent,
/// active office. Every change names the version it expects and emits one event carrying everything
/// needed to rebuild the right's full history off chain.
interface IRightsRegistry {
    enum RightKind {
        Patent,
        UtilityModel,
        Trademark,
        Design
    }

    /// @notice Conveyance types recorded against a right (USPTO assignment categories).
    enum ConveyanceKind {
        Assignment,
        Merger,
        NameChange,
        Licence,
        SecurityInterest,
        SecurityRelease,
        CourtOrder,
        Correction,
        GovernmentInterest,
        Other
    }

    /// @notice The fields of a right that change over its life.
    /// @param recordHash SHA-256 of the canonical bytes of the current signed record; while the right is
    /// confidential, the seal `keccak256(abi.encode(recordHash, salt))` instead.
    /// @param ownerCommitment Salted hash commitment of the current owner(s).
    /// @param status The legal status as a five-character ASCII code (WIPO ST.27 for patents; ST.61 and
    /// ST.87 use the same shape for trademarks and designs): the state (`A` active, `N` not active,
    /// `T` terminated, `U` unspecified), the stage digit (`0` unspecified, `1` filing, `2` examination,
    /// `3` pre-grant challenge, `4` grant, `5` post-grant challenge, `6` terminated), then the key event
    /// (category letter and two digits, e.g. `H13`; three zero bytes when none is known). `A4F10`: active,
    /// granted, key event F10. One word instead of three keeps bulk registration within its gas budget.
    struct RightState {
        bytes32 recordHash;
        bytes32 ownerCommitment;
        bytes5 status;
    }

    /// @notice A right to register, at version 1.
    /// @param rightId keccak256 of the right's canonical id, e.g. `EP:PAT:EP20190012345`.
    struct Registration {
        bytes32 rightId;
        RightKind kind;
        bool confidential;
        RightState state;
    }

    /// @notice An ownership change; `partialTransfer` when only part of the right was conveyed. Parties, dates and the office's record identifier are in the signed
    /// record; `evidenceHash` is the SHA-256 of the supporting document.
    /// @param effectiveDate ISO 8601 date as the integer yyyymmdd; `00` for an unknown month or day.
    struct Conveyance {
        ConveyanceKind kind;
        bool partialTransfer;
        uint32 effectiveDate;
        bytes32 evidenceHash;
    }

    /// @notice A legal-status event. `status` (coded as in `RightState`) becomes the right's status.
    /// @param previousStage The stage before the event (0 to 6), as the office reports it.
    /// @param detailedEvent The office's detailed event code, ASCII, right-padded with zeros.
    /// @param effectiveDate yyyymmdd, as in `Conveyance`.
    /// @param correctsVersion For category `Y` (correction or deletion of an earlier event): the version
    /// whose event this corrects; zero otherwise.
    struct StatusEvent {
        bytes5 status;
        uint8 previousStage;
        bytes16 detailedEvent;
        uint32 effectiveDate;
        uint32 correctsVersion;
    }

    /// @notice One legal-status event on one right.
    /// @param current The right's state now, which must match the chain.
    /// @param recordHash The hash of the new signed record (or its seal while confidential).
    struct StatusUpdate {
        bytes32 rightId;
        uint32 expectedVersion;
        RightState current;
        bytes32 recordHash;
        StatusEvent statusEvent;
    }

    /// @notice A right's on-chain entry, packed into one storage slot.
    /// @param stateDigest `bytes24(keccak256(abi.encode(state)))` of the `RightState`: the changing fields are proven
    /// against it, and come in full with the events.
    struct Right {
        uint32 version;
        bytes2 office;
        RightKind kind;
        bool confidential;
        bytes24 stateDigest;
    }

    error RightsRegistryInvalidRightId();
    error RightsRegistryEmptyBatch();
    error RightsRegistryAlreadyRegistered(bytes32 rightId);
    error RightsRegistryUnknownRight(bytes32 rightId);
    error RightsRegistryNotCompetent(bytes32 rightId, bytes2 competentOffice, bytes2 caller);
    error RightsRegistryVersionMismatch(bytes32 rightId, uint32 expected, uint32 actual);
    error RightsRegistryStateMismatch(bytes32 rightId);
    error RightsRegistryEmptyRecordHash(bytes32 rightId);
    error RightsRegistryInvalidStatus(bytes32 rightId, bytes5 status);
    error RightsRegistryInvalidDate(bytes32 rightId, uint32 date);
    error RightsRegistryInvalidCorrection(bytes32 rightId, uint32 correctsVersion, uint32 currentVersion);
    error RightsRegistryNotConfidential(bytes32 rightId);
    error RightsRegistrySealMismatch(bytes32 rightId);

    /// @notice A right was registered at version 1 by its competent office.
    event RightRegistered(
        bytes32 indexed rightId, bytes2 indexed office, RightKind kind, bool confidential, RightState state
    );
    /// @notice An ownership change was recorded; the right's status is unchanged.
    event OwnershipChanged(
        bytes32 indexed rightId,
        bytes2 indexed office,
        uint32 version,
        bytes32 recordHash,
        bytes32 ownerCommitment,
        Conveyance conveyance
    );
    /// @notice A legal-status event was recorded; the right's owner commitment is unchanged.
    event LegalStatusChanged(
        bytes32 indexed rightId, bytes2 indexed office, uint32 version, bytes32 recordHash, StatusEvent statusEvent
    );
    /// @notice A confidential right was published: its seal opened to `recordHash` with `salt`.
    event RightPublished(bytes32 indexed rightId, bytes2 indexed office, uint32 version, bytes32 recordHash, bytes32 salt);

    /// @notice Registers a right for the caller's office.
    /// @dev Callable by an active office's account; the caller's office becomes the competent office.
    /// @param registration The right.
    function register(Registration calldata registration) external;

    /// @notice Registers many rights for the caller's office in one transaction; all or none.
    /// @param registrations The rights.
    function registerBatch(Registration[] calldata registrations) external;

    /// @notice Records an ownership change (assignment, merger, licence, ...) on a right.
    /// @dev Only the right's competent office, while active. The status carries over from `current`.
    /// @param rightId The right.
    /// @param expectedVersion The version the caller expects the right to have now.
    /// @param current The right's state now; must match the chain.
    /// @param recordHash The hash of the new signed record (or its seal while confidential).
    /// @param ownerCommitment The commitment to the new owner(s).
    /// @param conveyance What was conveyed.
    function recordOwnershipChange(
        bytes32 rightId,
        uint32 expectedVersion,
        RightState calldata current,
        bytes32 recordHash,
        bytes32 ownerCommitment,
        Conveyance calldata conveyance
    ) external;

    /// @notice Records a legal-status event on a right.
    /// @dev Only the right's competent office, while active. The owner commitment carries over.
    /// @param update The right, its expected version and current state, the new record hash and the event.
    function recordStatusEvent(StatusUpdate calldata update) external;

    /// @notice Records legal-status events on many rights in one transaction; all or none.
    /// @param updates The events, applied in order (a right may appear more than once).
    function recordStatusEvents(StatusUpdate[] calldata updates) external;

    /// @notice Publishes a confidential right by opening its seal.
    /// @dev Only the right's competent office, while active. `keccak256(abi.encode(recordHash, salt))` must
    /// equal the sealed record hash in `current`.
    /// @param rightId The right.
    /// @param expectedVersion The version the caller expects the right to have now.
    /// @param current The right's state now; must match the chain.
    /// @param recordHash The record hash the seal commits to.
    /// @param salt The salt of the seal.
    function publish(
        bytes32 rightId,
        uint32 expectedVersion,
        RightState calldata current,
        bytes32 recordHash,
        bytes32 salt
    ) external;

    /// @notice Reads a right's entry; `version == 0` means not registered.
    /// @param rightId The right.
    function rightOf(bytes32 rightId) external view returns (Right memory);

    /// @notice Whether `state` is the right's current state on chain.
    /// @param rightId The right.
    /// @param state The claimed state.
    function matchesState(bytes32 rightId, RightState calldata state) external view returns (bool);

    /// @notice The digest a right's entry keeps of its state.
    /// @param state The state.
    function stateDigest(RightState calldata state) external pure returns (bytes24);

    /// @notice The seal of a confidential record: `keccak256(abi.encode(recordHash, salt))`.
    /// @param recordHash The record's hash.
    /// @param salt A secret random value, revealed at publication.
    function sealOf(bytes32 recordHash, bytes32 salt) external pure returns (bytes32);
}
