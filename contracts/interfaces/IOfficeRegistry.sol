// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title The consortium of IP offices
/// @notice Members are IP offices named by their WIPO ST.3 code. Every membership change is a proposal
/// that more than a threshold share of active offices approve (an office does not vote on, nor count
/// towards, its own suspension); each office manages its own signing keys, deep-link endpoint,
/// transaction account and chain validator. The chain's validator set follows the registry: the
/// validators of active offices are the chain's signers.
interface IOfficeRegistry {
    /// @notice An office's standing. `None` means the code was never admitted.
    enum OfficeStatus {
        None,
        Active,
        Suspended
    }

    /// @notice Algorithms for document-signing keys.
    enum KeyAlgorithm {
        None,
        Ed25519,
        EcdsaP256
    }

    /// @notice What a proposal changes once it executes.
    enum ProposalKind {
        Admit,
        Suspend,
        Reinstate,
        SetThreshold
    }

    /// @notice An office as given at deployment or in an admission proposal.
    struct OfficeInit {
        bytes2 code;
        address account;
        string name;
        string endpoint;
    }

    /// @notice An office as read back. `validator` is the address its chain validator seals blocks with
    /// (zero until the office sets one).
    struct OfficeView {
        bytes2 code;
        OfficeStatus status;
        address account;
        address pendingAccount;
        string name;
        string endpoint;
        uint256 keyCount;
        address validator;
    }

    /// @notice A document-signing public key. A key is valid for records anchored in blocks
    /// `validFromBlock <= b < revokedAtBlock` (`revokedAtBlock == 0`: not revoked).
    struct SigningKey {
        bytes32 keyId;
        KeyAlgorithm algorithm;
        uint64 validFromBlock;
        uint64 revokedAtBlock;
        bytes publicKey;
    }

    /// @notice A membership proposal. `account`, `name` and `endpoint` are set for `Admit`,
    /// `thresholdNumerator`/`thresholdDenominator` for `SetThreshold`.
    struct Proposal {
        ProposalKind kind;
        bytes2 office;
        bytes2 proposer;
        uint64 deadline;
        bool executed;
        address account;
        uint16 thresholdNumerator;
        uint16 thresholdDenominator;
        string name;
        string endpoint;
    }

    error OfficeRegistryNoFoundingOffices();
    error OfficeRegistryTooManyOffices(uint256 maxOffices);
    error OfficeRegistryInvalidMaxOffices(uint256 maxOffices, uint256 limit);
    error OfficeRegistryInvalidVotingPeriod(uint64 votingPeriod);
    error OfficeRegistryInvalidOfficeCode(bytes2 code);
    error OfficeRegistryOfficeExists(bytes2 code);
    error OfficeRegistryUnknownOffice(bytes2 code);
    error OfficeRegistryInvalidName(bytes2 code, uint256 length);
    error OfficeRegistryInvalidEndpoint(bytes2 code, string endpoint);
    error OfficeRegistryInvalidAccount(address account);
    error OfficeRegistryAccountInUse(address account, bytes2 office);
    error OfficeRegistryAccountIsValidator(address account, bytes2 office);
    error OfficeRegistryNotMember(address account);
    error OfficeRegistryOfficeNotActive(bytes2 code, OfficeStatus status);
    error OfficeRegistryOfficeNotSuspended(bytes2 code, OfficeStatus status);
    error OfficeRegistryInvalidThreshold(uint16 numerator, uint16 denominator);
    error OfficeRegistryUnknownProposal(uint256 proposalId);
    error OfficeRegistryProposalExpired(uint256 proposalId, uint64 deadline);
    error OfficeRegistryProposalAlreadyExecuted(uint256 proposalId);
    error OfficeRegistryAlreadyApproved(uint256 proposalId, bytes2 office);
    error OfficeRegistryThresholdNotReached(uint256 proposalId, uint256 approvals, uint256 voters);
    error OfficeRegistryOfficeConcerned(bytes2 code);
    error OfficeRegistryInvalidKey(bytes32 keyId, KeyAlgorithm algorithm, uint256 length);
    error OfficeRegistryKeyExists(bytes2 office, bytes32 keyId);
    error OfficeRegistryUnknownKey(bytes2 office, bytes32 keyId);
    error OfficeRegistryKeyAlreadyRevoked(bytes2 office, bytes32 keyId, uint64 revokedAtBlock);
    error OfficeRegistryNoPendingAccount(bytes2 office, address caller);
    error OfficeRegistryInvalidValidator(address validator);
    error OfficeRegistryValidatorInUse(address validator, bytes2 office);
    error OfficeRegistryValidatorIsAccount(address validator, bytes2 office);

