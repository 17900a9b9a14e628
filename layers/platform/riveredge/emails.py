"""Email addresses in request bodies, validated in full by email-validator.

email-validator is imported on the first validation, not at cold start: a function
pays for it only when a route that stores an address is called
(docs/decisions/0005-cold-start.md). Internal names such as ``.local``
(operator@riveredge.local) are accepted.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema


@lru_cache(maxsize=1)
def _validator() -> Any:
    import email_validator

    # email-validator documents editing this list as the way to accept a special-use name.
    if "local" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("local")
    return email_validator


def normalise_email(value: str) -> str:
    """The normalised address, or ValueError with email-validator's reason."""
    module = _validator()
    try:
        result = module.validate_email(value, check_deliverability=False)
    except module.EmailNotValidError as error:
        raise ValueError(f"value is not a valid email address: {error}") from error
    return str(result.normalized)


Email = Annotated[
    str,
    AfterValidator(normalise_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 254}),
]
