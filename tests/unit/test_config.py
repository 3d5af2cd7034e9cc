"""The stage's settings: on AWS the keys come from one Secrets Manager secret, read once."""

import json

import pytest

from chalicelib.config import CARD_KEY_LABEL, ConfigError, derived_key, from_environ

AWS = {"LOYALTY_STAGE": "dev", "LOYALTY_COGNITO_ISSUER": "https://cognito-idp.eu-central-1.amazonaws.com/pool"}
ARN = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:loyalty-dev-app-AbCdEf"


def test_on_aws_the_card_and_cursor_keys_are_derived_from_the_stage_secret():
    reads = []

    def read(arn):
        reads.append(arn)
        return json.dumps({"root": "r" * 64})

    settings = from_environ({**AWS, "LOYALTY_SECRETS_ARN": ARN}, read_secret=read)
    assert reads == [ARN]
    assert settings.card_secret == derived_key("r" * 64, CARD_KEY_LABEL)
    assert len(settings.card_secret) == 64 and len(settings.cursor_secret) == 64
    assert settings.card_secret != settings.cursor_secret
    assert "r" * 64 not in (settings.card_secret, settings.cursor_secret)


def test_another_root_gives_other_keys():
    one = from_environ({**AWS, "LOYALTY_SECRETS_ARN": ARN}, read_secret=lambda _: json.dumps({"root": "a" * 40}))
    two = from_environ({**AWS, "LOYALTY_SECRETS_ARN": ARN}, read_secret=lambda _: json.dumps({"root": "b" * 40}))
    assert one.card_secret != two.card_secret and one.cursor_secret != two.cursor_secret


@pytest.mark.parametrize("secret", ["", "not json", "[]", '{"other": "x"}', '{"root": 7}', '{"root": "short"}'])
def test_a_secret_that_is_not_a_root_refuses_to_start(secret):
    with pytest.raises(ConfigError, match="LOYALTY_SECRETS_ARN"):
        from_environ({**AWS, "LOYALTY_SECRETS_ARN": ARN}, read_secret=lambda _: secret)


def test_without_a_secret_outside_local_the_stage_refuses_to_start():
    with pytest.raises(ConfigError, match="LOYALTY_CARD_SECRET"):
        from_environ(AWS, read_secret=lambda _: pytest.fail("nothing to read"))


def test_the_local_stage_reads_no_secret():
    settings = from_environ({"LOYALTY_SECRETS_ARN": ARN}, read_secret=lambda _: pytest.fail("read on local"))
    assert settings.is_local and settings.card_secret