    /// @notice An office joined the consortium (at deployment or by an executed proposal).
    event OfficeAdmitted(bytes2 indexed office, address account, string name, string endpoint);
    /// @notice An office was suspended: from this block on it can neither write nor vote.
    event OfficeSuspended(bytes2 indexed office);
    /// @notice A suspended office was reinstated.
    event OfficeReinstated(bytes2 indexed office);
    /// @notice The share of active offices a proposal needs changed to more than `numerator/denominator`.
    event ThresholdChanged(uint16 numerator, uint16 denominator);
    /// @notice A membership proposal was opened; the proposer's approval is counted.
    event ProposalCreated(
        uint256 indexed proposalId, bytes2 indexed proposer, ProposalKind kind, bytes2 office, uint64 deadline
    );
    /// @notice An active office approved a proposal.
    event ProposalApproved(uint256 indexed proposalId, bytes2 indexed office);
    /// @notice A proposal reached the threshold and took effect.
    event ProposalExecuted(uint256 indexed proposalId);
    /// @notice An office published a document-signing key, valid from this block.
    event SigningKeyAdded(bytes2 indexed office, bytes32 indexed keyId, KeyAlgorithm algorithm, bytes publicKey);
    /// @notice An office revoked a signing key from this block on; earlier signatures stay judged by it.
    event SigningKeyRevoked(bytes2 indexed office, bytes32 indexed keyId);
    /// @notice An office moved its deep-link endpoint.
    event EndpointChanged(bytes2 indexed office, string endpoint);
    /// @notice An office changed its name.
    event OfficeRenamed(bytes2 indexed office, string name);
    /// @notice An office named the account that is to replace its transaction account (zero: cancelled).
    event AccountRotationStarted(bytes2 indexed office, address indexed pendingAccount);
    /// @notice An office's transaction account changed; the previous one can no longer act for it.
    event AccountRotated(bytes2 indexed office, address previousAccount, address account);
    /// @notice An office named the address its chain validator seals blocks with; the previous one, if
    /// any, is no longer the office's validator.
    event ValidatorChanged(bytes2 indexed office, address validator);

    /// @notice Proposes admitting a new office. The caller's office approves it at once.
    /// @dev Callable by an active office's account. Validated now and again on execution.
    /// @param init The new office: ST.3 code, transaction account, name and deep-link endpoint.
    /// @return proposalId The new proposal's id.
    function proposeAdmission(OfficeInit calldata init) external returns (uint256 proposalId);

    /// @notice Proposes suspending an active office.
    /// @dev The office concerned may neither propose nor approve it, and does not count towards the threshold.
    /// @param code The office's ST.3 code.
    /// @return proposalId The new proposal's id.
    function proposeSuspension(bytes2 code) external returns (uint256 proposalId);

    /// @notice Proposes reinstating a suspended office.
    /// @param code The office's ST.3 code.
    /// @return proposalId The new proposal's id.
    function proposeReinstatement(bytes2 code) external returns (uint256 proposalId);

    /// @notice Proposes that proposals need more than `numerator/denominator` of active offices.
    /// @dev The share must be at least one half and below one.
    /// @param numerator Numerator of the share.
    /// @param denominator Denominator of the share.
    /// @return proposalId The new proposal's id.
    function proposeThreshold(uint16 numerator, uint16 denominator) external returns (uint256 proposalId);

    /// @notice Approves a proposal for the caller's office; executes it if it now passes.
    /// @dev Callable by an active office's account, once per office, before the deadline.
    /// @param proposalId The proposal.
    function approve(uint256 proposalId) external;

    /// @notice Executes a proposal that passes with the current set of active offices.
    /// @dev For a proposal that came to pass without a new approval (an approver's office was
    /// reinstated, or a non-approving office was suspended). Anyone may call it.
    /// @param proposalId The proposal.
    function execute(uint256 proposalId) external;

