"""The registry contract as every party sees it.

- `artifact`: the compiled contract shipped inside the package (ABI, bytecode, storage layout);
- `storage`: slots and packed structs from the compiler's storage layout, never literals;
- `state`: `RightState`, the one shape of a right's on-chain state;
- `offices`: `OfficeView`, an office as the registry returns it;
- `codecs`: the contract's fixed-size text fields (office, status and event codes);
- `calls`: calldata from the ABI, custom errors decoded.
"""

from registry_node.protocol.contract.artifact import (
    REGISTRY_CONTRACT,
    ContractArtifact,
    load_artifact,
    registry_storage,
)
from registry_node.protocol.contract.calls import CallEncoder, ErrorDecoder, RevertReason, revert_data
from registry_node.protocol.contract.codecs import (
    bytes_text,
    office_bytes,
    office_code,
    status_code,
    text_bytes,
)
from registry_node.protocol.contract.offices import ZERO_ADDRESS, OfficeView
from registry_node.protocol.contract.state import RightState
from registry_node.protocol.contract.storage import PackedStruct, StorageLayout, StorageLayoutError

__all__ = [
    "REGISTRY_CONTRACT",
    "ZERO_ADDRESS",
    "CallEncoder",
    "ContractArtifact",
    "ErrorDecoder",
    "OfficeView",
    "PackedStruct",
    "RevertReason",
    "RightState",
    "StorageLayout",
    "StorageLayoutError",
    "bytes_text",
    "load_artifact",
    "office_bytes",
    "office_code",
    "registry_storage",
    "revert_data",
    "status_code",
    "text_bytes",
]
