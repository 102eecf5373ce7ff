// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title The register of IP rights
/// @notice One entry per right (patent, utility model, trademark, design, geographical indication), changed
/// only by its competent, active office. Every change names the version it expects and emits one event
/// carrying everything needed to rebuild the right's full history off chain. WIPO's International Bureau
/// (`WO`) designates offices on its international registrations (Madrid trademarks, Hague designs); each
/// designation is an entry of its own, on which the designated office alone records its decisions.
interface IRightsRegistry {
    /// @notice What a right is. `GeographicalIndication` (WIPO ST.96 `GIApplication`, Lisbon system) comes
    /// last so that the kinds stored before it keep their values.
    enum RightKind {
        Patent,
        UtilityModel,
        Trademark,
        Design,
        GeographicalIndication
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

    /// @notice The International Bureau's designation of an office on an international registration (IR).
    /// @param rightId The IR, e.g. keccak256 of `WO:TM:1234567`.
    /// @param expectedVersion The version the International Bureau expects the IR to have now.
    /// @param current The IR's state now; must match the chain.
    /// @param recordHash The hash of the Bureau's new signed record of the IR, which lists the designation
    /// (or its seal while the IR is confidential).
    /// @param designationId keccak256 of the designation's id, the IR's id `@` the designated office's code
    /// (`WO:TM:1234567@GB`), and the id of the designation's own entry. The contract sees only hashes, so it
    /// cannot check that derivation; the Bureau's signed record and the event bind the two.
    /// @param designatedOffice The ST.3 code of the designated office.
    /// @param designationDate yyyymmdd, as in `Conveyance`.
    struct Designation {
        bytes32 rightId;
        uint32 expectedVersion;
        RightState current;
        bytes32 recordHash;
        bytes32 designationId;
        bytes2 designatedOffice;
        uint32 designationDate;
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
    error RightsRegistryNotInternationalBureau(bytes2 caller);
    error RightsRegistryNotDesignatable(bytes32 rightId, RightKind kind);
    error RightsRegistryInvalidDesignatedOffice(bytes32 rightId, bytes2 designatedOffice);
    error RightsRegistryAlreadyDesignated(bytes32 designationId);
    error RightsRegistryNotDesignatedOffice(bytes32 rightId, bytes2 designatedOffice, bytes2 caller);
    error RightsRegistryInvalidDecision(bytes32 rightId);

    /// @notice A right was registered at version 1 by its competent office. For a designation of an
    /// international registration, this is the designated office's first decision on it.
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
    /// @notice The International Bureau (`office`) designated `designatedOffice` on its international
    /// registration `rightId`, which moved to `version` with record `recordHash`; the IR's owner commitment
    /// and status are unchanged. `designationId` is reserved for the designated office's decision.
    event Designated(
        bytes32 indexed rightId,
        bytes2 indexed office,
        bytes2 indexed designatedOffice,
        bytes32 designationId,
        uint32 version,
        bytes32 recordHash,
        uint32 designationDate
    );

    /// @notice Registers a right for the caller's office.
    /// @dev Callable by an active office's account; the caller's office becomes the competent office. A
    /// designation of an international registration (see `designate`) is registered this way by the
    /// designated office alone, as its first decision on it, with the IR's kind and not confidential.
    /// @param registration The right.
    function register(Registration calldata registration) external;

    /// @notice Registers many rights for the caller's office in one transaction; all or none.
    /// @dev As `register`, for each right in order.
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

    /// @notice Designates an office on an international registration of the caller: the IR moves to its
    /// next version with the Bureau's new record (owner commitment and status carry over), and the
    /// designation's entry is reserved for the designated office's decision.
    /// @dev Only the International Bureau (`WO`), while active, on its own Madrid trademark or Hague design
    /// registration. The designated office must be a member (of any status) other than the Bureau, and
    /// `designationId` must be a fresh id: nothing registered or designated under it.
    /// @param designation The IR, its expected version and current state, the new record hash, and the
    /// designation.
    function designate(Designation calldata designation) external;

    /// @notice Designates offices on international registrations in one transaction; all or none.
    /// @dev As `designate`, for each designation in order (an IR may appear more than once, each entry naming
    /// the version the one before it produced).
    /// @param designations The designations.
    function designateBatch(Designation[] calldata designations) external;

    /// @notice Reads a right's entry; `version == 0` means not registered. `version == 0` with an `office`
    /// is a designation of an international registration to that office, with no decision yet: `kind` is
    /// the IR's, and the designated office's first decision registers it.
    /// @param rightId The right (or designation).
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
