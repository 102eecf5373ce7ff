// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IOfficeRegistry} from "./interfaces/IOfficeRegistry.sol";

/// @title The consortium of IP offices
/// @notice Founding offices are fixed at deployment; afterwards membership changes only by proposals that
/// more than a threshold share of active offices approve. There is no owner or admin key.
/// @dev Abstract: deployed as part of `SharedIPRegistry`, where the rights and anchor modules check an
/// office's standing with a single storage read (see `_membership`).
abstract contract OfficeRegistry is IOfficeRegistry {
    /// @notice The highest cap on the number of offices a deployment may choose: vote counting loops over
    /// every office ever admitted, and must stay far below a block's gas.
    uint256 public constant OFFICE_LIMIT = 512;
    uint256 private constant _MAX_NAME_LENGTH = 200;
    uint256 private constant _MAX_ENDPOINT_LENGTH = 2048;

    uint64 private immutable _VOTING_PERIOD;
    uint256 private immutable _MAX_OFFICES;

    /// @dev `validator` takes a slot of its own: beside `account` or `pendingAccount` two addresses would
    /// need 40 bytes, and no smaller member is left to share one with. It is appended so the members before
    /// it keep their offsets.
    struct Office {
        address account;
        address pendingAccount;
        string name;
        string endpoint;
        bytes32[] keyIds;
        address validator;
    }

    /// @dev The office an account acts for, with the office's status. The status lives here, next to the
    /// code, so that competence is one SLOAD on every write; it moves with the account on rotation.
    struct Membership {
        bytes2 office;
        OfficeStatus status;
    }

    struct KeyRecord {
        KeyAlgorithm algorithm;
        uint64 validFromBlock;
        uint64 revokedAtBlock;
        bytes publicKey;
    }

    mapping(bytes2 code => Office) private _offices;
    mapping(address account => Membership) private _membership;
    /// @dev The office a validator address belongs to (zero: none), so that no address seals for two offices
    /// and a block's signer maps back to its office.
    mapping(address validator => bytes2 code) private _validatorOffice;
    mapping(bytes2 code => mapping(bytes32 keyId => KeyRecord)) private _keys;
    bytes2[] private _codes;
    uint16 private _activeCount;
    uint16 private _thresholdNumerator;
    uint16 private _thresholdDenominator;

    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(bytes2 code => bool)) private _approved;
    uint256 private _proposalCount;

    /// @param founders The founding offices, active from deployment.
    /// @param thresholdNumerator With `thresholdDenominator`: proposals need more than this share of active
    /// offices (2/3 for a super-majority).
    /// @param thresholdDenominator See `thresholdNumerator`.
    /// @param votingPeriod_ Seconds a proposal stays open.
    /// @param maxOffices_ How many offices can ever be admitted, founders included (at most OFFICE_LIMIT).
    constructor(
        OfficeInit[] memory founders,
        uint16 thresholdNumerator,
        uint16 thresholdDenominator,
        uint64 votingPeriod_,
        uint16 maxOffices_
    ) {
        if (founders.length == 0) revert OfficeRegistryNoFoundingOffices();
        if (votingPeriod_ == 0) revert OfficeRegistryInvalidVotingPeriod(votingPeriod_);
        if (maxOffices_ > OFFICE_LIMIT) revert OfficeRegistryInvalidMaxOffices(maxOffices_, OFFICE_LIMIT);
        _checkThreshold(thresholdNumerator, thresholdDenominator);
        _VOTING_PERIOD = votingPeriod_;
        _MAX_OFFICES = maxOffices_;
        _setThreshold(thresholdNumerator, thresholdDenominator);
        for (uint256 i = 0; i < founders.length; i++) {
            _checkAdmission(founders[i].code, founders[i].account, founders[i].name, founders[i].endpoint);
            _admit(founders[i].code, founders[i].account, founders[i].name, founders[i].endpoint);
        }
    }

    // ---------------------------------------------------------------- proposals

    /// @inheritdoc IOfficeRegistry
    function proposeAdmission(OfficeInit calldata init) external returns (uint256 proposalId) {
        Proposal memory p = _newProposal(ProposalKind.Admit, init.code);
        _checkAdmission(init.code, init.account, init.name, init.endpoint);
        p.account = init.account;
        p.name = init.name;
        p.endpoint = init.endpoint;
        return _open(p);
    }

    /// @inheritdoc IOfficeRegistry
    function proposeSuspension(bytes2 code) external returns (uint256 proposalId) {
        Proposal memory p = _newProposal(ProposalKind.Suspend, code);
        _checkSuspension(code);
        return _open(p);
    }

    /// @inheritdoc IOfficeRegistry
    function proposeReinstatement(bytes2 code) external returns (uint256 proposalId) {
        Proposal memory p = _newProposal(ProposalKind.Reinstate, code);
        _checkReinstatement(code);
        return _open(p);
    }

    /// @inheritdoc IOfficeRegistry
    function proposeThreshold(uint16 numerator, uint16 denominator) external returns (uint256 proposalId) {
        Proposal memory p = _newProposal(ProposalKind.SetThreshold, bytes2(0));
        _checkThreshold(numerator, denominator);
        p.thresholdNumerator = numerator;
        p.thresholdDenominator = denominator;
        return _open(p);
    }

    /// @inheritdoc IOfficeRegistry
    function approve(uint256 proposalId) external {
        bytes2 voter = _activeOfficeOf(msg.sender);
        Proposal storage p = _openProposal(proposalId);
        if (_approved[proposalId][voter]) revert OfficeRegistryAlreadyApproved(proposalId, voter);
        if (_isConcerned(p.kind, p.office, voter)) revert OfficeRegistryOfficeConcerned(voter);
        _approved[proposalId][voter] = true;
        emit ProposalApproved(proposalId, voter);
        if (_passes(proposalId)) _execute(proposalId, p);
    }

    /// @inheritdoc IOfficeRegistry
    function execute(uint256 proposalId) external {
        Proposal storage p = _openProposal(proposalId);
        if (!_passes(proposalId)) {
            revert OfficeRegistryThresholdNotReached(proposalId, approvalCount(proposalId), _voters(p.kind, p.office));
        }
        _execute(proposalId, p);
    }

    // ---------------------------------------------------------------- an office's own settings

    /// @inheritdoc IOfficeRegistry
    function addSigningKey(bytes32 keyId, KeyAlgorithm algorithm, bytes calldata publicKey) external {
        bytes2 code = _activeOfficeOf(msg.sender);
        _checkKey(keyId, algorithm, publicKey);
        if (_keys[code][keyId].validFromBlock != 0) revert OfficeRegistryKeyExists(code, keyId);
        _keys[code][keyId] = KeyRecord(algorithm, uint64(block.number), 0, publicKey);
        _offices[code].keyIds.push(keyId);
        emit SigningKeyAdded(code, keyId, algorithm, publicKey);
    }

    /// @inheritdoc IOfficeRegistry
    function revokeSigningKey(bytes32 keyId) external {
        bytes2 code = _memberOf(msg.sender);
        KeyRecord storage key = _keys[code][keyId];
        if (key.validFromBlock == 0) revert OfficeRegistryUnknownKey(code, keyId);
        if (key.revokedAtBlock != 0) revert OfficeRegistryKeyAlreadyRevoked(code, keyId, key.revokedAtBlock);
        key.revokedAtBlock = uint64(block.number);
        emit SigningKeyRevoked(code, keyId);
    }

    /// @inheritdoc IOfficeRegistry
    function setEndpoint(string calldata endpoint) external {
        bytes2 code = _memberOf(msg.sender);
        _checkEndpoint(code, endpoint);
        _offices[code].endpoint = endpoint;
        emit EndpointChanged(code, endpoint);
    }

    /// @inheritdoc IOfficeRegistry
    function setName(string calldata name) external {
        bytes2 code = _memberOf(msg.sender);
        _checkName(code, name);
        _offices[code].name = name;
        emit OfficeRenamed(code, name);
    }

    /// @inheritdoc IOfficeRegistry
    function beginAccountRotation(address pendingAccount) external {
        bytes2 code = _memberOf(msg.sender);
        if (pendingAccount != address(0)) _checkFreeAccount(pendingAccount);
        _offices[code].pendingAccount = pendingAccount;
        emit AccountRotationStarted(code, pendingAccount);
    }

    /// @inheritdoc IOfficeRegistry
    function acceptAccountRotation(bytes2 code) external {
        Office storage o = _offices[code];
        if (o.pendingAccount == address(0) || o.pendingAccount != msg.sender) {
            revert OfficeRegistryNoPendingAccount(code, msg.sender);
        }
        _checkFreeAccount(msg.sender);
        address previous = o.account;
        _membership[msg.sender] = _membership[previous];
        delete _membership[previous];
        o.account = msg.sender;
        o.pendingAccount = address(0);
        emit AccountRotated(code, previous, msg.sender);
    }

    /// @inheritdoc IOfficeRegistry
    function setValidator(address validator) external {
        bytes2 code = _activeOfficeOf(msg.sender);
        if (validator == address(0)) revert OfficeRegistryInvalidValidator(validator);
        Membership memory m = _membership[validator];
        if (m.status != OfficeStatus.None) revert OfficeRegistryValidatorIsAccount(validator, m.office);
        bytes2 holder = _validatorOffice[validator];
        if (holder != bytes2(0) && holder != code) revert OfficeRegistryValidatorInUse(validator, holder);
        Office storage o = _offices[code];
        address previous = o.validator;
        if (previous != validator) {
            if (previous != address(0)) delete _validatorOffice[previous];
            _validatorOffice[validator] = code;
            o.validator = validator;
        }
        emit ValidatorChanged(code, validator);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IOfficeRegistry
    function office(bytes2 code) external view returns (OfficeView memory) {
        Office storage o = _offices[code];
        if (o.account == address(0)) revert OfficeRegistryUnknownOffice(code);
        return OfficeView(
            code, _statusOf(code), o.account, o.pendingAccount, o.name, o.endpoint, o.keyIds.length, o.validator
        );
    }

    /// @inheritdoc IOfficeRegistry
    function officeCodes() external view returns (bytes2[] memory) {
        return _codes;
    }

    /// @inheritdoc IOfficeRegistry
    function officeOf(address account) external view returns (bytes2 code, OfficeStatus status) {
        Membership memory m = _membership[account];
        return (m.office, m.status);
    }

    /// @inheritdoc IOfficeRegistry
    function validatorOf(address validator) external view returns (bytes2 code, OfficeStatus status) {
        code = _validatorOffice[validator];
        status = _statusOf(code);
    }

    /// @inheritdoc IOfficeRegistry
    function activeOfficeCount() external view returns (uint256) {
        return _activeCount;
    }

    /// @inheritdoc IOfficeRegistry
    function threshold() external view returns (uint16 numerator, uint16 denominator) {
        return (_thresholdNumerator, _thresholdDenominator);
    }

    /// @inheritdoc IOfficeRegistry
    function votingPeriod() external view returns (uint64) {
        return _VOTING_PERIOD;
    }

    /// @inheritdoc IOfficeRegistry
    function maxOffices() external view returns (uint256) {
        return _MAX_OFFICES;
    }

    /// @inheritdoc IOfficeRegistry
    function signingKey(bytes2 code, bytes32 keyId) public view returns (SigningKey memory) {
        KeyRecord storage key = _keys[code][keyId];
        if (key.validFromBlock == 0) revert OfficeRegistryUnknownKey(code, keyId);
        return SigningKey(keyId, key.algorithm, key.validFromBlock, key.revokedAtBlock, key.publicKey);
    }

    /// @inheritdoc IOfficeRegistry
    function signingKeys(bytes2 code) external view returns (SigningKey[] memory keys) {
        bytes32[] storage ids = _offices[code].keyIds;
        keys = new SigningKey[](ids.length);
        for (uint256 i = 0; i < ids.length; i++) {
            keys[i] = signingKey(code, ids[i]);
        }
    }

    /// @inheritdoc IOfficeRegistry
    function isKeyValidAt(bytes2 code, bytes32 keyId, uint256 blockNumber) external view returns (bool) {
        KeyRecord storage key = _keys[code][keyId];
        if (key.validFromBlock == 0 || blockNumber < key.validFromBlock) return false;
        return key.revokedAtBlock == 0 || blockNumber < key.revokedAtBlock;
    }

    /// @inheritdoc IOfficeRegistry
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IOfficeRegistry
    function proposal(uint256 proposalId) external view returns (Proposal memory) {
        if (proposalId == 0 || proposalId > _proposalCount) revert OfficeRegistryUnknownProposal(proposalId);
        return _proposals[proposalId];
    }

    /// @inheritdoc IOfficeRegistry
    function approvalCount(uint256 proposalId) public view returns (uint256 approvals) {
        ProposalKind kind = _proposals[proposalId].kind;
        bytes2 target = _proposals[proposalId].office;
        for (uint256 i = 0; i < _codes.length; i++) {
            bytes2 code = _codes[i];
            if (!_approved[proposalId][code] || _isConcerned(kind, target, code)) continue;
            if (_statusOf(code) == OfficeStatus.Active) approvals++;
        }
    }

    /// @inheritdoc IOfficeRegistry
    function hasApproved(uint256 proposalId, bytes2 code) external view returns (bool) {
        return _approved[proposalId][code];
    }

    // ---------------------------------------------------------------- internal: standing

    /// @dev The office `account` acts for; reverts unless it is active. One SLOAD.
    function _activeOfficeOf(address account) internal view returns (bytes2 code) {
        Membership storage m = _membership[account];
        OfficeStatus status = m.status;
        code = m.office;
        if (status == OfficeStatus.None) revert OfficeRegistryNotMember(account);
        if (status != OfficeStatus.Active) revert OfficeRegistryOfficeNotActive(code, status);
    }

    /// @dev The office `account` acts for, whatever its status. A suspended office can still revoke keys,
    /// move its endpoint, rename itself and rotate its account, so that what it recorded stays verifiable
    /// and a leaked key can always be revoked; adding keys, naming a validator, writing and voting need an
    /// active office.
    function _memberOf(address account) internal view returns (bytes2) {
        Membership memory m = _membership[account];
        if (m.status == OfficeStatus.None) revert OfficeRegistryNotMember(account);
        return m.office;
    }

    function _statusOf(bytes2 code) internal view returns (OfficeStatus) {
        address account = _offices[code].account;
        return account == address(0) ? OfficeStatus.None : _membership[account].status;
    }

    // ---------------------------------------------------------------- internal: proposals

    function _newProposal(ProposalKind kind, bytes2 target) private view returns (Proposal memory p) {
        p.kind = kind;
        p.office = target;
        p.proposer = _activeOfficeOf(msg.sender);
        p.deadline = uint64(block.timestamp) + _VOTING_PERIOD;
        if (_isConcerned(kind, target, p.proposer)) revert OfficeRegistryOfficeConcerned(p.proposer);
    }

    /// @dev An office neither votes on nor counts towards its own suspension: otherwise the office in
    /// question could block it (in a consortium of three, "more than two thirds" would need its own vote).
    function _isConcerned(ProposalKind kind, bytes2 target, bytes2 code) private pure returns (bool) {
        return kind == ProposalKind.Suspend && target == code;
    }

    /// @dev Number of offices whose approval counts: the active ones, less the one a suspension concerns
    /// (if it is still active).
    function _voters(ProposalKind kind, bytes2 target) private view returns (uint256) {
        bool concernedIsActive = kind == ProposalKind.Suspend && _statusOf(target) == OfficeStatus.Active;
        return concernedIsActive ? uint256(_activeCount) - 1 : _activeCount;
    }

    function _open(Proposal memory p) private returns (uint256 proposalId) {
        proposalId = ++_proposalCount;
        _proposals[proposalId] = p;
        _approved[proposalId][p.proposer] = true;
        emit ProposalCreated(proposalId, p.proposer, p.kind, p.office, p.deadline);
        emit ProposalApproved(proposalId, p.proposer);
        if (_passes(proposalId)) _execute(proposalId, _proposals[proposalId]);
    }

    function _openProposal(uint256 proposalId) private view returns (Proposal storage p) {
        if (proposalId == 0 || proposalId > _proposalCount) revert OfficeRegistryUnknownProposal(proposalId);
        p = _proposals[proposalId];
        if (p.executed) revert OfficeRegistryProposalAlreadyExecuted(proposalId);
        if (block.timestamp > p.deadline) revert OfficeRegistryProposalExpired(proposalId, p.deadline);
    }

    /// @dev More than numerator/denominator of the offices entitled to vote approved.
    function _passes(uint256 proposalId) private view returns (bool) {
        Proposal storage p = _proposals[proposalId];
        uint256 voters = _voters(p.kind, p.office);
        return approvalCount(proposalId) * _thresholdDenominator > voters * _thresholdNumerator;
    }

    /// @dev Re-checks the change against the state at execution time: another proposal may have admitted
    /// the same code or suspended the same office meanwhile.
    function _execute(uint256 proposalId, Proposal storage p) private {
        p.executed = true;
        emit ProposalExecuted(proposalId);
        if (p.kind == ProposalKind.Admit) {
            _checkAdmission(p.office, p.account, p.name, p.endpoint);
            _admit(p.office, p.account, p.name, p.endpoint);
        } else if (p.kind == ProposalKind.Suspend) {
            _checkSuspension(p.office);
            _membership[_offices[p.office].account].status = OfficeStatus.Suspended;
            _activeCount--;
            emit OfficeSuspended(p.office);
        } else if (p.kind == ProposalKind.Reinstate) {
            _checkReinstatement(p.office);
            _membership[_offices[p.office].account].status = OfficeStatus.Active;
            _activeCount++;
            emit OfficeReinstated(p.office);
        } else {
            _checkThreshold(p.thresholdNumerator, p.thresholdDenominator);
            _setThreshold(p.thresholdNumerator, p.thresholdDenominator);
        }
    }

    function _admit(bytes2 code, address account, string memory name, string memory endpoint) private {
        Office storage o = _offices[code];
        o.account = account;
        o.name = name;
        o.endpoint = endpoint;
        _membership[account] = Membership(code, OfficeStatus.Active);
        _codes.push(code);
        _activeCount++;
        emit OfficeAdmitted(code, account, name, endpoint);
    }

    function _setThreshold(uint16 numerator, uint16 denominator) private {
        _thresholdNumerator = numerator;
        _thresholdDenominator = denominator;
        emit ThresholdChanged(numerator, denominator);
    }

    // ---------------------------------------------------------------- internal: validation

    function _checkAdmission(bytes2 code, address account, string memory name, string memory endpoint)
        private
        view
    {
        if (!_isOfficeCode(code)) revert OfficeRegistryInvalidOfficeCode(code);
        if (_offices[code].account != address(0)) revert OfficeRegistryOfficeExists(code);
        if (_codes.length >= _MAX_OFFICES) revert OfficeRegistryTooManyOffices(_MAX_OFFICES);
        _checkFreeAccount(account);
        _checkName(code, name);
        _checkEndpoint(code, endpoint);
    }

    /// @dev The last active office can never be suspended: it would be the office concerned, which neither
    /// proposes nor votes, and no other office's approval would count.
    function _checkSuspension(bytes2 code) private view {
        OfficeStatus status = _statusOf(code);
        if (status == OfficeStatus.None) revert OfficeRegistryUnknownOffice(code);
        if (status != OfficeStatus.Active) revert OfficeRegistryOfficeNotActive(code, status);
    }

    function _checkReinstatement(bytes2 code) private view {
        OfficeStatus status = _statusOf(code);
        if (status == OfficeStatus.None) revert OfficeRegistryUnknownOffice(code);
        if (status != OfficeStatus.Suspended) revert OfficeRegistryOfficeNotSuspended(code, status);
    }

    /// @dev At least a simple majority, and below unanimity-plus-one (which no vote could reach).
    function _checkThreshold(uint16 numerator, uint16 denominator) private pure {
        if (denominator == 0 || numerator >= denominator || uint256(numerator) * 2 < denominator) {
            revert OfficeRegistryInvalidThreshold(numerator, denominator);
        }
    }

    /// @dev A transaction account is neither zero, nor another office's account, nor any office's validator
    /// (a sealing key holds no rights in the registry).
    function _checkFreeAccount(address account) private view {
        if (account == address(0)) revert OfficeRegistryInvalidAccount(account);
        Membership memory m = _membership[account];
        if (m.status != OfficeStatus.None) revert OfficeRegistryAccountInUse(account, m.office);
        bytes2 holder = _validatorOffice[account];
        if (holder != bytes2(0)) revert OfficeRegistryAccountIsValidator(account, holder);
    }

    function _checkName(bytes2 code, string memory name) private pure {
        uint256 length = bytes(name).length;
        if (length == 0 || length > _MAX_NAME_LENGTH) revert OfficeRegistryInvalidName(code, length);
    }

    function _checkEndpoint(bytes2 code, string memory endpoint) private pure {
        bytes memory url = bytes(endpoint);
        if (url.length > _MAX_ENDPOINT_LENGTH || !(_hasPrefix(url, "https://") || _hasPrefix(url, "http://"))) {
            revert OfficeRegistryInvalidEndpoint(code, endpoint);
        }
    }

    function _checkKey(bytes32 keyId, KeyAlgorithm algorithm, bytes calldata publicKey) private pure {
        uint256 length = publicKey.length;
        bool ok;
        if (algorithm == KeyAlgorithm.Ed25519) {
            ok = length == 32;
        } else if (algorithm == KeyAlgorithm.EcdsaP256) {
            ok = (length == 65 && publicKey[0] == 0x04) || (length == 33 && (publicKey[0] == 0x02 || publicKey[0] == 0x03));
        }
        if (keyId == bytes32(0) || !ok) revert OfficeRegistryInvalidKey(keyId, algorithm, length);
    }

    /// @dev WIPO ST.3 codes are two capital letters.
    function _isOfficeCode(bytes2 code) private pure returns (bool) {
        return code[0] >= "A" && code[0] <= "Z" && code[1] >= "A" && code[1] <= "Z";
    }

    function _hasPrefix(bytes memory value, bytes memory prefix) private pure returns (bool) {
        if (value.length <= prefix.length) return false;
        for (uint256 i = 0; i < prefix.length; i++) {
            if (value[i] != prefix[i]) return false;
        }
        return true;
    }
}