    /// @notice Publishes a new document-signing key for the caller's office, valid from this block.
    /// @dev Needs an active office. Revocation, endpoint, name and account rotation stay open to a
    /// suspended office, so what it recorded stays verifiable.
    /// @param keyId The office's name for the key, unique within the office and never reused.
    /// @param algorithm The key's algorithm.
    /// @param publicKey Ed25519: the 32-byte raw key; ECDSA P-256: the SEC1 point (65 bytes
    /// uncompressed or 33 compressed).
    function addSigningKey(bytes32 keyId, KeyAlgorithm algorithm, bytes calldata publicKey) external;

    /// @notice Revokes one of the caller's office's signing keys from this block on.
    /// @param keyId The key.
    function revokeSigningKey(bytes32 keyId) external;

    /// @notice Sets the caller's office's deep-link endpoint (an http or https URL).
    /// @param endpoint The new endpoint.
    function setEndpoint(string calldata endpoint) external;

    /// @notice Sets the caller's office's name.
    /// @param name The new name.
    function setName(string calldata name) external;

    /// @notice Names the account that is to replace the caller's office's transaction account; the
    /// change takes effect when that account accepts. The zero address cancels a pending rotation.
    /// @param pendingAccount The new account.
    function beginAccountRotation(address pendingAccount) external;

    /// @notice Accepts the role of `code`'s transaction account; the previous account loses it.
    /// @dev Callable only by the pending account, so a mistyped address cannot lock an office out.
    /// @param code The office's ST.3 code.
    function acceptAccountRotation(bytes2 code) external;

    /// @notice Names the address the caller's office's chain validator seals blocks with, replacing the
    /// previous one.
    /// @dev Needs an active office: a suspended office's validator is being voted out of the chain's
    /// signers. The sealing key holds no rights here, so the address must be neither zero nor any office's
    /// transaction account, and no other office's validator; while it is one, no office may take it as its
    /// transaction account.
    /// @param validator The validator's sealing address.
    function setValidator(address validator) external;

    /// @notice Reads an office.
    /// @param code The office's ST.3 code.
    function office(bytes2 code) external view returns (OfficeView memory);

    /// @notice Codes of every office ever admitted, in order of admission.
    function officeCodes() external view returns (bytes2[] memory);

    /// @notice The office an account acts for, and its status (`None` for a non-member).
    /// @param account A transaction account.
    function officeOf(address account) external view returns (bytes2 code, OfficeStatus status);

    /// @notice The office whose chain validator seals with `validator`, and that office's status (`None`
    /// and a zero code for an address that is no office's validator).
    /// @dev A block's signer maps back to its office here; only active offices' validators should seal.
    /// @param validator A sealing address.
    function validatorOf(address validator) external view returns (bytes2 code, OfficeStatus status);

    /// @notice Number of active offices.
    function activeOfficeCount() external view returns (uint256);

    /// @notice The share of active offices a proposal needs: more than `numerator/denominator`.
    function threshold() external view returns (uint16 numerator, uint16 denominator);

    /// @notice Seconds a proposal stays open.
    function votingPeriod() external view returns (uint64);

    /// @notice How many offices can ever be admitted, founders included.
    function maxOffices() external view returns (uint256);

    /// @notice Reads one signing key.
    /// @param code The office.
    /// @param keyId The key.
    function signingKey(bytes2 code, bytes32 keyId) external view returns (SigningKey memory);

    /// @notice Every signing key an office ever published, revoked ones included.
    /// @param code The office.
    function signingKeys(bytes2 code) external view returns (SigningKey[] memory);

    /// @notice Whether a key was valid for a record written in `blockNumber`.
    /// @param code The office.
    /// @param keyId The key.
    /// @param blockNumber The block the record was written in.
    function isKeyValidAt(bytes2 code, bytes32 keyId, uint256 blockNumber) external view returns (bool);

    /// @notice Number of proposals ever made; ids run from 1 to this number.
    function proposalCount() external view returns (uint256);

    /// @notice Reads a proposal.
    /// @param proposalId The proposal.
    function proposal(uint256 proposalId) external view returns (Proposal memory);

    /// @notice Approvals of a proposal that count now: by active offices, not by the office a suspension
    /// concerns.
    /// @param proposalId The proposal.
    function approvalCount(uint256 proposalId) external view returns (uint256);

    /// @notice Whether an office approved a proposal.
    /// @param proposalId The proposal.
    /// @param code The office.
    function hasApproved(uint256 proposalId, bytes2 code) external view returns (bool);
}
