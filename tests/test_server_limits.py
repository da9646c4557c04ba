"""The explorer server's limits (issue 16.9): request size, JSON depth and numbers, work per request,
the Host header, and errors as JSON with a short reason, never an HTML 500."""

from __future__ import annotations

import json

import pytest

from sdlib.explorer.app import create_app
from sdlib.explorer.limits import MAX_BODY, MAX_ERROR, MAX_YEARS


@pytest.fixture(scope="module")
def client():
    return create_app(engine="pysd").test_client()


def post(client, body: str | bytes, host: str = "localhost"):
    return client.post("/api/run", data=body, content_type="application/json", headers={"Host": host})


def assert_json_error(response, status: int, reason: str):
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == "application/json"
    message = response.get_json()["error"]
    assert reason in message and len(message) <= MAX_ERROR, message


def test_a_request_over_the_size_limit_gets_413(client):
    levers = [{"name": "token-price-subsidy", "size": 0.1}] * 20_000  # the 720 KB request
    assert_json_error(post(client, json.dumps({"scenario": "baseline", "policies": levers})), 413, "too large")


def test_a_deeply_nested_request_gets_400(client):
    assert_json_error(post(client, "[" * 100_000 + "]" * 100_000), 413, "too large")
    assert_json_error(post(client, "[" * 20_000 + "]" * 20_000), 400, "nested")
    assert_json_error(post(client, json.dumps({"scenario": "baseline", "set": {"a": [[[[[[1]]]]]]}})), 400, "nested")


@pytest.mark.parametrize("number", ["1" * 400, "1e999", "NaN", "Infinity", "-" + "9" * 40])
def test_huge_or_special_numbers_get_400(client, number):
    body = '{"scenario": "baseline", "set": {"capital share": NUMBER}}'.replace("NUMBER", number)
    response = post(client, body)
    assert response.status_code == 400 and response.mimetype == "application/json"


def test_an_unknown_name_is_not_echoed_whole(client):
    name = "x" * 50_000
    response = post(client, json.dumps({"scenario": "baseline", "set": {name: 1}}))
    assert_json_error(response, 400, "name of 50000 characters")


def test_the_same_name_twice_is_refused(client):
    assert_json_error(post(client, '{"scenario": "baseline", "set": {"capital share": 0.3, "capital share": 0.4}}'),
                      400, "given twice")
    assert_json_error(post(client, json.dumps({"scenario": "baseline", "set": {"capital share": 0.3,
                                                                               "Capital Share": 0.4}})),
                      400, "given twice")


def test_work_per_request_is_bounded(client):
    levers = [{"name": "token-price-subsidy", "size": 0.1}] * 17
    assert_json_error(post(client, json.dumps({"scenario": "baseline", "policies": levers})), 400, "at most 16")
    names = {f"name {i}": 1 for i in range(2000)}
    assert_json_error(post(client, json.dumps({"scenario": "baseline", "set": names})), 400, "parameters")
    # A long run was bounded only by the command line's 5e7 steps: seconds of work, an answer of many MB.
    for final_time in (1e9, 3025):
        assert_json_error(post(client, json.dumps({"scenario": "baseline", "final_time": final_time})), 400,
                          f"more than {MAX_YEARS} years after 2024")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8050", "localhost.evil.example"])
def test_a_foreign_host_header_is_refused(client, host):
    """A page on another site that rebinds its name to 127.0.0.1 cannot drive /api/run."""
    assert_json_error(post(client, "{}", host=host), 403, "is not served here")
    assert client.get("/api/meta", headers={"Host": host}).status_code == 403


@pytest.mark.parametrize("host", ["localhost", "localhost:8050", "127.0.0.1:8050", "[::1]:8050", "10.0.0.5:8050"])
def test_loopback_and_address_hosts_are_served(client, host):
    assert client.get("/api/health", headers={"Host": host}).status_code == 200


def test_the_bound_name_is_allowed():
    app = create_app(engine="pysd", host="tokenworld.internal")
    assert app.test_client().get("/api/health", headers={"Host": "tokenworld.internal:8050"}).status_code == 200


def test_errors_are_json_not_html(client):
    assert_json_error(client.get("/no/such/page"), 404, "Not Found")
    assert_json_error(client.get("/api/run"), 405, "Method Not Allowed")
    assert_json_error(post(client, b"\xff\xfe"), 400, "expected a JSON object")


def test_the_default_bind_is_this_machine_only():
    from sdlib.cli import build_parser

    args = build_parser("serve").parse_args(["serve"])
    assert args.host == "127.0.0.1" and MAX_BODY == 64 * 1024
