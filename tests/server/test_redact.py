"""The one redaction (``ol_bridge.delivery.redact``) against a corpus of planted secrets:
every form issue 17 lists, each in the context it shows up in (an error message, a log
line, a JSON or YAML document), and the text around it kept readable."""

from __future__ import annotations

import json
import logging

import pytest

from ol_bridge.delivery.redact import RedactingFilter, redact

SECRET = "Pl4nted"

#: (text with the secret planted, what must survive around it)
CORPUS: list[tuple[str, str]] = [
    (
        f"HTTPError: 503 for url: http://admin:{SECRET}@gms:8080/aspects",
        "http://admin:***@gms:8080",
    ),
    (f"http://etl:p@ss{SECRET}@host/api", "http://etl:***@host/api"),
    (f"postgresql://etl:pa/ss{SECRET}@db:5432/sales", "postgresql://etl:***@db:5432/sales"),
    (f"postgresql://etl:pa#ss{SECRET}@db/sales", "postgresql://etl:***@db/sales"),
    (f"https://{SECRET}@github.com/org/repo.git", "https://***@github.com/org/repo.git"),
    (f"jdbc:postgresql://db/sales?user=etl&password={SECRET}", "?user=etl&password=***"),
    (f"jdbc:postgresql://db/sales?user=etl&password=a#b{SECRET}&ssl=true", "&ssl=true"),
    (f"https://host/lineage?access_token={SECRET}", "https://host/lineage?access_token=***"),
    (f"https://host/x?api_token={SECRET}&y=1", "api_token=***&y=1"),
    (f"https://acct.blob.core.windows.net/c/f?sv=2022&sig={SECRET}", "sv=2022&sig=***"),
    (
        f"https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA{SECRET}&X-Amz-Signature={SECRET}",
        "X-Amz-Signature=***",
    ),
    (f"token_url?client_secret={SECRET}&client_id=app", "client_secret=***&client_id=app"),
    (f"host=db sslmode=require sslpassword={SECRET} user=etl", "sslpassword=*** user=etl"),
    (f"Server=db;Database=x;Password={SECRET};", "Password=***;"),
    (f"Authorization: Bearer {SECRET}", "Authorization: ***"),
    (f"headers={{'Authorization': 'Bearer {SECRET}'}}", "'Authorization': '***'"),
    (f"sent Bearer {SECRET} to the lineage endpoint", "Bearer *** to the lineage endpoint"),
    (f"Basic {SECRET}==", "Basic ***"),
    (json.dumps({"password": SECRET, "user": "etl"}), '"password": "***"'),
    (json.dumps({"config": {"apiKey": SECRET}}), '"apiKey": "***"'),
    (f"auth:\n  type: api_key\n  apiKey: {SECRET}\n", "apiKey: ***"),
    (f"datahub:\n  password: {SECRET}\n  server: http://gms\n", "server: http://gms"),
    (f"password: '{SECRET} with spaces'", "password: '***'"),
    (f"TypeError(password='{SECRET}')", "password='***'"),
    (f"aws_secret_access_key={SECRET}", "aws_secret_access_key=***"),
    (f"DATAHUB_GMS_TOKEN={SECRET}", "DATAHUB_GMS_TOKEN=***"),
    (f"private_key: {SECRET}", "private_key: ***"),
]


@pytest.mark.parametrize(("text", "kept"), CORPUS, ids=[t[:40] for t, _ in CORPUS])
def test_every_planted_secret_is_removed_and_the_context_kept(text: str, kept: str) -> None:
    cleaned = redact(text)
    assert SECRET not in cleaned
    assert kept in cleaned
    assert redact(cleaned) == cleaned  # redacting twice changes nothing


def test_json_stays_json_and_ordinary_text_is_untouched() -> None:
    document = {"sql": f'SELECT 1 -- password={SECRET}\\"', "n": 1, "quote": 'a "b"'}
    cleaned = redact(json.dumps(document))
    assert json.loads(cleaned)["n"] == 1 and SECRET not in cleaned
    for text in (
        "max_tokens: 5 and tokens_used=3",
        "postgres://db.internal:5432/sales",
        "asset_key=orders; run_id=42",
        "Wrote 12 proposals to http://gms:8080",
    ):
        assert redact(text) == text


def test_the_log_filter_redacts_messages_arguments_and_tracebacks() -> None:
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("ol_bridge.test_redact")
    logger.addHandler(handler)
    try:
        logger.warning("GMS at %s failed", f"http://admin:{SECRET}@gms")
        try:
            raise ValueError(f"password={SECRET}")
        except ValueError:
            logger.exception("conversion failed")
    finally:
        logger.removeHandler(handler)
    assert len(records) == 2
    assert "http://admin:***@gms" in records[0]
    assert "ValueError: password=***" in records[1]
    assert all(SECRET not in record for record in records)
