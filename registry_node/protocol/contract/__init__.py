"""The registry contract as every party sees it.

- `artifact`: the compiled contract shipped inside the package (ABI, bytecode, storage layout);
- `storage`: slots and packed structs from the compiler's storage layout, never literals;
- `calls`: calldata from the ABI, custom errors decoded.
"""

from registry_node.protocol.contract.artifact import (
    REGISTRY_CONTRACT,
    ContractArtifact,
    load_artifact,
    registry_storage,
)
from registry_node.protocol.contract.calls import CallEncoder, ErrorDecoder, RevertReason, revert_data
from registry_node.protocol.contract.storage import PackedStruct, StorageLayout, StorageLayoutError

__all__ = [
    "REGISTRY_CONTRACT",
    "CallEncoder",
    "ContractArtifact",
    "ErrorDecoder",
    "PackedStruct",
    "RevertReason",
    "StorageLayout",
    "StorageLayoutError",
    "load_artifact",
    "registry_storage",
    "revert_data",
]
