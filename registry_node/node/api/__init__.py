"""The office node's FastAPI application (`create_app`); routes live in `routes/`, one module a resource."""

from registry_node.node.api.app import create_app

__all__ = ["create_app"]
