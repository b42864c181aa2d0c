"""Twilio REST errors: the codes the sandbox answers with, their HTTP status and message.

A create that Twilio refuses never becomes a Message; it is answered with
``{"code", "message", "more_info", "status"}`` and the HTTP status below.
"""

from __future__ import annotations

from typing import Any

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"

# code -> (HTTP status, message template). Templates take keyword arguments.
CATALOG: dict[int, tuple[int, str]] = {
    20001: (400, "Invalid parameter {name}: {value}"),
    20003: (401, "Authenticate"),
    20004: (405, "Method not allowed"),
    20404: (404, "The requested resource {path} was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "Invalid 'To' Phone Number: {to}"),
    21408: (
        400,
        "Permission to send an SMS has not been enabled for the region indicated by "
        "the 'To' number: {to}.",
    ),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21606: (
        400,
        "The 'From' phone number provided ({from_}) is not a valid message-capable "
        "Twilio phone number for this destination.",
    ),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21612: (
        400,
        "The 'To' phone number: {to}, is not currently reachable using the 'From' "
        "phone number: {from_} via SMS.",
    ),
    21614: (400, "'To' number {to} is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    21705: (400, "The Messaging Service Sid {service} is invalid."),
    90007: (400, "Invalid validity period value: {value}. It must be between 1 and 36000."),
    90014: (400, "Validity Period should be positive integer: {value}"),
}

# Delivery errors (set on a Message that ends undelivered or failed, never an HTTP answer).
DELIVERY_ERRORS: dict[int, str] = {
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    30036: "Validity Period Expired",
}


class TwilioError(Exception):
    """An error answered in Twilio's JSON shape."""

    def __init__(self, code: int, **fields: Any) -> None:
        status, template = CATALOG[code]
        self.code = code
        self.status = status
        self.message = template.format(**fields) if fields else template
        super().__init__(f"{code}: {self.message}")

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.status)


def error_body(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": MORE_INFO.format(code=code),
        "status": status,
    }
