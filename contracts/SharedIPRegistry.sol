// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Anchors} from "./Anchors.sol";
import {OfficeRegistry} from "./OfficeRegistry.sol";
import {RightsRegistry} from "./RightsRegistry.sol";

/// @title Shared IP Registry
/// @notice The deployed contract: the office consortium, the register of rights and the Merkle anchors.
/// @dev The three concerns live in their own contracts and are deployed together so that a write checks
/// the writer's office with one internal storage read instead of a cross-contract call (about 5,000 gas
/// more per write, which would put an anchor above its 50,000 gas budget). No proxy, no owner.
contract SharedIPRegistry is RightsRegistry, Anchors {
    /// @param founders The founding offices, active from deployment.
    /// @param thresholdNumerator Proposals need more than `thresholdNumerator/thresholdDenominator` of
    /// active offices.
    /// @param thresholdDenominator See `thresholdNumerator`.
    /// @param votingPeriod_ Seconds a proposal stays open.
    /// @param maxOffices_ How many offices can ever be admitted, founders included.
    constructor(
        OfficeInit[] memory founders,
        uint16 thresholdNumerator,
        uint16 thresholdDenominator,
        uint64 votingPeriod_,
        uint16 maxOffices_
    ) OfficeRegistry(founders, thresholdNumerator, thresholdDenominator, votingPeriod_, maxOffices_) {}
}
