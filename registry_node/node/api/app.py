"""The office node's HTTP API: operator routes behind a bearer token, public deep links, one error format."""

from __future__ import annotations

from fastapi import FastAPI

from registry_node.node.api.deps import NodeContext
from registry_node.node.api.errors import install_node_error_handlers
from registry_node.node.api.routes import anchors, documents, imports, outbox, rights
from registry_node.node.office import Office
from registry_node.node.onchain import ChainView
from registry_node.node.settings import NodeSettings
from registry_node.node.store import Store
from registry_node.protocol.http.body_limit import BodySizeLimit
from registry_node.protocol.http.problems import install_problem_openapi

API_VERSION = "1"


def create_app(settings: NodeSettings, office: Office, store: Store, chain_view: ChainView) -> FastAPI:
    """The API of one office's node, over the store and office it is given and a view of the chain."""
    app = FastAPI(
        title=f"ipreg office node ({settings.office_code})",
        version=API_VERSION,
        description=(
            f"Operator API and public deep links of {settings.office_name}'s registry node. Writes answer "
            "202 with the outbox entry that takes them to the chain; errors are RFC 9457 problem+json."
        ),
    )
    app.state.node = NodeContext(settings=settings, office=office, store=store, chain_view=chain_view)
    app.include_router(rights.router)
    app.include_router(imports.router)
    app.include_router(outbox.router)
    app.include_router(documents.router)
    app.include_router(anchors.router)
    install_node_error_handlers(app)
    install_problem_openapi(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
