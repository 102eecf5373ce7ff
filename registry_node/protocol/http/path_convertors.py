"""The URL convertor of a right id in a path, registered with Starlette when this module is imported.

A right id may hold a `/` (sent as %2F), so its routes cannot use the default `str` convertor. Starlette's
`path` convertor matches `.*`, which stops at a newline: a request whose id holds one (`EP:PAT:1%0A2`)
then matches no route at all and gets an undocumented 404, where the id's validator would have answered
400 naming `rightId` (schemathesis found this). This convertor matches any character, so every such
request reaches its route. Routes use `RIGHT_ID_SEGMENT`, which makes the import, and the registration,
explicit.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class RightIdConvertor(Convertor[str]):
    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("right_id", RightIdConvertor())

RIGHT_ID_SEGMENT = "{rightId:right_id}"
