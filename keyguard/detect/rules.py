"""The built-in rules and the examples that prove them (run by tests/test_rules.py)."""

from __future__ import annotations

from keyguard.detect import header, hexkey
from keyguard.detect.rule import Rule

# Fake keys, split so that no 32-hex run sits in this file: keyguard scans its own repository.
_K = "3f0c9e1d2b7a48c6" "a5e4d3c2b1a09f8e"
_K2 = "9b1e6f0a27c44d1e" "8f3a5b6c7d8e9f01"

X_API_KEY = Rule(
    id="x-api-key",
    name="X-API-KEY header value",
    description=(
        "The literal value of an X-API-KEY header, in HTTP text, curl, header maps, setter calls, "
        "name/value records (Postman, HAR, OpenAPI) and server configuration."
    ),
    confidences=(
        "high: a 32-hex value; medium: another secret-looking value (other vendors); "
        "low: the documented example key or the published test key"
    ),
    find=header.find,
    examples=(
        f'curl -H "X-API-KEY: {_K}" https://search.imin.co/events-api/v2/event-series',
        f"curl --header 'x-api-key:{_K}' https://example.org",
        f"GET /v2/event-series HTTP/1.1\nHost: search.imin.co\nX-Api-Key: {_K}\n",
        f'requests.get(url, headers={{"X-API-KEY": "{_K}"}})',
        f'headers = {{\n    "X-API-KEY":\n        "{_K}",\n}}',
        f"xhr.setRequestHeader('X-API-KEY', '{_K}');",
        f'req.Header.Set("X-Api-Key", "{_K}")',
        f'request.setValue("{_K}", forHTTPHeaderField: "X-API-KEY")',
        f'$headers = @{{ "X-API-KEY" = "{_K}" }}',
        f'{{"key": "x-api-key", "value": "{_K}", "type": "text"}}',
        f'proxy_set_header X-API-KEY "{_K}";',
        f'if ($http_x_api_key != "{_K}") {{ return 401; }}',
        f'self.client.get("/orders", HTTP_X_API_KEY="{_K}")',
        f'request.Headers.Add("x-api-key", @"{_K}");',
        f'headers.insert("x-api-key", HeaderValue::from_static("{_K}"));',
        f'if request.headers.get("X-API-KEY") != "{_K}":',
        f'"    r = httpx.get(u, headers={{\\"X-API-KEY\\": \\"{_K}\\"}})\\n",',
        'X-API-KEY: sk_live_9aZ81kQpLmT3vX7w',  # keyguard:allow (a made-up vendor key)
        f'{{"source": "headers = {{\\u0022X-API-KEY\\u0022: \\u0022{_K}\\u0022}}"}}',  # .NET's JSON
    ),
    counterexamples=(
        "X-API-KEY: ${IMIN_API_KEY}",
        "X-API-KEY: <your key>",
        "X-API-KEY: {{apiKey}}",
        'headers = {"X-API-KEY": os.environ["IMIN_API_KEY"]}',
        "headers: { 'X-API-KEY': process.env.IMIN_API_KEY }",
        'headers = {"X-API-KEY": api_key}',
        'headers = {"X-API-KEY": "%(key)s" % cfg}',
        "X-API-KEY: YOUR_API_KEY",
        "X-API-KEY: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "X-API-KEY: 3f0c…9f8e",  # a redacted key, as keyguard and other tools print one
        "X-API-KEY: 0123456789abcdef0123456789abcdef",
        'raise ValueError("the X-API-KEY header is missing")',
        "Send your key in the X-API-KEY header of every request.",
        f"X-API-KEY-VERSION: {_K}",
        'rules = ["x-api-key", "hex32-key"]',  # a list of names, not a header and its value
        'X-API-KEY: arn:aws:secretsmanager:eu-west-1:123456789012:secret:imin-key',  # a reference
    ),
)

HEX32_KEY = Rule(
    id="hex32-key",
    name="32-hex key",
    description=(
        "A 32-hex literal (hex boundaries on both sides) in a key-like context: a key, token, "
        "secret, auth, credential or imin name, an env or config assignment, an api_key= URL "
        "parameter, and base64 or percent-encoded forms of these."
    ),
    confidences=(
        "high: key-like name or URL key parameter; medium: other assignment or key word nearby; "
        "low: a bare literal or an id field (reported with --min-confidence low); "
        "none: checksum, hash, digest or uuid context, lockfiles"
    ),
    find=hexkey.find,
    examples=(
        f"IMIN_API_KEY={_K}",
        f'export IMIN_TOKEN="{_K2}"',
        f"ENV IMIN_KEY {_K}",
        f'api_key = "{_K}"',
        f"  - name: IMIN_API_KEY\n    value: {_K}",
        f'<add key="ImInApiKey" value="{_K}" />',
        f"https://api.example.org/v1/items?api_key={_K}&page=2",
        f"https%3A%2F%2Fapi.example.org%2Fv1%3Fapi_key%3D{_K}",
        # base64 of _K, split for the same reason
        ("  IMIN_API_KEY: M2YwYzllMWQy" "YjdhNDhjNmE1ZTRkM2MyYjFhMDlmOGU="),
        f"DEFAULT_VALUE = '{_K2}'",
        f'curl -H "Authorization: Bearer {_K}" https://search.imin.co/events-api/v2/event-series',
        f'{{"body": "\\u003capiKey\\u003e{_K}\\u003c/apiKey\\u003e"}}',  # Go's JSON escapes
        f'    "{_K}",  // staging api key',
        f"const IMIN_KEYS = [\n  '{_K2}',\n  '{_K}',\n];",  # each item of a named list
        f"imin_api_keys:\n  - {_K2}\n  - {_K}",
    ),
    counterexamples=(
        f"md5 = '{_K}'",
        f'"integrity": "{_K}"',
        f"ETag: {_K}",
        f"checksum: {_K}",
        f"user_uuid = '{_K}'",
        "commit " + _K + "0a1b2c3d",
        "sha256 " + _K + _K2,
        "00000000000000000000000000000000",
        "0123456789abcdef0123456789abcdef",
        "6aa0fa07-4bec-4a5c-b0e8-ed8fd36151ce",
        f'If-None-Match: "{_K}"',
    ),
)

RULES: tuple[Rule, ...] = (X_API_KEY, HEX32_KEY)
