"""The e-mail check of the DCO app: npm `email-validator` 2.0.4, reproduced exactly.

The app refuses a commit whose author e-mail fails this check before it looks at any
sign-off, so the verdicts depend on its quirks: ASCII only, a dot required in the domain
(`user@localhost` fails), lengths counted before the regular expression runs.
"""

from __future__ import annotations

import re
from functools import lru_cache

# The validator's `tester`, character for character. JavaScript's `$` without the `m` flag
# matches only at the very end, hence fullmatch rather than Python's `$` (which also
# accepts a trailing newline).
_TESTER = re.compile(
    r"[-!#$%&'*+/0-9=?A-Z^_a-z`{|}~](\.?[-!#$%&'*+/0-9=?A-Z^_a-z`{|}~])*"
    r"@[a-zA-Z0-9](-*\.?[a-zA-Z0-9])*\.[a-zA-Z](-?[a-zA-Z0-9])+"
)

MAX_LOCAL = 64
MAX_DOMAIN = 255
MAX_LABEL = 63


@lru_cache(maxsize=8192)
def is_valid_email(email: str) -> bool:
    """True when email-validator 2.0.4 `validate(email)` returns true.

    Cached because the same few addresses sign most commits of a project.
    """
    if not email:
        return False
    parts = email.split("@")
    if len(parts) != 2:
        return False
    account, address = parts
    # JavaScript counts UTF-16 code units; the difference can only matter for non-ASCII
    # text, which the regular expression refuses anyway.
    if len(account) > MAX_LOCAL or len(address) > MAX_DOMAIN:
        return False
    if any(len(label) > MAX_LABEL for label in address.split(".")):
        return False
    return _TESTER.fullmatch(email) is not None
