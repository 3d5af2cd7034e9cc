"""The queue seam on moto's SQS: batches out, Lambda's event shape in, partial-batch failures."""

from typing import Any

from chalicelib import queues


def test_bodies_go_out_in_batches_and_come_back_as_lambda_records(aws: None) -> None:
    assert queues.send(queues.CONTACTS, ({"n": n} for n in range(23))) == 23
    seen: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        assert all(
            r["eventSource"] == "aws:sqs" and r["attributes"]["ApproximateReceiveCount"] for r in event["Records"]
        )
        return queues.handle_batch(event, lambda body: seen.append(body["n"]))

    while queues.poll_once(queues.CONTACTS, handler):
        pass
    assert sorted(seen) == list(range(23))


def test_only_the_failed_records_come_back(aws: None) -> None:
    queues.send(queues.PUSH, [{"n": 1}, {"n": 2}, {"n": 3}])
    attempts: list[int] = []

    def flaky(body: dict[str, Any]) -> None:
        attempts.append(body["n"])
        if body["n"] == 2:
            raise RuntimeError("transient")

    handler = lambda event, context: queues.handle_batch(event, flaky)  # noqa: E731
    while queues.poll_once(queues.PUSH, handler):
        pass
    assert sorted(attempts) == [1, 2, 3]
    # Message 2 was not deleted: visible again after the visibility timeout (moto honours it),
    # and after MAX_RECEIVES attempts it lands in the dead-letter queue.
    client = queues._client()
    attrs = client.get_queue_attributes(QueueUrl=queues.url(queues.PUSH), AttributeNames=["All"])["Attributes"]
    assert int(attrs["ApproximateNumberOfMessagesNotVisible"]) == 1


def test_a_record_put_off_comes_back_when_it_asked_and_not_before(aws: None) -> None:
    queues.send(queues.PUSH, [{"n": 1}])
    seen: list[int] = []

    def not_yet(body: dict[str, Any]) -> None:
        seen.append(body["n"])
        raise queues.Later(3600)

    handler = lambda event, context: queues.handle_batch(event, not_yet)  # noqa: E731
    assert queues.poll_once(queues.PUSH, handler) == 1
    assert queues.poll_once(queues.PUSH, handler) == 0  # invisible for the hour it asked for
    attrs = queues._client().get_queue_attributes(QueueUrl=queues.url(queues.PUSH), AttributeNames=["All"])
    assert attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert seen == [1]
