"""The one redaction: take secrets out of text before it leaves the process.

Every exit uses :func:`redact`: log lines (:class:`RedactingFilter` on ``ol-bridge serve``'s
handlers; the sensor's and delivery's messages are redacted where they are built), error
facets of events, an outbox's ``last_error``, HTTP answers of ``ol-bridge serve`` and CLI
output. What it removes (``tests/server/test_redact.py`` plants each form):

* URL userinfo: ``scheme://user:password@host`` keeps the user (``user:***@host``), even
  when the password holds ``@``, ``/``, ``#`` or ``:``; a token alone as userinfo
  (``https://TOKEN@host``) becomes ``***@host``.
* ``Bearer`` / ``Basic`` credentials (an ``Authorization`` header quoted in an error).
* The value of any key that names a secret, in a query string, a connection string, a
  JSON or Python mapping, or YAML: keys ending in ``password``, ``passwd``, ``pwd``,
  ``passphrase``, ``secret``, ``token``, ``apikey`` / ``api_key``, ``access_key``,
  ``private_key``, ``signature``, ``credential(s)``, and ``sig``, ``auth``,
  ``authorization``, ``X-Amz-Credential``. So ``password=``, ``sslpassword=``,
  ``client_secret=``, ``api_token=``, ``X-Amz-Signature=``, ``"password": "..."``,
  ``password: ...``.

Over-redaction is preferred to a leak: a value that merely looks like a secret is hidden.
"""

from __future__ import annotations

import logging
import re

REDACTED = "***"

#: keys whose value is a secret (the whole key, case-insensitive)
_KEY = (
    r"(?:[A-Za-z0-9_.-]*?(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key"
    r"|access[_-]?key|private[_-]?key|signature|credentials?)"
    r"|sig|auth|authorization|x-amz-credential)"
)
#: ``scheme://user:password@host``: the password runs to the last ``@`` that is followed by
#: a host and the end of the authority, so ``p@ss``, ``pa/ss`` and ``pa#ss`` are covered
_USERINFO = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^\s:/?#@'\"]+):(?P<password>[^\s'\"]*?)"
    r"@(?=[A-Za-z0-9\[\]._-]+(?:[:/?#\s'\"\\,;)]|$))"
)
#: ``scheme://TOKEN@host`` (no colon: the whole userinfo is the credential)
_TOKEN_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s:/?#@'\"]+@")
_SCHEME_AUTH = re.compile(r"\b(?P<scheme>Bearer|Basic)\s+(?!\*\*\*)[A-Za-z0-9._~+/=-]+", re.I)
#: ``"password": "value"`` / ``'password': 'value'`` (JSON, Python reprs)
_QUOTED = re.compile(
    rf"(?P<key>(?P<q>[\"']){_KEY}(?P=q)\s*:\s*)(?P<vq>[\"'])(?:\\.|(?!(?P=vq)).)*(?P=vq)", re.I
)
#: ``password=value`` (query, DSN, JDBC), ``password: value`` (YAML, headers, logs)
_UNQUOTED = re.compile(
    rf"(?P<key>(?<![A-Za-z0-9_.-]){_KEY}\s*(?:=|:(?!//))\s*)"
    r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'|[^\s&;,'\"\\]+)",
    re.I,
)


def redact(text: str) -> str:
    """``text`` with every credential form listed in the module docstring replaced by ``***``."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)
    text = _TOKEN_USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    text = _SCHEME_AUTH.sub(lambda m: f"{m['scheme']} {REDACTED}", text)
    text = _QUOTED.sub(lambda m: f"{m['key']}{m['vq']}{REDACTED}{m['vq']}", text)
    return _UNQUOTED.sub(_unquoted_value, text)


def _unquoted_value(match: re.Match[str]) -> str:
    value = match["value"]
    if value.startswith(("'", '"')):
        return f"{match['key']}{value[0]}{REDACTED}{value[0]}"
    return f"{match['key']}{REDACTED}"


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message (and its exception text)
    before any handler formats it; attach it to handlers, so every logger is covered."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, redact(formatted)
        return True


def install_log_redaction() -> None:
    """Redact every record that reaches a handler of the root logger or of any logger
    configured so far (uvicorn's own, for one); call it after logging is configured."""
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
