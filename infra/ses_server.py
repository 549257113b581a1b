"""moto's server, with SES v2's account-level suppression list added.

moto (5.x) implements SES v2 sending but not the suppression list, which postbode clears
of an address whenever it erases that person (see `Mailer::forget_suppressed`). This adds
the three operations postbode and its tests use, with the request and answer shapes of the
SES v2 API reference: PutSuppressedDestination, GetSuppressedDestination and
DeleteSuppressedDestination (`NotFoundException`, HTTP 404, for an address not on the list).
The list is per account and region, as in SES. Everything else is moto as it is.

Run as `python ses_server.py -H 127.0.0.1 -p PORT` (moto_server's own arguments).
"""

import json
import sys
import time
from urllib.parse import unquote

from moto.core.exceptions import JsonRESTError
from moto.server import main
from moto.sesv2 import urls
from moto.sesv2.responses import SESV2Response

# (account, region) -> {address: {"Reason": ..., "LastUpdateTime": ...}}
_SUPPRESSED: dict = {}


class NotFoundException(JsonRESTError):
    code = 404

    def __init__(self, address: str) -> None:
        super().__init__("NotFoundException", f"Email address {address} does not exist on your suppression list.")


def _entries(response: SESV2Response) -> dict:
    return _SUPPRESSED.setdefault((response.current_account, response.region), {})


def _address_in_path(response: SESV2Response) -> str:
    # /v2/email/suppression/addresses/{EmailAddress}
    return unquote(response.path.rstrip("/").rsplit("/", 1)[-1]).lower()


def put_suppressed_destination(self: SESV2Response) -> str:
    params = json.loads(self.body)
    reason = params.get("Reason")
    if reason not in ("BOUNCE", "COMPLAINT"):
        raise JsonRESTError("BadRequestException", "Reason must be BOUNCE or COMPLAINT")
    _entries(self)[params["EmailAddress"].lower()] = {"Reason": reason, "LastUpdateTime": time.time()}
    return "{}"


def get_suppressed_destination(self: SESV2Response) -> str:
    address = _address_in_path(self)
    entry = _entries(self).get(address)
    if entry is None:
        raise NotFoundException(address)
    return json.dumps({"SuppressedDestination": {"EmailAddress": address, **entry}})


def delete_suppressed_destination(self: SESV2Response) -> str:
    address = _address_in_path(self)
    if _entries(self).pop(address, None) is None:
        raise NotFoundException(address)
    return "{}"


SESV2Response.put_suppressed_destination = put_suppressed_destination
SESV2Response.get_suppressed_destination = get_suppressed_destination
SESV2Response.delete_suppressed_destination = delete_suppressed_destination
urls.url_paths["{0}/v2/email/suppression/addresses$"] = SESV2Response.dispatch
urls.url_paths["{0}/v2/email/suppression/addresses/(?P<EmailAddress>[^/]+)$"] = SESV2Response.dispatch

if __name__ == "__main__":
    sys.exit(main())
